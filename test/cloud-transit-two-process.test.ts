/**
 * Two server processes (`tapwallet serve`) on one PostgreSQL: a top-up started through one completes through
 * the other (the challenge and MAC2 from A, the TAC confirmed by B), a load torn through A is settled by the
 * sync through B, and top-ups from several phones spread over both at once all land once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLedgerInvariants } from "../src/cloud/ledger/invariants.js";
import { transitFloatSource } from "../src/cloud/transit/float.js";
import type { Operation, OperationResult } from "../src/protocol/tsm-wire.js";
import { runOperations } from "../src/device/relay.js";
import { type TopUpInfo, topUpTransitCard, transitSync } from "../src/device/transit.js";
import type { Wallet } from "../src/device/wallet.js";
import { postgresBackend } from "./cloud-harness.js";
import { readPhone } from "./cloud-transit-harness.js";
import {
  type PhoneWithCard,
  type ServerProcess,
  freePort,
  makePhones,
  postgresStore,
  removePhoneDirs,
  startServer,
} from "./crash-harness.js";

const store = postgresStore();

/** Points the phone at one server or the other (its cloud binding's URL). */
function via(wallet: Wallet, server: ServerProcess): Wallet {
  wallet.phone.setCloud({ ...wallet.phone.cloud!, server: server.url });
  return wallet;
}

describe.skipIf(postgresBackend.skip)("transit on two server processes sharing PostgreSQL", () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let phones: PhoneWithCard[];
  beforeAll(async () => {
    const port = await freePort();
    phones = await makePhones(store, port, 4, ["tu-jingjinji", "shanghai"], 2000);
    [a, b] = await Promise.all([startServer(store, port), freePort().then((p) => startServer(store, p))]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await store.remove();
    removePhoneDirs();
  });

  it("a top-up started through one process completes through the other", async () => {
    const { wallet, cardId } = phones[0]!;
    const se = wallet.phone.se;
    const post = <T>(server: ServerProcess, path: string, body: unknown) =>
      via(wallet, server).client().request<T>("POST", `/api/v1/transit/${path}`, "device", body);
    const s = await post<{ topup: TopUpInfo; challenge: { id: string; operations: Operation[] } }>(
      a,
      `cards/${cardId}/topups`,
      { requestId: "two-process-0001", amount: 3000, channel: "alipay" },
    );
    const credit = await post<{ operations: Operation[] }>(a, `topups/${s.topup.id}/authorise`, {
      challengeId: s.challenge.id,
      results: runOperations(se, s.challenge.operations),
    });
    const tac: OperationResult[] = runOperations(se, credit.operations);
    se.host.reset();
    const done = await post<{ topup: TopUpInfo }>(b, `topups/${s.topup.id}/confirm`, { results: tac });
    expect(done.topup).toMatchObject({ state: "completed", amount: 3000 });
    // The same request id through A again: the same, completed top-up.
    await expect(
      topUpTransitCard(via(wallet, a), cardId, 3000, { requestId: "two-process-0001", channel: "alipay" }),
    ).resolves.toMatchObject({ id: s.topup.id, state: "completed", attempts: 1 });
    expect((await readPhone(wallet.phone)).balance).toBe(5000);
  });

  it("a load torn through one process is settled by the sync through the other", async () => {
    const { wallet, cardId } = phones[1]!;
    const se = wallet.phone.se;
    const post = <T>(path: string, body: unknown) =>
      via(wallet, a).client().request<T>("POST", `/api/v1/transit/${path}`, "device", body);
    const s = await post<{ topup: TopUpInfo; challenge: { id: string; operations: Operation[] } }>(
      `cards/${cardId}/topups`,
      { requestId: "two-process-0002", amount: 1500, channel: "wechat" },
    );
    const credit = await post<{ operations: Operation[] }>(`topups/${s.topup.id}/authorise`, {
      challengeId: s.challenge.id,
      results: runOperations(se, s.challenge.operations),
    });
    runOperations(se, credit.operations);
    se.host.reset();
    const checks = await transitSync(via(wallet, b));
    expect(checks).toHaveLength(1);
    expect(checks[0]!.completed).toHaveLength(1);
    expect((await readPhone(wallet.phone)).balance).toBe(3500);
  });

  it("top-ups from several phones, each call through either process, all land once", async () => {
    const servers = [a, b];
    await Promise.all(
      phones.map(async (p, n) => {
        for (let k = 0; k < 10; k++)
          await topUpTransitCard(via(p.wallet, servers[(n + k) % 2]!), p.cardId, 1000, {
            requestId: `spread-${n}-${k}-xxxx`,
          });
      }),
    );
    const db = await store.open();
    try {
      const report = await db.db
        .transaction()
        .execute((trx) => checkLedgerInvariants(trx, [transitFloatSource]));
      expect(report.violations).toEqual([]);
      const cards = await db.db.selectFrom("transit_cards").select(["id", "balance"]).execute();
      for (const p of phones) {
        const seen = (await readPhone(p.wallet.phone)).balance;
        expect(Number(cards.find((c) => c.id === p.cardId)!.balance)).toBe(seen);
      }
      const loads = await db.db
        .selectFrom("transit_loads")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("state", "=", "completed")
        .executeTakeFirstOrThrow();
      expect(Number(loads.n)).toBe(2 + phones.length * 10);
    } finally {
      await db.close();
    }
  });
});
