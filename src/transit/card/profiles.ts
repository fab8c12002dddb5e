/**
 * Per-system profiles of the one e-purse engine: the file tree each card carries, how its FCI looks, how it
 * answers GET BALANCE, whether its purchase MAC1 takes the 80CA security code, and where compound (复合)
 * and trip records go. Layout facts: reference transit.md §1.4–§2.3; the choices are in docs/TRANSIT.md.
 */
import { type Bytes, ascii, fromHex, uintBE } from "../../core/bytes.js";
import { tlv } from "../../core/tlv.js";
import type { AppletContext } from "../../se/applet.js";
import { type DfSpec, type EfSpec, FileSystem } from "../../se/files.js";
import { T_UNION_EC_AID, type TransitSystem } from "../catalogue.js";
import { TRANSACTION_RECORD_LENGTH, TRIP_RECORD_LENGTH } from "../records.js";
import { BEIJING_ADF_FID } from "../systems/beijing.js";

/** How UPDATE CAPP DATA CACHE (80DC) and READ RECORD address a compound file's records. */
export type CompoundAddressing = "identifier" | "number";

export interface CompoundFile {
  ef: EfSpec;
  /** CJ/T 166 EF17: P1 = record identifier (its first byte); JT/T 978 EF1A: P1 = record number. */
  addressing: CompoundAddressing;
}

/** The purse's state as profiles see it (for files that mirror it, like Beijing's EF05). */
export interface PurseView {
  balance: number;
  overdraft: number;
  onlineAtc: number;
  offlineAtc: number;
}

export interface EpurseProfile {
  system: TransitSystem;
  root: DfSpec;
  /** The DF holding the purse: purse commands answer 6985 elsewhere (Beijing: ADF 1001 under the MF). */
  purseDf: DfSpec;
  /** Binary EFs personalisation may write, by SFI. */
  binaries: ReadonlyMap<number, EfSpec>;
  /** EF18: 23-byte transaction records, cyclic. */
  log: EfSpec;
  compound?: CompoundFile;
  /** T-Union EF1E: 48-byte trip records, cyclic. */
  trips?: EfSpec;
  /** GET BALANCE encoding: plain u32, or Shenzhen Tong's excess-2^31. */
  balanceEncoding: "plain" | "excess-2^31";
  /** T-Union GET BALANCE P1 01/02 (overdraft used), 03 (balance), 05 (balance ‖ max balance ‖ RFU). */
  tUnionBalance: boolean;
  /** CJ/T 166: GET DATA 80CA answers the security code and the purchase MAC1 covers it. */
  securityCode: boolean;
  /** The FCI answered to SELECT by DF name. */
  fci(fs: FileSystem, ctx: AppletContext): Bytes;
  /** Files that mirror the purse, rewritten in the same transaction as every purse change. */
  mirror?(fs: FileSystem, ctx: AppletContext, purse: PurseView): void;
}

const transparent = (sfi: number, size: number): EfSpec => ({
  kind: "ef",
  fid: sfi,
  sfi,
  structure: "transparent",
  size,
});

const cyclic = (sfi: number, recordSize: number, maxRecords: number): EfSpec => ({
  kind: "ef",
  fid: sfi,
  sfi,
  structure: "cyclic",
  recordSize,
  maxRecords,
});

const linear = (sfi: number, recordSize: number, maxRecords: number): EfSpec => ({
  kind: "ef",
  fid: sfi,
  sfi,
  structure: "linear-fixed",
  recordSize,
  maxRecords,
});

/** 6F { 84 selected name, A5 { items } }. */
function fciOf(ctx: AppletContext, items: { tag: number; value: Bytes }[]): Bytes {
  return tlv(0x6f, [
    { tag: 0x84, value: ctx.selectedAid },
    { tag: 0xa5, value: new Uint8Array(0), children: items },
  ]);
}

const VERSION = (v: number) => ({ tag: 0x9f08, value: Uint8Array.of(v) });

function tUnion(): EpurseProfile {
  const ef15 = transparent(0x15, 30);
  const ef17 = transparent(0x17, 60);
  const log = cyclic(0x18, TRANSACTION_RECORD_LENGTH, 10);
  const compound = linear(0x1a, 128, 4);
  const trips = cyclic(0x1e, TRIP_RECORD_LENGTH, 30);
  const root: DfSpec = { kind: "df", fid: 0x1001, children: [ef15, ef17, log, compound, trips] };
  return {
    system: "t-union",
    root,
    purseDf: root,
    binaries: new Map([
      [0x15, ef15],
      [0x17, ef17],
    ]),
    log,
    compound: { ef: compound, addressing: "number" },
    trips,
    balanceEncoding: "plain",
    tUnionBalance: true,
    securityCode: false,
    fci(fs, ctx) {
      if (isTUnionEc(ctx.selectedAid))
        return fciOf(ctx, [{ tag: 0x50, value: ascii("MOT_T_CASH") }, VERSION(0x02)]);
      return fciOf(ctx, [VERSION(0x02), { tag: 0x9f0c, value: fs.read(ctx, ef15) }]);
    },
  };
}

/** Whether the T-Union instance was selected as its EC application (MOT_T_CASH) rather than the EP. */
export function isTUnionEc(selected: Bytes): boolean {
  const ec = fromHex(T_UNION_EC_AID);
  return selected.length === ec.length && selected.every((b, i) => b === ec[i]);
}

/** City Union, Lingnan Pass, Wuhan Tong and Shenzhen Tong share the one-ADF shape; only their files differ. */
function singleAdf(
  system: TransitSystem,
  binaries: EfSpec[],
  opts: Pick<EpurseProfile, "balanceEncoding" | "securityCode"> & {
    fciItems: (ef15: Bytes) => { tag: number; value: Bytes }[];
  },
): EpurseProfile {
  const log = cyclic(0x18, TRANSACTION_RECORD_LENGTH, 10);
  const compound = linear(0x17, 48, 4);
  const root: DfSpec = { kind: "df", fid: 0x1001, children: [...binaries, log, compound] };
  const ef15 = binaries.find((b) => b.sfi === 0x15)!;
  return {
    system,
    root,
    purseDf: root,
    binaries: new Map(binaries.map((b) => [b.sfi!, b])),
    log,
    compound: { ef: compound, addressing: "identifier" },
    balanceEncoding: opts.balanceEncoding,
    tUnionBalance: false,
    securityCode: opts.securityCode,
    fci: (fs, ctx) => fciOf(ctx, opts.fciItems(fs.read(ctx, ef15))),
  };
}

function beijing(): EpurseProfile {
  const ef04 = transparent(0x04, 32);
  const ef05 = transparent(0x05, 9);
  const log = cyclic(0x18, TRANSACTION_RECORD_LENGTH, 10);
  const adf: DfSpec = { kind: "df", fid: BEIJING_ADF_FID, children: [log] };
  const root: DfSpec = { kind: "df", fid: 0x3f00, children: [ef04, ef05, adf] };
  return {
    system: "beijing",
    root,
    purseDf: adf,
    binaries: new Map([[0x04, ef04]]),
    log,
    balanceEncoding: "plain",
    tUnionBalance: false,
    securityCode: false,
    fci: (_fs, ctx) => fciOf(ctx, [VERSION(0x01)]),
    // EF05: flag (00; A5 would be blacklisted) ‖ purchase count ‖ overdraft used.
    mirror(fs, ctx, purse) {
      const ef05 = Uint8Array.of(0, ...uintBE(purse.offlineAtc, 4), ...uintBE(purse.overdraft, 4));
      fs.write(ctx, fs.efBySfi(0x05, root)!, 0, ef05);
    },
  };
}

const PROFILES: Readonly<Record<TransitSystem, () => EpurseProfile>> = {
  "t-union": tUnion,
  "city-union": () =>
    singleAdf("city-union", [transparent(0x15, 30)], {
      balanceEncoding: "plain",
      securityCode: true,
      fciItems: (ef15) => [VERSION(0x01), { tag: 0x9f0c, value: ef15 }],
    }),
  "shenzhen-tong": () =>
    singleAdf("shenzhen-tong", [transparent(0x15, 32)], {
      balanceEncoding: "excess-2^31",
      securityCode: false,
      fciItems: (ef15) => [VERSION(0x01), { tag: 0x8c, value: ef15 }],
    }),
  "lingnan-pass": () =>
    singleAdf("lingnan-pass", [transparent(0x15, 30)], {
      balanceEncoding: "plain",
      securityCode: false,
      fciItems: (ef15) => [{ tag: 0x9f0c, value: ef15 }],
    }),
  "wuhan-tong": () =>
    singleAdf("wuhan-tong", [transparent(0x05, 32), transparent(0x0a, 16), transparent(0x15, 30)], {
      balanceEncoding: "plain",
      securityCode: false,
      fciItems: (ef15) => [VERSION(0x01), { tag: 0x9f0c, value: ef15 }],
    }),
  beijing,
};

/** A fresh profile (its file specs are per applet instance). */
export function profileFor(system: TransitSystem): EpurseProfile {
  return PROFILES[system]();
}
