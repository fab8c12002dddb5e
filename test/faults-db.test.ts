/**
 * Fault injection: the database fails in the middle of a transit top-up, at every statement the top-up sends.
 *
 * - PostgreSQL, through a TCP proxy between the server's pool and the database: at the k-th statement of a
 *   top-up the proxy (a) cuts the connection before the statement reaches PostgreSQL, (b) forwards it and then
 *   cuts the connection (a COMMIT forwarded this way may have committed: the server cannot know), or
 *   (c) has PostgreSQL end that backend with pg_terminate_backend while the statement waits.
 * - SQLite (embedded, no connection to drop): the driver fails the k-th statement with SQLITE_IOERR, before
 *   it runs or after it ran (the transaction then rolls back).
 *
 * For every k: the phone's top-up (which sends again a call the cloud did not answer) completes — or, if it
 * cannot, the next sync settles it and the same request id finishes it — and no money is created or lost:
 * the card's balance in its SE equals the cloud's, the funding channel was charged exactly the loads that
 * completed, every load is completed once, and the ledger's invariants hold (floats = cards' proven balances).
 */
import { type Socket, connect, createServer, type Server } from "node:net";
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/cloud/db/open.js";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { openTransitCard, topUpTransitCard, transitCard, transitSync } from "../src/device/transit.js";
import type { Wallet } from "../src/device/wallet.js";
import { type Backend, PG_URL, freshSchemaName, pgReachable, sqliteBackend } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance, readPhone } from "./cloud-transit-harness.js";
import { type LiveCloud, phoneOn, removeStateDirs, startCloud } from "./device-harness.js";

afterAll(removeStateDirs);

const AMOUNT = 1000;
type Mode = "cut-before" | "cut-after" | "terminate" | "fail-before" | "fail-after";

/** Where and how the next fault fires; counts the statements of the armed operation. */
class FaultPlan {
  statements = 0;
  fired = 0;
  private at: { k: number; mode: Mode } | null = null;
  arm(k: number, mode: Mode): void {
    this.at = { k, mode };
    this.statements = 0;
  }
  count(): void {
    this.at = null;
    this.statements = 0;
  }
  disarm(): void {
    this.at = null;
  }
  /** Called per statement; returns the fault to inject now, if any. */
  next(): Mode | null {
    this.statements++;
    if (this.at && this.statements === this.at.k) {
      const m = this.at.mode;
      this.at = null;
      this.fired++;
      return m;
    }
    return null;
  }
}

// ---- PostgreSQL: a proxy that cuts or terminates connections at a statement ------------------------------

class PgFaultProxy {
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(
    private readonly plan: FaultPlan,
    private readonly target: { host: string; port: number },
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.pipe(client));
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as { port: number }).port;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (d) => client.write(d));
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
    let started = false;
    let pending = Buffer.alloc(0);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", async (chunk: Buffer) => {
      // Frontend messages: the startup message (length-prefixed), then type byte + length. A statement is a
      // simple Query ('Q') or the Parse ('P') that opens an extended query.
      pending = Buffer.concat([pending, chunk]);
      let at = 0;
      while (true) {
        if (!started) {
          if (pending.length - at < 4) break;
          const len = pending.readInt32BE(at);
          if (pending.length - at < len) break;
          at += len;
          started = true;
          continue;
        }
        if (pending.length - at < 5) break;
        const type = String.fromCharCode(pending[at]!);
        const len = pending.readInt32BE(at + 1) + 1;
        if (pending.length - at < len) break;
        if (type === "Q" || type === "P") {
          const fault = this.plan.next();
          if (fault === "cut-before") {
            upstream.write(pending.subarray(0, at));
            kill();
            return;
          }
          if (fault === "cut-after") {
            upstream.write(pending.subarray(0, pending.length), () => kill());
            pending = Buffer.alloc(0);
            return;
          }
          if (fault === "terminate") {
            upstream.write(pending.subarray(0, at));
            const rest = pending.subarray(at);
            pending = Buffer.alloc(0);
            client.pause();
            await terminateBackendOf(upstream.localPort!);
            upstream.write(rest);
            client.resume();
            return;
          }
        }
        at += len;
      }
      upstream.write(pending.subarray(0, at));
      pending = pending.subarray(at);
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** PostgreSQL ends the backend serving our proxy's upstream connection (found by its client port). */
async function terminateBackendOf(clientPort: number): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const r = await admin.query(
      "select pg_terminate_backend(pid) as ok from pg_stat_activity where client_port = $1 and pid <> pg_backend_pid()",
      [clientPort],
    );
    if (r.rows.length !== 1) throw new Error(`no backend on client port ${clientPort}`);
  } finally {
    await admin.end();
  }
}

function proxiedPostgres(plan: FaultPlan, proxy: PgFaultProxy): Backend {
  return {
    name: "postgres",
    skip: false,
    async open() {
      const url = new URL(PG_URL);
      url.hostname = "127.0.0.1";
      url.port = String(proxy.port);
      const schema = freshSchemaName();
      const db = await openDatabase({ databaseUrl: url.toString(), schema, poolMax: 4 });
      return {
        ...db,
        async close() {
          plan.disarm();
          await db.close();
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`drop schema if exists "${schema}" cascade`);
          await c.end();
        },
      };
    },
  };
}

// ---- SQLite: the driver fails a statement -------------------------------------------------------------

class SqliteIoError extends Error {
  readonly code = "SQLITE_IOERR";
  constructor(when: string) {
    super(`disk I/O error (injected ${when} the statement)`);
  }
}

/** Fails the planned statement, before it reaches SQLite or after it ran. */
function failingStatements(plan: FaultPlan): KyselyPlugin {
  const after = new WeakSet<object>();
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const fault = plan.next();
      if (fault === "fail-before") throw new SqliteIoError("before");
      if (fault === "fail-after") after.add(args.queryId);
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (after.has(args.queryId)) throw new SqliteIoError("after");
      return args.result;
    },
  };
}

function failingSqlite(plan: FaultPlan): Backend {
  return {
    name: "sqlite",
    skip: false,
    async open() {
      const db = await sqliteBackend.open();
      return { ...db, db: db.db.withPlugin(failingStatements(plan)) };
    },
  };
}

// ---- the scenario -------------------------------------------------------------------------------------

async function channelCharged(cloud: LiveCloud): Promise<number> {
  return ledgerBalance(cloud, transitAccounts.channel("wechat"));
}

async function completedLoads(cloud: LiveCloud, cardId: string): Promise<{ atc: number; amount: number }[]> {
  return cloud.db.db
    .selectFrom("transit_loads")
    .select(["atc", "amount"])
    .where("card_id", "=", cardId)
    .where("state", "=", "completed")
    .orderBy("atc")
    .execute();
}

/**
 * One top-up with the fault planned; then recovery as the phone does it: sync, and the same request id again.
 * Returns whether the top-up completed.
 */
async function topUpThroughFault(wallet: Wallet, cardId: string, requestId: string): Promise<boolean> {
  try {
    const t = await topUpTransitCard(wallet, cardId, AMOUNT, { requestId, patienceMs: 10_000 });
    return t.state === "completed";
  } catch {
    await transitSync(wallet, { patienceMs: 10_000 });
    try {
      const t = await topUpTransitCard(wallet, cardId, AMOUNT, { requestId, patienceMs: 10_000 });
      return t.state === "completed";
    } catch {
      return false;
    }
  }
}

async function everyStatement(backend: Backend, plan: FaultPlan, modes: Mode[]) {
  const cloud = await startCloud(backend, `faults-db-${backend.name}`);
  const outcomes: Record<string, { cases: number; completed: number; fired: number }> = {};
  try {
    // A dry run counts the statements of one top-up.
    const probe = await phoneOn(cloud, "13900139100");
    const probeCard = (
      await openTransitCard(probe.wallet, { productId: "tu-jingjinji", firstTopUp: 1000, channel: "wechat" })
    ).card.id;
    plan.count();
    await topUpTransitCard(probe.wallet, probeCard, AMOUNT, { requestId: "probe-topup-0001" });
    const statements = plan.statements;
    plan.disarm();
    expect(statements).toBeGreaterThan(10);

    for (const [m, mode] of modes.entries()) {
      const { wallet } = await phoneOn(cloud, `1390013920${m}`);
      const cardId = (
        await openTransitCard(wallet, { productId: "tu-jingjinji", firstTopUp: 1000, channel: "wechat" })
      ).card.id;
      let expected = 1000;
      const o = (outcomes[mode] = { cases: 0, completed: 0, fired: 0 });
      const fired0 = plan.fired;
      for (let k = 1; k <= statements; k++) {
        const charged0 = await channelCharged(cloud);
        plan.arm(k, mode);
        const done = await topUpThroughFault(wallet, cardId, `fault-${mode}-${k}`);
        plan.disarm();
        o.cases++;
        if (done) {
          o.completed++;
          expected += AMOUNT;
        }
        // No money created or lost: card = cloud = what the channel paid, each load once.
        wallet.phone.se.host.reset();
        const seBalance = (await readPhone(wallet.phone)).balance;
        expect(seBalance, `${mode} at statement ${k}`).toBe(expected);
        expect((await transitCard(wallet, cardId)).balance, `${mode} at statement ${k}`).toBe(expected);
        expect((await channelCharged(cloud)) - charged0, `${mode} at statement ${k}`).toBe(done ? AMOUNT : 0);
        const loads = await completedLoads(cloud, cardId);
        expect(
          loads.reduce((n, l) => n + l.amount, 0),
          `${mode} at statement ${k}`,
        ).toBe(expected - 1000); // the first 1000 came with the card (its initial balance), not as a load
        expect(new Set(loads.map((l) => l.atc)).size).toBe(loads.length);
      }
      o.fired = plan.fired - fired0;
      await expectBooksBalance(cloud);
    }
  } finally {
    plan.disarm();
    await cloud.close();
  }
  return outcomes;
}

describe("database failures during a top-up, at every statement", () => {
  it("SQLite: the driver fails each statement (before or after it runs): completed once or not at all, books balance", async () => {
    const plan = new FaultPlan();
    const outcomes = await everyStatement(failingSqlite(plan), plan, ["fail-before", "fail-after"]);
    for (const o of Object.values(outcomes)) {
      expect(o.fired).toBe(o.cases); // every planned fault fired
      expect(o.completed).toBe(o.cases); // the phone's retries always finished the top-up
    }
  });

  describe.skipIf(!pgReachable && !process.env["CI"])("PostgreSQL", () => {
    it("the connection is cut (before / after the statement) or its backend terminated: completed once, books balance", async () => {
      const plan = new FaultPlan();
      const target = new URL(PG_URL);
      const proxy = new PgFaultProxy(plan, { host: target.hostname, port: Number(target.port || 5432) });
      await proxy.start();
      try {
        const outcomes = await everyStatement(proxiedPostgres(plan, proxy), plan, [
          "cut-before",
          "cut-after",
          "terminate",
        ]);
        for (const o of Object.values(outcomes)) {
          expect(o.fired).toBe(o.cases);
          expect(o.completed).toBe(o.cases);
        }
      } finally {
        await proxy.stop();
      }
    });
  });
});
