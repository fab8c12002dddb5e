/**
 * Top-ups (圈存) under retries, concurrency and tearing, on SQLite and PostgreSQL: a top-up retried ten times
 * credits once; concurrent top-ups on one card serialise (one load per online counter value); a load torn
 * between INITIALIZE and CREDIT, or between CREDIT and the confirm, is settled at the next sync — completed by
 * the card's TAC or reversed on a fresh MAC1 — and a phone that lies about it moves nothing; the maximum
 * balance is the card's and the cloud's refusal. Every scenario ends with the books checked.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Operation, OperationResult } from "../src/protocol/tsm-wire.js";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { runOperations } from "../src/device/relay.js";
import {
  type TopUpInfo,
  openTransitCard,
  topUpTransitCard,
  transitCard,
  transitSync,
} from "../src/device/transit.js";
import type { Wallet } from "../src/device/wallet.js";
import { backends } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance, readPhone } from "./cloud-transit-harness.js";
import { type LiveCloud, phoneOn, removeStateDirs, startCloud } from "./device-harness.js";

afterAll(removeStateDirs);

interface Challenge {
  id: string;
  operations: Operation[];
}

/** The phone's side of a top-up, one call at a time (what topUpTransitCard does, with the seams exposed). */
function driver(wallet: Wallet, cardId: string) {
  const call = <T>(path: string, body: unknown) =>
    wallet.client().request<T>("POST", `/api/v1/transit/${path}`, "device", body);
  const se = wallet.phone.se;
  return {
    start: (requestId: string, amount: number) =>
      call<{ topup: TopUpInfo; challenge: Challenge | null }>(`cards/${cardId}/topups`, {
        requestId,
        amount,
        channel: "wechat",
      }),
    run: (ops: readonly Operation[]) => runOperations(se, ops),
    authorise: (topupId: string, challengeId: string, results: OperationResult[]) =>
      call<{ topup: TopUpInfo; operations: Operation[] | null }>(`topups/${topupId}/authorise`, {
        challengeId,
        results,
      }),
    confirm: (topupId: string, results: OperationResult[]) =>
      call<{ topup: TopUpInfo; retry: boolean }>(`topups/${topupId}/confirm`, { results }),
  };
}

async function loadsOf(cloud: LiveCloud, cardId: string) {
  return cloud.db.db
    .selectFrom("transit_loads")
    .select(["atc", "state", "proof", "amount"])
    .where("card_id", "=", cardId)
    .orderBy("created_at")
    .orderBy("atc")
    .execute();
}

async function postingsLike(cloud: LiveCloud, pattern: string): Promise<number> {
  const r = await cloud.db.db
    .selectFrom("ledger_transfers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("idempotency_key", "like", pattern)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`top-ups on ${backend.name}`, () => {
    let cloud: LiveCloud;
    let wallet: Wallet;
    let cardId: string;
    beforeEach(async () => {
      cloud = await startCloud(backend, `topup-${backend.name}`);
      const p = await phoneOn(cloud, "13900139000");
      wallet = p.wallet;
      cardId = (
        await openTransitCard(wallet, { productId: "tu-jingjinji", firstTopUp: 1000, channel: "wechat" })
      ).card.id;
    });
    afterEach(async () => {
      await cloud.close();
    });

    it("a top-up retried ten times credits once", async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const t = await topUpTransitCard(wallet, cardId, 2000, { requestId: "retry-me-0001" });
        expect(t).toMatchObject({ state: "completed", amount: 2000, attempts: 1 });
        ids.add(t.id);
      }
      // And ten at once with another id.
      const burst = await Promise.all(
        Array.from({ length: 10 }, () =>
          topUpTransitCard(wallet, cardId, 1000, { requestId: "retry-me-0002" }),
        ),
      );
      for (const t of burst) ids.add(t.id);
      expect(ids.size).toBe(2);
      expect((await readPhone(wallet.phone)).balance).toBe(4000);
      expect((await transitCard(wallet, cardId)).balance).toBe(4000);
      expect(await loadsOf(cloud, cardId)).toEqual([
        { atc: 0, state: "completed", proof: "tac", amount: 2000 },
        { atc: 1, state: "completed", proof: "tac", amount: 1000 },
      ]);
      expect(await postingsLike(cloud, "transit.load:%:fund")).toBe(2);

      // At the protocol level: the same answers get the same MAC2; the same TAC completes once.
      const d = driver(wallet, cardId);
      const s = await d.start("retry-me-0003", 1000);
      const answers = d.run(s.challenge!.operations);
      const credits = [];
      for (let i = 0; i < 10; i++) credits.push(await d.authorise(s.topup.id, s.challenge!.id, answers));
      expect(new Set(credits.map((c) => JSON.stringify(c.operations))).size).toBe(1);
      const tac = d.run(credits[0]!.operations!);
      for (let i = 0; i < 10; i++) {
        const c = await d.confirm(s.topup.id, tac);
        expect(c.topup.state).toBe("completed");
      }
      wallet.phone.se.host.reset();
      expect((await readPhone(wallet.phone)).balance).toBe(5000);
      expect(await postingsLike(cloud, "transit.load:%:fund")).toBe(3);
      await expectBooksBalance(cloud);
    });

    it("concurrent top-ups on one card serialise: one load per online counter value", async () => {
      const done = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          topUpTransitCard(wallet, cardId, 1000 * (i + 1), { requestId: `parallel-${i}-xx` }),
        ),
      );
      expect(done.every((t) => t.state === "completed")).toBe(true);
      const loads = await loadsOf(cloud, cardId);
      expect(loads.map((l) => l.atc).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await readPhone(wallet.phone)).balance).toBe(1000 + 55000);
      expect((await transitCard(wallet, cardId)).balance).toBe(56000);

      // Two top-ups interleaved on the card without the phone's lock: the second INITIALIZE ends the first
      // one's card session. The cloud refuses the second while the first is in flight; the first's CREDIT
      // fails on the card; resumed, the first is proven not to have landed, reversed and loaded again.
      const d = driver(wallet, cardId);
      const a = await d.start("interleave-a", 1000);
      const b = await d.start("interleave-b", 2000);
      const aCredit = await d.authorise(a.topup.id, a.challenge!.id, d.run(a.challenge!.operations));
      const bAnswers = d.run(b.challenge!.operations);
      await expect(d.authorise(b.topup.id, b.challenge!.id, bAnswers)).rejects.toMatchObject({
        code: "load_in_progress",
      });
      const aTac = d.run(aCredit.operations!);
      expect(aTac[0]).toMatchObject({ response: "9302" }); // B's session: A's MAC2 does not check
      expect(await d.confirm(a.topup.id, aTac)).toMatchObject({
        retry: true,
        topup: { state: "authorised" },
      });
      wallet.phone.se.host.reset();
      expect(await topUpTransitCard(wallet, cardId, 1000, { requestId: "interleave-a" })).toMatchObject({
        state: "completed",
        attempts: 2,
      });
      expect(await topUpTransitCard(wallet, cardId, 2000, { requestId: "interleave-b" })).toMatchObject({
        state: "completed",
      });
      expect((await readPhone(wallet.phone)).balance).toBe(59000);
      const last = await loadsOf(cloud, cardId);
      expect(last.filter((l) => l.state === "reversed")).toEqual([
        { atc: 10, state: "reversed", proof: null, amount: 1000 },
      ]);
      expect(last.filter((l) => l.state === "completed")).toHaveLength(12);
      await expectBooksBalance(cloud);
    });

    it("a load torn between INITIALIZE and CREDIT is reversed at the next sync; the money goes back", async () => {
      const d = driver(wallet, cardId);
      const s = await d.start("torn-before-credit", 3000);
      const credit = await d.authorise(s.topup.id, s.challenge!.id, d.run(s.challenge!.operations));
      expect(credit.operations).toHaveLength(1);
      wallet.phone.se.host.reset(); // the phone went away: the card's load session is gone
      // In flight: the float holds it, the card does not, the books still balance.
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(4000);
      expect((await transitCard(wallet, cardId)).balance).toBe(1000);
      await expectBooksBalance(cloud);

      const checks = await transitSync(wallet);
      expect(checks).toMatchObject([{ cardId, completed: [], proven: true }]);
      expect(checks[0]!.reversed).toHaveLength(1);
      const t = await wallet
        .client()
        .request<TopUpInfo>("GET", `/api/v1/transit/topups/${s.topup.id}`, "device");
      expect(t).toMatchObject({ state: "failed", failure: { code: "load_interrupted" } });
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(1000);
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(1000);
      expect((await readPhone(wallet.phone)).balance).toBe(1000);
      expect(await transitSync(wallet)).toEqual([]);
      await expectBooksBalance(cloud);
    });

    it("a load torn between CREDIT and the confirm completes at the next sync on the card's TAC", async () => {
      const d = driver(wallet, cardId);
      const s = await d.start("torn-after-credit", 3000);
      const credit = await d.authorise(s.topup.id, s.challenge!.id, d.run(s.challenge!.operations));
      const tac = d.run(credit.operations!);
      expect(tac[0]!.type === "apdu" && tac[0]!.response.endsWith("9000")).toBe(true);
      wallet.phone.se.host.reset(); // the confirm never went out
      expect((await readPhone(wallet.phone)).balance).toBe(4000);
      expect((await transitCard(wallet, cardId)).balance).toBe(1000);
      await expectBooksBalance(cloud);

      const checks = await transitSync(wallet);
      expect(checks).toMatchObject([{ cardId, reversed: [], proven: true }]);
      expect(checks[0]!.completed).toHaveLength(1);
      expect(await loadsOf(cloud, cardId)).toEqual([
        { atc: 0, state: "completed", proof: "tac", amount: 3000 },
      ]);
      expect((await transitCard(wallet, cardId)).balance).toBe(4000);
      // The phone comes back with the same request id: nothing more happens.
      expect(await topUpTransitCard(wallet, cardId, 3000, { requestId: "torn-after-credit" })).toMatchObject({
        state: "completed",
        attempts: 1,
      });
      expect((await readPhone(wallet.phone)).balance).toBe(4000);
      await expectBooksBalance(cloud);
    });

    it("a phone resuming a torn top-up under the same request id loads once", async () => {
      const d = driver(wallet, cardId);
      const s = await d.start("resume-me-01", 2500);
      await d.authorise(s.topup.id, s.challenge!.id, d.run(s.challenge!.operations));
      wallet.phone.se.host.reset();
      const t = await topUpTransitCard(wallet, cardId, 2500, { requestId: "resume-me-01" });
      expect(t).toMatchObject({ state: "completed", attempts: 2 });
      const loads = await loadsOf(cloud, cardId);
      expect(loads).toHaveLength(2);
      expect(loads).toEqual(
        expect.arrayContaining([
          { atc: 0, state: "reversed", proof: null, amount: 2500 },
          { atc: 0, state: "completed", proof: "tac", amount: 2500 },
        ]),
      );
      expect((await readPhone(wallet.phone)).balance).toBe(3500);
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(3500);
      await expectBooksBalance(cloud);
    });

    it("a phone that lies about a torn load moves nothing: no MAC1, no TAC, no reversal", async () => {
      const d = driver(wallet, cardId);
      const s = await d.start("liar-0000001", 4000);
      const init = d.run(s.challenge!.operations);
      const credit = await d.authorise(s.topup.id, s.challenge!.id, init);
      d.run(credit.operations!); // the card is credited…
      wallet.phone.se.host.reset();
      // …and the phone answers the check with the old INITIALIZE answer and "no proof" (9406).
      const sync = await wallet
        .client()
        .request<{ checks: Challenge[] }>("POST", "/api/v1/transit/sync", "device", {});
      expect(sync.checks).toHaveLength(1);
      const lie: OperationResult[] = [
        { type: "apdu", response: "9000" },
        { type: "apdu", response: "9406" },
        init[init.length - 1]!,
      ];
      const r = await wallet
        .client()
        .request<{ completed: string[]; reversed: string[]; proven: boolean }>(
          "POST",
          `/api/v1/transit/checks/${sync.checks[0]!.id}`,
          "device",
          { results: lie },
        );
      expect(r).toMatchObject({ completed: [], reversed: [], proven: false });
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(5000);
      await expectBooksBalance(cloud);
      // An honest sync settles it: completed.
      expect((await transitSync(wallet))[0]!.completed).toHaveLength(1);
      expect((await transitCard(wallet, cardId)).balance).toBe(5000);
      await expectBooksBalance(cloud);
    });

    it("refuses a top-up over the maximum balance (the card's refusal; nothing taken) and out of range", async () => {
      await topUpTransitCard(wallet, cardId, 50000);
      await topUpTransitCard(wallet, cardId, 48000);
      const before = await ledgerBalance(cloud, transitAccounts.channel("wechat"));
      await expect(topUpTransitCard(wallet, cardId, 2000)).rejects.toMatchObject({
        code: "over_max_balance",
        zh: expect.stringContaining("超过卡内余额上限 ¥1000.00"),
      });
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(before);
      expect((await readPhone(wallet.phone)).balance).toBe(99000);
      await expect(topUpTransitCard(wallet, cardId, 60000)).rejects.toMatchObject({
        code: "topup_out_of_range",
        status: 400,
        details: { min: 1000, max: 50000 },
      });
      await expect(topUpTransitCard(wallet, cardId, 999)).rejects.toMatchObject({
        code: "topup_out_of_range",
      });
      await expect(topUpTransitCard(wallet, cardId, 1000)).resolves.toMatchObject({ state: "completed" });
      expect((await readPhone(wallet.phone)).balance).toBe(100000);
      await expectBooksBalance(cloud);
    });
  });
}
