/**
 * Cloud foundation: ledger postings per second on SQLite and PostgreSQL with many concurrent clients
 * (p50, p99 per posting), beside the raw database's rate for the same rows written in the same run.
 *
 * A posting is a top-up shape: debit the client's funding source, credit a product's float and the fee
 * account (3 entries). Through the ledger that is: look up the idempotency key, lock the 3 accounts,
 * check limits, insert the transfer and its entries, add to the 3 running totals, in one transaction.
 * "Raw" writes the same rows (1 transfer, 3 entries, 3 total updates) in one transaction with the bare
 * driver: no key lookup, no locks, no checks, no query builder. The ratio is what the ledger's safety
 * costs. Floats are few (4 products) and shared by every client, as in production: they are hot rows.
 *
 * PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema,
 * dropped afterwards; skipped with a note if unreachable. Top-ups and authorisations per second come
 * with the transit and issuer services.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import { systemClock } from "../src/core/clock.js";
import { silentLog } from "../src/cloud/context.js";
import { migrateToLatest } from "../src/cloud/db/migrate.js";
import { openDatabase, type CloudDb } from "../src/cloud/db/open.js";
import { ledgerAccountIds as ids } from "../src/cloud/ledger/accounts.js";
import { Ledger } from "../src/cloud/ledger/service.js";
import { cloudModules } from "../src/cloud/modules.js";
import { resolvePolicy } from "../src/cloud/policy.js";
import { systemRng } from "../src/cloud/random.js";
import { PG_UNREACHABLE, PG_URL, inTransaction, pgReachable } from "./pg.js";
import type { Figure } from "./report.js";
import { type Rate, drive, fmt, summarise, table } from "./stats.js";

const CLIENTS = 32;
const POSTINGS = 3000;
const WARMUP = 200;
const PRODUCTS = 4;
const AMOUNT = 500;
const FEE = 10;

async function setUp(db: CloudDb): Promise<Ledger> {
  await migrateToLatest(db, cloudModules);
  const ledger = new Ledger({
    db,
    clock: systemClock,
    rng: systemRng,
    policy: resolvePolicy(),
    log: silentLog,
  });
  await ledger.openAccount({ id: ids.channel("bench"), kind: "channel" });
  await ledger.openAccount({ id: ids.fees(), kind: "fees" });
  for (let p = 0; p < PRODUCTS; p++)
    await ledger.openAccount({ id: ids.cardFloat(`bench.p${p}`), kind: "card_float" });
  for (let c = 0; c < CLIENTS; c++) {
    const funding = ids.fundingSource("bench", `c${c}`);
    await ledger.openAccount({ id: funding, kind: "funding_source" });
    await ledger.post({
      idempotencyKey: `deposit-${c}`,
      kind: "funding.deposit",
      entries: [
        { account: ids.channel("bench"), amount: 1e11 },
        { account: funding, amount: -1e11 },
      ],
    });
  }
  return ledger;
}

function entriesFor(i: number, client: number) {
  return [
    { account: ids.fundingSource("bench", `c${client}`), amount: AMOUNT + FEE },
    { account: ids.cardFloat(`bench.p${i % PRODUCTS}`), amount: -AMOUNT },
    { account: ids.fees(), amount: -FEE },
  ];
}

async function ledgerRun(ledger: Ledger, tag: string, total: number): Promise<Rate> {
  return drive(CLIENTS, total, async (i, client) => {
    await ledger.post({ idempotencyKey: `${tag}-${i}`, kind: "bench.topup", entries: entriesFor(i, client) });
  });
}

/** The same rows through better-sqlite3 directly: one transaction per posting (SQLite runs them one at a time anyway). */
function sqliteRaw(path: string, sync: "full" | "normal", tag: string, total: number): Rate {
  const raw = new SqliteDatabase(path);
  raw.pragma("journal_mode = WAL");
  raw.pragma(`synchronous = ${sync}`);
  raw.pragma("busy_timeout = 5000");
  const insertTransfer = raw.prepare(
    "insert into ledger_transfers (id, idempotency_key, kind, fingerprint, metadata, created_at) values (?, ?, 'bench.raw', '', '{}', ?)",
  );
  const insertEntry = raw.prepare(
    "insert into ledger_entries (transfer_id, account_id, amount, created_at) values (?, ?, ?, ?)",
  );
  const addDebit = raw.prepare("update ledger_accounts set debits_posted = debits_posted + ? where id = ?");
  const addCredit = raw.prepare(
    "update ledger_accounts set credits_posted = credits_posted + ? where id = ?",
  );
  const post = raw.transaction((i: number, client: number) => {
    const id = `raw_${sync}_${tag}_${i}`;
    const now = Date.now();
    insertTransfer.run(id, id, now);
    for (const e of entriesFor(i, client)) {
      insertEntry.run(id, e.account, e.amount, now);
      if (e.amount > 0) addDebit.run(e.amount, e.account);
      else addCredit.run(-e.amount, e.account);
    }
  });
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const t = performance.now();
    post.immediate(i, i % CLIENTS);
    times.push((performance.now() - t) * 1000);
  }
  const seconds = (performance.now() - start) / 1000;
  raw.close();
  return { timing: summarise(times), perSecond: total / seconds };
}

/** The same rows through a bare pg Pool (same size as the ledger's), with the same concurrency. */
async function postgresRaw(schema: string, tag: string, total: number): Promise<Rate> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10, options: `-c search_path=${schema}` });
  try {
    return await drive(CLIENTS, total, async (i, client) => {
      const id = `raw_${tag}_${i}`;
      const now = Date.now();
      await inTransaction(pool, async (c) => {
        await c.query(
          "insert into ledger_transfers (id, idempotency_key, kind, fingerprint, metadata, created_at) values ($1, $1, 'bench.raw', '', '{}', $2)",
          [id, now],
        );
        const es = entriesFor(i, client);
        await c.query(
          "insert into ledger_entries (transfer_id, account_id, amount, created_at) values ($1, $2, $3, $8), ($1, $4, $5, $8), ($1, $6, $7, $8)",
          [
            id,
            es[0]!.account,
            es[0]!.amount,
            es[1]!.account,
            es[1]!.amount,
            es[2]!.account,
            es[2]!.amount,
            now,
          ],
        );
        for (const e of es) {
          await c.query(
            e.amount > 0
              ? "update ledger_accounts set debits_posted = debits_posted + $1 where id = $2"
              : "update ledger_accounts set credits_posted = credits_posted + $1 where id = $2",
            [Math.abs(e.amount), e.account],
          );
        }
      });
    });
  } finally {
    await pool.end();
  }
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const figure = (database: "sqlite" | "postgres", via: string, r: Rate, raw: Rate, ok: boolean) =>
    figures.push({
      kind: "rate",
      op: "ledger posting",
      database,
      via,
      clients: CLIENTS,
      n: POSTINGS,
      perSecond: r.perSecond,
      p50Us: r.timing.p50,
      p99Us: r.timing.p99,
      raw: { perSecond: raw.perSecond, p50Us: raw.timing.p50, p99Us: raw.timing.p99 },
      invariantsOk: ok,
    });
  console.log(
    `ledger postings (3 entries: funding → float + fee), ${CLIENTS} concurrent clients, ${PRODUCTS} shared floats, n=${POSTINGS}`,
  );
  const rows: (string | number)[][] = [];
  const ratios: string[] = [];
  const record = (backend: string, what: string, r: Rate) =>
    rows.push([backend, what, fmt(r.perSecond, 0), fmt(r.timing.p50 / 1000, 2), fmt(r.timing.p99 / 1000, 2)]);

  // SQLite: a file, WAL, as `npm start` runs it; synchronous FULL (the default) and NORMAL.
  for (const sync of ["full", "normal"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "tw-bench-"));
    try {
      const db = await openDatabase({ dataDir: dir, sqliteSynchronous: sync });
      const ledger = await setUp(db);
      await ledgerRun(ledger, "warm", WARMUP);
      const viaLedger = await ledgerRun(ledger, "sqlite", POSTINGS);
      const report = await ledger.checkInvariants();
      await db.close();
      const file = join(dir, "tapwallet.sqlite");
      sqliteRaw(file, sync, "warm", WARMUP);
      const raw = sqliteRaw(file, sync, "sqlite", POSTINGS);
      const name = `sqlite (${sync})`;
      record(name, "ledger.post", viaLedger);
      record(name, "raw driver, same rows", raw);
      if (sync === "full")
        figure("sqlite", "Ledger.post in process, synchronous=full", viaLedger, raw, report.ok);
      ratios.push(
        `${name}: ledger ${fmt(viaLedger.perSecond, 0)}/s = ${fmt((100 * viaLedger.perSecond) / raw.perSecond, 0)}% of raw ${fmt(raw.perSecond, 0)}/s (invariants after the ledger run: ${report.ok ? "ok" : "VIOLATED"})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  if (pgReachable) {
    const schema = `tw_bench_${randomBytes(4).toString("hex")}`;
    const db = await openDatabase({ databaseUrl: PG_URL, schema, poolMax: 10 });
    try {
      const ledger = await setUp(db);
      await ledgerRun(ledger, "warm", WARMUP);
      const viaLedger = await ledgerRun(ledger, "pg", POSTINGS);
      const report = await ledger.checkInvariants();
      await postgresRaw(schema, "warm", WARMUP);
      const raw = await postgresRaw(schema, "pg", POSTINGS);
      record("postgres", "ledger.post", viaLedger);
      record("postgres", "raw driver, same rows", raw);
      figure("postgres", "Ledger.post in process", viaLedger, raw, report.ok);
      ratios.push(
        `postgres: ledger ${fmt(viaLedger.perSecond, 0)}/s = ${fmt((100 * viaLedger.perSecond) / raw.perSecond, 0)}% of raw ${fmt(raw.perSecond, 0)}/s (invariants: ${report.ok ? "ok" : "VIOLATED"})`,
      );
    } finally {
      await db.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await db.close();
    }
  } else {
    ratios.push(`postgres: ${PG_UNREACHABLE}; skipped`);
    figures.push({ kind: "unavailable", scope: "rate:ledger posting:postgres", reason: PG_UNREACHABLE });
  }

  table(["database", "path", "postings/s", "p50 ms", "p99 ms"], rows);
  for (const r of ratios) console.log(r);
  return figures;
}
