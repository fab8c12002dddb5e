/**
 * The UnionPay QuickPass (qPBOC, EMV kernel C-7) facts Tapwallet's card, kernel and issuer share, and the
 * choices made where the reference (`shared/reference/emv.md`) marks a fact unverified. Each choice is one
 * constant here; docs/DECISIONS.md ("QuickPass: …" sections) says why.
 */
import { fromHex } from "../core/bytes.js";

/** UnionPay's registered application provider identifier. */
export const UNIONPAY_RID = fromHex("A000000333");

/** UnionPay application identifiers (emv.md §1.2). */
export const AID = {
  debit: fromHex("A000000333010101"),
  credit: fromHex("A000000333010102"),
  quasiCredit: fromHex("A000000333010103"),
} as const;

/**
 * Entry Point kernel identifier of the UnionPay kernel (EMV Book B: C-7). Unverified number; our card leaves
 * 9F2A out of its PPSE entry as the traced card does, and the entry point maps UnionPay AIDs to it.
 */
export const KERNEL_ID_UNIONPAY = 0x07;

/** Terminal Transaction Qualifiers (9F66) bits: [byte index 0–3, mask] (emv.md §1.3). */
export const TTQ = {
  msd: [0, 0x80],
  fullPboc: [0, 0x40],
  qpboc: [0, 0x20],
  contact: [0, 0x10],
  offlineOnly: [0, 0x08],
  onlinePin: [0, 0x04],
  signature: [0, 0x02],
  onlineCryptogramRequired: [1, 0x80],
  cvmRequired: [1, 0x40],
  contactOfflinePin: [1, 0x20],
  issuerUpdate: [2, 0x80],
  /** Decision "QuickPass: CDCVM bits": TTQ byte 3 b7 (the Visa VCPS position; unverified for UICS). */
  cdcvmSupported: [2, 0x40],
  fddaV01: [3, 0x80],
} as const satisfies Record<string, readonly [number, number]>;

/** Card Transaction Qualifiers (9F6C) bits (emv.md §1.3, §1.7). */
export const CTQ = {
  onlinePinRequired: [0, 0x80],
  signatureRequired: [0, 0x40],
  goOnlineIfOdaFails: [0, 0x20],
  switchInterfaceIfOdaFails: [0, 0x10],
  /** Decision "QuickPass: CDCVM bits": CTQ byte 2 b8 (Visa-aligned; unverified for UICS). */
  cdcvmPerformed: [1, 0x80],
} as const satisfies Record<string, readonly [number, number]>;

export type Qualifier = readonly [number, number];

export function hasBit(bytes: Uint8Array | undefined, [i, mask]: Qualifier): boolean {
  return bytes !== undefined && ((bytes[i] ?? 0) & mask) !== 0;
}

export function withBit(bytes: Uint8Array, [i, mask]: Qualifier, on = true): Uint8Array {
  const out = bytes.slice();
  if (i < out.length) out[i] = on ? out[i]! | mask : out[i]! & ~mask;
  return out;
}

/** The PDOL a UnionPay card asks for (emv.md fact 2). */
export const UNIONPAY_PDOL = fromHex("9F66049F02069F03069F1A0295055F2A029A039C019F3704");

/**
 * Cryptogram version numbers (IAD byte 3). CVN 01 is the PBOC/UICS 3DES (or SM4) cryptogram over the
 * PBOC data list (emv.md §2.3).
 */
export const CVN_PBOC = 0x01;

/** IAD algorithm identifier (emv.md §2.5): 01 = 3DES/RSA (seen on real cards). */
export const ALGORITHM_ID_3DES = 0x01;
/** Decision "QuickPass: SM profile": 04 for SM4 (the value often quoted; unverified). */
export const ALGORITHM_ID_SM4 = 0x04;

/**
 * Decision "QuickPass: 9F27 in the GPO answer": the traced UnionPay card sends none and the kernel reads
 * the cryptogram type from the CVR in 9F10. Our card does the same; our kernel accepts both forms.
 */
export const CARD_SENDS_CID_IN_GPO = false;

/**
 * Decision "QuickPass: 9F69 layout": fDDA version (1) ‖ card unpredictable number (4) ‖ CTQ (2), the Visa
 * layout; byte 1 is the fDDA version as HXCORE reads it.
 */
export const CARD_AUTH_DATA_LENGTH = 7;
export const FDDA_VERSION_01 = 0x01;

/**
 * Decision "QuickPass: CDCVM in the CVR": the card signals a consumer-device CVM inside the cryptogram too,
 * in CVR byte 4 (of the 4-byte CVR with its length byte) bit 1, a bit PBOC leaves unused, so the issuer can
 * rely on it (the CTQ is not covered by the CVN 01 cryptogram).
 */
export const CVR_CDCVM: Qualifier = [3, 0x01];
