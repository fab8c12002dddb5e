/** Money as the wallet shows it: integer fen in, `¥12.34` out (never a float in between). */
export function yuan(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** `12.34` / `12` / `¥12.3` → 1234 fen; null when it is not an amount with at most two decimals. */
export function parseYuan(text: string): number | null {
  const m = /^\s*¥?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}
