/**
 * Card authorisations per second through the cloud's issuer host (`POST /api/v1/issuer/authorisations`,
 * injected into the Fastify app: API key, schema, request key, the host's cryptogram/ATC/limits/funds checks,
 * ledger posting, the owner's transaction and notification, in one transaction), with many concurrent
 * clients, on SQLite and PostgreSQL — beside the raw database's rate for the same writes in the same run.
 *
 * Set-up: 64 users, each with a phone holding one token (its own funding card, of 4 banks); the phones are
 * tapped at a recording POS to make genuine ARQCs (each token's ATCs in order), then 32 clients send them,
 * each client owning two tokens, to 8 merchants. The hot rows are those of production: each bank's settlement
 * account, each merchant's account. "Raw" writes the same rows per authorisation (request key, token
 * counters, funds, authorisation record, ledger transfer + 2 entries + 2 account totals, the answer, the
 * owner's transaction, the notification counter and event) in one transaction with the bare driver: no
 * reads, no locks, no cryptography, no HTTP. The ratio is what the issuer's checks and safety cost.
 *
 * PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema, dropped
 * afterwards; skipped with a note when unreachable.
 */
import { performance } from "node:perf_hooks";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import type { AuthorisationRequest } from "../src/emv/authorisation.js";
import { type Backend, bind, postgresBackend, signIn, sqliteBackend } from "../test/cloud-harness.js";
import {
  type PaymentsCloud,
  type TestPhone,
  addCard,
  captureRequests,
  card,
  makePaymentsCloud,
  makePhone,
  sync,
} from "../test/cloud-tsp-harness.js";
import type { TestCard } from "../src/cloud/issuer/test-cards.js";
import { PG_UNREACHABLE, PG_URL, inTransaction } from "./pg.js";
import type { Figure } from "./report.js";
import { type Rate, drive, fmt, summarise, table } from "./stats.js";

const CLIENTS = 32;
const TOKENS = 64;
/** Per token: warm-up and measured requests (the default daily count limit is 50 per token). */
const WARMUP_PER_TOKEN = 4;
const MEASURED_PER_TOKEN = 40;
const MERCHANTS = 8;
const BANKS: [string, TestCard["bank"]][] = [
  ["622202", "ICBC"],
  ["622848", "ABC"],
  ["621700", "CCB"],
  ["621661", "BOC"],
];

interface Run extends Rate {
  approved: number;
}

/** Runs `jobs` from `clients` concurrent loops (client c takes jobs c, c + clients, …); times each job. */
interface World {
  cloud: PaymentsCloud;
  tokens: {
    token: string;
    cardId: string;
    accountId: string;
    deviceId: string;
    bank: string;
    fundingRef: string;
  }[];
  warm: AuthorisationRequest[];
  measured: AuthorisationRequest[];
}

async function setUp(backend: Backend): Promise<World> {
  const cards = Array.from({ length: TOKENS }, (_, i) => {
    const [prefix, bank] = BANKS[i % BANKS.length]!;
    return {
      ...card(prefix, 1000 + i, "debit", `1370013${String(i).padStart(4, "0")}`, bank),
      available: 10_000_00,
    };
  });
  const cloud = await makePaymentsCloud(backend, { cards, quiet: true });
  const phones: TestPhone[] = [];
  for (const [i, c] of cards.entries()) {
    const { token } = await signIn(
      cloud,
      `1380000${String(i).padStart(4, "0")}`,
      `198.51.${i >> 8}.${i & 255}`,
    );
    const phone = makePhone(cloud.clock);
    await bind(cloud, token, phone);
    await addCard(cloud, token, phone, c);
    await sync(cloud, phone);
    phones.push(phone);
  }
  // Requests in client order: client c owns tokens c and c + CLIENTS; its jobs alternate between them, each
  // token's requests in ATC order.
  const perToken = await Promise.all(
    phones.map((p, i) =>
      captureRequests(
        cloud,
        p,
        Array.from({ length: WARMUP_PER_TOKEN + MEASURED_PER_TOKEN }, (_, k) => 1_00 + ((i + k) % 97)),
        1,
        `TW${String(i).padStart(6, "0")}`,
      ),
    ),
  );
  const merchant = (i: number) => `89831004816${String(i % MERCHANTS).padStart(4, "0")}`;
  const order = (from: number, count: number) => {
    const out: AuthorisationRequest[] = new Array(CLIENTS * 2 * count);
    for (let c = 0; c < CLIENTS; c++)
      for (let k = 0; k < 2 * count; k++) {
        const t = c + (k % 2) * CLIENTS;
        const r = perToken[t]![from + (k >> 1)]!;
        out[c + k * CLIENTS] = { ...r, merchantId: merchant(t) };
      }
    return out;
  };
  const rows = await cloud.db.db
    .selectFrom("bank_cards as b")
    .innerJoin("issuer_tokens as t", "t.token", "b.token")
    .select(["b.token", "b.id", "b.account_id", "b.device_id", "b.bank_code", "b.funding_ref"])
    .execute();
  return {
    cloud,
    tokens: rows.map((r) => ({
      token: r.token,
      cardId: r.id,
      accountId: r.account_id,
      deviceId: r.device_id,
      bank: r.bank_code,
      fundingRef: r.funding_ref,
    })),
    warm: order(0, WARMUP_PER_TOKEN),
    measured: order(WARMUP_PER_TOKEN, MEASURED_PER_TOKEN),
  };
}

async function endpointRun(w: World, requests: AuthorisationRequest[]): Promise<Run> {
  let approved = 0;
  const rate = await drive(CLIENTS, requests.length, async (i) => {
    const r = await w.cloud.app.inject({
      method: "POST",
      url: "/api/v1/issuer/authorisations",
      headers: { "x-api-key": w.cloud.acquirerKey },
      payload: requests[i] as unknown as Record<string, unknown>,
    });
    if (r.statusCode === 200 && (r.json() as { responseCode: string }).responseCode === "00") approved++;
  });
  return { ...rate, approved };
}

/** The rows one approved authorisation writes, as parameters for the raw statements. */
function rawRows(w: World, tag: string, i: number) {
  const t = w.tokens[i % w.tokens.length]!;
  const now = Date.now();
  const key = `raw:${tag}:${i}`;
  return {
    now,
    key,
    t,
    amount: 1_00,
    merchant: `merchant:89831004816${String(i % MERCHANTS).padStart(4, "0")}`,
    issuer: `issuer:${t.bank}`,
    response: JSON.stringify({ responseCode: "00", approved: true, reason: "approved" }),
    payload: JSON.stringify({ cardId: t.cardId, amount: 1_00 }),
  };
}

const SQL = {
  request:
    "insert into issuer_requests (request_key, request_hash, response, posting_id, token_last4, created_at) values (?, ?, '', null, '0000', ?)",
  token:
    "update issuer_tokens set atc_recent = ?, day_amount = day_amount + ?, day_count = day_count + 1 where token = ?",
  funds: "update issuer_funding_accounts set available = available - ? where ref = ?",
  auth: "insert into issuer_authorisations (id, token, atc, amount, response_code, reason, authorisation_code, at, terminal_id, stan) values (?, ?, 0, ?, '00', 'approved', '123456', ?, 'TWRAW', 1)",
  transfer:
    "insert into ledger_transfers (id, idempotency_key, kind, fingerprint, metadata, created_at) values (?, ?, 'bench.raw', '', '{}', ?)",
  entry: "insert into ledger_entries (transfer_id, account_id, amount, created_at) values (?, ?, ?, ?)",
  debit: "update ledger_accounts set debits_posted = debits_posted + ? where id = ?",
  credit: "update ledger_accounts set credits_posted = credits_posted + ? where id = ?",
  answer: "update issuer_requests set response = ?, posting_id = ? where request_key = ?",
  tx: "insert into bank_card_transactions (id, card_id, account_id, device_id, amount, currency, merchant_id, merchant_name, terminal_id, stan, response_code, approved, reason, authorisation_code, request_key, posting_id, at) values (?, ?, ?, ?, ?, '0156', 'raw', null, 'TWRAW', 1, '00', 1, 'approved', '123456', ?, ?, ?)",
  counter:
    "insert into notification_counters (account_id, last_seq) values (?, 1) on conflict (account_id) do update set last_seq = notification_counters.last_seq + 1 returning last_seq",
  event:
    "insert into notifications (account_id, seq, type, payload, created_at) values (?, ?, 'bank_card.payment', ?, ?)",
};

/** Numbered placeholders for PostgreSQL. */
const numbered = (q: string) => {
  let n = 0;
  return q.replace(/\?/g, () => `$${++n}`);
};

function sqliteRaw(path: string, w: World, tag: string, total: number): Run {
  const raw = new SqliteDatabase(path);
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.pragma("busy_timeout = 5000");
  const st = Object.fromEntries(Object.entries(SQL).map(([k, q]) => [k, raw.prepare(q)])) as Record<
    keyof typeof SQL,
    SqliteDatabase.Statement
  >;
  const one = raw.transaction((i: number) => {
    const r = rawRows(w, tag, i);
    st.request.run(r.key, r.key, r.now);
    st.token.run("[1,2,3]", r.amount, r.t.token);
    st.funds.run(r.amount, r.t.fundingRef);
    st.auth.run(r.key, r.t.token, r.amount, r.now);
    st.transfer.run(r.key, r.key, r.now);
    st.entry.run(r.key, r.issuer, r.amount, r.now);
    st.entry.run(r.key, r.merchant, -r.amount, r.now);
    st.debit.run(r.amount, r.issuer);
    st.credit.run(r.amount, r.merchant);
    st.answer.run(r.response, r.key, r.key);
    st.tx.run(r.key, r.t.cardId, r.t.accountId, r.t.deviceId, r.amount, r.key, r.key, r.now);
    const { last_seq } = st.counter.get(r.t.accountId) as { last_seq: number };
    st.event.run(r.t.accountId, last_seq, r.payload, r.now);
  });
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const t = performance.now();
    one.immediate(i);
    times.push((performance.now() - t) * 1000);
  }
  const seconds = (performance.now() - start) / 1000;
  raw.close();
  return { timing: summarise(times), perSecond: total / seconds, approved: total };
}

async function postgresRaw(schema: string, w: World, tag: string, total: number): Promise<Run> {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 12, options: `-c search_path=${schema}` });
  const q = Object.fromEntries(Object.entries(SQL).map(([k, s]) => [k, numbered(s)])) as Record<
    keyof typeof SQL,
    string
  >;
  try {
    const rate = await drive(CLIENTS, total, async (i) => {
      const r = rawRows(w, tag, i);
      await inTransaction(pool, async (c) => {
        await c.query(q.request, [r.key, r.key, r.now]);
        await c.query(q.token, ["[1,2,3]", r.amount, r.t.token]);
        await c.query(q.funds, [r.amount, r.t.fundingRef]);
        await c.query(q.auth, [r.key, r.t.token, r.amount, r.now]);
        await c.query(q.transfer, [r.key, r.key, r.now]);
        await c.query(
          numbered(
            "insert into ledger_entries (transfer_id, account_id, amount, created_at) values (?, ?, ?, ?), (?, ?, ?, ?)",
          ),
          [r.key, r.issuer, r.amount, r.now, r.key, r.merchant, -r.amount, r.now],
        );
        // Totals in sorted id order, as the ledger locks them (no deadlocks between clients).
        const totals: [string, string][] = [
          [q.debit, r.issuer],
          [q.credit, r.merchant],
        ];
        totals.sort((a, b) => (a[1] < b[1] ? -1 : 1));
        for (const [sql, id] of totals) await c.query(sql, [r.amount, id]);
        await c.query(q.answer, [r.response, r.key, r.key]);
        await c.query(q.tx, [r.key, r.t.cardId, r.t.accountId, r.t.deviceId, r.amount, r.key, r.key, r.now]);
        const seq = await c.query<{ last_seq: number }>(q.counter, [r.t.accountId]);
        await c.query(q.event, [r.t.accountId, seq.rows[0]!.last_seq, r.payload, r.now]);
      });
    });
    return { ...rate, approved: total };
  } finally {
    await pool.end();
  }
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const total = CLIENTS * 2 * MEASURED_PER_TOKEN;
  console.log(
    `card authorisations through POST /api/v1/issuer/authorisations (injected), ${CLIENTS} concurrent clients, ` +
      `${TOKENS} tokens of ${BANKS.length} banks, ${MERCHANTS} merchants, n=${total}`,
  );
  const rows: (string | number)[][] = [];
  const ratios: string[] = [];
  const record = (backend: string, what: string, r: Run) =>
    rows.push([backend, what, fmt(r.perSecond, 0), fmt(r.timing.p50 / 1000, 2), fmt(r.timing.p99 / 1000, 2)]);

  for (const backend of [sqliteBackend, postgresBackend]) {
    if (backend.skip) {
      ratios.push(`postgres: ${PG_UNREACHABLE}; skipped`);
      figures.push({ kind: "unavailable", scope: "rate:authorisation:postgres", reason: PG_UNREACHABLE });
      continue;
    }
    const w = await setUp(backend);
    try {
      await endpointRun(w, w.warm);
      const auth = await endpointRun(w, w.measured);
      const report = await w.cloud.app.cloud.ledger.checkInvariants();
      const raw =
        backend.name === "sqlite"
          ? (sqliteRaw(w.cloud.db.location, w, "warm", 200), sqliteRaw(w.cloud.db.location, w, "run", total))
          : (await postgresRaw(w.cloud.db.schema!, w, "warm", 200),
            await postgresRaw(w.cloud.db.schema!, w, "run", total));
      const name = backend.name === "sqlite" ? "sqlite (full sync)" : "postgres";
      record(name, `authorisation endpoint (${auth.approved}/${total} approved)`, auth);
      record(name, "raw driver, same rows", raw);
      figures.push({
        kind: "rate",
        op: "authorisation",
        database: backend.name === "sqlite" ? "sqlite" : "postgres",
        via: "POST /api/v1/issuer/authorisations, injected",
        clients: CLIENTS,
        n: total,
        perSecond: auth.perSecond,
        p50Us: auth.timing.p50,
        p99Us: auth.timing.p99,
        raw: { perSecond: raw.perSecond, p50Us: raw.timing.p50, p99Us: raw.timing.p99 },
        invariantsOk: report.ok,
      });
      ratios.push(
        `${name}: ${fmt(auth.perSecond, 0)} authorisations/s = ${fmt((100 * auth.perSecond) / raw.perSecond, 0)}% ` +
          `of the raw ${fmt(raw.perSecond, 0)}/s (ratio 1 : ${fmt(raw.perSecond / auth.perSecond, 1)}; ` +
          `ledger invariants after the run: ${report.ok ? "ok" : "VIOLATED"})`,
      );
    } finally {
      await w.cloud.close();
    }
  }
  table(["database", "path", "per second", "p50 ms", "p99 ms"], rows);
  for (const r of ratios) console.log(r);
  return figures;
}
