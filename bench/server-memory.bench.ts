/**
 * Peak resident memory (RSS) of the wallet server under load: a real `tapwallet serve` child process (as
 * `npm start` runs it, here through tsx so no build is needed) on SQLite and on PostgreSQL, driven by CLIENTS
 * virtual phones at once. Each phone runs, one after another: a transit top-up (three signed requests and its
 * own SE work), a read of its cards, its activity feed, and an unauthenticated malformed request — until
 * ROUNDS rounds are done. The child's /proc status is sampled every 20 ms (VmRSS) and its kernel high-water
 * mark (VmHWM, the true peak) is read at the end; idle = RSS once the server answers /healthz.
 *
 * The phones and their cards are made beforehand through an in-process server on the same database (not
 * measured). PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema,
 * dropped afterwards; "not available" when unreachable. Linux only (reads /proc).
 */
import { existsSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { topUpTransitCard, transitCards } from "../src/device/transit.js";
import {
  type PhoneWithCard,
  type Store,
  freePort,
  makePhones,
  postgresStore,
  removePhoneDirs,
  sqliteStore,
  startServer,
} from "../test/crash-harness.js";
import { PG_UNREACHABLE, pgReachable } from "./pg.js";
import type { Figure } from "./report.js";
import { table } from "./stats.js";

const CLIENTS = 32;
const ROUNDS = 25;
const AMOUNT = 1000;
const PRODUCTS = ["tu-jingjinji", "shanghai", "shenzhen-tong", "wuhan-tong"];

/** VmRSS and VmHWM of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
  } catch {
    return null;
  }
}

/** Drives the load; returns the requests sent (a top-up counts its three). */
async function load(clients: PhoneWithCard[], port: number): Promise<number> {
  let requests = 0;
  await Promise.all(
    clients.map(async (c, k) => {
      for (let round = 0; round < ROUNDS; round++) {
        await topUpTransitCard(c.wallet, c.cardId, AMOUNT, { requestId: `memory-${k}-${round}` });
        await transitCards(c.wallet);
        await c.wallet.activity();
        // Hostile traffic beside it: a malformed body on an unauthenticated route.
        await fetch(`http://127.0.0.1:${port}/api/v1/auth/code`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"mobile": [1, 2, 3',
        }).then((r) => r.arrayBuffer());
        requests += 6;
      }
    }),
  );
  return requests;
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  if (!existsSync("/proc/self/status")) {
    figures.push({ kind: "unavailable", scope: "memory:sqlite", reason: "no /proc (Linux only)" });
    return figures;
  }
  const targets: Store[] = [sqliteStore()];
  if (pgReachable) targets.push(postgresStore());
  else figures.push({ kind: "unavailable", scope: "memory:postgres", reason: PG_UNREACHABLE });
  const rows: string[][] = [];
  try {
    for (const target of targets) {
      const port = await freePort();
      const clients = await makePhones(target, port, CLIENTS, PRODUCTS, 1000);
      const server = await startServer(target, port);
      const pid = server.child.pid!;
      try {
        await new Promise((r) => setTimeout(r, 500));
        const idle = memoryOf(pid)!.rss;
        let sampled = idle;
        const sampler = setInterval(() => {
          const m = memoryOf(pid);
          if (m) sampled = Math.max(sampled, m.rss);
        }, 20);
        const start = performance.now();
        let requests: number;
        try {
          requests = await load(clients, port);
        } finally {
          clearInterval(sampler);
        }
        const seconds = (performance.now() - start) / 1000;
        const m = memoryOf(pid)!;
        figures.push({
          kind: "memory",
          database: target.name,
          via: "tapwallet serve (tsx), top-ups + reads + malformed",
          clients: CLIENTS,
          requests,
          seconds,
          idleRssBytes: idle,
          peakRssBytes: Math.max(m.hwm, sampled),
          sampledPeakRssBytes: sampled,
        });
        const mib = (b: number) => (b / 2 ** 20).toFixed(1);
        rows.push([
          target.name,
          String(requests),
          seconds.toFixed(1),
          mib(idle),
          mib(sampled),
          mib(m.hwm),
          mib(m.rss),
        ]);
      } finally {
        await server.stop();
      }
    }
  } finally {
    removePhoneDirs();
    for (const t of targets) await t.remove();
  }
  console.log(
    `tapwallet serve under load: ${CLIENTS} phones at once, ${ROUNDS} rounds each of a top-up (3 requests), ` +
      "cards, activity and one malformed request; RSS in MiB",
  );
  table(["database", "requests", "seconds", "idle RSS", "peak sampled", "peak VmHWM", "RSS at end"], rows);
  return figures;
}
