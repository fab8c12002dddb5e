import { describe, expect, it } from "vitest";
import type { TransitTransaction } from "../api/types.js";
import { axisMax, monthlySpend } from "./spending.js";

const ride = (time: string, amount: number): TransitTransaction => ({
  time,
  kind: "purchase",
  amount: -amount,
});

describe("monthly spending", () => {
  it("sums rides per China-time month, oldest first, with empty months kept", () => {
    const list: TransitTransaction[] = [
      ride("2026-03-10T02:00:00Z", 400),
      ride("2026-03-31T17:30:00Z", 300), // 1 April 01:30 in Beijing
      ride("2026-01-05T08:00:00Z", 600),
      { time: "2026-03-01T00:00:00Z", kind: "load", amount: 5000 },
      { time: "2026-03-02T00:00:00Z", kind: "entry", amount: 0 },
      ride("2025-06-01T00:00:00Z", 999), // before the window
    ];
    const months = monthlySpend(list, new Date("2026-04-15T00:00:00Z"), 4);
    expect(months).toEqual([
      { month: "2026-01", spent: 600, rides: 1 },
      { month: "2026-02", spent: 0, rides: 0 },
      { month: "2026-03", spent: 400, rides: 1 },
      { month: "2026-04", spent: 300, rides: 1 },
    ]);
  });

  it("crosses a year boundary", () => {
    expect(monthlySpend([], new Date("2026-01-20T00:00:00Z"), 3).map((m) => m.month)).toEqual([
      "2025-11",
      "2025-12",
      "2026-01",
    ]);
  });

  it("picks a round axis above the largest month", () => {
    expect(axisMax(0)).toBe(1000);
    expect(axisMax(1000)).toBe(1000);
    expect(axisMax(1001)).toBe(2000);
    expect(axisMax(4200)).toBe(5000);
    expect(axisMax(7000)).toBe(10000);
    expect(axisMax(123456)).toBe(200000);
  });
});
