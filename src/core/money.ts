/**
 * Money is an integer number of fen (分, 0.01 CNY). Never a float: amounts parse from decimal strings
 * and format back without binary rounding.
 */
export type Fen = number;

export class MoneyError extends RangeError {}

/** Checks that `n` is a safe integer amount in fen. */
export function fen(n: number): Fen {
  if (!Number.isSafeInteger(n)) throw new MoneyError(`amount in fen must be an integer, got ${n}`);
  return n;
}

/** Parses "12.34", "12.3", "12", "-0.50" (yuan) into fen. Rejects more than two decimals. */
export function parseYuan(text: string): Fen {
  const m = /^\s*(-)?(\d{1,13})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) throw new MoneyError(`not an amount in yuan (元): "${text}"`);
  const v = Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0"));
  return m[1] && v !== 0 ? -v : v; // "-0" is zero, not IEEE minus zero
}

/** Formats fen as yuan with two decimals: 1234 → "12.34", -5 → "-0.05". */
export function formatYuan(amount: Fen): string {
  fen(amount);
  const sign = amount < 0 ? "-" : "";
  const a = Math.abs(amount);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, "0")}`;
}

/** "¥12.34" for display. */
export function formatCny(amount: Fen): string {
  return `¥${formatYuan(amount)}`;
}
