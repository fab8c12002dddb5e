/**
 * What a user types when adding a card: the BIN table's shape (and that our token range is in no row), card
 * numbers (Luhn, BIN, range length, token range), expiry dates (MM/YY, valid through the month in China time)
 * and CVN2 — with malformed input never throwing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { luhnCheckDigit } from "../../emv/track2.js";
import { BANKS, UNIONPAY_BINS, lookupBin } from "./bins.js";
import { isCvn2, isExpired, parseExpiry, parseFundingPan } from "./card-input.js";

const TOKEN_BIN = "629977";
const withCheck = (body: string) => body + luhnCheckDigit(body);

describe("the UnionPay BIN table", () => {
  it("has well-formed rows: 6-digit UnionPay prefixes, card lengths 16–19, known banks, no duplicates", () => {
    const seen = new Set<string>();
    for (const r of UNIONPAY_BINS) {
      expect(r.prefix, r.prefix).toMatch(/^62\d{4}$/);
      expect(r.length).toBeGreaterThanOrEqual(16);
      expect(r.length).toBeLessThanOrEqual(19);
      expect(BANKS[r.bank].code).toBe(r.bank);
      expect(seen.has(r.prefix), r.prefix).toBe(false);
      seen.add(r.prefix);
    }
    expect(UNIONPAY_BINS.length).toBeGreaterThan(60);
    expect(new Set(UNIONPAY_BINS.map((r) => r.bank)).size).toBe(Object.keys(BANKS).length);
  });

  it("never contains our token range, so a token never passes for a funding card", () => {
    expect(lookupBin(`${TOKEN_BIN}0000000000`)).toBeUndefined();
    expect(UNIONPAY_BINS.some((r) => r.prefix.startsWith(TOKEN_BIN) || TOKEN_BIN.startsWith(r.prefix))).toBe(
      false,
    );
  });

  it("maps the ranges named in the brief to their banks and kinds", () => {
    const cases: [string, string, string][] = [
      ["622202", "ICBC", "debit"],
      ["622848", "ABC", "debit"],
      ["621700", "CCB", "debit"],
      ["621661", "BOC", "debit"],
      ["622588", "CMB", "debit"],
      ["622262", "BOCOM", "debit"],
      ["622252", "BOCOM", "credit"],
      ["625908", "BOC", "credit"],
    ];
    for (const [bin, bank, kind] of cases) {
      const m = lookupBin(`${bin}0000000000`);
      expect(m?.bank.code, bin).toBe(bank);
      expect(m?.range.kind, bin).toBe(kind);
    }
    expect(lookupBin("6222020000000000000")?.bank.zh).toBe("中国工商银行");
    expect(lookupBin("4111111111111111")).toBeUndefined();
  });
});

describe("card numbers", () => {
  const icbc = withCheck("622202000000000010"); // 19 digits, as the range says

  it("accepts a Luhn-valid number of a listed range, with spaces or dashes", () => {
    for (const typed of [
      icbc,
      icbc.replace(/(\d{4})/g, "$1 ").trim(),
      icbc.replace(/(\d{4})(?=\d)/g, "$1-"),
    ]) {
      const r = parseFundingPan(typed, TOKEN_BIN);
      expect(r.ok, typed).toBe(true);
      if (r.ok) {
        expect(r.value.pan).toBe(icbc);
        expect(r.value.bank.code).toBe("ICBC");
        expect(r.value.range.kind).toBe("debit");
      }
    }
  });

  it("refuses each kind of wrong number with its reason", () => {
    const wrongCheck = icbc.slice(0, -1) + String((Number(icbc.slice(-1)) + 1) % 10);
    const cases: [string, string][] = [
      [wrongCheck, "luhn"],
      [withCheck("411111111111111"), "not_supported"], // Visa
      [withCheck("629977000000001"), "token_range"],
      [withCheck("62220200000001"), "length"], // 15 digits in a 19-digit range
      ["6222 02ab 0000 0000", "format"],
      ["12", "format"],
      ["", "format"],
      [" 6222020000000000101", "format"],
    ];
    for (const [pan, reason] of cases) {
      const r = parseFundingPan(pan, TOKEN_BIN);
      expect(r, pan).toEqual({ ok: false, error: reason });
    }
  });

  it("accepts every Luhn-valid number of every range, naming the range's bank and kind", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: UNIONPAY_BINS.length - 1 }),
        fc.stringMatching(/^\d{12}$/),
        (i, digits) => {
          const row = UNIONPAY_BINS[i]!;
          const pan = withCheck((row.prefix + digits).slice(0, row.length - 1));
          const r = parseFundingPan(pan, TOKEN_BIN);
          expect(r.ok).toBe(true);
          if (r.ok) expect([r.value.bank.code, r.value.range.kind]).toEqual([row.bank, row.kind]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("never throws on arbitrary input, and accepts only Luhn-valid digits of a listed range", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[0-9 -]{0,30}$/)), (input) => {
        const r = parseFundingPan(input, TOKEN_BIN);
        if (r.ok) {
          expect(r.value.pan).toMatch(/^\d{16,19}$/);
          expect(lookupBin(r.value.pan)?.range.length).toBe(r.value.pan.length);
          expect(r.value.pan.startsWith(TOKEN_BIN)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("expiry dates and CVN2", () => {
  it("reads MM/YY and MMYY, refuses impossible months", () => {
    expect(parseExpiry("12/30")).toEqual({ ok: true, value: { month: 12, year: 2030, yymm: "3012" } });
    expect(parseExpiry("0128")).toEqual({ ok: true, value: { month: 1, year: 2028, yymm: "2801" } });
    expect(parseExpiry(" 07 / 29 ")).toEqual({ ok: true, value: { month: 7, year: 2029, yymm: "2907" } });
    for (const bad of ["13/30", "00/30", "1/30", "12/2030", "ab/cd", ""])
      expect(parseExpiry(bad).ok, bad).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (s) => void parseExpiry(s)),
      { numRuns: 1000 },
    );
  });

  it("is valid through the last day of its month, China time", () => {
    const e = parseExpiry("02/26");
    if (!e.ok) throw new Error("parse");
    // 2026-02-28 23:59 in Beijing is still February; 16:00 UTC on the 28th is 00:00 on 1 March there.
    expect(isExpired(e.value, new Date("2026-02-28T15:59:00Z"))).toBe(false);
    expect(isExpired(e.value, new Date("2026-02-28T16:00:00Z"))).toBe(true);
    expect(isExpired(e.value, new Date("2025-12-31T00:00:00Z"))).toBe(false);
    expect(isExpired(e.value, new Date("2027-01-01T00:00:00Z"))).toBe(true);
  });

  it("takes exactly three digits as a CVN2", () => {
    expect(isCvn2("042")).toBe(true);
    for (const bad of ["42", "4242", "04a", "", " 42"]) expect(isCvn2(bad), bad).toBe(false);
  });
});
