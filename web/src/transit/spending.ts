/** A transit card's rides summed per calendar month (China time), for the spending chart. */
import type { TransitTransaction } from "../api/types.js";

export interface MonthSpend {
  /** `2026-03` */
  month: string;
  /** Fen spent on rides that month. */
  spent: number;
  rides: number;
}

const CHINA_OFFSET_MS = 8 * 3600_000;

function monthOf(ms: number): { y: number; m: number } {
  const d = new Date(ms + CHINA_OFFSET_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() };
}

const key = (y: number, m: number) => `${y}-${String(m + 1).padStart(2, "0")}`;

/** The last `months` months up to `now`, oldest first; every month present, even without rides. */
export function monthlySpend(
  transactions: readonly TransitTransaction[],
  now: Date,
  months = 6,
): MonthSpend[] {
  const end = monthOf(now.getTime());
  const out: MonthSpend[] = [];
  for (let i = months - 1; i >= 0; i--) {
    const total = end.y * 12 + end.m - i;
    out.push({ month: key(Math.floor(total / 12), total % 12), spent: 0, rides: 0 });
  }
  const index = new Map(out.map((m, i) => [m.month, i]));
  for (const t of transactions) {
    if (t.kind !== "purchase") continue;
    const ms = Date.parse(t.time);
    if (Number.isNaN(ms)) continue;
    const { y, m } = monthOf(ms);
    const i = index.get(key(y, m));
    if (i === undefined) continue;
    out[i]!.spent += -t.amount;
    out[i]!.rides += 1;
  }
  return out;
}

/** A round axis maximum above `max` (1, 2 or 5 × 10ⁿ fen), at least ¥10. */
export function axisMax(max: number): number {
  let step = 1000;
  while (step < max) {
    if (step * 2 >= max) return step * 2;
    if (step * 5 >= max) return step * 5;
    step *= 10;
  }
  return step;
}
