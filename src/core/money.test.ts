import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MoneyError, fen, formatCny, formatYuan, parseYuan } from "./money.js";

describe("money in fen", () => {
  it("parses yuan strings into integer fen", () => {
    expect(parseYuan("12.34")).toBe(1234);
    expect(parseYuan("12.3")).toBe(1230);
    expect(parseYuan("12")).toBe(1200);
    expect(parseYuan(" 0.01 ")).toBe(1);
    expect(parseYuan("-0.50")).toBe(-50);
    expect(parseYuan("1000.00")).toBe(100000);
  });

  it("never produces a float: 0.1 + 0.2 style amounts stay exact", () => {
    expect(parseYuan("0.10") + parseYuan("0.20")).toBe(parseYuan("0.30"));
    expect(Number.isInteger(parseYuan("19.99"))).toBe(true);
  });

  it("parses minus zero as plain zero", () => {
    expect(Object.is(parseYuan("-0"), 0)).toBe(true);
    expect(Object.is(parseYuan("-0.00"), 0)).toBe(true);
  });

  it("rejects three decimals and anything that is not an amount", () => {
    for (const bad of [
      "1.234",
      "0.001",
      "1.",
      ".5",
      "1e3",
      "abc",
      "",
      "1,00",
      "+1",
      "12.3.4",
      "NaN",
      "Infinity",
    ])
      expect(() => parseYuan(bad), bad).toThrow(MoneyError);
  });

  it("formats fen with exactly two decimals", () => {
    expect(formatYuan(1234)).toBe("12.34");
    expect(formatYuan(5)).toBe("0.05");
    expect(formatYuan(-5)).toBe("-0.05");
    expect(formatYuan(0)).toBe("0.00");
    expect(formatYuan(100000)).toBe("1000.00");
    expect(formatCny(38787)).toBe("¥387.87");
  });

  it("refuses non-integer fen", () => {
    expect(() => fen(1.5)).toThrow(MoneyError);
    expect(() => formatYuan(0.1)).toThrow(MoneyError);
    expect(() => fen(Number.MAX_SAFE_INTEGER + 1)).toThrow(MoneyError);
    expect(fen(42)).toBe(42);
  });

  it("round-trips: parse(format(x)) == x for every amount up to 13 yuan digits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(10 ** 15) + 1, max: 10 ** 15 - 1 }),
        (x) => parseYuan(formatYuan(x)) === x,
      ),
      { numRuns: 5000 },
    );
  });
});
