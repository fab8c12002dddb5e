/**
 * Crash test: 1,000 top-ups from many virtual phones at once against a real server process (`tapwallet
 * serve`), SIGKILLed at random moments and started again on the same database. Afterwards, once every phone
 * has had its next transit sync: no money was created or lost —
 *
 *   - the ledger's invariants hold (postings balance, totals match their entries, each product's float equals
 *     its cards' proven balances plus the loads in flight — and none is left in flight);
 *   - each card's balance on its SE equals the cloud's, equals its first top-up plus its completed loads;
 *     the products' floats equal the sums of what the SEs hold;
 *   - every top-up completed exactly once (one completed load each), except those whose phone "died" on
 *     purpose between INITIALIZE and CREDIT (proven at the sync not to have landed: reversed, the top-up
 *     failed, the money back) — and those that died between CREDIT and the confirm completed at the sync on
 *     the card's TAC; the payment channel was charged exactly the fees, first top-ups and completed top-ups.
 *
 * Kills land anywhere: the phones keep sending the same call (same request id, same card answers) until the
 * server answers, so most loads go through on a replayed MAC2; every 25th top-up's phone dies for good
 * before CREDIT and every 25th (offset 12) before the confirm, so the sync's proofs are exercised under load.
 *
 * SQLite by default (the server's own default); CRASH_KILLS (default 6) and CRASH_PHONES (default 20) tune it.
 * PostgreSQL too when CRASH_POSTGRES=1 (or under CI).
 */
import { afterAll, describe, expect, it } from "vitest";
import { checkLedgerInvariants } from "../src/cloud/ledger/invariants.js";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { transitFloatSource } from "../src/cloud/transit/float.js";
import type { Operation, OperationResult } from "../src/protocol/tsm-wire.js";
import { runOperations } from "../src/device/relay.js";
import { topUpTransitCard, transitSync } from "../src/device/transit.js";
import type { Wallet } from "../src/device/wallet.js";
import { pgReachable } from "./cloud-harness.js";
import { readPhone } from "./cloud-transit-harness.js";
import {
  type ServerProcess,
  type Store,
  freePort,
  makePhones,
  postgresStore,
  removePhoneDirs,
  sqliteStore,
  startServer,
} from "./crash-harness.js";

const TOPUPS = 1000;
const PHONES = Number(process.env["CRASH_PHONES"] ?? 20);
const KILLS = Number(process.env["CRASH_KILLS"] ?? 6);
const PRODUCTS = ["tu-jingjinji", "shanghai", "tu-shengjingtong", "shenzhen-tong", "tu-jilin", "wuhan-tong"];
const INITIAL = 1000;
const amountOf = (i: number) => 1000 + (i % 10) * 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

afterAll(removePhoneDirs);

/** Retries a call while the server is down (the phone's patience), then gives up on purpose. */
async function whileDown<T>(fn: () => Promise<T>): Promise<T> {
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string; status?: number }).code;
      const status = (e as { status?: number }).status ?? 0;
      if (code !== "cloud_unreachable" && code !== "cloud_bad_answer" && status < 500) throw e;
      await sleep(wait);
    }
  }
}

/** A top-up whose phone dies for good before CREDIT FOR LOAD, or after it but before the confirm. */
async function dies(wallet: Wallet, cardId: string, amount: number, requestId: string, credit: boolean) {
  const call = <T>(path: string, body: unknown) =>
    whileDown(() => wallet.client().request<T>("POST", `/api/v1/transit/${path}`, "device", body));
  const se = wallet.phone.se;
  try {
    const s = await call<{ topup: { id: string }; challenge: { id: string; operations: Operation[] } }>(
      `cards/${cardId}/topups`,
      { requestId, amount, channel: "wechat" },
    );
    const answers: OperationResult[] = runOperations(se, s.challenge.operations);
    const auth = await call<{ operations: Operation[] }>(`topups/${s.topup.id}/authorise`, {
      challengeId: s.challenge.id,
      results: answers,
    });
    if (credit) runOperations(se, auth.operations);
  } finally {
    se.host.reset();
  }
}

const stores: { make: () => Store; skip: boolean }[] = [
  { make: sqliteStore, skip: false },
  {
    make: postgresStore,
    skip:
      !(process.env["CRASH_POSTGRES"] === "1" || process.env["CI"]) || (!pgReachable && !process.env["CI"]),
  },
];

for (const { make, skip } of stores) {
  const store = make();
  describe.skipIf(skip)(`crash test on ${store.name}`, () => {
    afterAll(() => store.remove());

    it(`${TOPUPS} concurrent top-ups from ${PHONES} phones, the server SIGKILLed ${KILLS} times: no fen created or lost`, async () => {
      const started = Date.now();
      const port = await freePort();
      const phones = await makePhones(store, port, PHONES, PRODUCTS, INITIAL);
      let server: ServerProcess = await startServer(store, port);

      // Each phone tops its card up in turn (one conversation per SE); all phones at once.
      const perPhone = Math.ceil(TOPUPS / PHONES);
      let running = true;
      const failures: string[] = [];
      const jobs = phones.map(async (p, n) => {
        for (let k = 0; k < perPhone && n * perPhone + k < TOPUPS; k++) {
          const i = n * perPhone + k;
          const requestId = `crash-${String(i).padStart(4, "0")}`;
          try {
            if (i % 25 === 0 || i % 25 === 12)
              await dies(p.wallet, p.cardId, amountOf(i), requestId, i % 25 === 12);
            else await topUpTransitCard(p.wallet, p.cardId, amountOf(i), { requestId, patienceMs: 120_000 });
          } catch (e) {
            failures.push(`${i}: ${(e as Error).message}`);
          }
        }
      });
      const killer = (async () => {
        let kills = 0;
        while (running && kills < KILLS) {
          await sleep(between(300, 1500));
          if (!running) break;
          await server.kill();
          kills++;
          await sleep(between(0, 300));
          server = await startServer(store, port);
        }
        return kills;
      })();
      await Promise.all(jobs);
      running = false;
      const kills = await killer;

      // The next sync of every phone settles whatever a kill left in flight.
      for (const p of phones) await transitSync(p.wallet);

      const db = await store.open();
      try {
        const topups = await db.db
          .selectFrom("transit_topups")
          .select(["id", "request_id", "state", "amount", "failure"])
          .execute();
        const loads = await db.db
          .selectFrom("transit_loads")
          .select(["topup_id", "card_id", "state", "proof", "amount"])
          .execute();
        const recovered = loads.filter((l) => l.state === "reversed").length;
        const byCounter = loads.filter((l) => l.proof === "counter").length;
        console.log(
          `crash test (${store.name}): ${TOPUPS} top-ups, ${kills} kills, ${recovered} loads reversed, ` +
            `${byCounter} completed on the card's counter, ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        expect(failures).toEqual([]);
        expect(kills).toBe(KILLS);
        expect(topups).toHaveLength(TOPUPS);
        expect(loads.filter((l) => l.state === "authorised")).toEqual([]);
        const completedPer = new Map<string, number>();
        for (const l of loads.filter((x) => x.state === "completed"))
          completedPer.set(l.topup_id, (completedPer.get(l.topup_id) ?? 0) + 1);
        const died = (t: { request_id: string }) => Number(t.request_id.slice(6)) % 25 === 0;
        const wrong = topups.filter((t) =>
          died(t)
            ? t.state !== "failed" || !t.failure?.includes("load_interrupted") || completedPer.has(t.id)
            : t.state !== "completed" || completedPer.get(t.id) !== 1,
        );
        expect(wrong).toEqual([]);
        expect(topups.filter(died).length).toBe(Math.ceil(TOPUPS / 25));

        const report = await db.db
          .transaction()
          .execute((trx) => checkLedgerInvariants(trx, [transitFloatSource]));
        expect(report.violations).toEqual([]);

        const cards = await db.db
          .selectFrom("transit_cards")
          .select(["id", "balance", "product_id", "open_fee"])
          .execute();
        const onSe = new Map<string, number>();
        for (const p of phones) {
          const seen = (await readPhone(p.wallet.phone)).balance;
          const loaded = loads
            .filter((l) => l.card_id === p.cardId && l.state === "completed")
            .reduce((s, l) => s + Number(l.amount), 0);
          const cloudBalance = Number(cards.find((c) => c.id === p.cardId)!.balance);
          expect([seen, cloudBalance]).toEqual([p.initial + loaded, p.initial + loaded]);
          onSe.set(p.productId, (onSe.get(p.productId) ?? 0) + seen);
        }
        for (const [product, total] of onSe) {
          const float = await db.db
            .selectFrom("ledger_accounts")
            .select(["credits_posted", "debits_posted"])
            .where("id", "=", transitAccounts.float(product))
            .executeTakeFirstOrThrow();
          expect(Number(float.credits_posted) - Number(float.debits_posted), product).toBe(total);
        }
        const channel = await db.db
          .selectFrom("ledger_accounts")
          .select(["credits_posted", "debits_posted"])
          .where("id", "=", transitAccounts.channel("wechat"))
          .executeTakeFirstOrThrow();
        const paid =
          cards.reduce((s, c) => s + INITIAL + Number(c.open_fee), 0) +
          topups.filter((t) => t.state === "completed").reduce((s, t) => s + Number(t.amount), 0);
        expect(Number(channel.debits_posted) - Number(channel.credits_posted)).toBe(paid);
      } finally {
        await db.close();
        await server.stop();
      }
    });
  });
}
