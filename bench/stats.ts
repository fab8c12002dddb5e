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

/** Calls per second of a synchronous `fn` over a tight loop of about `ms` milliseconds, in batches of `batch`. */
export function throughput(fn: () => unknown, ms = 400, batch = 50): number {
  for (let i = 0; i < 4 * batch; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Operations per second and the time of each. */
export interface Rate {
  timing: Timing;
  perSecond: number;
}

/**
 * Runs operations 0 … total − 1 from `clients` concurrent loops and times each: loop c runs c, c + clients, …
 * in order, so the operations of one client (its phone, its card) never overlap.
 */
export async function drive(
  clients: number,
  total: number,
  op: (i: number, client: number) => Promise<void>,
): Promise<Rate> {
  const times: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = client; i < total; i += clients) {
        const t = performance.now();
        await op(i, client);
        times.push((performance.now() - t) * 1000);
      }
    }),
  );
  return { timing: summarise(times), perSecond: total / ((performance.now() - start) / 1000) };
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
