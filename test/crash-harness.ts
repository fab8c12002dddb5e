/**
 * Real server processes for the crash and multi-process transit tests: `tapwallet serve` spawned through tsx
 * on a database the test chose (a SQLite directory or a PostgreSQL schema), killed with SIGKILL and started
 * again on the same port; and phones made beforehand by an in-process server on the same database (sign-in,
 * registration, a transit card installed through the TSM), on the system clock both sides share.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../src/core/clock.js";
import { MemoryOtpSender } from "../src/cloud/accounts/otp-sender.js";
import { openDatabase, type CloudDb } from "../src/cloud/db/open.js";
import { buildServer } from "../src/cloud/http/server.js";
import { VirtualPhone, Wallet, resolveModel } from "../src/device/index.js";
import { openTransitCard } from "../src/device/transit.js";
import { PG_URL, freshSchemaName } from "./cloud-harness.js";

const ROOT = new URL("..", import.meta.url).pathname;
/** The OTP pepper `tapwallet serve` uses outside production (config.ts); the in-process server matches it. */
const DEV_OTP_PEPPER = "tapwallet-development-otp-pepper";

export interface Store {
  name: "sqlite" | "postgres";
  /** Environment pointing a server process at the database. */
  env: Record<string, string>;
  open(): Promise<CloudDb>;
  remove(): Promise<void>;
}

export function sqliteStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "tw-crash-"));
  return {
    name: "sqlite",
    env: { DATA_DIR: dir },
    open: () => openDatabase({ dataDir: dir }),
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function postgresStore(): Store {
  const schema = freshSchemaName();
  return {
    name: "postgres",
    env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema },
    open: () => openDatabase({ databaseUrl: PG_URL, schema }),
    async remove() {
      const db = await openDatabase({ databaseUrl: PG_URL, schema });
      await db.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await db.close();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop). */
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve()),
  );

/** Starts `tapwallet serve` on `port` and waits until it answers /healthz. */
export async function startServer(store: Store, port: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      HOST: "127.0.0.1",
      PORT: String(port),
      ...store.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

const phoneDirs: string[] = [];

export function removePhoneDirs(): void {
  for (const d of phoneDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface PhoneWithCard {
  wallet: Wallet;
  cardId: string;
  productId: string;
  initial: number;
}

/**
 * `count` phones on the database, each with its own account and one transit card (first top-up `initial`),
 * made through an in-process server listening on `port` (the phones keep that URL for the processes to come).
 */
export async function makePhones(
  store: Store,
  port: number,
  count: number,
  products: readonly string[],
  initial: number,
): Promise<PhoneWithCard[]> {
  const db = await store.open();
  const otp = new MemoryOtpSender();
  const app = await buildServer({
    db,
    clock: systemClock,
    otpSender: otp,
    otpPepper: DEV_OTP_PEPPER,
    janitor: false,
    webRoot: false,
    policy: {
      otpRequestsPerIp: { limit: 100_000, windowMs: 60_000 },
      signInsPerIp: { limit: 100_000, windowMs: 60_000 },
    },
  });
  const url = await app.listen({ port, host: "127.0.0.1" });
  const dir = mkdtempSync(join(tmpdir(), "tw-crash-phones-"));
  phoneDirs.push(dir);
  try {
    const phones: PhoneWithCard[] = [];
    for (let i = 0; i < count; i++) {
      const mobile = `1370000${String(i).padStart(4, "0")}`;
      const phone = VirtualPhone.create(join(dir, `p${i}`), {
        name: `crash-${i}`,
        model: resolveModel("小米9"),
        region: "CN",
      });
      const wallet = new Wallet(phone);
      await wallet.requestCode(mobile, url);
      await wallet.signIn(mobile, otp.last(mobile)!, url);
      await wallet.register();
      const productId = products[i % products.length]!;
      const { card } = await openTransitCard(wallet, { productId, firstTopUp: initial, channel: "wechat" });
      phones.push({ wallet, cardId: card.id, productId, initial });
    }
    return phones;
  } finally {
    await app.close();
    await db.close();
  }
}
