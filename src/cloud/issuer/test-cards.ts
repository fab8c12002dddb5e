/**
 * Test funding cards the development issuer opens at start (ISSUER_TEST_CARDS, on outside production):
 * one debit and one credit card of each of a few banks, in real UnionPay ranges of the BIN table, numbered
 * 000…0001, 000…0002 (with a Luhn check digit) so they read as test numbers. Each has a holder, the mobile
 * number the bank would send its one-time code to, an expiry and funds. Their CVN2 is not stored anywhere:
 * it follows from the issuer's CVK (`cvn2()`); docs/CLOUD.md lists the values under the development CVK.
 */
import type { Fen } from "../../core/money.js";
import { luhnCheckDigit } from "../../emv/track2.js";
import { type BankCode, type CardKind, UNIONPAY_BINS } from "../tsp/bins.js";

export interface TestCard {
  pan: string;
  bank: BankCode;
  kind: CardKind;
  holder: string;
  /** YYMM */
  expiry: string;
  reservedPhone: string;
  available: Fen;
}

/** A Luhn-valid number of the range's length: BIN, zeros, the serial, check digit. */
export function testPan(prefix: string, serial: number): string {
  const range = UNIONPAY_BINS.find((r) => r.prefix === prefix);
  if (!range) throw new RangeError(`no BIN range ${prefix}`);
  const s = String(serial);
  const body = prefix + s.padStart(range.length - 1 - prefix.length, "0");
  return body + luhnCheckDigit(body);
}

const card = (
  prefix: string,
  serial: number,
  bank: BankCode,
  kind: CardKind,
  holder: string,
  reservedPhone: string,
  available: Fen,
): TestCard => ({
  pan: testPan(prefix, serial),
  bank,
  kind,
  holder,
  expiry: "3012",
  reservedPhone,
  available,
});

export const TEST_CARDS: readonly TestCard[] = [
  card("622202", 1, "ICBC", "debit", "测试用户 TEST ONE", "13800138001", 10_000_00),
  card("622230", 2, "ICBC", "credit", "测试用户 TEST ONE", "13800138001", 50_000_00),
  card("622848", 3, "ABC", "debit", "测试用户 TEST TWO", "13800138002", 10_000_00),
  card("621700", 4, "CCB", "debit", "测试用户 TEST THREE", "13800138003", 10_000_00),
  card("625964", 5, "CCB", "credit", "测试用户 TEST THREE", "13800138003", 50_000_00),
  card("621661", 6, "BOC", "debit", "测试用户 TEST FOUR", "13800138004", 10_000_00),
  card("625908", 7, "BOC", "credit", "测试用户 TEST FOUR", "13800138004", 50_000_00),
  card("622588", 8, "CMB", "debit", "测试用户 TEST FIVE", "13800138005", 10_000_00),
  card("622575", 9, "CMB", "credit", "测试用户 TEST FIVE", "13800138005", 50_000_00),
  card("622262", 10, "BOCOM", "debit", "测试用户 TEST SIX", "13800138006", 10_000_00),
  card("622252", 11, "BOCOM", "credit", "测试用户 TEST SIX", "13800138006", 50_000_00),
];
