/**
 * Two server processes (`tapwallet serve`, spawned through tsx) on one database serve the same users:
 * a code sent through one is accepted by the other, a session from one works on the other, a nonce used
 * on one is refused on the other, wrong codes count across both, a notification raised through one is
 * streamed by the other. Then two worker processes post the same idempotency keys to the ledger at once:
 * each key posts once, nothing is overdrawn. On PostgreSQL (the deployment for several instances) and on
 * one SQLite file (WAL, BEGIN IMMEDIATE, busy timeout).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type CloudDb } from "../src/cloud/db/open.js";
import { migrateToLatest } from "../src/cloud/db/migrate.js";
import { cloudModules } from "../src/cloud/modules.js";
import { Ledger } from "../src/cloud/ledger/service.js";
import { ledgerAccountIds as ids } from "../src/cloud/ledger/accounts.js";
import { silentLog } from "../src/cloud/context.js";
import { resolvePolicy } from "../src/cloud/policy.js";
import { systemRng } from "../src/cloud/random.js";
import { systemClock } from "../src/core/clock.js";
import { signRequest } from "../src/protocol/request-signing.js";
import { freshNonce, freshSchemaName, newPhone, PG_URL, postgresBackend } from "./cloud-harness.js";

const ROOT = new URL("..", import.meta.url).pathname;

interface Server {
  child: ChildProcess;
  url: string;
  /** Every log line so far. */
  lines: string[];
  /** Resolves with the first log message matching `re` (now or later). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

function tsx(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function startServer(env: Record<string, string>): Promise<Server> {
  const child = tsx(["src/cli/main.ts", "serve"], {
    PORT: "0",
    HOST: "127.0.0.1",
    NODE_ENV: "development",
    LOG_LEVEL: "info",
    ...env,
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  let stderr = "";
  const onLine = (line: string) => {
    let msg = line;
    try {
      msg = (JSON.parse(line) as { msg?: string }).msg ?? line;
    } catch {
      // not JSON: keep the raw line
    }
    lines.push(msg);
    for (const w of [...waiters]) {
      const m = w.re.exec(msg);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  let buffer = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const waitFor = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      for (const l of lines) {
        const m = re.exec(l);
        if (m) return resolve(m);
      }
      const timer = setTimeout(
        () => reject(new Error(`no log line ${re}; stderr: ${stderr}; log: ${lines.join(" | ")}`)),
        timeoutMs,
      );
      waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      child.once("exit", (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
    });
  return waitFor(/tapwallet cloud listening on (http:\/\/\S+)/).then((m) => ({
    child,
    url: m[1]!,
    lines,
    waitFor,
  }));
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, {
    method,
    body: payload,
    headers: {
      connection: "close",
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function runWorker(env: Record<string, string>): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = tsx(["test/cloud-ledger-worker.ts"], env);
    let out = "";
    let err = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Record<string, string>)
        : reject(new Error(`worker ${code}: ${err}`)),
    );
  });
}

interface Target {
  name: "postgres" | "sqlite";
  skip: boolean;
  /** Environment that points a process at the shared database. */
  env: Record<string, string>;
  open(): Promise<CloudDb>;
  cleanup(): Promise<void>;
}

function postgresTarget(): Target {
  const schema = freshSchemaName();
  return {
    name: "postgres",
    skip: postgresBackend.skip,
    env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema },
    open: () => openDatabase({ databaseUrl: PG_URL, schema }),
    async cleanup() {
      const db = await openDatabase({ databaseUrl: PG_URL, schema });
      await db.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await db.close();
    },
  };
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), "tw-two-"));
  return {
    name: "sqlite",
    skip: false,
    env: { DATA_DIR: dir },
    open: () => openDatabase({ dataDir: dir }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

for (const target of [postgresTarget(), sqliteTarget()]) {
  describe.skipIf(target.skip)(`two server processes on one ${target.name} database`, () => {
    let a: Server;
    let b: Server;
    beforeAll(async () => {
      // Started together: both run migrations at once on the empty database.
      [a, b] = await Promise.all([startServer(target.env), startServer(target.env)]);
    });
    afterAll(async () => {
      await Promise.all([a && stop(a.child), b && stop(b.child)]);
      await target.cleanup();
    });

    it("serves one set of users from both processes", async () => {
      const phone = "13800138000";
      expect((await call(a.url, "POST", "/api/v1/auth/code", { phone })).status).toBe(202);
      // Development sender: the code is in A's log.
      const code = (await a.waitFor(/one-time code for 138\*\*\*\*8000: (\d{6})/))[1]!;
      const signedIn = await call(b.url, "POST", "/api/v1/auth/session", { phone, code });
      expect(signedIn.status).toBe(200);
      const token = signedIn.body["token"] as string;
      const auth = { authorization: `Bearer ${token}` };
      const me = await call(a.url, "GET", "/api/v1/me", undefined, auth);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ phone, id: (signedIn.body["account"] as { id: string }).id });

      // Bind a phone through B, see it through A.
      const device = newPhone();
      const bindBody = JSON.stringify({
        model: "dipper",
        region: "CN",
        publicKey: device.publicKey,
        seId: device.seId,
      });
      const pop = signRequest(device.privateKey, {
        method: "POST",
        path: "/api/v1/devices",
        timestamp: Date.now(),
        nonce: freshNonce(),
        body: bindBody,
      });
      const bound = await fetch(`${b.url}/api/v1/devices`, {
        method: "POST",
        body: bindBody,
        headers: { connection: "close", "content-type": "application/json", ...auth, ...pop },
      });
      expect(bound.status).toBe(201);
      const deviceId = ((await bound.json()) as { id: string }).id;
      const list = await call(a.url, "GET", "/api/v1/devices", undefined, auth);
      expect((list.body["devices"] as { id: string }[]).map((d) => d.id)).toEqual([deviceId]);

      // A nonce used on A is refused on B.
      const headers = signRequest(
        device.privateKey,
        { method: "GET", path: "/api/v1/device", timestamp: Date.now(), nonce: freshNonce() },
        deviceId,
      ) as unknown as Record<string, string>;
      expect((await call(a.url, "GET", "/api/v1/device", undefined, headers)).status).toBe(200);
      const replay = await call(b.url, "GET", "/api/v1/device", undefined, headers);
      expect(replay.status).toBe(401);
      expect(replay.body["error"]).toBe("nonce_replayed");

      // A notification raised through B reaches a stream held open on A.
      const event = new Promise<string>((resolve, reject) => {
        const req = get(`${a.url}/api/v1/notifications/stream`, { headers: auth, agent: false }, (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (c: string) => {
            text += c;
            if (text.includes("event: device.lost")) {
              req.destroy();
              resolve(text);
            }
          });
        });
        req.on("error", (e) =>
          e.message.includes("aborted") || e.message.includes("socket hang up") ? undefined : reject(e),
        );
        setTimeout(() => reject(new Error("no device.lost event on A")), 20_000);
      });
      await new Promise((r) => setTimeout(r, 300));
      expect((await call(b.url, "POST", `/api/v1/devices/${deviceId}/lost`, undefined, auth)).status).toBe(
        200,
      );
      expect(await event).toContain(`"deviceId":"${deviceId}"`);
    });

    it("counts wrong codes across both processes and locks the number on both", async () => {
      const phone = "13900139000";
      expect((await call(b.url, "POST", "/api/v1/auth/code", { phone })).status).toBe(202);
      const code = (await b.waitFor(/one-time code for 139\*\*\*\*9000: (\d{6})/))[1]!;
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push(
          (await call(i % 2 ? a.url : b.url, "POST", "/api/v1/auth/session", { phone, code: wrong })).status,
        );
      expect(statuses).toEqual([400, 400, 400, 400, 429]);
      for (const server of [a, b]) {
        const r = await call(server.url, "POST", "/api/v1/auth/session", { phone, code });
        expect(r.body["error"]).toBe("otp_locked");
      }
    });

    it("posts each idempotency key once when two processes post the same keys at once", async () => {
      const db = await target.open();
      const payer = ids.fundingSource("acc_two_process", "wechat");
      const float = ids.cardFloat("transit.test");
      const amount = 700;
      try {
        await migrateToLatest(db, cloudModules);
        const ledger = new Ledger({
          db,
          clock: systemClock,
          rng: systemRng,
          policy: resolvePolicy(),
          log: silentLog,
        });
        await ledger.openAccount({ id: ids.channel("wechat"), kind: "channel" });
        await ledger.openAccount({ id: payer, kind: "funding_source" });
        await ledger.openAccount({ id: float, kind: "card_float" });
        await ledger.post({
          idempotencyKey: "deposit",
          kind: "funding.deposit",
          entries: [
            { account: ids.channel("wechat"), amount: 30 * amount },
            { account: payer, amount: -30 * amount },
          ],
        });
        const keys = Array.from({ length: 40 }, (_, i) => `two-${i}`);
        const job = {
          ...target.env,
          KEYS: keys.join(","),
          AMOUNT: String(amount),
          FROM: payer,
          TO: float,
          CONCURRENCY: "6",
        };
        const [one, two] = await Promise.all([runWorker(job), runWorker({ ...job, REVERSE: "1" })]);
        const posted = keys.filter((k) => one[k] === "posted" || two[k] === "posted");
        // Each key posted by at most one process; exactly as many as the money allows.
        expect(keys.filter((k) => one[k] === "posted" && two[k] === "posted")).toEqual([]);
        expect(posted).toHaveLength(30);
        for (const k of keys) {
          expect(["posted", "replayed", "insufficient_funds"]).toContain(one[k]);
          expect(["posted", "replayed", "insufficient_funds"]).toContain(two[k]);
        }
        expect((await ledger.account(payer))!.balance).toBe(0);
        expect((await ledger.account(float))!.balance).toBe(30 * amount);
        const report = await ledger.checkInvariants();
        expect(report.violations).toEqual([]);
        expect(report.transfers).toBe(31);
      } finally {
        await db.close();
      }
    });
  });
}
