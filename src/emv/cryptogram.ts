/**
 * The PBOC / UICS CVN 01 application cryptogram, shared by the card (which makes it) and the issuer (which
 * checks it): per-card key by EMV option A from the (token) PAN and PSN, per-transaction session key from the
 * ATC, the AC as a MAC over the PBOC data list, and the ARPC by method 1 under the session key
 * (emv.md §2.1–2.4, verified with the PBOC blog vector).
 *
 * Cards issued "SM" use SM4 in place of 3DES. No public vector exists for that profile; the forms below are our
 * choice (docs/DECISIONS.md "QuickPass: SM profile") and test/fixtures/emv/sm4-profile.json holds vectors our
 * own code generated — self-consistent, not independent.
 */
import { type Bytes, concat, equalConstantTime, fromHex, uintBE } from "../core/bytes.js";
import {
  arpcMethod1,
  arqc as retailMacCryptogram,
  ecbEncrypt,
  emvOptionA,
  macAlg1,
  pbocDiversify,
  pbocSessionKey,
} from "../crypto/index.js";
import { ALGORITHM_ID_3DES, ALGORITHM_ID_SM4 } from "./profile.js";

export type AcAlgorithm = "3des" | "sm4";

export function algorithmId(alg: AcAlgorithm): number {
  return alg === "sm4" ? ALGORITHM_ID_SM4 : ALGORITHM_ID_3DES;
}

export function algorithmOfId(id: number): AcAlgorithm | null {
  return id === ALGORITHM_ID_3DES ? "3des" : id === ALGORITHM_ID_SM4 ? "sm4" : null;
}

/** Option A's Y: the rightmost 16 digits of PAN ‖ PSN, left-padded with zeros, as 8 bytes. */
function optionAY(pan: string, psn: string): Bytes {
  return fromHex((pan + psn).slice(-16).padStart(16, "0"));
}

/**
 * The card's AC master key (PBOC "UDK") from the issuer master key. 3DES: EMV option A (parity-adjusted, as
 * pyemv and PBOC issuers do). SM4: SM4_IMK(Y ‖ ~Y), one 16-byte block.
 */
export function cardMasterKey(imk: Bytes, pan: string, psn: string, alg: AcAlgorithm): Bytes {
  if (alg === "3des") return emvOptionA(imk, pan, psn);
  if (!/^\d{1,19}$/.test(pan) || !/^\d{2}$/.test(psn))
    throw new RangeError("PAN or PSN is not decimal digits");
  return pbocDiversify(imk, optionAY(pan, psn), "sm4");
}

/**
 * Session key for one ATC. 3DES: 3DES_UDK(00×6 ‖ ATC) ‖ 3DES_UDK(00×6 ‖ ~ATC). SM4: SM4_UDK(00×6 ‖ ATC ‖
 * 00×6 ‖ ~ATC), the same two halves as one block.
 */
export function sessionKey(udk: Bytes, atc: number, alg: AcAlgorithm): Bytes {
  if (alg === "3des") return pbocSessionKey(udk, atc);
  const a = uintBE(atc, 2);
  const block = new Uint8Array(16);
  block.set(a, 6);
  block[14] = ~a[0]! & 0xff;
  block[15] = ~a[1]! & 0xff;
  return ecbEncrypt("sm4", udk, block);
}

/**
 * The application cryptogram (ARQC, TC or AAC alike). 3DES: ISO 9797-1 MAC algorithm 3, padding method 2.
 * SM4: SM4 CBC-MAC (MAC algorithm 1, padding method 2, IV zero), the leftmost 8 bytes.
 */
export function applicationCryptogram(sk: Bytes, data: Bytes, alg: AcAlgorithm): Bytes {
  return alg === "3des" ? retailMacCryptogram(sk, data, "m2") : macAlg1("sm4", sk, data, "m2").slice(0, 8);
}

export function cryptogramMatches(sk: Bytes, data: Bytes, ac: Bytes, alg: AcAlgorithm): boolean {
  return ac.length === 8 && equalConstantTime(applicationCryptogram(sk, data, alg), ac);
}

/**
 * ARPC method 1 under the session key (PBOC): 3DES_SK(ARQC ⊕ (ARC ‖ 00×6)). SM4: the leftmost 8 bytes of
 * SM4_SK((ARQC ⊕ (ARC ‖ 00×6)) ‖ 00×8).
 */
export function arpc(sk: Bytes, arqc: Bytes, arc: Bytes, alg: AcAlgorithm): Bytes {
  if (alg === "3des") return arpcMethod1(sk, arqc, arc);
  if (arqc.length !== 8 || arc.length !== 2) throw new RangeError("ARQC must be 8 bytes and ARC 2");
  const block = new Uint8Array(16);
  block.set(arqc);
  block[0]! ^= arc[0]!;
  block[1]! ^= arc[1]!;
  return ecbEncrypt("sm4", sk, block).slice(0, 8);
}

/** Key check value: the first 3 bytes of the key's encryption of a zero block. */
export function keyCheckValue(key: Bytes, alg: AcAlgorithm): Bytes {
  return ecbEncrypt(alg, key, new Uint8Array(alg === "sm4" ? 16 : 8)).slice(0, 3);
}

/** The terminal and card values the CVN 01 cryptogram covers, each as its raw bytes. */
export interface AcInputs {
  /** 9F02, 6 bytes BCD. */
  amount: Bytes;
  /** 9F03, 6 bytes BCD. */
  otherAmount: Bytes;
  /** 9F1A, 2 bytes. */
  terminalCountry: Bytes;
  /** 95, 5 bytes. */
  tvr: Bytes;
  /** 5F2A, 2 bytes. */
  currency: Bytes;
  /** 9A, 3 bytes YYMMDD. */
  date: Bytes;
  /** 9C, 1 byte. */
  type: Bytes;
  /** 9F37, 4 bytes. */
  unpredictableNumber: Bytes;
  /** 82, 2 bytes. */
  aip: Bytes;
  /** 9F36, 2 bytes. */
  atc: Bytes;
  /** The 4 CVR bytes from the IAD, with their length byte 03. */
  cvr: Bytes;
}

const AC_INPUT_LENGTHS: [keyof AcInputs, number][] = [
  ["amount", 6],
  ["otherAmount", 6],
  ["terminalCountry", 2],
  ["tvr", 5],
  ["currency", 2],
  ["date", 3],
  ["type", 1],
  ["unpredictableNumber", 4],
  ["aip", 2],
  ["atc", 2],
  ["cvr", 4],
];

/**
 * The PBOC data list `9F02 ‖ 9F03 ‖ 9F1A ‖ 95 ‖ 5F2A ‖ 9A ‖ 9C ‖ 9F37 ‖ 82 ‖ 9F36 ‖ CVR` (37 bytes), or null if a
 * value has the wrong length (the issuer meets untrusted field 55 data here).
 */
export function acData(v: AcInputs): Bytes | null {
  for (const [k, n] of AC_INPUT_LENGTHS) if (v[k].length !== n) return null;
  return concat(...AC_INPUT_LENGTHS.map(([k]) => v[k]));
}

/** `acData` from the tags of an authorisation's field 55 and the CVR of its IAD; null if a tag is missing. */
export function acDataOfTags(tags: ReadonlyMap<number, Bytes>, cvr: Bytes): Bytes | null {
  const none = new Uint8Array(0);
  const tag = (t: number) => tags.get(t) ?? none;
  return acData({
    amount: tag(0x9f02),
    otherAmount: tag(0x9f03),
    terminalCountry: tag(0x9f1a),
    tvr: tag(0x95),
    currency: tag(0x5f2a),
    date: tag(0x9a),
    type: tag(0x9c),
    unpredictableNumber: tag(0x9f37),
    aip: tag(0x82),
    atc: tag(0x9f36),
    cvr,
  });
}
