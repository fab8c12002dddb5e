/**
 * The qPBOC card (UnionPay QuickPass, UICS contactless) as a secure-element applet: the bank-card token on
 * the phone. It answers SELECT with its FCI and PDOL; GET PROCESSING OPTIONS with a format-2 answer that
 * carries everything an online authorisation needs (AIP, ATC, track 2 with the token, IAD with the CVR, the
 * CVN 01 cryptogram, CTQ) and, on the offline path, the fDDA signature; READ RECORD for its AFL records
 * and transaction log; GET DATA; EXTERNAL AUTHENTICATE for the issuer's ARPC.
 *
 * Card risk management: online when the reader asks for it, the currency is foreign, or the offline balance
 * or single limit would be exceeded; CDCVM: if the reader requires a CVM the card pays only when the user
 * verified on the phone within the configured window (and says so in the CTQ and CVR); otherwise it answers
 * with an AAC — it does not pay.
 *
 * Never throws: every malformed command gets its ISO 7816 status word. Persistent state (ATC, offline
 * balance, log, issuer-authentication flag) lives in the applet store; the SE commits it per command.
 */
import { type CommandApdu, type ResponseApdu, response } from "../../core/apdu.js";
import { type Bytes, concat, equalConstantTime, fromHex, readBcd, toHex, uintBE } from "../../core/bytes.js";
import { chinaDateDigits } from "../../core/clock.js";
import { type DolEntry, parseDol, splitDolData } from "../../core/dol.js";
import { SW } from "../../core/sw.js";
import { type Tlv, encodeTlv, parseTlv, tlv } from "../../core/tlv.js";
import type { Applet, AppletContext, AppletStore } from "../../se/applet.js";
import {
  type AcAlgorithm,
  acData,
  algorithmOfId,
  applicationCryptogram,
  arpc,
  keyCheckValue,
  sessionKey,
} from "../cryptogram.js";
import { type IccPrivateKey, iccPrivateKeyFromCrt, signDynamicData } from "../fdda.js";
import { type CryptogramType, CID, encodeCvr, encodeIad } from "../iad.js";
import { CARD_SENDS_CID_IN_GPO, CTQ, FDDA_VERSION_01, TTQ, hasBit, withBit } from "../profile.js";
import { DGI, INTERNAL, LOG_FORMAT, LOG_RECORDS, LOG_SFI, isRecordDgi } from "./layout.js";

const CLA_PROPRIETARY = 0x80;
const INS = { gpo: 0xa8, readRecord: 0xb2, getData: 0xca, externalAuthenticate: 0x82 } as const;
/** AIP byte 1 b6: the card supports (f)DDA. */
const AIP_DDA = 0x20;
const MAX_ATC = 0xffff;
const DEFAULT_CDCVM_WINDOW_S = 300;

/**
 * The personalised data the GPO needs, one store cell each (hex strings), so a command reads only what it
 * uses: records live in cells of their own ("rec:SSRR") and are read by READ RECORD alone.
 */
interface Perso {
  fci: string;
  gpoStatic: string;
  internal: string;
  acKey: string;
  /** ICC key CRT components by DGI ("8201"…"8205"). */
  rsa: Record<string, string>;
}

const RSA_DGIS = ["8201", "8202", "8203", "8204", "8205"] as const;

/** Card risk parameters, decoded from the internal-data DGI. */
interface Params {
  currency: Bytes;
  offlineSingleLimit: number | null;
  dki: number;
  cvn: number;
  alg: AcAlgorithm;
  cdcvmWindowMs: number;
  offlineCapable: boolean;
}

/** What one GPO left for the commands after it (lost when the card is deselected or leaves the field). */
interface Session {
  gpoDone: boolean;
  /** The ARQC of this session, for EXTERNAL AUTHENTICATE. */
  arqc?: { atc: number; ac: Bytes; tried: boolean };
  /** 9F69 of this session's fDDA, served in the record that holds 9F69. */
  cardAuthData?: Bytes;
}

const KEY = {
  fci: "fci",
  gpoStatic: "gpoStatic",
  internal: "internal",
  acKey: "acKey",
  rsa: "rsa",
  /** Number of records personalised. */
  records: "records",
  record: (dgi: number) => `rec:${dgi.toString(16).padStart(4, "0")}`,
  atc: "atc",
  offline: "offlineBalance",
  lastOnlineAtc: "lastOnlineAtc",
  issuerAuthFailed: "issuerAuthFailed",
  log: "log",
} as const;

const ok = (data: Bytes): ResponseApdu => response(SW.OK, data);
const fail = (sw: number): ResponseApdu => response(sw);

/** The GPO's personalised data, or null until personalisation is complete. */
function loadPerso(store: AppletStore): Perso | null {
  const fci = store.get<string>(KEY.fci);
  const gpoStatic = store.get<string>(KEY.gpoStatic);
  const internal = store.get<string>(KEY.internal);
  const acKey = store.get<string>(KEY.acKey);
  if (fci === undefined || gpoStatic === undefined || internal === undefined || acKey === undefined)
    return null;
  if ((store.get<number>(KEY.records) ?? 0) === 0) return null;
  return { fci, gpoStatic, internal, acKey, rsa: store.get<Record<string, string>>(KEY.rsa) ?? {} };
}

function tlvMap(bytes: Bytes): Map<number, Bytes> | null {
  const parsed = parseTlv(bytes, { recurse: false });
  if (!parsed.ok) return null;
  return new Map(parsed.value.map((t) => [t.tag, t.value]));
}

/** n12 BCD amount in fen, or null if not BCD. */
function bcdAmount(b: Bytes | undefined): number | null {
  if (!b) return null;
  const digits = readBcd(b);
  return digits === null ? null : Number(digits);
}

export class QpbocApplet implements Applet {
  private session: Session = { gpoDone: false };
  /** Decoded ICC key, rebuilt when personalisation changes (the RSA key object is costly to build). */
  private iccKey: { source: string; key: IccPrivateKey } | null = null;

  constructor(private readonly aid: Bytes) {}

  select(_command: CommandApdu, ctx: AppletContext): ResponseApdu {
    this.session = { gpoDone: false };
    const fci = ctx.store.get<string>(KEY.fci);
    if (fci === undefined) return fail(SW.CONDITIONS_NOT_SATISFIED);
    return ok(tlv(0x6f, concat(tlv(0x84, this.aid), tlv(0xa5, fromHex(fci)))));
  }

  install(ctx: AppletContext): void {
    ctx.store.put(KEY.atc, 0);
  }

  deselect(): void {
    this.session = { gpoDone: false };
  }

  process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if ((c.cla & 0xfc) !== 0x00 && (c.cla & 0xfc) !== CLA_PROPRIETARY) return fail(SW.CLA_NOT_SUPPORTED);
    const proprietary = (c.cla & 0xfc) === CLA_PROPRIETARY;
    switch (c.ins) {
      case INS.gpo:
        return proprietary ? this.gpo(c, ctx) : fail(SW.CLA_NOT_SUPPORTED);
      case INS.readRecord:
        return proprietary ? fail(SW.CLA_NOT_SUPPORTED) : this.readRecord(c, ctx);
      case INS.getData:
        return proprietary ? this.getData(c, ctx) : fail(SW.CLA_NOT_SUPPORTED);
      case INS.externalAuthenticate:
        return proprietary ? fail(SW.CLA_NOT_SUPPORTED) : this.externalAuthenticate(c, ctx);
      default:
        return fail(SW.INS_NOT_SUPPORTED);
    }
  }

  personalize(dgi: number, data: Bytes, ctx: AppletContext): number {
    const store = ctx.store;
    const hex = toHex(data);
    if (isRecordDgi(dgi)) {
      const rec = parseTlv(data, { recurse: false });
      if (!rec.ok || rec.value.length !== 1 || rec.value[0]!.tag !== 0x70) return SW.WRONG_DATA;
      if (store.get(KEY.record(dgi)) === undefined)
        store.put(KEY.records, (store.get<number>(KEY.records) ?? 0) + 1);
      store.put(KEY.record(dgi), hex);
    } else {
      switch (dgi) {
        case DGI.fci:
        case DGI.gpoStatic:
          if (tlvMap(data) === null) return SW.WRONG_DATA;
          store.put(dgi === DGI.fci ? KEY.fci : KEY.gpoStatic, hex);
          break;
        case DGI.internal: {
          if (decodeParams(data) === null) return SW.WRONG_DATA;
          const balance = bcdAmount(tlvMap(data)!.get(INTERNAL.offlineBalance));
          if (balance !== null) store.put(KEY.offline, balance);
          store.put(KEY.internal, hex);
          break;
        }
        case DGI.acKey:
          if (data.length !== 16) return SW.WRONG_LENGTH;
          store.put(KEY.acKey, hex);
          break;
        case DGI.acKeyCheck: {
          const key = store.get<string>(KEY.acKey);
          const internal = store.get<string>(KEY.internal);
          if (key === undefined || internal === undefined) return SW.CONDITIONS_NOT_SATISFIED;
          const p = decodeParams(fromHex(internal));
          if (p === null || !equalConstantTime(keyCheckValue(fromHex(key), p.alg), data)) {
            store.delete(KEY.acKey);
            return SW.WRONG_DATA;
          }
          break;
        }
        case DGI.iccQInv:
        case DGI.iccDq:
        case DGI.iccDp:
        case DGI.iccQ:
        case DGI.iccP:
          if (data.length === 0 || data.length > 256) return SW.WRONG_LENGTH;
          store.put(KEY.rsa, {
            ...(store.get<Record<string, string>>(KEY.rsa) ?? {}),
            [dgi.toString(16)]: hex,
          });
          break;
        default:
          return SW.REFERENCED_DATA_NOT_FOUND;
      }
    }
    if (store.get(KEY.atc) === undefined) store.put(KEY.atc, 0);
    return SW.OK;
  }

  // ---- GET PROCESSING OPTIONS ------------------------------------------------------------------------

  private gpo(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.p1 !== 0 || c.p2 !== 0) return fail(SW.INCORRECT_P1P2);
    const perso = loadPerso(ctx.store);
    if (perso === null || this.session.gpoDone) return fail(SW.CONDITIONS_NOT_SATISFIED);
    const params = decodeParams(fromHex(perso.internal));
    const fci = tlvMap(fromHex(perso.fci));
    const pdolBytes = fci?.get(0x9f38);
    if (params === null || pdolBytes === undefined) return fail(SW.CONDITIONS_NOT_SATISFIED);
    const pdol = parseDol(pdolBytes);
    if (!pdol.ok) return fail(SW.CONDITIONS_NOT_SATISFIED);

    // 83 L <PDOL data>
    const cmd = parseTlv(c.data, { recurse: false, skipPadding: false });
    if (!cmd.ok || cmd.value.length !== 1 || cmd.value[0]!.tag !== 0x83) return fail(SW.WRONG_DATA);
    const terminal = splitDolData(pdol.value, cmd.value[0]!.value);
    if (!terminal.ok) return fail(SW.WRONG_LENGTH);
    const t = terminalValues(pdol.value, terminal.value);
    if (t === null) return fail(SW.WRONG_DATA);
    if (!hasBit(t.ttq, TTQ.qpboc)) return fail(SW.CONDITIONS_NOT_SATISFIED); // qPBOC only: use another interface

    const atcNow = ctx.store.get<number>(KEY.atc) ?? 0;
    if (atcNow >= MAX_ATC) return fail(SW.CONDITIONS_NOT_SATISFIED);
    const atc = atcNow + 1;
    ctx.store.put(KEY.atc, atc);
    this.session.gpoDone = true;

    const statics = tlvMap(fromHex(perso.gpoStatic)) ?? new Map<number, Bytes>();
    const aip = statics.get(0x82) ?? Uint8Array.of(0, 0);
    const balance = ctx.store.get<number>(KEY.offline);
    const decision = decide(t, params, aip, balance, verifiedRecently(ctx, params), this.canSign(perso));

    const ctq = decision.ctq(statics.get(0x9f6c) ?? Uint8Array.of(0, 0));
    const cvr = encodeCvr({
      type: decision.type,
      cdcvm: decision.cdcvm,
      issuerAuthFailedLastOnline: ctx.store.get<boolean>(KEY.issuerAuthFailed) === true,
    });
    const atcBytes = uintBE(atc, 2);
    const data = acData({
      amount: t.amount,
      otherAmount: t.otherAmount,
      terminalCountry: t.country,
      tvr: t.tvr,
      currency: t.currency,
      date: t.date,
      type: t.type,
      unpredictableNumber: t.un,
      aip,
      atc: atcBytes,
      cvr,
    })!;
    const udk = fromHex(perso.acKey);
    const sk = sessionKey(udk, atc, params.alg);
    const ac = applicationCryptogram(sk, data, params.alg);
    sk.fill(0);
    udk.fill(0);
    const iad = encodeIad({ dki: params.dki, cvn: params.cvn, cvr, algorithmId: params.algorithmId });

    let newBalance = balance;
    if (decision.type === "TC" && balance !== undefined) {
      newBalance = balance - t.amountFen;
      ctx.store.put(KEY.offline, newBalance);
    }
    if (decision.type === "ARQC") {
      ctx.store.put(KEY.lastOnlineAtc, atc);
      this.session.arqc = { atc, ac, tried: false };
    }
    this.appendLog(ctx, t, atcBytes);

    const out: Bytes[] = [];
    const put = (tag: number) => {
      const v = statics.get(tag);
      if (v) out.push(tlv(tag, v));
    };
    put(0x82);
    put(0x94);
    out.push(tlv(0x9f36, atcBytes));
    put(0x57);
    out.push(tlv(0x9f10, iad));
    out.push(tlv(0x9f26, ac));
    if (CARD_SENDS_CID_IN_GPO) out.push(tlv(0x9f27, Uint8Array.of(CID[decision.type])));
    put(0x5f34);
    out.push(tlv(0x9f6c, ctq));
    if (newBalance !== undefined) out.push(tlv(0x9f5d, uintBCD(newBalance)));
    if (decision.type === "TC") {
      // 9F69: fDDA version ‖ card unpredictable number ‖ CTQ (CARD_AUTH_DATA_LENGTH bytes).
      this.session.cardAuthData = concat(Uint8Array.of(FDDA_VERSION_01), ctx.random(4), ctq);
      const sdad = signDynamicData(this.iccPrivateKey(perso), atcBytes, [
        t.un,
        t.amount,
        t.currency,
        this.session.cardAuthData,
      ]);
      out.push(tlv(0x9f4b, sdad));
    }
    return ok(tlv(0x77, concat(...out)));
  }

  private canSign(p: Perso): boolean {
    return RSA_DGIS.every((k) => p.rsa[k] !== undefined);
  }

  private iccPrivateKey(p: Perso): IccPrivateKey {
    const source = RSA_DGIS.map((k) => p.rsa[k]).join(".");
    if (this.iccKey?.source !== source) {
      const r = (k: string) => fromHex(p.rsa[k]!);
      this.iccKey = {
        source,
        key: iccPrivateKeyFromCrt({
          qInv: r("8201"),
          dq: r("8202"),
          dp: r("8203"),
          q: r("8204"),
          p: r("8205"),
        }),
      };
    }
    return this.iccKey.key;
  }

  private appendLog(ctx: AppletContext, t: TerminalValues, atc: Bytes): void {
    const time = fromHex(chinaDateDigits(ctx.clock.now()).time);
    const entry = concat(
      t.date,
      time,
      t.amount,
      t.otherAmount,
      t.country,
      t.currency,
      new Uint8Array(20),
      t.type,
      atc,
    );
    const log = [toHex(entry), ...(ctx.store.get<string[]>(KEY.log) ?? [])].slice(0, LOG_RECORDS);
    ctx.store.put(KEY.log, log);
  }

  // ---- READ RECORD, GET DATA, EXTERNAL AUTHENTICATE -----------------------------------------------------

  private readRecord(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if ((c.p2 & 0x07) !== 0x04) return fail(SW.INCORRECT_P1P2);
    const sfi = c.p2 >> 3;
    if (sfi === 0 || sfi > 30) return fail(SW.INCORRECT_P1P2);
    if (c.p1 === 0) return fail(SW.RECORD_NOT_FOUND);
    let data: Bytes | undefined;
    if (sfi === LOG_SFI) {
      const log = ctx.store.get<string[]>(KEY.log) ?? [];
      const entry = log[c.p1 - 1];
      data = entry === undefined ? undefined : fromHex(entry);
    } else {
      const hex = ctx.store.get<string>(KEY.record((sfi << 8) | c.p1));
      data = hex === undefined ? undefined : this.withSessionData(fromHex(hex));
    }
    if (data === undefined) return fail(SW.RECORD_NOT_FOUND);
    if (c.ne !== undefined && c.ne < data.length) return fail(SW.WRONG_LE | Math.min(data.length, 0xff));
    return ok(data);
  }

  /** Puts this session's card authentication data (9F69) into the record that carries it. */
  private withSessionData(record: Bytes): Bytes {
    const cardAuth = this.session.cardAuthData;
    if (!cardAuth) return record;
    const parsed = parseTlv(record, { recurse: false });
    if (!parsed.ok || parsed.value[0]?.tag !== 0x70) return record;
    const inner = parseTlv(parsed.value[0].value, { recurse: false });
    if (!inner.ok || !inner.value.some((n) => n.tag === 0x9f69)) return record;
    const nodes: Tlv[] = inner.value.map((n) => (n.tag === 0x9f69 ? { tag: 0x9f69, value: cardAuth } : n));
    return tlv(0x70, concat(...nodes.map(encodeTlv)));
  }

  private getData(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    const tag = (c.p1 << 8) | c.p2;
    let value: Bytes | undefined;
    switch (tag) {
      case 0x9f36:
        value = uintBE(ctx.store.get<number>(KEY.atc) ?? 0, 2);
        break;
      case 0x9f13:
        value = uintBE(ctx.store.get<number>(KEY.lastOnlineAtc) ?? 0, 2);
        break;
      case 0x9f4f:
        value = LOG_FORMAT;
        break;
      case 0x9f79: {
        const balance = ctx.store.get<number>(KEY.offline);
        value = balance === undefined ? undefined : uintBCD(balance);
        break;
      }
    }
    if (value === undefined) return fail(SW.REFERENCED_DATA_NOT_FOUND);
    return ok(tlv(tag, value));
  }

  /** Checks the issuer's ARPC (tag 91 = ARPC ‖ ARC) against this session's ARQC; one try per session. */
  private externalAuthenticate(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.p1 !== 0 || c.p2 !== 0) return fail(SW.INCORRECT_P1P2);
    const session = this.session.arqc;
    if (!session || session.tried) return fail(SW.CONDITIONS_NOT_SATISFIED);
    if (c.data.length !== 10) return fail(SW.WRONG_LENGTH);
    session.tried = true;
    const perso = loadPerso(ctx.store);
    const params = perso === null ? null : decodeParams(fromHex(perso.internal));
    if (perso === null || params === null) return fail(SW.CONDITIONS_NOT_SATISFIED);
    const sk = sessionKey(fromHex(perso.acKey), session.atc, params.alg);
    const expected = arpc(sk, session.ac, c.data.subarray(8, 10), params.alg);
    sk.fill(0);
    const good = equalConstantTime(expected, c.data.subarray(0, 8));
    ctx.store.put(KEY.issuerAuthFailed, !good);
    return fail(good ? SW.OK : SW.VERIFY_FAILED);
  }
}

// ---- terminal data and the card's decision ----------------------------------------------------------------

interface TerminalValues {
  ttq: Bytes;
  amount: Bytes;
  amountFen: number;
  otherAmount: Bytes;
  country: Bytes;
  tvr: Bytes;
  currency: Bytes;
  date: Bytes;
  type: Bytes;
  un: Bytes;
}

/** The PDOL values the card needs, in their standard lengths, or null if one is missing or malformed. */
function terminalValues(pdol: DolEntry[], v: Map<number, Bytes>): TerminalValues | null {
  const need: [number, number][] = [
    [0x9f66, 4],
    [0x9f02, 6],
    [0x9f03, 6],
    [0x9f1a, 2],
    [0x95, 5],
    [0x5f2a, 2],
    [0x9a, 3],
    [0x9c, 1],
    [0x9f37, 4],
  ];
  for (const [tag, len] of need) if (!pdol.some((e) => e.tag === tag && e.length === len)) return null;
  const amountFen = bcdAmount(v.get(0x9f02));
  if (amountFen === null || bcdAmount(v.get(0x9f03)) === null) return null;
  return {
    ttq: v.get(0x9f66)!,
    amount: v.get(0x9f02)!,
    amountFen,
    otherAmount: v.get(0x9f03)!,
    country: v.get(0x9f1a)!,
    tvr: v.get(0x95)!,
    currency: v.get(0x5f2a)!,
    date: v.get(0x9a)!,
    type: v.get(0x9c)!,
    un: v.get(0x9f37)!,
  };
}

function decodeParams(internal: Bytes): (Params & { algorithmId: number }) | null {
  const m = tlvMap(internal);
  if (m === null) return null;
  const currency = m.get(INTERNAL.currency);
  const dki = m.get(INTERNAL.dki);
  const cvn = m.get(INTERNAL.cvn);
  const algId = m.get(INTERNAL.algorithmId);
  if (currency?.length !== 2 || dki?.length !== 1 || cvn?.length !== 1 || algId?.length !== 1) return null;
  const alg = algorithmOfId(algId[0]!);
  if (alg === null) return null;
  const window = m.get(INTERNAL.cdcvmWindow);
  const single = m.get(INTERNAL.offlineSingleLimit);
  return {
    currency,
    dki: dki[0]!,
    cvn: cvn[0]!,
    alg,
    algorithmId: algId[0]!,
    offlineSingleLimit: single === undefined ? null : bcdAmount(single),
    cdcvmWindowMs: (window?.length === 2 ? (window[0]! << 8) | window[1]! : DEFAULT_CDCVM_WINDOW_S) * 1000,
    offlineCapable: m.has(INTERNAL.offlineBalance),
  };
}

/** Whether the user verified on the phone (fingerprint or passcode) within the card's window. */
function verifiedRecently(ctx: AppletContext, p: Params): boolean {
  const at = ctx.host.lastUserVerification();
  if (at === null) return false;
  const age = ctx.clock.now().getTime() - at.getTime();
  return age >= 0 && age <= p.cdcvmWindowMs;
}

interface Decision {
  type: CryptogramType;
  cdcvm: boolean;
  /** The CTQ of this answer from the personalised base. */
  ctq(base: Bytes): Bytes;
}

/**
 * Card risk management and the card's CVM decision (emv.md §1.4, §1.7). A CVM the reader requires is met
 * by CDCVM when the reader supports it; a verified user at a reader without CDCVM support is offered online
 * PIN or signature, as the reader allows. An unverified user above the CVM limit gets an AAC.
 */
function decide(
  t: TerminalValues,
  p: Params,
  aip: Bytes,
  balance: number | undefined,
  verified: boolean,
  canSign: boolean,
): Decision {
  const readerCdcvm = hasBit(t.ttq, TTQ.cdcvmSupported);
  const cdcvm = verified && readerCdcvm;
  let cvm: "none" | "cdcvm" | "online-pin" | "signature" | "refused" = cdcvm ? "cdcvm" : "none";
  if (hasBit(t.ttq, TTQ.cvmRequired) && !cdcvm) {
    if (!verified) cvm = "refused";
    else if (hasBit(t.ttq, TTQ.onlinePin) && !hasBit(t.ttq, TTQ.offlineOnly)) cvm = "online-pin";
    else if (hasBit(t.ttq, TTQ.signature)) cvm = "signature";
    else cvm = "refused";
  }
  const offlinePossible =
    p.offlineCapable &&
    canSign &&
    (aip[0]! & AIP_DDA) !== 0 &&
    hasBit(t.ttq, TTQ.fddaV01) &&
    !hasBit(t.ttq, TTQ.onlineCryptogramRequired) &&
    equalConstantTime(t.currency, p.currency) &&
    balance !== undefined &&
    t.amountFen <= balance &&
    (p.offlineSingleLimit === null || t.amountFen <= p.offlineSingleLimit) &&
    cvm !== "online-pin";
  const onlinePossible = !hasBit(t.ttq, TTQ.offlineOnly);
  const type: CryptogramType =
    cvm === "refused" ? "AAC" : offlinePossible ? "TC" : onlinePossible ? "ARQC" : "AAC";
  return {
    type,
    cdcvm: cvm === "cdcvm",
    ctq: (base) => {
      let ctq = base.length === 2 ? base : Uint8Array.of(0, 0);
      if (cvm === "cdcvm") ctq = withBit(ctq, CTQ.cdcvmPerformed);
      if (cvm === "online-pin") ctq = withBit(ctq, CTQ.onlinePinRequired);
      if (cvm === "signature") ctq = withBit(ctq, CTQ.signatureRequired);
      return ctq;
    },
  };
}

/** An amount in fen as n12 BCD (6 bytes). */
function uintBCD(fen: number): Bytes {
  return fromHex(String(Math.max(0, fen)).padStart(12, "0").slice(-12));
}
