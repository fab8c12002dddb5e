/**
 * One gate transaction in process, select to debit, on the virtual phone: the terminal's code, the PSAM and
 * the SE with its applet and store, all in one process (no transport). Compared with the ISO 14443-A air-time
 * lower bound of the same APDUs at 106 kbit/s (src/nfc/airtime.ts): the software's share of a tap.
 */
import { performance } from "node:perf_hooks";
import { ManualClock } from "../src/core/clock.js";
import { airTime } from "../src/nfc/airtime.js";
import { seededRandom } from "../src/se/testing/random.js";
import { getProduct } from "../src/transit/catalogue.js";
import { readTransitCard } from "../src/transit/reader/reader.js";
import { TransitSandbox, hostLink } from "../src/transit/sandbox.js";
import type { TapOutcome } from "../src/transit/terminal/gate.js";
import { fmt, summarise, table } from "./stats.js";

const N = 2_000;
const WARMUP = 200;

interface Case {
  name: string;
  productId: string;
  /** The timed tap: a metro exit (after an untimed entry) or a bus validator. */
  tap: "exit" | "bus";
}

const CASES: Case[] = [
  { name: "metro exit, T-Union (compound + trip record)", productId: "tu-jingjinji", tap: "exit" },
  { name: "metro exit, City Union (80CA, compound)", productId: "shanghai", tap: "exit" },
  { name: "bus, Shenzhen Tong (plain purchase)", productId: "shenzhen-tong", tap: "bus" },
];

async function balanceOf(sb: TransitSandbox, productId: string): Promise<number> {
  const link = hostLink(sb.se);
  await link.fieldOn();
  const r = await readTransitCard(link, [getProduct(productId)!.system]);
  await link.fieldOff();
  if (!r.ok) throw new Error(`cannot read the card: ${r.error.reason}`);
  return r.value.balance;
}

async function measure(c: Case) {
  const clock = new ManualClock("2026-03-02T00:30:00Z");
  const sb = new TransitSandbox({ clock, random: seededRandom(1) });
  const { aid, card } = sb.addCard(c.productId);
  const accepts = [card.product.system];
  const entry = sb.metroGate({ station: "0101", direction: "entry", accepts });
  const timed =
    c.tap === "exit"
      ? sb.metroGate({ station: "0112", direction: "exit", accepts, recordExchanges: true })
      : sb.busValidator({ line: "0071", fare: 200, accepts, recordExchanges: true });
  const times: number[] = [];
  let last: TapOutcome | undefined;
  for (let i = 0; i < N + WARMUP; i++) {
    if (i % 150 === 0) {
      const r = await sb.topUp(aid, 90_000 - (await balanceOf(sb, c.productId)));
      if (!r.ok) throw new Error(`top-up refused: ${r.error.reason}`);
    }
    const link = sb.field();
    await link.fieldOn();
    if (c.tap === "exit") {
      const e = await entry.tap(link);
      if (!e.ok) throw new Error(`entry refused: ${e.reason}`);
      clock.advance(20 * 60_000);
    }
    const s = performance.now();
    last = await timed.tap(link);
    const us = (performance.now() - s) * 1000;
    if (!last.ok) throw new Error(`refused: ${last.reason}`);
    if (i >= WARMUP) times.push(us);
    clock.advance(60_000);
  }
  const air = airTime(last!.exchanges, { bitRate: 106 });
  return { timing: summarise(times), airUs: air.totalUs, apdus: last!.exchanges.length };
}

export async function run(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const c of CASES) {
    const m = await measure(c);
    rows.push([
      c.name,
      m.apdus,
      fmt(m.timing.p50),
      fmt(m.timing.p99),
      fmt(m.airUs / 1000, 2),
      `${fmt((m.timing.p50 / m.airUs) * 100, 2)}%`,
      `${fmt((m.timing.p99 / m.airUs) * 100, 2)}%`,
    ]);
  }
  console.log(
    `gate transaction, select to debit, in process (n = ${N}); air = ISO 14443-A lower bound at 106 kbit/s`,
  );
  table(["tap", "APDUs", "p50 µs", "p99 µs", "air ms", "p50/air", "p99/air"], rows);
}
