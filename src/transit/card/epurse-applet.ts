/**
 * The e-purse applet (card side): one engine for T-Union, City Union and the city-specific cards, shaped by
 * a profile (profiles.ts). PBOC e-purse commands as JR/T 0025 defines them and JT/T 978 / CJ/T 166 profile
 * them (reference transit.md §3.1–§3.3):
 *
 *   SELECT / READ BINARY / READ RECORD (by SFI or FID)    the SE's FileSystem
 *   80 5C GET BALANCE            80 50 00 INITIALIZE FOR LOAD      80 52 CREDIT FOR LOAD
 *   80 50 01 INITIALIZE FOR PURCHASE   80 50 03 INITIALIZE FOR CAPP PURCHASE
 *   80 DC UPDATE CAPP DATA CACHE 80 54 DEBIT FOR (CAPP) PURCHASE  80 5A GET TRANSACTION PROVE
 *   00 84 GET CHALLENGE          80 CA GET DATA (80CA security code; 9F79 on the T-Union EC)
 *
 * Every command runs inside the SE's transaction: its writes (balance, counter, record, compound record,
 * proof) all land or none do. The session between INITIALIZE and CREDIT/DEBIT is transient (RAM): a power
 * cut or another SELECT ends it. The applet never throws; every path answers a status word.
 */
import { type CommandApdu, type ResponseApdu, response } from "../../core/apdu.js";
import {
  type Bytes,
  concat,
  equalConstantTime,
  fromHex,
  readUintBE,
  toHex,
  uintBE,
} from "../../core/bytes.js";
import { SW } from "../../core/sw.js";
import type { Applet, AppletContext } from "../../se/applet.js";
import { FileSystem } from "../../se/files.js";
import {
  type EpurseAlgorithm,
  TxType,
  algorithmOfId,
  loadMac1,
  loadMac2,
  loadSessionKey,
  loadTac,
  purchaseMac1,
  purchaseMac2,
  purchaseSessionKey,
  purchaseTac,
  tacKey,
} from "../epurse-crypto.js";
import { type EpurseProfile, type PurseView, isTUnionEc } from "./profiles.js";
import { DGI } from "./personalisation.js";

/** Store keys of the purse (one cell each, so a torn command can be seen to land all or nothing). */
const K = {
  balance: "purse.balance",
  overdraft: "purse.overdraft",
  onlineAtc: "atc.online",
  offlineAtc: "atc.offline",
  params: "purse.params",
  keys: "keys",
  code: "code80ca",
  proofLoad: "proof.load",
  proofPurchase: "proof.purchase",
} as const;

interface Params {
  [k: string]: number;
  maxBalance: number;
  overdraftLimit: number;
  keyVersion: number;
  algorithmId: number;
  keyIndex: number;
}

interface Proof {
  [k: string]: number | string;
  atc: number;
  type: number;
  mac2: string;
  tac: string;
}

interface LoadSession {
  kind: "load";
  amount: number;
  terminal: Bytes;
  atc: number;
  balance: number;
  key: Bytes;
}

interface CachedUpdate {
  sfi: number;
  mode: number;
  p1: number;
  data: Bytes;
}

interface PurchaseSession {
  kind: "purchase";
  type: number;
  amount: number;
  terminal: Bytes;
  atc: number;
  random: Bytes;
  cache: CachedUpdate[];
}

/** 80DC modes (P2 low three bits): record identifier, cyclic "new record", record number. */
const CAPP_MODE = { IDENTIFIER: 0b000, CYCLIC_NEW: 0b011, NUMBER: 0b100 } as const;
const MAX_CACHED_UPDATES = 3;
const MAX_COUNTER = 0xffff;
const EXCESS = 0x80000000;

const r = (sw: number, data?: Bytes): ResponseApdu => response(sw, data);

export class EpurseApplet implements Applet {
  private readonly fs: FileSystem;
  private session: LoadSession | PurchaseSession | null = null;
  /**
   * What personalisation wrote, read once from the store: it never changes afterwards (a new personalisation
   * means a new instance, hence a new applet object).
   */
  private perso: { params: Params; keys: Bytes; code: Bytes | undefined } | null = null;

  constructor(private readonly profile: EpurseProfile) {
    this.fs = new FileSystem(profile.root);
  }

  select(_c: CommandApdu, ctx: AppletContext): ResponseApdu {
    this.session = null;
    this.fs.reset();
    if (!this.personalised(ctx)) return r(SW.FILE_NOT_FOUND);
    return r(SW.OK, this.profile.fci(this.fs, ctx));
  }

  deselect(): void {
    this.session = null;
    this.fs.reset();
  }

  process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if ((c.cla & 0x0c) !== 0) return r(SW.SECURE_MESSAGING_NOT_SUPPORTED);
    if (c.cla === 0x00) {
      if (c.ins === 0x84) return this.getChallenge(c, ctx);
      if (c.ins === 0xa4 || c.ins === 0xb0 || c.ins === 0xb2) {
        // A new SELECT by FID ends an e-purse session, as on a card.
        if (c.ins === 0xa4) this.session = null;
        return this.fs.handle(c, ctx) ?? r(SW.INS_NOT_SUPPORTED);
      }
      return r(SW.INS_NOT_SUPPORTED);
    }
    if (c.cla !== 0x80) return r(SW.CLA_NOT_SUPPORTED);
    if (!this.personalised(ctx)) return r(SW.CONDITIONS_NOT_SATISFIED);
    if (c.ins === 0xca) return this.getData(c, ctx);
    if (isTUnionEc(ctx.selectedAid)) return r(SW.CONDITIONS_NOT_SATISFIED);
    const inPurse = this.fs.current.df === this.profile.purseDf;
    switch (c.ins) {
      case 0x5c:
        return inPurse ? this.getBalance(c, ctx) : r(SW.CONDITIONS_NOT_SATISFIED);
      case 0x50:
        return inPurse ? this.initialize(c, ctx) : r(SW.CONDITIONS_NOT_SATISFIED);
      case 0x52:
        return this.creditForLoad(c, ctx);
      case 0xdc:
        return this.updateCappDataCache(c);
      case 0x54:
        return this.debitForPurchase(c, ctx);
      case 0x5a:
        return this.getTransactionProve(c, ctx);
      default:
        return r(SW.INS_NOT_SUPPORTED);
    }
  }

  personalize(dgi: number, data: Bytes, ctx: AppletContext): number {
    if (this.personalised(ctx)) return SW.CONDITIONS_NOT_SATISFIED;
    if ((dgi & 0xff00) === 0x0100) {
      const ef = this.profile.binaries.get(dgi & 0xff);
      if (!ef) return SW.REFERENCED_DATA_NOT_FOUND;
      if (data.length !== ef.size) return SW.WRONG_LENGTH;
      return this.fs.write(ctx, ef, 0, data);
    }
    switch (dgi) {
      case DGI.PURSE: {
        if (data.length !== 10 || algorithmOfId(data[8]!) === undefined) return SW.WRONG_DATA;
        const params: Params = {
          maxBalance: readUintBE(data, 0, 4),
          overdraftLimit: readUintBE(data, 4, 3),
          keyVersion: data[7]!,
          algorithmId: data[8]!,
          keyIndex: data[9]!,
        };
        if (params.maxBalance > 0x7fffffff) return SW.WRONG_DATA;
        ctx.store.put(K.params, params);
        this.writePurse(ctx, { balance: 0, overdraft: 0, onlineAtc: 0, offlineAtc: 0 });
        return SW.OK;
      }
      case DGI.PURSE_STATE: {
        // A card issued with a balance, or moved from another phone (移卡) with its balance and counters.
        const params = ctx.store.get<Params>(K.params);
        if (!params) return SW.CONDITIONS_NOT_SATISFIED;
        if (data.length !== 8) return SW.WRONG_LENGTH;
        const balance = readUintBE(data, 0, 4);
        if (balance > params.maxBalance) return SW.WRONG_DATA;
        this.writePurse(ctx, {
          balance,
          overdraft: 0,
          onlineAtc: readUintBE(data, 4, 2),
          offlineAtc: readUintBE(data, 6, 2),
        });
        return SW.OK;
      }
      case DGI.records(this.profile.log.sfi!): {
        // A moved card's history, oldest first.
        const size = this.profile.log.recordSize!;
        if (
          data.length === 0 ||
          data.length % size !== 0 ||
          data.length / size > this.profile.log.maxRecords!
        )
          return SW.WRONG_LENGTH;
        for (let at = 0; at < data.length; at += size) {
          const sw = this.fs.appendRecord(ctx, this.profile.log, data.slice(at, at + size));
          if (sw !== SW.OK) return sw;
        }
        return SW.OK;
      }
      case DGI.SECURITY_CODE:
        if (!this.profile.securityCode) return SW.REFERENCED_DATA_NOT_FOUND;
        if (data.length !== 9) return SW.WRONG_LENGTH;
        ctx.store.put(K.code, toHex(data));
        return SW.OK;
      case DGI.KEYS:
        if (data.length !== 48) return SW.WRONG_LENGTH;
        ctx.store.put(K.keys, toHex(data));
        return SW.OK;
      default:
        return SW.REFERENCED_DATA_NOT_FOUND;
    }
  }

  // ── state ─────────────────────────────────────────────────────────────────────────────────────────

  private personalised(ctx: AppletContext): boolean {
    if (this.perso) return true;
    const s = ctx.store;
    const params = s.get<Params>(K.params);
    const keys = s.get<string>(K.keys);
    const code = this.profile.securityCode ? s.get<string>(K.code) : undefined;
    if (params === undefined || keys === undefined || (this.profile.securityCode && code === undefined))
      return false;
    // Only a personalised card is cached (personalize() itself runs before this and never reads the cache).
    this.perso = { params, keys: fromHex(keys), code: code === undefined ? undefined : fromHex(code) };
    return true;
  }

  private params(ctx: AppletContext): Params {
    this.personalised(ctx);
    return this.perso!.params;
  }

  private algorithm(ctx: AppletContext): EpurseAlgorithm {
    return algorithmOfId(this.params(ctx).algorithmId)!;
  }

  private purse(ctx: AppletContext): PurseView {
    const s = ctx.store;
    return {
      balance: s.get<number>(K.balance) ?? 0,
      overdraft: s.get<number>(K.overdraft) ?? 0,
      onlineAtc: s.get<number>(K.onlineAtc) ?? 0,
      offlineAtc: s.get<number>(K.offlineAtc) ?? 0,
    };
  }

  private writePurse(ctx: AppletContext, p: PurseView): void {
    const s = ctx.store;
    const old = this.purse(ctx);
    const exists = s.get(K.balance) !== undefined;
    if (!exists || old.balance !== p.balance) s.put(K.balance, p.balance);
    if (!exists || old.overdraft !== p.overdraft) s.put(K.overdraft, p.overdraft);
    if (!exists || old.onlineAtc !== p.onlineAtc) s.put(K.onlineAtc, p.onlineAtc);
    if (!exists || old.offlineAtc !== p.offlineAtc) s.put(K.offlineAtc, p.offlineAtc);
    this.profile.mirror?.(this.fs, ctx, p);
  }

  /** DPK, DLK, DTK (16 bytes each). */
  private key(ctx: AppletContext, which: 0 | 1 | 2): Bytes {
    this.personalised(ctx);
    return this.perso!.keys.slice(which * 16, which * 16 + 16);
  }

  private securityCode(ctx: AppletContext): Bytes | undefined {
    this.personalised(ctx);
    return this.perso?.code;
  }

  // ── commands ──────────────────────────────────────────────────────────────────────────────────────

  private getChallenge(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.p1 !== 0 || c.p2 !== 0) return r(SW.INCORRECT_P1P2);
    if (c.data.length > 0 || (c.ne !== 4 && c.ne !== 8)) return r(SW.WRONG_LENGTH);
    return r(SW.OK, ctx.random(c.ne));
  }

  private getData(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.data.length > 0) return r(SW.WRONG_LENGTH);
    const tag = (c.p1 << 8) | c.p2;
    if (isTUnionEc(ctx.selectedAid) && tag === 0x9f79) {
      // The EC application is listed for discovery; wallet cards hold their value in the EP, so EC = 0.
      return r(SW.OK, fromHex("9F7906000000000000"));
    }
    const code = this.securityCode(ctx);
    if (tag !== 0x0000 || !code) return r(SW.REFERENCED_DATA_NOT_FOUND);
    if (c.ne !== undefined && c.ne !== 256 && c.ne !== code.length) return r(SW.WRONG_LE | code.length);
    return r(SW.OK, code);
  }

  private getBalance(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.data.length > 0) return r(SW.WRONG_LENGTH);
    if (c.p2 !== 0x02) return r(SW.INCORRECT_P1P2);
    const p = this.purse(ctx);
    const encode = (v: number) => uintBE(this.profile.balanceEncoding === "excess-2^31" ? v + EXCESS : v, 4);
    let data: Bytes;
    if (c.p1 === 0x00) data = encode(p.balance);
    else if (this.profile.tUnionBalance && c.p1 === 0x03) data = uintBE(p.balance, 4);
    else if (this.profile.tUnionBalance && (c.p1 === 0x01 || c.p1 === 0x02)) data = uintBE(p.overdraft, 4);
    else if (this.profile.tUnionBalance && c.p1 === 0x05)
      data = concat(uintBE(p.balance, 4), uintBE(this.params(ctx).maxBalance, 4), new Uint8Array(8));
    else return r(SW.INCORRECT_P1P2);
    if (c.ne !== undefined && c.ne !== 256 && c.ne !== data.length) return r(SW.WRONG_LE | data.length);
    return r(SW.OK, data);
  }

  private initialize(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    this.session = null;
    const kind = c.p1 === 0x00 ? "load" : c.p1 === 0x01 ? "purchase" : c.p1 === 0x03 ? "capp" : null;
    if (!kind || c.p2 !== 0x02) return r(SW.INCORRECT_P1P2);
    if (c.data.length !== 11) return r(SW.WRONG_LENGTH);
    const params = this.params(ctx);
    if (c.data[0] !== params.keyIndex) return r(SW.KEY_INDEX_NOT_SUPPORTED);
    const amount = readUintBE(c.data, 1, 4);
    const terminal = c.data.slice(5, 11);
    const p = this.purse(ctx);
    const alg = this.algorithm(ctx);
    const random = ctx.random(4);
    const header = Uint8Array.of(params.keyVersion, params.algorithmId);
    if (kind === "load") {
      if (p.onlineAtc >= MAX_COUNTER) return r(SW.COUNTER_AT_MAXIMUM);
      // The amount must be positive and the new balance within the card's maximum.
      if (amount === 0 || p.balance - p.overdraft + amount > params.maxBalance) return r(SW.WRONG_DATA);
      const key = loadSessionKey(this.key(ctx, 1), random, p.onlineAtc, alg);
      const mac1 = loadMac1(key, alg, p.balance, { amount, type: TxType.EP_LOAD, terminal });
      this.session = { kind: "load", amount, terminal, atc: p.onlineAtc, balance: p.balance, key };
      return r(SW.OK, concat(uintBE(p.balance, 4), uintBE(p.onlineAtc, 2), header, random, mac1));
    }
    if (p.offlineAtc >= MAX_COUNTER) return r(SW.COUNTER_AT_MAXIMUM);
    if (amount > p.balance + (params.overdraftLimit - p.overdraft)) return r(SW.INSUFFICIENT_BALANCE);
    this.session = {
      kind: "purchase",
      type: kind === "capp" ? TxType.CAPP_PURCHASE : TxType.EP_PURCHASE,
      amount,
      terminal,
      atc: p.offlineAtc,
      random,
      cache: [],
    };
    return r(
      SW.OK,
      concat(uintBE(p.balance, 4), uintBE(p.offlineAtc, 2), uintBE(params.overdraftLimit, 3), header, random),
    );
  }

  private creditForLoad(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    const s = this.session;
    if (c.p1 !== 0 || c.p2 !== 0) return r(SW.INCORRECT_P1P2);
    if (c.data.length !== 11) return r(SW.WRONG_LENGTH);
    if (!s || s.kind !== "load") return r(SW.CONDITIONS_NOT_SATISFIED);
    this.session = null;
    const alg = this.algorithm(ctx);
    const date4 = c.data.slice(0, 4);
    const time3 = c.data.slice(4, 7);
    const mac2 = c.data.slice(7, 11);
    const fields = { amount: s.amount, type: TxType.EP_LOAD, terminal: s.terminal };
    if (!equalConstantTime(mac2, loadMac2(s.key, alg, fields, date4, time3))) return r(SW.MAC_INVALID);
    const p = this.purse(ctx);
    const repaid = Math.min(p.overdraft, s.amount);
    const after: PurseView = {
      ...p,
      overdraft: p.overdraft - repaid,
      balance: p.balance + s.amount - repaid,
      onlineAtc: p.onlineAtc + 1,
    };
    const tac = loadTac(tacKey(this.key(ctx, 2), alg), alg, after.balance, s.atc, fields, date4, time3);
    const record = this.record(
      after.onlineAtc,
      after.overdraft,
      s.amount,
      TxType.EP_LOAD,
      s.terminal,
      date4,
      time3,
    );
    const sw = this.fs.appendRecord(ctx, this.profile.log, record);
    if (sw !== SW.OK) return r(sw);
    this.writePurse(ctx, after);
    const proof: Proof = { atc: after.onlineAtc, type: TxType.EP_LOAD, mac2: toHex(mac2), tac: toHex(tac) };
    ctx.store.put(K.proofLoad, proof);
    return r(SW.OK, tac);
  }

  private updateCappDataCache(c: CommandApdu): ResponseApdu {
    const s = this.session;
    if (!s || s.kind !== "purchase" || s.type !== TxType.CAPP_PURCHASE) return r(SW.CONDITIONS_NOT_SATISFIED);
    const sfi = c.p2 >> 3;
    const mode = c.p2 & 0x07;
    const target = this.cappTarget(sfi, mode, c.p1);
    if (typeof target === "number") return r(target);
    if (c.data.length !== target.recordSize) return r(SW.WRONG_LENGTH);
    if (mode === CAPP_MODE.IDENTIFIER && c.data[0] !== c.p1) return r(SW.WRONG_DATA);
    const others = s.cache.filter((u) => !(u.sfi === sfi && u.mode === mode && u.p1 === c.p1));
    if (others.length >= MAX_CACHED_UPDATES) return r(SW.NOT_ENOUGH_MEMORY);
    s.cache = [...others, { sfi, mode, p1: c.p1, data: c.data.slice() }];
    return r(SW.OK);
  }

  /** The file an 80DC addresses, checked against the profile's compound and trip files. */
  private cappTarget(sfi: number, mode: number, p1: number): { recordSize: number } | number {
    const { compound, trips } = this.profile;
    if (compound && sfi === compound.ef.sfi) {
      const want = compound.addressing === "identifier" ? CAPP_MODE.IDENTIFIER : CAPP_MODE.NUMBER;
      if (mode !== want) return SW.INCORRECT_P1P2;
      if (mode === CAPP_MODE.NUMBER && (p1 < 1 || p1 > compound.ef.maxRecords!)) return SW.RECORD_NOT_FOUND;
      return { recordSize: compound.ef.recordSize! };
    }
    if (trips && sfi === trips.sfi) {
      if (mode !== CAPP_MODE.CYCLIC_NEW || p1 !== 0) return SW.INCORRECT_P1P2;
      return { recordSize: trips.recordSize! };
    }
    return SW.FILE_NOT_FOUND;
  }

  private debitForPurchase(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    const s = this.session;
    if (c.p1 !== 0x01 || c.p2 !== 0x00) return r(SW.INCORRECT_P1P2);
    if (c.data.length !== 15) return r(SW.WRONG_LENGTH);
    if (!s || s.kind !== "purchase") return r(SW.CONDITIONS_NOT_SATISFIED);
    if (s.type === TxType.CAPP_PURCHASE && s.cache.length === 0) return r(SW.CONDITIONS_NOT_SATISFIED);
    this.session = null;
    const alg = this.algorithm(ctx);
    const termSeq = c.data.slice(0, 4);
    const date4 = c.data.slice(4, 8);
    const time3 = c.data.slice(8, 11);
    const mac1 = c.data.slice(11, 15);
    const ses = purchaseSessionKey(this.key(ctx, 0), s.random, s.atc, termSeq, alg);
    const fields = { amount: s.amount, type: s.type, terminal: s.terminal, date4, time3 };
    if (!equalConstantTime(mac1, purchaseMac1(ses, alg, fields, this.securityCode(ctx))))
      return r(SW.MAC_INVALID);
    const p = this.purse(ctx);
    const fromBalance = Math.min(p.balance, s.amount);
    const after: PurseView = {
      ...p,
      balance: p.balance - fromBalance,
      overdraft: p.overdraft + (s.amount - fromBalance),
      offlineAtc: p.offlineAtc + 1,
    };
    for (const u of s.cache) {
      const sw = this.applyCachedUpdate(ctx, u);
      if (sw !== SW.OK) return r(sw);
    }
    const record = this.record(after.offlineAtc, after.overdraft, s.amount, s.type, s.terminal, date4, time3);
    const sw = this.fs.appendRecord(ctx, this.profile.log, record);
    if (sw !== SW.OK) return r(sw);
    this.writePurse(ctx, after);
    const mac2 = purchaseMac2(ses, alg, s.amount);
    const tac = purchaseTac(tacKey(this.key(ctx, 2), alg), alg, fields, termSeq);
    const proof: Proof = { atc: after.offlineAtc, type: s.type, mac2: toHex(mac2), tac: toHex(tac) };
    ctx.store.put(K.proofPurchase, proof);
    return r(SW.OK, concat(tac, mac2));
  }

  private applyCachedUpdate(ctx: AppletContext, u: CachedUpdate): number {
    const ef = this.fs.efBySfi(u.sfi, this.profile.purseDf)!;
    if (u.mode === CAPP_MODE.CYCLIC_NEW) return this.fs.appendRecord(ctx, ef, u.data);
    const recs = this.fs.records(ctx, ef);
    const n = u.mode === CAPP_MODE.NUMBER ? u.p1 : recs.findIndex((rec) => rec[0] === u.p1) + 1;
    // A record the card does not have yet is created (the next free slot).
    if (n === 0 || n === recs.length + 1) return this.fs.appendRecord(ctx, ef, u.data);
    return this.fs.updateRecord(ctx, ef, n, u.data);
  }

  private getTransactionProve(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.p1 !== 0) return r(SW.INCORRECT_P1P2);
    if (c.data.length !== 2) return r(SW.WRONG_LENGTH);
    const type = c.p2;
    const key =
      type === TxType.EP_LOAD
        ? K.proofLoad
        : type === TxType.EP_PURCHASE || type === TxType.CAPP_PURCHASE
          ? K.proofPurchase
          : null;
    if (!key) return r(SW.INCORRECT_P1P2);
    const proof = ctx.store.get<Proof>(key);
    const atc = readUintBE(c.data, 0, 2);
    if (!proof || proof.atc !== atc || proof.type !== type) return r(SW.MAC_NOT_AVAILABLE);
    return r(SW.OK, concat(fromHex(proof.mac2), fromHex(proof.tac)));
  }

  /** The 23-byte record as the card writes it: the terminal's date and time bytes are logged as sent. */
  private record(
    atc: number,
    overdraft: number,
    amount: number,
    type: number,
    terminal: Bytes,
    date4: Bytes,
    time3: Bytes,
  ): Bytes {
    return concat(
      uintBE(atc, 2),
      uintBE(overdraft, 3),
      uintBE(amount, 4),
      Uint8Array.of(type),
      terminal,
      date4,
      time3,
    );
  }
}
