/**
 * Issuer Application Data (9F10) in the PBOC / UICS layout (emv.md §2.5):
 * `07 | DKI | CVN | CVR (4 bytes, first = 03) | algorithm id | [Ld | issuer discretionary data]`,
 * and the Card Verification Results inside it.
 */
import type { Bytes } from "../core/bytes.js";
import { concat } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { CVR_CDCVM, hasBit } from "./profile.js";

export type CryptogramType = "AAC" | "TC" | "ARQC";

/** Cryptogram Information Data (9F27) byte for each type (EMV Book 3). */
export const CID: Readonly<Record<CryptogramType, number>> = { AAC: 0x00, TC: 0x40, ARQC: 0x80 };

export function cryptogramTypeOfCid(cid: number): CryptogramType | null {
  switch (cid & 0xc0) {
    case 0x00:
      return "AAC";
    case 0x40:
      return "TC";
    case 0x80:
      return "ARQC";
    default:
      return null;
  }
}

/** CVR byte 2 bits 6–5 (first GENERATE AC / GPO cryptogram type); bits 8–7 = 10 "2nd GAC not requested". */
const FIRST_AC_BITS: Readonly<Record<CryptogramType, number>> = { AAC: 0x00, TC: 0x10, ARQC: 0x20 };
const SECOND_AC_NOT_REQUESTED = 0x80;

/** CVR byte 3 b4 (VIS/PBOC): issuer authentication failed on the last online transaction. */
const CVR_ISSUER_AUTH_FAILED_LAST: readonly [number, number] = [2, 0x08];

export interface Cvr {
  type: CryptogramType;
  cdcvm: boolean;
  issuerAuthFailedLastOnline: boolean;
}

/** The 4-byte CVR including its length byte 03, as the CVN 01 cryptogram covers it. */
export function encodeCvr(c: Cvr): Bytes {
  const out = Uint8Array.of(0x03, SECOND_AC_NOT_REQUESTED | FIRST_AC_BITS[c.type], 0x00, 0x00);
  if (c.issuerAuthFailedLastOnline) out[CVR_ISSUER_AUTH_FAILED_LAST[0]]! |= CVR_ISSUER_AUTH_FAILED_LAST[1];
  if (c.cdcvm) out[CVR_CDCVM[0]]! |= CVR_CDCVM[1];
  return out;
}

export function decodeCvr(cvr: Bytes): Result<Cvr> {
  if (cvr.length !== 4 || cvr[0] !== 0x03) return err("CVR is not 4 bytes starting with 03");
  const bits = cvr[1]! & 0x30;
  const type = bits === 0x00 ? "AAC" : bits === 0x10 ? "TC" : bits === 0x20 ? "ARQC" : null;
  if (type === null) return err("CVR names a reserved cryptogram type");
  return ok({
    type,
    cdcvm: hasBit(cvr, CVR_CDCVM),
    issuerAuthFailedLastOnline: hasBit(cvr, CVR_ISSUER_AUTH_FAILED_LAST),
  });
}

export interface Iad {
  /** Derivation key index: which issuer master key the card's keys come from. */
  dki: number;
  cvn: number;
  /** The 4 CVR bytes with the length byte (what the CVN 01 cryptogram covers). */
  cvr: Bytes;
  algorithmId: number;
  /** Issuer discretionary data after its length byte (absent when the IAD stops after 8 bytes). */
  discretionary?: Bytes;
}

export function encodeIad(i: Iad): Bytes {
  const base = Uint8Array.of(0x07, i.dki, i.cvn, ...i.cvr, i.algorithmId);
  return i.discretionary ? concat(base, Uint8Array.of(i.discretionary.length), i.discretionary) : base;
}

export function decodeIad(iad: Bytes): Result<Iad> {
  if (iad.length < 8 || iad[0] !== 0x07)
    return err("IAD is not in the PBOC layout (07 | DKI | CVN | CVR | alg)");
  if (iad[3] !== 0x03) return err("IAD's CVR does not start with its length 03");
  const out: Iad = { dki: iad[1]!, cvn: iad[2]!, cvr: iad.slice(3, 7), algorithmId: iad[7]! };
  if (iad.length > 8) {
    const ld = iad[8]!;
    if (iad.length !== 9 + ld || ld === 0 || ld > 15)
      return err("IAD issuer discretionary data length is wrong");
    out.discretionary = iad.slice(9);
  }
  return ok(out);
}
