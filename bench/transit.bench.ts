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
import type { TapFigure } from "./report.js";
import { fmt, summarise, table } from "./stats.js";

const N = 2_000;
const WARMUP = 200;

interface Case {
  name: string;
  productId: string;
  /** The timed tap: a metro entry, a metro exit (after an untimed entry) or a bus validator. */
  tap: "entry" | "exit" | "bus";
  /** Its row in `npm run bench`'s summary. */
  figure: Pick<TapFigure, "tap" | "key" | "label">;
}

const CASES: Case[] = [
  {
    name: "metro entry, T-Union (zero-amount compound)",
    productId: "tu-jingjinji",
    tap: "entry",
    figure: { tap: "transit-gate", key: "t-union-entry", label: "metro entry gate, T-Union card" },
  },
  {
    name: "metro exit, T-Union (compound + trip record)",
    productId: "tu-jingjinji",
    tap: "exit",
    figure: {
      tap: "compound-purchase",
      key: "t-union-exit",
      label: "metro exit gate charging, T-Union card",
    },
  },
  {
    name: "metro exit, City Union (80CA, compound)",
    productId: "shanghai",
    tap: "exit",
    figure: { tap: "compound-purchase", key: "city-union-exit", label: "metro exit gate, City Union (80CA)" },
  },
  {
    name: "bus, Shenzhen Tong (plain purchase)",
    productId: "shenzhen-tong",
    tap: "bus",
    figure: { tap: "purchase", key: "szt-bus", label: "bus validator, Shenzhen Tong" },
  },
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
  const exit = sb.metroGate({ station: "0112", direction: "exit", accepts });
  const timed =
    c.tap === "entry"
      ? sb.metroGate({ station: "0101", direction: "entry", accepts, recordExchanges: true })
      : c.tap === "exit"
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
    if (c.tap === "entry") {
      // close the trip (untimed) so the next entry is a fresh one
      const x = await exit.tap(link);
      if (!x.ok) throw new Error(`exit refused: ${x.reason}`);
      clock.advance(60_000);
    }
  }
  const air = airTime(last!.exchanges, { bitRate: 106 });
  const air848 = airTime(last!.exchanges, { bitRate: 848 });
  return {
    timing: summarise(times),
    airUs: air.totalUs,
    air848Us: air848.totalUs,
    apdus: last!.exchanges.length,
  };
}

export async function run(): Promise<TapFigure[]> {
  const rows: (string | number)[][] = [];
  const figures: TapFigure[] = [];
  for (const c of CASES) {
    const m = await measure(c);
    figures.push({
      kind: "tap",
      ...c.figure,
      transport: "memory",
      n: m.timing.n,
      p50Us: m.timing.p50,
      p99Us: m.timing.p99,
      exchanges: m.apdus,
      unit: "APDUs",
      air106Us: m.airUs,
      air848Us: m.air848Us,
    });
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
  return figures;
}
