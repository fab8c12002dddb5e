/**
 * The ledger: balanced postings in fen, idempotency (ten retries → one posting), serialised concurrent
 * postings (no lost update, no overdraft), invariants (and that they catch tampering), the float-proof
 * hook on synthetic card balances, and joining a caller's transaction. On SQLite and PostgreSQL.
 */
import fc from "fast-check";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../src/cloud/db/open.js";
import { transaction, type Executor } from "../src/cloud/db/tx.js";
import { isCloudError } from "../src/cloud/errors.js";
import { ledgerAccountIds as ids } from "../src/cloud/ledger/accounts.js";
import type { Ledger, PostingRequest } from "../src/cloud/ledger/service.js";
import { Ledger as LedgerService } from "../src/cloud/ledger/service.js";
import { silentLog } from "../src/cloud/context.js";
import { resolvePolicy } from "../src/cloud/policy.js";
import { seededRng } from "../src/cloud/random.js";
import { backends, makeCloud, PG_URL, type TestCloud } from "./cloud-harness.js";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (isCloudError(e)) return e.code;
    throw e;
  }
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`ledger on ${backend.name}`, () => {
    let cloud: TestCloud;
    let ledger: Ledger;
    const user = "acc_000000000000000000000001";
    const funding = ids.fundingSource(user, "wechat");
    const channel = ids.channel("wechat");
    const float = ids.cardFloat("transit.sztong");
    const fees = ids.fees();

    beforeEach(async () => {
      cloud = await makeCloud(backend);
      ledger = cloud.app.cloud.ledger;
      await cloud.db.db
        .insertInto("accounts")
        .values({ id: user, phone: "13800138000", created_at: 0 })
        .execute();
      await ledger.openAccount({ id: channel, kind: "channel" });
      await ledger.openAccount({ id: funding, kind: "funding_source", ownerAccountId: user });
      await ledger.openAccount({ id: float, kind: "card_float" });
      await ledger.openAccount({ id: fees, kind: "fees" });
    });
    afterEach(async () => {
      await cloud.close();
    });

    const deposit = (key: string, amount: number, to = funding) =>
      ledger.post({
        idempotencyKey: key,
        kind: "funding.deposit",
        entries: [
          { account: channel, amount },
          { account: to, amount: -amount },
        ],
      });
    const topUp = (key: string, amount: number, fee = 0, from = funding): PostingRequest => ({
      idempotencyKey: key,
      kind: "transit.topup",
      entries: [
        { account: from, amount: amount + fee },
        { account: float, amount: -amount },
        ...(fee ? [{ account: fees, amount: -fee }] : []),
      ],
      metadata: { loadId: key },
    });
    const balance = async (id: string) => (await ledger.account(id))!.balance;

    it("posts balanced entries and derives balances on each account's normal side", async () => {
      await deposit("dep-1", 10_000);
      const r = await ledger.post(topUp("load-1", 5_000, 100));
      expect(r.replayed).toBe(false);
      expect(r.posting.entries).toEqual([
        { account: fees, amount: -100 },
        { account: float, amount: -5_000 },
        { account: funding, amount: 5_100 },
      ]);
      expect(await balance(funding)).toBe(4_900);
      expect(await balance(float)).toBe(5_000);
      expect(await balance(fees)).toBe(100);
      expect(await balance(channel)).toBe(10_000);
      expect((await ledger.findPosting("load-1"))?.id).toBe(r.posting.id);
      const report = await ledger.checkInvariants();
      expect(report).toEqual({ ok: true, transfers: 2, accounts: 4, violations: [] });
    });

    it("refuses malformed postings and writes nothing", async () => {
      const bad: [string, PostingRequest][] = [
        [
          "unbalanced",
          {
            idempotencyKey: "k",
            kind: "x",
            entries: [
              { account: channel, amount: 5 },
              { account: funding, amount: -4 },
            ],
          },
        ],
        ["one entry", { idempotencyKey: "k", kind: "x", entries: [{ account: channel, amount: 0 }] }],
        [
          "zero",
          {
            idempotencyKey: "k",
            kind: "x",
            entries: [
              { account: channel, amount: 0 },
              { account: funding, amount: 0 },
            ],
          },
        ],
        [
          "fraction",
          {
            idempotencyKey: "k",
            kind: "x",
            entries: [
              { account: channel, amount: 1.5 },
              { account: funding, amount: -1.5 },
            ],
          },
        ],
        [
          "duplicate",
          {
            idempotencyKey: "k",
            kind: "x",
            entries: [
              { account: channel, amount: 1 },
              { account: channel, amount: -1 },
            ],
          },
        ],
        [
          "too large",
          {
            idempotencyKey: "k",
            kind: "x",
            entries: [
              { account: channel, amount: 2e12 },
              { account: funding, amount: -2e12 },
            ],
          },
        ],
        [
          "bad key",
          {
            idempotencyKey: "",
            kind: "x",
            entries: [
              { account: channel, amount: 1 },
              { account: funding, amount: -1 },
            ],
          },
        ],
      ];
      for (const [why, req] of bad) expect(await code(ledger.post(req)), why).toBe("invalid_posting");
      expect(
        await code(
          ledger.post({
            idempotencyKey: "k",
            kind: "x",
            entries: [
              { account: channel, amount: 1 },
              { account: "float:nope", amount: -1 },
            ],
          }),
        ),
      ).toBe("unknown_ledger_account");
      const count = await cloud.db.db
        .selectFrom("ledger_transfers")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(0);
    });

    it("declines a posting that would make a funding source negative; the same key succeeds once funded", async () => {
      await deposit("dep-1", 1_000);
      expect(await code(ledger.post(topUp("load-1", 1_001)))).toBe("insufficient_funds");
      expect(await balance(funding)).toBe(1_000);
      expect(await ledger.findPosting("load-1")).toBeUndefined();
      await deposit("dep-2", 1);
      expect((await ledger.post(topUp("load-1", 1_001))).replayed).toBe(false);
      expect(await balance(funding)).toBe(0);
      expect((await ledger.checkInvariants()).ok).toBe(true);
    });

    it("posts once when retried ten times, sequentially or all at once", async () => {
      await deposit("dep-1", 100_000);
      const results: Awaited<ReturnType<Ledger["post"]>>[] = [];
      for (let i = 0; i < 10; i++) results.push(await ledger.post(topUp("load-seq", 2_000, 50)));
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      expect(new Set(results.map((r) => r.posting.id)).size).toBe(1);
      expect(results.every((r) => JSON.stringify(r.posting) === JSON.stringify(results[0]!.posting))).toBe(
        true,
      );

      const burst = await Promise.all(
        Array.from({ length: 10 }, () => ledger.post(topUp("load-burst", 3_000))),
      );
      expect(burst.filter((r) => !r.replayed)).toHaveLength(1);
      expect(new Set(burst.map((r) => r.posting.id)).size).toBe(1);

      expect(await balance(funding)).toBe(100_000 - 2_050 - 3_000);
      expect(await balance(float)).toBe(5_000);
      const transfers = await cloud.db.db.selectFrom("ledger_transfers").select("idempotency_key").execute();
      expect(transfers.map((t) => t.idempotency_key).sort()).toEqual(["dep-1", "load-burst", "load-seq"]);
      expect((await ledger.checkInvariants()).ok).toBe(true);
    });

    it("refuses an idempotency key reused for a different posting", async () => {
      await deposit("dep-1", 10_000);
      await ledger.post(topUp("load-1", 1_000));
      expect(await code(ledger.post(topUp("load-1", 1_001)))).toBe("idempotency_conflict");
      expect(await balance(float)).toBe(1_000);
    });

    it("serialises concurrent postings: no lost update, no overdraft", async () => {
      await deposit("dep-1", 1_000);
      // 40 concurrent debits of 50 against 1,000: exactly 20 can succeed.
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => code(ledger.post(topUp(`race-${i}`, 50)))),
      );
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(20);
      expect(outcomes.filter((o) => o === "insufficient_funds")).toHaveLength(20);
      expect(await balance(funding)).toBe(0);
      expect(await balance(float)).toBe(1_000);

      // Many payers into one float at once: the float's total is exact.
      const payers = Array.from({ length: 20 }, (_, i) => ids.fundingSource(user, `card${i}`));
      for (const [i, p] of payers.entries()) {
        await ledger.openAccount({ id: p, kind: "funding_source", ownerAccountId: user });
        await deposit(`dep-p${i}`, 10_000, p);
      }
      const amounts = Array.from({ length: 100 }, (_, i) => 1 + ((i * 37) % 200));
      await Promise.all(
        amounts.map((a, i) => ledger.post(topUp(`many-${i}`, a, 0, payers[i % payers.length]!))),
      );
      expect(await balance(float)).toBe(1_000 + amounts.reduce((s, a) => s + a, 0));
      expect((await ledger.checkInvariants()).ok).toBe(true);
    });

    // Two pools in one process. (Two SQLite handles in one process would block each other's event loop:
    // better-sqlite3 waits synchronously for the file lock. Separate processes on one SQLite file are
    // tested in cloud-two-process.test.ts.)
    if (backend.name === "postgres")
      it("serialises postings from two separate connection pools (two servers) on the same data", async () => {
        await deposit("dep-1", 10_000);
        const second = await openDatabase({ databaseUrl: PG_URL, schema: cloud.db.schema });
        try {
          const other = new LedgerService({
            db: second,
            clock: cloud.clock,
            rng: seededRng("other"),
            policy: resolvePolicy(),
            log: silentLog,
          });
          const work = Array.from({ length: 60 }, (_, i) =>
            (i % 2 ? ledger : other).post(topUp(`two-${i}`, 250)),
          );
          const outcomes = await Promise.all(work.map((p) => code(p)));
          expect(outcomes.filter((o) => o === "ok")).toHaveLength(40);
          expect(await balance(funding)).toBe(0);
          expect(await balance(float)).toBe(10_000);
          expect((await other.checkInvariants()).ok).toBe(true);
        } finally {
          await second.close();
        }
      });

    it("joins a caller's transaction: rolled back with it, committed with it", async () => {
      await deposit("dep-1", 5_000);
      const boom = new Error("caller failed after posting");
      await expect(
        transaction(cloud.db.db, async (trx) => {
          await ledger.post(topUp("load-rb", 1_000), trx);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await ledger.findPosting("load-rb")).toBeUndefined();
      expect(await balance(funding)).toBe(5_000);

      await transaction(cloud.db.db, async (trx) => {
        // A declined posting inside the caller's transaction leaves it clean and usable.
        expect(await code(ledger.post(topUp("load-big", 9_000), trx))).toBe("insufficient_funds");
        await ledger.post(topUp("load-ok", 1_000), trx);
      });
      expect(await balance(funding)).toBe(4_000);
      expect(await ledger.findPosting("load-big")).toBeUndefined();
      expect((await ledger.checkInvariants()).ok).toBe(true);
    });

    it("finds tampering: unbalanced transfers, totals that disagree with entries, negative balances", async () => {
      await deposit("dep-1", 1_000);
      await ledger.post(topUp("load-1", 400));
      expect((await ledger.checkInvariants()).ok).toBe(true);

      // An entry changed behind the ledger's back.
      await cloud.db.db
        .updateTable("ledger_entries")
        .set({ amount: -401 })
        .where("transfer_id", "=", (await ledger.findPosting("load-1"))!.id)
        .where("account_id", "=", float)
        .execute();
      let report = await ledger.checkInvariants();
      expect(report.ok).toBe(false);
      expect(report.violations).toContainEqual(
        expect.objectContaining({ kind: "unbalanced_transfer", sum: -1, entries: 2 }),
      );
      expect(report.violations).toContainEqual(
        expect.objectContaining({
          kind: "totals_mismatch",
          account: float,
          creditsPosted: 400,
          entryCredits: 401,
        }),
      );
      await cloud.db.db
        .updateTable("ledger_entries")
        .set({ amount: -400 })
        .where("account_id", "=", float)
        .execute();

      // Running totals pushed negative directly (bypassing post()).
      await cloud.db.db
        .updateTable("ledger_accounts")
        .set({ debits_posted: sql<number>`debits_posted + 5000` })
        .where("id", "=", funding)
        .execute();
      report = await ledger.checkInvariants();
      expect(report.violations).toEqual([
        expect.objectContaining({
          kind: "totals_mismatch",
          account: funding,
          debitsPosted: 5_400,
          entryDebits: 400,
        }),
      ]);
      // And a transfer row without entries.
      await cloud.db.db
        .updateTable("ledger_accounts")
        .set({ debits_posted: 400 })
        .where("id", "=", funding)
        .execute();
      await cloud.db.db
        .insertInto("ledger_transfers")
        .values({
          id: "xfr_empty",
          idempotency_key: "empty",
          kind: "x",
          fingerprint: "0",
          metadata: "{}",
          created_at: 0,
        })
        .execute();
      report = await ledger.checkInvariants();
      expect(report.violations).toEqual([
        { kind: "unbalanced_transfer", transferId: "xfr_empty", sum: 0, entries: 0 },
      ]);
    });

    it("reports an overdrawn account whose entries and totals agree", async () => {
      await deposit("dep-1", 100);
      // Entries and totals forged consistently: only the flag check can see it.
      await cloud.db.db
        .insertInto("ledger_transfers")
        .values({
          id: "xfr_forged",
          idempotency_key: "forged",
          kind: "x",
          fingerprint: "0",
          metadata: "{}",
          created_at: 0,
        })
        .execute();
      await cloud.db.db
        .insertInto("ledger_entries")
        .values([
          { transfer_id: "xfr_forged", account_id: funding, amount: 500, created_at: 0 },
          { transfer_id: "xfr_forged", account_id: float, amount: -500, created_at: 0 },
        ])
        .execute();
      await cloud.db.db
        .updateTable("ledger_accounts")
        .set({ debits_posted: 500 })
        .where("id", "=", funding)
        .execute();
      await cloud.db.db
        .updateTable("ledger_accounts")
        .set({ credits_posted: 500 })
        .where("id", "=", float)
        .execute();
      const report = await ledger.checkInvariants();
      expect(report.violations).toEqual([{ kind: "negative_balance", account: funding, balance: -400 }]);
    });

    it("checks each product's float against its cards' proven balances (synthetic card table)", async () => {
      // Stand-in for the transit service: a table of cards with their TAC-proven balances.
      await cloud.db.db.schema
        .createTable("synthetic_cards")
        .addColumn("card_no", "text", (c) => c.primaryKey())
        .addColumn("product", "text", (c) => c.notNull())
        .addColumn("proven_fen", "bigint", (c) => c.notNull())
        .execute();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const cards = (exec: Executor) => exec as unknown as import("kysely").Kysely<any>;
      ledger.addFloatProofSource({
        name: "synthetic-transit",
        async provenFloats(exec) {
          const rows = await cards(exec)
            .selectFrom("synthetic_cards")
            .select((eb) => ["product", eb.fn.sum<number>("proven_fen").as("total")])
            .groupBy("product")
            .execute();
          return rows.map((r) => ({
            floatAccount: ids.cardFloat(r.product),
            expectedFen: Number(r.total),
          }));
        },
      });
      const beijing = ids.cardFloat("transit.jjj");
      await ledger.openAccount({ id: beijing, kind: "card_float" });
      await deposit("dep-1", 100_000);
      await ledger.post(topUp("load-a", 3_000));
      await ledger.post(topUp("load-b", 2_000));
      await ledger.post({
        idempotencyKey: "load-c",
        kind: "transit.topup",
        entries: [
          { account: funding, amount: 7_000 },
          { account: beijing, amount: -7_000 },
        ],
      });
      await cards(cloud.db.db)
        .insertInto("synthetic_cards")
        .values([
          { card_no: "3104001", product: "transit.sztong", proven_fen: 3_000 },
          { card_no: "3104002", product: "transit.sztong", proven_fen: 2_000 },
          { card_no: "1000001", product: "transit.jjj", proven_fen: 7_000 },
        ])
        .execute();
      expect((await ledger.checkInvariants()).ok).toBe(true);

      // A card whose proven balance disagrees with what the ledger holds for it.
      await cards(cloud.db.db)
        .updateTable("synthetic_cards")
        .set({ proven_fen: 1_990 })
        .where("card_no", "=", "3104002")
        .execute();
      const report = await ledger.checkInvariants();
      expect(report.violations).toEqual([
        {
          kind: "float_mismatch",
          source: "synthetic-transit",
          floatAccount: float,
          ledgerFen: 5_000,
          expectedFen: 4_990,
        },
      ]);
    });

    it("keeps every invariant over random sequences of postings (property)", async () => {
      const accounts = [funding, float, fees, channel];
      const posting = fc.record({
        from: fc.constantFrom(...accounts),
        to: fc.constantFrom(...accounts),
        amount: fc.integer({ min: 1, max: 5_000 }),
        retry: fc.boolean(),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(posting, { minLength: 1, maxLength: 12 }), async (steps) => {
          run++;
          const before = new Map<string, number>();
          for (const a of accounts) before.set(a, await balance(a));
          const model = new Map(before);
          const normalCredit = (a: string) => a !== channel;
          for (const [i, s] of steps.entries()) {
            if (s.from === s.to) continue;
            const key = `p${run}-${i}`;
            const req: PostingRequest = {
              idempotencyKey: key,
              kind: "test.move",
              entries: [
                { account: s.from, amount: s.amount },
                { account: s.to, amount: -s.amount },
              ],
            };
            const outcome = await code(ledger.post(req));
            if (s.retry) expect(await code(ledger.post(req))).toBe(outcome);
            if (outcome === "ok") {
              model.set(s.from, model.get(s.from)! + (normalCredit(s.from) ? -s.amount : s.amount));
              model.set(s.to, model.get(s.to)! + (normalCredit(s.to) ? s.amount : -s.amount));
            } else {
              expect(outcome).toBe("insufficient_funds");
            }
          }
          for (const a of accounts) {
            expect(await balance(a)).toBe(model.get(a));
            if (a !== channel) expect(model.get(a)!).toBeGreaterThanOrEqual(0);
          }
          expect((await ledger.checkInvariants()).ok).toBe(true);
        }),
        { numRuns: backend.name === "sqlite" ? 40 : 15 },
      );
    });
  });
}
