/**
 * Track 2 Equivalent Data (tag 57): PAN, separator D, expiry YYMM, service code, discretionary data, padded
 * with F to whole bytes (EMV Book 3 Annex A). And PAN masking: a PAN (or a token standing for one) shown to a
 * person keeps its first 6 and last 4 digits only.
 */
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";

export interface Track2 {
  pan: string;
  /** YYMM */
  expiry: string;
  serviceCode: string;
  discretionary: string;
}

export function encodeTrack2(t: Track2): Bytes {
  let digits = `${t.pan}D${t.expiry}${t.serviceCode}${t.discretionary}`;
  if (digits.length % 2 === 1) digits += "F";
  return fromHex(digits);
}

export function parseTrack2(bytes: Bytes): Result<Track2> {
  if (bytes.length === 0 || bytes.length > 19) return err("track 2 must be 1–19 bytes");
  const m = /^(\d{12,19})D(\d{4})(\d{3})(\d*)F?$/.exec(toHex(bytes));
  if (!m) return err("track 2 is not PAN D YYMM service-code discretionary-data");
  return ok({ pan: m[1]!, expiry: m[2]!, serviceCode: m[3]!, discretionary: m[4]! });
}

/** Digits of a PAN in tag 5A (cn, padded with F). */
export function parsePan(bytes: Bytes): string | null {
  const m = /^(\d{12,19})F*$/.exec(toHex(bytes));
  return m ? m[1]! : null;
}

export function encodePan(pan: string): Bytes {
  return fromHex(pan.length % 2 === 1 ? pan + "F" : pan);
}

/** "6299 99•• •••• 9999": first 6 and last 4 digits, the rest hidden. */
export function maskPan(pan: string): string {
  if (pan.length < 11) return "•".repeat(pan.length);
  const masked = pan.slice(0, 6) + "•".repeat(pan.length - 10) + pan.slice(-4);
  return masked.replace(/(.{4})(?=.)/g, "$1 ");
}

/** Luhn check digit of a digit string (the digit to append). */
export function luhnCheckDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function isLuhnValid(pan: string): boolean {
  return /^\d{2,19}$/.test(pan) && luhnCheckDigit(pan.slice(0, -1)) === pan.slice(-1);
}
