/**
 * The UnionPay contactless kernel (EMV Book C-7, qPBOC; JR/T 0025.12 §7): GET PROCESSING OPTIONS with the
 * PDOL data, the card's answer checked field by field, then by cryptogram type —
 * ARQC → online request (no READ RECORD: the GPO answer carries everything);
 * TC → READ RECORD per AFL, fDDA with the CAPK store, expiry, then offline approval — or, if fDDA fails,
 *      the CTQ decides: go online, switch interface, or decline (emv.md §1.5);
 * AAC → declined.
 * Then the CVM outcome from the CTQ and the TTQ, and field 55.
 *
 * Everything from the card is untrusted: a malformed or inconsistent answer ends in "declined" (or "try
 * again" when the card left the field), never in an exception.
 */
import { command } from "../../core/apdu.js";
import { type Bytes, concat, equal, readBcd, toHex } from "../../core/bytes.js";
import { buildDolData, parseDol } from "../../core/dol.js";
import type { Fen } from "../../core/money.js";
import { type Tlv, parseTlv, tlv } from "../../core/tlv.js";
import type { CvmPerformed } from "../authorisation.js";
import { type FddaInput, verifyFdda } from "../fdda.js";
import { CID, type CryptogramType, cryptogramTypeOfCid, decodeCvr, decodeIad } from "../iad.js";
import { CTQ, TTQ, hasBit } from "../profile.js";
import { parsePan, parseTrack2 } from "../track2.js";
import type { CardIo } from "./card-io.js";
import type { Combination } from "./entry-point.js";
import { buildField55 } from "./field55.js";
import type { TerminalConfig } from "./config.js";
import { type CardTransaction, type KernelOutcome, R, type Reason } from "./outcome.js";

export interface KernelInput {
  /** The FCI (6F) of the selected application. */
  fci: Tlv;
  label: string | undefined;
  combo: Combination;
  config: TerminalConfig;
  /** Terminal data by tag: everything a PDOL may ask for and field 55 carries. */
  terminalData: Map<number, Bytes>;
  amount: Fen;
  /** YYYYMMDD (China time). */
  transactionDate: string;
}

/** Most records a kernel will read for one transaction (a guard against hostile AFLs). */
const MAX_RECORDS = 32;

/** Length rules for GPO answer fields: [min, max] bytes. */
const GPO_FIELDS: ReadonlyMap<number, [number, number]> = new Map([
  [0x82, [2, 2]],
  [0x94, [4, 252]],
  [0x9f36, [2, 2]],
  [0x57, [1, 19]],
  [0x9f10, [8, 32]],
  [0x9f26, [8, 8]],
  [0x9f27, [1, 1]],
  [0x5f34, [1, 1]],
  [0x9f6c, [2, 2]],
  [0x9f5d, [6, 6]],
  [0x9f4b, [1, 248]],
  [0x9f69, [1, 16]],
]);

/** Length rules for record fields the kernel uses. */
const RECORD_FIELDS: ReadonlyMap<number, [number, number]> = new Map([
  [0x5a, [1, 10]],
  [0x5f24, [3, 3]],
  [0x5f25, [3, 3]],
  [0x8f, [1, 1]],
  [0x90, [1, 248]],
  [0x92, [1, 248]],
  [0x9f32, [1, 3]],
  [0x9f46, [1, 248]],
  [0x9f47, [1, 3]],
  [0x9f48, [1, 248]],
  [0x9f4a, [1, 8]],
  [0x9f69, [1, 16]],
]);

const decline = (reason: Reason, extra: Partial<KernelOutcome> = {}): KernelOutcome => ({
  kind: "declined",
  reason,
  cvm: "none",
  ...extra,
});

/** Primitive TLVs of a template into a map, refusing duplicates and fields of the wrong length. */
function fieldsOf(
  nodes: Tlv[],
  rules: ReadonlyMap<number, [number, number]>,
  into = new Map<number, Bytes>(),
) {
  for (const n of nodes) {
    if (into.has(n.tag)) return null;
    const rule = rules.get(n.tag);
    if (rule && (n.value.length < rule[0] || n.value.length > rule[1])) return null;
    into.set(n.tag, n.value);
  }
  return into;
}

export async function runKernelC7(io: CardIo, k: KernelInput): Promise<KernelOutcome> {
  const ttq = k.combo.ttq;
  const base = { ttq, terminalData: k.terminalData };

  // --- GPO -------------------------------------------------------------------------------------------------
  const pdolTag = k.fci.children?.find((t) => t.tag === 0xa5)?.children?.find((t) => t.tag === 0x9f38);
  if (!pdolTag) return { kind: "try-another-interface", reason: R.noPdol, cvm: "none", ...base };
  const pdol = parseDol(pdolTag.value);
  if (!pdol.ok || !pdol.value.some((e) => e.tag === 0x9f66)) {
    return { kind: "try-another-interface", reason: R.noPdol, cvm: "none", ...base };
  }
  const pdolData = buildDolData(pdol.value, k.terminalData);
  if (pdolData.length > 252) return decline(R.badCardData, base);
  const gpo = await io.send(command(0x80, 0xa8, 0x00, 0x00, tlv(0x83, pdolData), 256));
  if (!gpo.ok) {
    return gpo.error === "card-gone"
      ? { kind: "try-again", reason: R.cardGone, cvm: "none", ...base }
      : decline(R.badCardData, base);
  }
  const sw = gpo.value.sw;
  if (sw === 0x6984 || sw === 0x6985 || sw === 0x6986) {
    return { kind: "try-another-interface", reason: R.gpoRefused, cvm: "none", ...base };
  }
  if (sw !== 0x9000) return decline(R.gpoError, base);
  const parsed = parseTlv(gpo.value.data, { recurse: false });
  if (!parsed.ok || parsed.value.length !== 1) return decline(R.badCardData, base);
  const template = parsed.value[0]!;
  if (template.tag === 0x80) return { kind: "try-another-interface", reason: R.noPdol, cvm: "none", ...base };
  if (template.tag !== 0x77) return decline(R.badCardData, base);
  const inner = parseTlv(template.value, { recurse: false });
  if (!inner.ok) return decline(R.badCardData, base);
  const card = fieldsOf(inner.value, GPO_FIELDS);
  if (card === null) return decline(R.badCardData, base);

  // --- cryptogram type: 9F27 if sent, else the CVR in the IAD (emv.md fact 3) ----------------------------
  const iadBytes = card.get(0x9f10);
  const iad = iadBytes ? decodeIad(iadBytes) : null;
  const cvr = iad?.ok ? decodeCvr(iad.value.cvr) : null;
  const cidByte = card.get(0x9f27)?.[0];
  const fromCid = cidByte === undefined ? null : cryptogramTypeOfCid(cidByte);
  const fromCvr = cvr?.ok ? cvr.value.type : null;
  if (fromCid !== null && fromCvr !== null && fromCid !== fromCvr) return decline(R.badCardData, base);
  const type: CryptogramType | null = fromCid ?? fromCvr;
  if (type === null) return decline(R.badCardData, base);
  const ctq = card.get(0x9f6c);
  if (type === "AAC") {
    const seePhone = k.combo.cvmRequired && hasBit(ttq, TTQ.cdcvmSupported);
    return decline(R.declinedByCard, seePhone ? { ...base, message: R.seePhone } : base);
  }

  const required = [0x82, 0x9f36, 0x57, 0x9f10, 0x9f26];
  if (required.some((t) => !card.has(t))) return decline(R.missingCardData, base);
  const track2 = parseTrack2(card.get(0x57)!);
  if (!track2.ok) return decline(R.badCardData, base);
  const psnBytes = card.get(0x5f34);
  const psn = psnBytes ? readBcd(psnBytes) : "00";
  if (psn === null) return decline(R.badCardData, base);
  const offlineBalance = card.has(0x9f5d) ? readBcd(card.get(0x9f5d)!) : undefined;
  if (offlineBalance === null) return decline(R.badCardData, base);

  const tx: CardTransaction = {
    aid: k.terminalData.get(0x84)!,
    track2: card.get(0x57)!,
    pan: track2.value.pan,
    expiry: track2.value.expiry,
    psn,
    atc: card.get(0x9f36)!,
    cryptogramType: type,
    cryptogram: card.get(0x9f26)!,
    iad: card.get(0x9f10)!,
    aip: card.get(0x82)!,
    fdda: "not-performed",
  };
  if (k.label !== undefined) tx.label = k.label;
  if (ctq) tx.ctq = ctq;
  if (offlineBalance !== undefined) tx.offlineBalance = Number(offlineBalance);

  const offlineOnly = hasBit(ttq, TTQ.offlineOnly);
  if (type === "ARQC") {
    if (offlineOnly) return decline(R.offlineNotPossible, { ...base, card: tx });
    return finish(k, tx, "online-request", R.approvedOnline, card, false);
  }

  // --- TC: records, fDDA, processing restrictions -------------------------------------------------------
  if (hasBit(ttq, TTQ.onlineCryptogramRequired)) return decline(R.badCardData, { ...base, card: tx });
  const records = await readRecords(io, card.get(0x94));
  if (records.kind === "gone")
    return { kind: "try-again", reason: R.cardGone, cvm: "none", ...base, card: tx };
  if (records.kind === "error") return decline(records.reason, { ...base, card: tx });
  const data = records.data;

  const panInRecords = data.get(0x5a);
  if (panInRecords && parsePan(panInRecords) !== tx.pan) return decline(R.badCardData, { ...base, card: tx });
  const expiry = data.get(0x5f24);
  const date = k.transactionDate.slice(2);
  if (expiry ? toHex(expiry) < date : `${tx.expiry}31` < date)
    return decline(R.expired, { ...base, card: tx });
  const effective = data.get(0x5f25);
  if (effective && toHex(effective) > date) return decline(R.notYetEffective, { ...base, card: tx });

  const fdda = fddaInput(k, tx, card, data, records.odaData);
  const passed = fdda !== null && verifyFdda(fdda).ok;
  tx.fdda = passed ? "passed" : "failed";
  if (!passed) {
    if (hasBit(ctq, CTQ.goOnlineIfOdaFails) && !offlineOnly)
      return finish(k, tx, "online-request", R.fddaFailedOnline, card, true);
    if (hasBit(ctq, CTQ.switchInterfaceIfOdaFails))
      return { kind: "try-another-interface", reason: R.fddaFailedSwitch, cvm: "none", ...base, card: tx };
    return decline(R.fddaFailed, { ...base, card: tx });
  }
  return finish(k, tx, "approved", R.approvedOffline, card, false);
}

/** The CVM outcome (JR/T 0025.12 §7.8; emv.md §1.5), then the outcome with field 55. */
function finish(
  k: KernelInput,
  tx: CardTransaction,
  kind: "online-request" | "approved",
  reason: Reason,
  card: Map<number, Bytes>,
  odaFailed: boolean,
): KernelOutcome {
  const ttq = k.combo.ttq;
  const cvm = cvmOutcome(ttq, tx.ctq, kind === "online-request", k.combo.cvmRequired);
  const base = { ttq, terminalData: k.terminalData, card: tx };
  if (cvm === null) return decline(R.cvmFailed, base);
  const field55 = buildField55({
    card,
    terminal: k.terminalData,
    cid: Uint8Array.of(CID[tx.cryptogramType]),
    cvm,
    odaFailed,
  });
  return { kind, reason, cvm, field55, ...base };
}

/**
 * Which CVM applies: what the card asks for in the CTQ, if the reader supports it; CDCVM when the card did
 * it and the reader accepts it; otherwise, if the reader required a CVM, signature if supported. null = none
 * possible (decline).
 */
export function cvmOutcome(
  ttq: Bytes,
  ctq: Bytes | undefined,
  online: boolean,
  cvmRequired: boolean,
): CvmPerformed | null {
  const cdcvm = hasBit(ctq, CTQ.cdcvmPerformed) && hasBit(ttq, TTQ.cdcvmSupported);
  if (hasBit(ctq, CTQ.onlinePinRequired)) {
    if (online && hasBit(ttq, TTQ.onlinePin)) return "online-pin";
    if (cdcvm) return "cdcvm";
    if (hasBit(ctq, CTQ.signatureRequired) && hasBit(ttq, TTQ.signature)) return "signature";
    return null;
  }
  if (cdcvm) return "cdcvm";
  if (hasBit(ctq, CTQ.signatureRequired)) return hasBit(ttq, TTQ.signature) ? "signature" : null;
  if (!cvmRequired) return "none";
  return hasBit(ttq, TTQ.signature) ? "signature" : null;
}

type RecordsResult =
  | { kind: "ok"; data: Map<number, Bytes>; odaData: Bytes | null }
  | { kind: "gone" }
  | { kind: "error"; reason: Reason };

/**
 * READ RECORD for every AFL entry. Record data of SFI 1–10 must be one 70 template; records flagged for
 * offline data authentication add their template's value (SFI 1–10) or whole record (SFI 11–30) to the
 * static data. odaData is null when an ODA record is not a proper template (fDDA then fails).
 */
async function readRecords(io: CardIo, afl: Bytes | undefined): Promise<RecordsResult> {
  if (!afl || afl.length % 4 !== 0) return { kind: "error", reason: R.missingCardData };
  const data = new Map<number, Bytes>();
  const oda: Bytes[] = [];
  let odaOk = true;
  let count = 0;
  for (let i = 0; i < afl.length; i += 4) {
    const sfi = afl[i]! >> 3;
    const [first, last, odaCount] = [afl[i + 1]!, afl[i + 2]!, afl[i + 3]!];
    if (
      sfi < 1 ||
      sfi > 30 ||
      (afl[i]! & 7) !== 0 ||
      first === 0 ||
      last < first ||
      odaCount > last - first + 1
    )
      return { kind: "error", reason: R.badCardData };
    count += last - first + 1;
    if (count > MAX_RECORDS) return { kind: "error", reason: R.badCardData };
    for (let rec = first; rec <= last; rec++) {
      const r = await io.send(command(0x00, 0xb2, rec, (sfi << 3) | 4, new Uint8Array(0), 256));
      if (!r.ok) return r.error === "card-gone" ? { kind: "gone" } : { kind: "error", reason: R.recordError };
      if (r.value.sw !== 0x9000) return { kind: "error", reason: R.recordError };
      const parsed = parseTlv(r.value.data, { recurse: false });
      const template =
        parsed.ok && parsed.value.length === 1 && parsed.value[0]!.tag === 0x70 ? parsed.value[0] : null;
      if (sfi <= 10 && !template) return { kind: "error", reason: R.badCardData };
      if (template) {
        const inner = parseTlv(template.value, { recurse: false });
        if (!inner.ok || fieldsOf(inner.value, RECORD_FIELDS, data) === null)
          return { kind: "error", reason: R.badCardData };
      }
      if (rec - first < odaCount) {
        if (sfi <= 10) oda.push(template!.value);
        else if (template) oda.push(r.value.data);
        else odaOk = false;
      }
    }
  }
  return { kind: "ok", data, odaData: odaOk ? concat(...oda) : null };
}

/** Everything fDDA needs, or null when something is missing (fDDA then fails). */
function fddaInput(
  k: KernelInput,
  tx: CardTransaction,
  card: Map<number, Bytes>,
  records: Map<number, Bytes>,
  odaData: Bytes | null,
): FddaInput | null {
  const rid = k.terminalData.get(0x84)?.subarray(0, 5);
  const capkIndex = records.get(0x8f);
  const sdad = card.get(0x9f4b);
  if (!rid || !capkIndex || !sdad || odaData === null) return null;
  const capk = k.config.capks.get(rid, capkIndex[0]!);
  if (!capk) return null;
  // Static data tag list: only the AIP may be listed (EMV Book 3 §10.3).
  const tagList = records.get(0x9f4a);
  if (tagList && !(tagList.length === 1 && tagList[0] === 0x82)) return null;
  const staticData = tagList ? concat(odaData, card.get(0x82)!) : odaData;
  const cardAuth = card.get(0x9f69) ?? records.get(0x9f69);
  const issuerCert = records.get(0x90);
  const issuerExp = records.get(0x9f32);
  const iccCert = records.get(0x9f46);
  const iccExp = records.get(0x9f47);
  const panBytes = records.get(0x5a);
  if (!issuerCert || !issuerExp || !iccCert || !iccExp) return null;
  const pan = panBytes ? parsePan(panBytes) : tx.pan;
  if (pan === null) return null;
  const input: FddaInput = {
    capk,
    issuerCertificate: issuerCert,
    issuerExponent: issuerExp,
    iccCertificate: iccCert,
    iccExponent: iccExp,
    staticData,
    sdad,
    pan,
    atc: card.get(0x9f36)!,
    transactionDate: k.transactionDate,
    unpredictableNumber: k.terminalData.get(0x9f37)!,
  };
  const issuerRem = records.get(0x92);
  const iccRem = records.get(0x9f48);
  if (issuerRem) input.issuerRemainder = issuerRem;
  if (iccRem) input.iccRemainder = iccRem;
  // fDDA v01 (emv.md §1.6): the reader supports it and the card's 9F69 says version 01.
  if (hasBit(k.combo.ttq, TTQ.fddaV01) && cardAuth && cardAuth[0] === 0x01) {
    input.v01 = {
      amount: k.terminalData.get(0x9f02)!,
      currency: k.terminalData.get(0x5f2a)!,
      cardAuthData: cardAuth,
    };
    // The CTQ copy inside the signed 9F69 must match the CTQ the card sent (Visa-style layout).
    const ctq = card.get(0x9f6c);
    if (ctq && cardAuth.length >= 7 && !equal(cardAuth.subarray(5, 7), ctq)) return null;
  }
  return input;
}
