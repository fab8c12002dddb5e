/** Small helpers for benchmarks: timing loops and percentiles. */
import { performance } from "node:perf_hooks";

export interface Timing {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Runs `fn` `warmup` times, then `n` times, and returns per-call times in microseconds. */
export async function timeIt(
  fn: () => unknown | Promise<unknown>,
  n: number,
  warmup = Math.min(200, n),
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t[i] = (performance.now() - s) * 1000;
  }
  return summarise(t);
}

export function summarise(microseconds: number[]): Timing {
  const s = [...microseconds].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const fmt = (x: number, digits = 1): string => x.toFixed(digits);

/** Prints rows as an aligned text table. */
export function table(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  for (const [k, r] of cells.entries()) {
    console.log(r.map((c, i) => c.padEnd(w[i]!)).join("  "));
    if (k === 0) console.log(w.map((n) => "-".repeat(n)).join("  "));
  }
}
