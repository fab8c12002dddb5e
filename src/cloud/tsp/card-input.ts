/**
 * What a user types when adding a bank card, checked before anything is sent to the bank: the card number
 * (digits, Luhn, a UnionPay BIN in our table, that range's length, never our token range), the expiry
 * (MM/YY, valid through the last day of that month in China time) and, for credit cards, the 3-digit CVN2.
 * Untrusted input: every function returns a Result; no message repeats the number.
 */
import { chinaTime } from "../../core/clock.js";
import { type Result, err, ok } from "../../core/result.js";
import { isLuhnValid } from "../../emv/track2.js";
import { type BinMatch, lookupBin } from "./bins.js";

export type PanProblem = "format" | "luhn" | "token_range" | "not_supported" | "length";

export interface FundingCard extends BinMatch {
  pan: string;
}

/** Card numbers as typed: digits with optional spaces or dashes between groups. */
const TYPED_PAN = /^[0-9][0-9 -]{11,30}[0-9]$/;

export function parseFundingPan(input: string, tokenBin: string): Result<FundingCard, PanProblem> {
  if (!TYPED_PAN.test(input)) return err("format");
  const pan = input.replace(/[ -]/g, "");
  if (!/^\d{13,19}$/.test(pan)) return err("format");
  if (!isLuhnValid(pan)) return err("luhn");
  if (pan.startsWith(tokenBin)) return err("token_range");
  const match = lookupBin(pan);
  if (!match) return err("not_supported");
  if (pan.length !== match.range.length) return err("length");
  return ok({ pan, ...match });
}

export interface Expiry {
  /** 1–12 */
  month: number;
  /** Four digits. */
  year: number;
  /** As the bank and the CVN2 use it: YYMM. */
  yymm: string;
}

/** "MM/YY" (also "MMYY" or "MM / YY"). */
export function parseExpiry(input: string): Result<Expiry, "format"> {
  const m = /^(\d{2})\s*\/?\s*(\d{2})$/.exec(input.trim());
  if (!m) return err("format");
  const month = Number(m[1]);
  if (month < 1 || month > 12) return err("format");
  return ok({ month, year: 2000 + Number(m[2]), yymm: `${m[2]}${m[1]}` });
}

/** A card is valid through the last day of its expiry month (China time). */
export function isExpired(e: Expiry, now: Date): boolean {
  const c = chinaTime(now);
  return c.year > e.year || (c.year === e.year && c.month > e.month);
}

export function isCvn2(input: string): boolean {
  return /^\d{3}$/.test(input);
}
