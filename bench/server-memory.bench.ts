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
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { systemClock } from "../src/core/clock.js";
import { MemoryOtpSender } from "../src/cloud/accounts/otp-sender.js";
import { openDatabase, type CloudDb } from "../src/cloud/db/open.js";
import { buildServer } from "../src/cloud/http/server.js";
import { VirtualPhone, Wallet, resolveModel } from "../src/device/index.js";
import { openTransitCard, topUpTransitCard, transitCards } from "../src/device/transit.js";
import type { Figure } from "./report.js";
import { table } from "./stats.js";

const PG_URL = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
const CLIENTS = 32;
const ROUNDS = 25;
const AMOUNT = 1000;
const PRODUCTS = ["tu-jingjinji", "shanghai", "shenzhen-tong", "wuhan-tong"];
const ROOT = new URL("..", import.meta.url).pathname;

interface Target {
  database: "sqlite" | "postgres";
  env: Record<string, string>;
  open(): Promise<CloudDb>;
  remove(): Promise<void>;
}

interface Phone {
  wallet: Wallet;
  cardId: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

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

async function serve(target: Target, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      PORT: String(port),
      HOST: "127.0.0.1",
      ...target.env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error("tapwallet serve did not start");
}

/** Phones with a transit card each, made through an in-process server on the same database and port. */
async function phones(target: Target, port: number, dir: string): Promise<Phone[]> {
  const db = await target.open();
  const otp = new MemoryOtpSender();
  const app = await buildServer({
    db,
    clock: systemClock,
    otpSender: otp,
    otpPepper: "tapwallet-development-otp-pepper",
    janitor: false,
    webRoot: false,
    policy: {
      otpRequestsPerIp: { limit: 100_000, windowMs: 60_000 },
      signInsPerIp: { limit: 100_000, windowMs: 60_000 },
    },
  });
  const url = await app.listen({ port, host: "127.0.0.1" });
  try {
    const out: Phone[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const mobile = `1370000${String(i).padStart(4, "0")}`;
      const phone = VirtualPhone.create(join(dir, `p${i}`), {
        name: `mem-${i}`,
        model: resolveModel("小米9"),
        region: "CN",
      });
      const wallet = new Wallet(phone);
      await wallet.requestCode(mobile, url);
      await wallet.signIn(mobile, otp.last(mobile)!, url);
      await wallet.register();
      const productId = PRODUCTS[i % PRODUCTS.length]!;
      const { card } = await openTransitCard(wallet, { productId, firstTopUp: 1000, channel: "wechat" });
      out.push({ wallet, cardId: card.id });
    }
    return out;
  } finally {
    await app.close();
    await db.close();
  }
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Drives the load; returns the requests sent (a top-up counts its three). */
async function load(clients: Phone[], port: number): Promise<number> {
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
  const dir = mkdtempSync(join(tmpdir(), "tw-bench-mem-"));
  const targets: Target[] = [
    {
      database: "sqlite",
      env: { DATA_DIR: join(dir, "db") },
      open: () => openDatabase({ dataDir: join(dir, "db") }),
      remove: async () => {},
    },
  ];
  if (await pgReachable()) {
    const schema = `tw_bench_mem_${randomBytes(4).toString("hex")}`;
    targets.push({
      database: "postgres",
      env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema },
      open: () => openDatabase({ databaseUrl: PG_URL, schema }),
      async remove() {
        const db = await openDatabase({ databaseUrl: PG_URL, schema });
        await db.db.schema.dropSchema(schema).ifExists().cascade().execute();
        await db.close();
      },
    });
  } else {
    figures.push({
      kind: "unavailable",
      scope: "memory:postgres",
      reason: `PostgreSQL not reachable at ${PG_URL.replace(/:[^:@/]*@/, "@")}`,
    });
  }
  const rows: string[][] = [];
  try {
    for (const [k, target] of targets.entries()) {
      const port = await freePort();
      const clients = await phones(target, port, join(dir, `phones-${k}`));
      const server = await serve(target, port);
      const pid = server.pid!;
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
          database: target.database,
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
          target.database,
          String(requests),
          seconds.toFixed(1),
          mib(idle),
          mib(sampled),
          mib(m.hwm),
          mib(m.rss),
        ]);
      } finally {
        server.kill("SIGTERM");
        await new Promise((r) => server.once("exit", r));
      }
    }
  } finally {
    for (const t of targets) await t.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `tapwallet serve under load: ${CLIENTS} phones at once, ${ROUNDS} rounds each of a top-up (3 requests), ` +
      "cards, activity and one malformed request; RSS in MiB",
  );
  table(["database", "requests", "seconds", "idle RSS", "peak sampled", "peak VmHWM", "RSS at end"], rows);
  return figures;
}
