/**
 * How a terminal reaches each system's e-purse: which DF names to SELECT, which identity files to read, how
 * to step into the purse DF, how to decode GET BALANCE, where compound and trip records are. The reader and
 * the gates share it (reference transit.md §1.1–§2.3).
 */
import type { ResponseApdu } from "../../core/apdu.js";
import { type Bytes, ascii, fromHex, readUintBE } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import { findTag, parseTlv } from "../../core/tlv.js";
import { SW } from "../../core/sw.js";
import { CITY_UNION_AID, T_UNION_EP_AID, type TransitSystem } from "../catalogue.js";
import { BEIJING_ADF_FID } from "../systems/beijing.js";
import { LAYOUTS } from "../systems/index.js";
import type { DecodedIdentity } from "../systems/types.js";
import type { CardChannel } from "./channel.js";

export interface SystemAccess {
  system: TransitSystem;
  /** DF names to SELECT, in order; the first that answers 9000 opens the card. */
  names: Bytes[];
  /** Binary EFs (by SFI) holding the identity, read right after the SELECT. */
  identitySfis: number[];
  /** After reading the identity: reach the purse DF (Beijing SELECT 1001, Lingnan SELECT PAY.TICL). */
  purse?: { fid: number } | { name: Bytes };
  /** GET BALANCE: Shenzhen Tong answers in excess-2^31; T-Union reports overdraft at P1 01. */
  balance: "signed31" | "excess-2^31" | "t-union";
  /** GET DATA 80CA security code taken into the purchase MAC1 (City Union). */
  securityCode: boolean;
  /** Compound (复合) record file: CJ/T 166 EF17 by identifier, JT/T 978 EF1A by record number. */
  compound?: { sfi: number; addressing: "identifier" | "number"; recordLength: number };
  /** T-Union EF1E trip records. */
  tripSfi?: number;
}

const ACCESS: Readonly<Record<TransitSystem, SystemAccess>> = {
  "shenzhen-tong": {
    system: "shenzhen-tong",
    names: [ascii("PAY.SZT")],
    identitySfis: [0x15],
    balance: "excess-2^31",
    securityCode: false,
    compound: { sfi: 0x17, addressing: "identifier", recordLength: 48 },
  },
  beijing: {
    system: "beijing",
    names: [ascii("1PAY.SYS.DDF01")],
    identitySfis: [0x04, 0x05],
    purse: { fid: BEIJING_ADF_FID },
    balance: "signed31",
    securityCode: false,
  },
  "wuhan-tong": {
    system: "wuhan-tong",
    names: [ascii("AP1.WHCTC")],
    identitySfis: [0x05, 0x0a, 0x15],
    balance: "signed31",
    securityCode: false,
    compound: { sfi: 0x17, addressing: "identifier", recordLength: 48 },
  },
  "lingnan-pass": {
    system: "lingnan-pass",
    names: [ascii("PAY.APPY")],
    identitySfis: [0x15],
    purse: { name: ascii("PAY.TICL") },
    balance: "signed31",
    securityCode: false,
    compound: { sfi: 0x17, addressing: "identifier", recordLength: 48 },
  },
  "city-union": {
    system: "city-union",
    names: [fromHex(CITY_UNION_AID)],
    identitySfis: [0x15],
    balance: "signed31",
    securityCode: true,
    compound: { sfi: 0x17, addressing: "identifier", recordLength: 48 },
  },
  "t-union": {
    system: "t-union",
    names: [fromHex(T_UNION_EP_AID)],
    identitySfis: [0x15],
    balance: "t-union",
    securityCode: false,
    compound: { sfi: 0x1a, addressing: "number", recordLength: 128 },
    tripSfi: 0x1e,
  },
};

/** Metrodroid's probe order, with Lingnan Pass where nfsee puts it. */
export const READER_ORDER: readonly TransitSystem[] = [
  "shenzhen-tong",
  "beijing",
  "wuhan-tong",
  "lingnan-pass",
  "city-union",
  "t-union",
];

/** A card opened by a terminal: its system, identity, and the FCI it answered. */
export interface OpenedCard {
  access: SystemAccess;
  identity: DecodedIdentity;
  /** The identity files as read, by SFI. */
  files: ReadonlyMap<number, Bytes>;
  fci: Bytes;
}

export type OpenFailure =
  { reason: "no_system" } | { reason: "unreadable"; system: TransitSystem; detail: string };

/**
 * SELECTs the first of `systems` the card answers, reads its identity files and steps into its purse DF.
 * A Beijing answer to 1PAY.SYS.DDF01 only counts when EF04 is there (other cards have a PSE too).
 */
export async function openCard(
  ch: CardChannel,
  systems: readonly TransitSystem[],
  /** SELECT these names instead of the systems' public ones (the phone addressing one instance). */
  names?: readonly Bytes[],
): Promise<Result<OpenedCard, OpenFailure>> {
  for (const system of systems) {
    const access = ACCESS[system];
    let fci: ResponseApdu | undefined;
    for (const name of names ?? access.names) {
      const r = await ch.select(name);
      if (r.sw === SW.OK) {
        fci = r;
        break;
      }
    }
    if (!fci) continue;
    const files = new Map<number, Bytes>();
    for (const sfi of access.identitySfis) {
      const r = await ch.readBinary(sfi);
      if (r.sw === SW.OK) files.set(sfi, r.data);
    }
    if (system === "beijing" && !files.has(0x04)) continue;
    // EF15 unreadable: its copy in the FCI (9F0C on T-Union/City Union cards, 8C on Shenzhen Tong).
    if (access.identitySfis.includes(0x15) && !files.has(0x15)) {
      const copy = ef15FromFci(fci.data);
      if (copy) files.set(0x15, copy);
    }
    const identity = LAYOUTS[system].decodeIdentity(files);
    if (!identity.ok) return err({ reason: "unreadable", system, detail: identity.error });
    // A card image may keep the purse beside the identity files; the purse commands then tell.
    if (access.purse)
      await ("fid" in access.purse ? ch.selectFid(access.purse.fid) : ch.select(access.purse.name));
    return ok({ access, identity: identity.value, files, fci: fci.data });
  }
  return err({ reason: "no_system" });
}

/** EF15 as a card copies it into its FCI (6F { A5 { 9F0C | 8C } }), or undefined. */
function ef15FromFci(fci: Bytes): Bytes | undefined {
  const t = parseTlv(fci);
  if (!t.ok) return undefined;
  return (findTag(t.value, 0x9f0c) ?? findTag(t.value, 0x8c))?.value;
}

/** The purse balance in fen (negative when overdrawn), or an error. */
export async function readBalance(ch: CardChannel, access: SystemAccess): Promise<Result<number>> {
  const r0 = await ch.getBalance(0);
  if (r0.sw !== SW.OK || r0.data.length !== 4) return err(`GET BALANCE answered ${r0.sw.toString(16)}`);
  const raw = readUintBE(r0.data, 0, 4);
  switch (access.balance) {
    case "excess-2^31":
      return ok(raw - 0x80000000);
    case "signed31": {
      // Metrodroid: drop bit 31, read the other 31 bits as a signed number.
      const v = raw & 0x7fffffff;
      return ok(v >= 0x40000000 ? v - 0x80000000 : v);
    }
    case "t-union": {
      const b0 = raw & 0x7fffffff;
      if (b0 > 0) return ok(b0);
      const r1 = await ch.getBalance(1);
      const b1 = r1.sw === SW.OK && r1.data.length === 4 ? readUintBE(r1.data, 0, 4) & 0x7fffffff : 0;
      return ok(b0 - b1);
    }
  }
}
