/**
 * CVN2, the 3 digits on the back of a UnionPay card, computed the way card verification values are: the
 * IBM/Visa CVV method under the issuer's card verification key pair (CVK A ‖ CVK B).
 *
 *   data   = PAN ‖ expiry (YYMM) ‖ service code, right-padded with 0 to 32 digits
 *   r      = DES(CVK A)[data 1–16] ⊕ data 17–32, then 3DES(CVK A, CVK B)(r)
 *   digits = the decimal digits of hex(r) in order, then its A–F digits minus 10; the first three
 *
 * CVN2 uses service code 000 (docs/DECISIONS.md "Bank cards: CVN2"), so the issuer verifies a CVN2 by
 * recomputing it: no CVN2 is ever stored, ours or the user's. Checked against psec's published vector.
 */
import { type Bytes, ascii, equalConstantTime, fromHex, toHex, xor } from "../../core/bytes.js";
import { ecbEncrypt } from "../../crypto/index.js";

/** Service code of CVN2 (CVV2): the card-not-present value, not the chip's 201. */
export const CVN2_SERVICE_CODE = "000";

export function cardVerificationValue(
  cvk: Bytes,
  pan: string,
  expiryYymm: string,
  serviceCode: string,
  digits = 3,
): string {
  if (cvk.length !== 16) throw new RangeError("a CVK pair is 16 bytes");
  if (!/^\d{1,19}$/.test(pan) || !/^\d{4}$/.test(expiryYymm) || !/^\d{3}$/.test(serviceCode))
    throw new RangeError("PAN, expiry or service code malformed");
  const data = (pan + expiryYymm + serviceCode).padEnd(32, "0");
  const first = ecbEncrypt("des", cvk.subarray(0, 8), fromHex(data.slice(0, 16)));
  const r = toHex(ecbEncrypt("3des", cvk, xor(first, fromHex(data.slice(16, 32)))));
  const decimal = [...r].filter((c) => c <= "9").join("");
  const letters = [...r]
    .filter((c) => c > "9")
    .map((c) => String(parseInt(c, 16) - 10))
    .join("");
  return (decimal + letters).slice(0, digits);
}

export function cvn2(cvk: Bytes, pan: string, expiryYymm: string): string {
  return cardVerificationValue(cvk, pan, expiryYymm, CVN2_SERVICE_CODE);
}

/** Compares a typed CVN2 with the card's in constant time. */
export function cvn2Matches(cvk: Bytes, pan: string, expiryYymm: string, typed: string): boolean {
  return /^\d{3}$/.test(typed) && equalConstantTime(ascii(cvn2(cvk, pan, expiryYymm)), ascii(typed));
}
