/**
 * Transit top-ups (圈存) per second through the cloud, on SQLite and PostgreSQL, with many concurrent phones —
 * beside the raw database's rate for the same writes, measured in the same run.
 *
 * The cloud: `tapwallet serve` in its own process (as deployed; SQLite `synchronous=full`, the default, or
 * PostgreSQL with its pool of 10). CLIENTS virtual phones in this process, one transit card each (made
 * beforehand through the TSM), each running top-ups one after another, all at once. A top-up is the whole
 * protocol: start (challenge) → the card's INITIALIZE FOR LOAD → authorise (MAC1 checked, ledger posted,
 * MAC2) → the card's CREDIT FOR LOAD → confirm (TAC checked) — three signed HTTP requests, with the card's
 * answers from the phone's SE (kept in memory here: the phones' file writes are not the cloud's cost).
 * p50/p99 are per top-up, end to end as the phone sees it.
 *
 * Raw: the rows those three transactions write (3 signature nonces; the top-up, its challenge and its load;
 * the card's updates; two ledger transfers with 4 entries and 4 total updates; the top-up's notification and
 * its counter), written with the bare driver in three transactions per top-up — no reads, no locks, no checks,
 * no HTTP, no cryptography. The ratio is what a top-up's safety and protocol cost over the bare writes.
 *
 * PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema, dropped
 * afterwards; skipped with a note if unreachable.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import { checkLedgerInvariants } from "../src/cloud/ledger/invariants.js";
import { transitFloatSource } from "../src/cloud/transit/float.js";
import type { Operation, OperationResult } from "../src/protocol/tsm-wire.js";
import { type CloudClient, PHONE_PACKAGES, runOperations } from "../src/device/index.js";
import { loadSecureElement } from "../src/se/persistence.js";
import type { SecureElement } from "../src/se/secure-element.js";
import {
  type Store,
  freePort,
  makePhones,
  postgresStore,
  removePhoneDirs,
  sqliteStore,
  startServer,
} from "../test/crash-harness.js";
import { PG_UNREACHABLE, PG_URL, inTransaction, pgReachable } from "./pg.js";
import type { Figure } from "./report.js";
import { type Rate, drive, fmt, summarise, table } from "./stats.js";

const CLIENTS = 32;
const TOPUPS = 2000;
const WARMUP = 64;
const AMOUNT = 1000;
const PRODUCTS = ["tu-jingjinji", "shanghai", "shenzhen-tong", "wuhan-tong"];

interface Client {
  client: CloudClient;
  se: SecureElement;
  cardId: string;
  accountId: string;
  productId: string;
  deviceFingerprint: string;
}

/** Phones with a card each (test/crash-harness.ts), with what the bench needs of them: SE, ids, device key. */
async function phones(store: Store, port: number): Promise<Client[]> {
  const made = await makePhones(store, port, CLIENTS, PRODUCTS, 1000);
  const db = await store.open();
  try {
    const out: Client[] = [];
    for (const { wallet, cardId, productId } of made) {
      const phone = wallet.phone;
      const device = await db.db
        .selectFrom("devices")
        .select("key_fingerprint")
        .where("id", "=", phone.cloud!.deviceId!)
        .executeTakeFirstOrThrow();
      const image = JSON.parse(readFileSync(join(phone.dir, "se.json"), "utf8")) as unknown;
      out.push({
        client: wallet.client(),
        se: loadSecureElement(image as Parameters<typeof loadSecureElement>[0], { packages: PHONE_PACKAGES }),
        cardId,
        accountId: phone.cloud!.accountId!,
        productId,
        deviceFingerprint: device.key_fingerprint,
      });
    }
    return out;
  } finally {
    await db.close();
  }
}

/** One top-up, the phone's side of the protocol (src/device/transit.ts without its retries). */
async function topUp(c: Client, requestId: string): Promise<void> {
  const post = <T>(path: string, body: unknown) =>
    c.client.request<T>("POST", `/api/v1/transit/${path}`, "device", body);
  try {
    const s = await post<{ topup: { id: string }; challenge: { id: string; operations: Operation[] } }>(
      `cards/${c.cardId}/topups`,
      { requestId, amount: AMOUNT, channel: "wechat" },
    );
    const answers: OperationResult[] = runOperations(c.se, s.challenge.operations);
    const a = await post<{ operations: Operation[] }>(`topups/${s.topup.id}/authorise`, {
      challengeId: s.challenge.id,
      results: answers,
    });
    const done = await post<{ topup: { state: string } }>(`topups/${s.topup.id}/confirm`, {
      results: runOperations(c.se, a.operations),
    });
    if (done.topup.state !== "completed") throw new Error(`top-up ${requestId} ${done.topup.state}`);
  } finally {
    c.se.host.reset();
  }
}

const topUps = (clients: Client[], tag: string, total: number) =>
  drive(clients.length, total, (i, c) => topUp(clients[c]!, `${tag}-${i}-bench`));

// ---- the same writes, raw -----------------------------------------------------------------------------

/** The statements of one top-up's three transactions, as [sql, params] per transaction. */
function rawWrites(c: Client, tag: string, i: number, dollar: boolean): [string, unknown[]][][] {
  const now = Date.now();
  const id = `${tag}_${i}`;
  let n = 0;
  const q = (sql: string): string => (dollar ? sql.replace(/\?/g, () => `$${++n}`) : sql);
  const stmt = (sql: string, params: unknown[]): [string, unknown[]] => {
    n = 0;
    return [q(sql), params];
  };
  const nonce = (k: number) =>
    stmt("insert into signature_nonces (key_fingerprint, nonce, expires_at) values (?, ?, ?)", [
      c.deviceFingerprint,
      `${id}_n${k}`,
      now + 600_000,
    ]);
  const funding = `funding:${c.accountId}:wechat`;
  const float = `float:${c.productId}`;
  const transfer = (key: string, debit: string, credit: string) => [
    stmt(
      "insert into ledger_transfers (id, idempotency_key, kind, fingerprint, metadata, created_at) values (?, ?, 'transit.raw', '', '{}', ?)",
      [`x${key}`, key, now],
    ),
    stmt(
      "insert into ledger_entries (transfer_id, account_id, amount, created_at) values (?, ?, ?, ?), (?, ?, ?, ?)",
      [`x${key}`, debit, AMOUNT, now, `x${key}`, credit, -AMOUNT, now],
    ),
    stmt("update ledger_accounts set debits_posted = debits_posted + ? where id = ?", [AMOUNT, debit]),
    stmt("update ledger_accounts set credits_posted = credits_posted + ? where id = ?", [AMOUNT, credit]),
  ];
  return [
    [
      nonce(1),
      stmt(
        "insert into transit_topups (id, account_id, card_id, request_id, amount, channel, state, attempts, failure, created_at, updated_at, completed_at) values (?, ?, ?, ?, ?, 'wechat', 'pending', 0, null, ?, ?, null)",
        [`t${id}`, c.accountId, c.cardId, `r${id}`, AMOUNT, now, now],
      ),
      stmt(
        "insert into transit_challenges (id, card_id, purpose, topup_id, terminal, amount, card_seq, prove_loads, \"full\", created_at, answered_at) values (?, ?, 'topup', ?, '000112345678', ?, 0, '[]', 0, ?, null)",
        [`c${id}`, c.cardId, `t${id}`, AMOUNT, now],
      ),
    ],
    [
      nonce(2),
      stmt("update transit_challenges set answered_at = ? where id = ?", [now, `c${id}`]),
      stmt(
        "insert into transit_loads (id, topup_id, card_id, seq, atc, atc_slot, amount, terminal, balance_before, key_version, algorithm_id, random, mac1, date4, time3, mac2, challenge_id, state, proof, tac, created_at, resolved_at) values (?, ?, ?, 0, 0, null, ?, '000112345678', 0, 1, 0, '00000000', '00000000', '20260301', '080000', '00000000', ?, 'authorised', null, null, ?, null)",
        [`l${id}`, `t${id}`, c.cardId, AMOUNT, `c${id}`, now],
      ),
      stmt(
        "update transit_cards set load_seq = load_seq + 1, inflight_load_id = ?, updated_at = ? where id = ?",
        [`l${id}`, now, c.cardId],
      ),
      stmt("update transit_topups set state = 'authorised', attempts = 1, updated_at = ? where id = ?", [
        now,
        `t${id}`,
      ]),
      ...transfer(`${id}:payin`, "channel:wechat", funding),
      ...transfer(`${id}:fund`, funding, float),
    ],
    [
      nonce(3),
      stmt(
        "update transit_loads set state = 'completed', proof = 'tac', tac = '00000000', resolved_at = ? where id = ?",
        [now, `l${id}`],
      ),
      stmt(
        "update transit_cards set balance = balance + ?, online_atc = online_atc + 1, inflight_load_id = null, seen_balance = ?, seen_online_atc = 0, seen_at = ?, updated_at = ? where id = ?",
        [AMOUNT, AMOUNT, now, now, c.cardId],
      ),
      stmt("update transit_topups set state = 'completed', completed_at = ?, updated_at = ? where id = ?", [
        now,
        now,
        `t${id}`,
      ]),
      stmt(
        "insert into notification_counters (account_id, last_seq) values (?, 1) on conflict (account_id) do update set last_seq = notification_counters.last_seq + 1",
        [c.accountId],
      ),
      stmt(
        "insert into notifications (account_id, seq, type, payload, created_at) values (?, (select last_seq from notification_counters where account_id = ?), 'transit.raw', '{}', ?)",
        [c.accountId, c.accountId, now],
      ),
    ],
  ];
}

function sqliteRaw(file: string, clients: Client[], tag: string, total: number): Rate {
  const raw = new SqliteDatabase(file);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = full");
  raw.pragma("busy_timeout = 5000");
  const cache = new Map<string, SqliteDatabase.Statement>();
  const run = raw.transaction((stmts: [string, unknown[]][]) => {
    for (const [sql, params] of stmts) {
      let s = cache.get(sql);
      if (!s) cache.set(sql, (s = raw.prepare(sql)));
      s.run(...params);
    }
  });
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const t = performance.now();
    for (const tx of rawWrites(clients[i % clients.length]!, tag, i, false)) run.immediate(tx);
    times.push((performance.now() - t) * 1000);
  }
  const seconds = (performance.now() - start) / 1000;
  raw.close();
  return { timing: summarise(times), perSecond: total / seconds };
}

async function postgresRaw(schema: string, clients: Client[], tag: string, total: number): Promise<Rate> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10, options: `-c search_path=${schema}` });
  try {
    return await drive(clients.length, total, async (i, c) => {
      for (const tx of rawWrites(clients[c]!, tag, i, true))
        await inTransaction(pool, async (conn) => {
          for (const [sql, params] of tx) await conn.query(sql, params);
        });
    });
  } finally {
    await pool.end();
  }
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  console.log(
    `transit top-ups through tapwallet serve: ${CLIENTS} phones at once (one card each), n=${TOPUPS}; ` +
      "raw: the same rows, bare driver, 3 transactions per top-up",
  );
  const targets: Store[] = [sqliteStore(), ...(pgReachable ? [postgresStore()] : [])];
  const rows: (string | number)[][] = [];
  const ratios: string[] = [];
  const record = (backend: string, what: string, r: Rate) =>
    rows.push([backend, what, fmt(r.perSecond, 0), fmt(r.timing.p50 / 1000, 1), fmt(r.timing.p99 / 1000, 1)]);
  try {
    for (const target of targets) {
      const name = target.name === "sqlite" ? "sqlite (full)" : "postgres";
      const port = await freePort();
      const clients = await phones(target, port);
      const server = await startServer(target, port);
      let cloudRun: Rate;
      try {
        await topUps(clients, "warm", WARMUP);
        cloudRun = await topUps(clients, "run", TOPUPS);
      } finally {
        await server.stop();
      }
      const db = await target.open();
      const report = await db.db
        .transaction()
        .execute((trx) => checkLedgerInvariants(trx, [transitFloatSource]));
      await db.close();
      const rawRun =
        target.name === "postgres"
          ? await (async () => {
              const schema = target.env["DATABASE_SCHEMA"]!;
              await postgresRaw(schema, clients, "rawwarm", WARMUP);
              return postgresRaw(schema, clients, "raw", TOPUPS);
            })()
          : (sqliteRaw(join(target.env["DATA_DIR"]!, "tapwallet.sqlite"), clients, "rawwarm", WARMUP),
            sqliteRaw(join(target.env["DATA_DIR"]!, "tapwallet.sqlite"), clients, "raw", TOPUPS));
      figures.push({
        kind: "rate",
        op: "top-up",
        database: target.name,
        via: `tapwallet serve over HTTP, ${CLIENTS} phones`,
        clients: CLIENTS,
        n: TOPUPS,
        perSecond: cloudRun.perSecond,
        p50Us: cloudRun.timing.p50,
        p99Us: cloudRun.timing.p99,
        raw: { perSecond: rawRun.perSecond, p50Us: rawRun.timing.p50, p99Us: rawRun.timing.p99 },
        invariantsOk: report.ok,
      });
      record(name, "cloud top-up (3 requests)", cloudRun);
      record(name, "raw driver, same rows", rawRun);
      ratios.push(
        `${name}: ${fmt(cloudRun.perSecond, 0)} top-ups/s = ${fmt((100 * cloudRun.perSecond) / rawRun.perSecond, 1)}% ` +
          `of the raw ${fmt(rawRun.perSecond, 0)}/s (ratio 1 : ${fmt(rawRun.perSecond / cloudRun.perSecond, 1)}); ` +
          `ledger invariants after the run: ${report.ok ? "ok" : "VIOLATED"}`,
      );
    }
  } finally {
    removePhoneDirs();
    for (const t of targets) await t.remove();
  }
  if (!pgReachable) {
    ratios.push(`postgres: ${PG_UNREACHABLE}; skipped`);
    figures.push({ kind: "unavailable", scope: "rate:top-up:postgres", reason: PG_UNREACHABLE });
  }
  table(["database", "path", "top-ups/s", "p50 ms", "p99 ms"], rows);
  for (const r of ratios) console.log(r);
  return figures;
}
