/**
 * Transit cards end to end, on SQLite and PostgreSQL: virtual phones (their SE, their wallet, signed HTTP)
 * against the cloud — open a T-Union card (fee + first top-up), top up (MAC1/MAC2/TAC), ride the metro and the
 * bus, upload and clear, refund, and move a card to a second phone (standard, Shenzhen Tong, Shanghai). Every
 * scenario ends with the books checked: the ledger's invariants (float = cards' proven balances + loads in
 * flight) and what the phones' SEs actually hold.
 */
import { afterAll, describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import type { Operation } from "../src/protocol/tsm-wire.js";
import { runOperations } from "../src/device/relay.js";
import {
  openTransitCard,
  refundTransitCard,
  topUpTransitCard,
  transferTransitCard,
  transitCard,
  transitInstance,
} from "../src/device/transit.js";
import { PRODUCTS } from "../src/transit/index.js";
import { backends, bearer } from "./cloud-harness.js";
import {
  cardsTotal,
  expectBooksBalance,
  ledgerBalance,
  metro,
  operator,
  readPhone,
} from "./cloud-transit-harness.js";
import { type LiveCloud, phoneOn, removeStateDirs, startCloud } from "./device-harness.js";

afterAll(removeStateDirs);

/** A further phone of the same account (a minute later: one code per number per minute). */
async function another(cloud: LiveCloud, mobile: string, model: string) {
  cloud.clock.advance(61_000);
  return phoneOn(cloud, mobile, { model });
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`transit cards on ${backend.name}`, () => {
    let cloud!: LiveCloud;
    freshEachTest(
      () => startCloud(backend, `transit-${backend.name}`),
      (c) => (cloud = c),
    );

    it("opens a T-Union card with its fee and first top-up, tops up, rides, clears and refunds", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13800138000");
      const accountId = phone.cloud!.accountId!;
      // 盛京通: ¥20 refundable deposit, first top-up ¥50 from WeChat Pay.
      const { card } = await openTransitCard(wallet, {
        productId: "tu-shengjingtong",
        firstTopUp: 5000,
        channel: "wechat",
      });
      expect(card).toMatchObject({
        state: "active",
        balance: 5000,
        openFee: { amount: 2000, refundable: true },
        product: { id: "tu-shengjingtong", standard: "JT/T 978" },
      });
      expect(card.cardNumber).toMatch(/^31051201\d{11}$/);
      let seen = await readPhone(phone);
      expect([seen.cardNumber, seen.balance, seen.product]).toEqual([
        card.cardNumber,
        5000,
        "tu-shengjingtong",
      ]);
      expect(await ledgerBalance(cloud, transitAccounts.deposits())).toBe(2000);
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-shengjingtong"))).toBe(5000);
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(7000);
      expect(await ledgerBalance(cloud, transitAccounts.funding(accountId, "wechat"))).toBe(0);

      const t = await topUpTransitCard(wallet, card.id, 3000, { channel: "alipay" });
      expect(t).toMatchObject({ state: "completed", amount: 3000, attempts: 1 });
      seen = await readPhone(phone);
      expect(seen.balance).toBe(8000);
      expect(seen.transactions).toMatchObject([{ amount: 3000, type: "load" }]);
      expect(await ledgerBalance(cloud, transitAccounts.channel("alipay"))).toBe(3000);

      // Metro: entry at 苹果园, exit at 王府井 (16.2 km: ¥5); a ¥2 bus ride.
      cloud.clock.advance(60_000);
      const m = metro(cloud);
      const fare = await m.ride(phone, "0101", "0112");
      expect(fare).toBe(500);
      cloud.clock.advance(60_000);
      const bus = await m.tap(phone, m.bus(200));
      expect(bus.ok).toBe(true);
      expect((await readPhone(phone)).balance).toBe(7300);
      // Until the gates upload, the cloud still counts the fares in the card's balance (and the float).
      expect((await transitCard(wallet, card.id)).balance).toBe(8000);
      await expectBooksBalance(cloud);

      const op = await operator(cloud);
      const upload = m.log.upload(cloud.clock.now());
      const cleared = await op.upload(upload);
      expect(cleared.statusCode, cleared.body).toBe(200);
      expect(cleared.json()).toMatchObject({
        records: 3,
        cleared: 3,
        duplicates: 0,
        rejected: [],
        amount: 700,
        totals: { operator: "bj-subway", records: 3, amount: 700 },
      });
      const after = await transitCard(wallet, card.id);
      expect([after.balance, after.monthSpend]).toEqual([7300, 700]);
      expect(await ledgerBalance(cloud, transitAccounts.operator("bj-subway"))).toBe(700);
      expect(await cardsTotal(cloud, "tu-shengjingtong")).toBe(7300);
      await expectBooksBalance(cloud);

      const history = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/cards/${card.id}/transactions`,
        headers: bearer(phone.cloud!.session!.token),
      });
      expect(
        history.json().transactions.map((x: { kind: string; amount: number }) => [x.kind, x.amount]),
      ).toEqual([
        ["purchase", -200],
        ["purchase", -500],
        ["entry", 0],
        ["load", 3000],
        ["open", 5000],
      ]);

      // 退卡: the proven balance and the deposit go back to WeChat Pay (the channel that paid for the card).
      const refund = await refundTransitCard(wallet, card.id);
      expect(refund).toMatchObject({
        kind: "refund",
        state: "done",
        provenBalance: 7300,
        refund: { balance: 7300, fee: 2000, total: 9300, channel: "wechat" },
      });
      expect(transitInstance(wallet, "tu-shengjingtong")).toBeUndefined();
      expect(await transitCard(wallet, card.id)).toMatchObject({ state: "refunded", balance: 0 });
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-shengjingtong"))).toBe(0);
      expect(await ledgerBalance(cloud, transitAccounts.deposits())).toBe(0);
      // WeChat paid in 7000 and got 9300 back; Alipay paid 3000; the operator holds the 700 of rides.
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(-2300);
      const states = (await wallet.activity()).map((e) => e.type).filter((ty) => ty.startsWith("transit."));
      expect(states).toEqual(
        expect.arrayContaining([
          "transit.card.issuing",
          "transit.card.opened",
          "transit.topup.completed",
          "transit.refund.requested",
          "transit.refund.locked",
          "transit.refund.verified",
          "transit.refund.deleted",
          "transit.refund.done",
        ]),
      );
      await expectBooksBalance(cloud);
    });

    it("every product on offer opens, tops up and refunds with its proven balance", async () => {
      const open = PRODUCTS.filter((p) => p.status === "available");
      expect(open).toHaveLength(20);
      for (const [i, p] of open.entries()) {
        const { phone, wallet } = await phoneOn(cloud, `1370013${String(i).padStart(4, "0")}`);
        const { card } = await openTransitCard(wallet, {
          productId: p.id,
          firstTopUp: 1000,
          channel: "wechat",
        });
        await topUpTransitCard(wallet, card.id, 1500);
        expect([p.id, (await readPhone(phone)).balance]).toEqual([p.id, 2500]);
        const r = await refundTransitCard(wallet, card.id);
        expect([p.id, r.state, r.provenBalance]).toEqual([p.id, "done", 2500]);
      }
      await expectBooksBalance(cloud);
    });

    it("clears uploads in any order once: duplicates moved nothing, a forged TAC or amount is refused", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13800138001");
      const { card } = await openTransitCard(wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 10000,
        channel: "unionpay",
      });
      const morning = metro(cloud, "line-1");
      const evening = metro(cloud, "line-2");
      await morning.ride(phone, "0101", "0105");
      await evening.ride(phone, "0105", "0123");
      const op = await operator(cloud);
      // Evening first, then the morning, then both again.
      const e = evening.log.upload(cloud.clock.now());
      const mo = morning.log.upload(cloud.clock.now());
      expect((await op.upload(e)).json()).toMatchObject({ cleared: 2, duplicates: 0 });
      expect((await op.upload(mo)).json()).toMatchObject({ cleared: 2, duplicates: 0 });
      const again = (await op.upload(mo)).json();
      expect(again).toMatchObject({ cleared: 0, duplicates: 2, amount: 0 });
      const fares = mo.total + e.total;
      expect(again.totals).toEqual({ operator: "bj-subway", records: 4, amount: fares });
      expect((await transitCard(wallet, card.id)).balance).toBe(10000 - fares);
      expect((await readPhone(phone)).balance).toBe(10000 - fares);

      // A record with its amount raised, one with another TAC, one of a card we never issued.
      const bus = metro(cloud, "bus-1");
      await bus.tap(phone, bus.bus(200));
      const forged = bus.log.upload(cloud.clock.now());
      const good = forged.records[0]!;
      forged.records = [
        { ...good, amount: 2000 },
        { ...good, seq: 2, tac: good.tac === "00000000" ? "00000001" : "00000000" },
        { ...good, seq: 3, asn: "0000000000000001" },
        good,
      ];
      const r = (await op.upload(forged)).json();
      expect(r.rejected).toEqual([
        { seq: 1, reason: "tac_invalid" },
        { seq: 2, reason: "tac_invalid" },
        { seq: 3, reason: "unknown_card" },
      ]);
      expect([r.cleared, r.amount]).toEqual([1, 200]);
      const other = await operator(cloud, "bus-co");
      const wrong = await other.upload(forged);
      expect([wrong.statusCode, wrong.json().error]).toEqual([400, "operator_mismatch"]);
      const nobody = await op.upload(forged, "twop_wrong");
      expect([nobody.statusCode, nobody.json().error]).toEqual([401, "operator_unauthenticated"]);
      await expectBooksBalance(cloud);
    });

    it("moves a card to a second phone with its number, balance, counters and history", async () => {
      const a = await phoneOn(cloud, "13800138002");
      const b = await another(cloud, "13800138002", "小米8");
      const { card } = await openTransitCard(a.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 5000,
        channel: "wechat",
      });
      await topUpTransitCard(a.wallet, card.id, 2000);
      const m = metro(cloud);
      await m.ride(a.phone, "0101", "0112");
      const before = await readPhone(a.phone);

      const w = await transferTransitCard(a.wallet, card.id, b.wallet);
      expect(w).toMatchObject({
        kind: "transfer",
        state: "done",
        provenBalance: 6500,
        targetDeviceId: b.phone.cloud!.deviceId,
      });
      expect(transitInstance(a.wallet, "tu-jingjinji")).toBeUndefined();
      const moved = await readPhone(b.phone);
      expect([moved.cardNumber, moved.balance]).toEqual([before.cardNumber, 6500]);
      expect(moved.transactions).toEqual(before.transactions);
      expect(await transitCard(b.wallet, card.id)).toMatchObject({
        state: "active",
        deviceId: b.phone.cloud!.deviceId,
        cardNumber: card.cardNumber,
      });
      // The counters moved too: the next load on the new phone is the card's second (online counter 2).
      await topUpTransitCard(b.wallet, card.id, 1000);
      expect((await readPhone(b.phone)).transactions[0]).toMatchObject({ type: "load", amount: 1000 });
      const load = await cloud.db.db
        .selectFrom("transit_loads")
        .select("atc")
        .where("card_id", "=", card.id)
        .orderBy("atc", "desc")
        .executeTakeFirstOrThrow();
      expect(load.atc).toBe(1);
      // The rides were taken on the old phone; the gates upload later and clear against the same card.
      const op = await operator(cloud);
      expect((await op.upload(m.log.upload(cloud.clock.now()))).json()).toMatchObject({ cleared: 2 });
      expect((await transitCard(b.wallet, card.id)).balance).toBe(7500);
      expect((await readPhone(b.phone)).balance).toBe(7500);
      await expectBooksBalance(cloud);
    });

    it("Shenzhen Tong moves once a year with a new number, refunding the old balance, never back", async () => {
      const a = await phoneOn(cloud, "13800138003");
      const b = await another(cloud, "13800138003", "小米6");
      const { card } = await openTransitCard(a.wallet, {
        productId: "shenzhen-tong",
        firstTopUp: 3000,
        channel: "alipay",
      });
      const w = await transferTransitCard(a.wallet, card.id, b.wallet);
      expect(w).toMatchObject({
        state: "done",
        refund: { balance: 3000, fee: 0, total: 3000, channel: "alipay" },
      });
      const fresh = await transitCard(b.wallet, w.newCardId!);
      expect(fresh).toMatchObject({ state: "active", balance: 0, predecessorId: card.id });
      expect(fresh.cardNumber).not.toBe(card.cardNumber);
      expect(await transitCard(a.wallet, card.id)).toMatchObject({ state: "replaced", balance: 0 });
      const seen = await readPhone(b.phone);
      expect([seen.cardNumber, seen.balance, seen.transactions]).toEqual([fresh.cardNumber, 0, []]);
      expect(await ledgerBalance(cloud, transitAccounts.channel("alipay"))).toBe(0);

      // Once per calendar year; and a card never goes back to a phone it was on.
      const transfer = (cardId: string, target: string, token = a.phone.cloud!.session!.token) =>
        cloud.app.inject({
          method: "POST",
          url: `/api/v1/transit/cards/${cardId}/transfer`,
          headers: bearer(token),
          payload: { targetDeviceId: target },
        });
      const c = await another(cloud, "13800138003", "小米9");
      const yearly = await transfer(fresh.id, c.phone.cloud!.deviceId!);
      expect([yearly.statusCode, yearly.json().error]).toEqual([409, "transfer_yearly_limit"]);
      expect(yearly.json().message.zh).toContain("每个自然年只能迁移一次");
      cloud.clock.set("2027-01-02T02:00:00Z");
      await a.wallet.requestCode("13800138003", cloud.url);
      await a.wallet.signIn("13800138003", cloud.otp.last("13800138003")!, cloud.url);
      const back = await transfer(fresh.id, a.phone.cloud!.deviceId!, a.phone.cloud!.session!.token);
      expect([back.statusCode, back.json().error]).toEqual([409, "transfer_no_move_back"]);
      const onward = await transferTransitCard(b.wallet, fresh.id, c.wallet);
      expect(onward.state).toBe("done");
      await expectBooksBalance(cloud);
    });

    it("a lost phone's card comes off at its next contact, parked with its balance, and is refunded", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13800138005");
      const { card } = await openTransitCard(wallet, {
        productId: "tu-jiangsu-suzhou",
        firstTopUp: 3000,
        channel: "wechat",
      });
      // A load left in flight (the phone went away between INITIALIZE and CREDIT).
      const call = <T>(path: string, body: unknown) =>
        wallet.client().request<T>("POST", `/api/v1/transit/${path}`, "device", body);
      const s = await call<{ topup: { id: string }; challenge: { id: string; operations: Operation[] } }>(
        `cards/${card.id}/topups`,
        { requestId: "lost-inflight-1", amount: 2000, channel: "wechat" },
      );
      await call(`topups/${s.topup.id}/authorise`, {
        challengeId: s.challenge.id,
        results: runOperations(phone.se, s.challenge.operations),
      });
      phone.se.host.reset();
      const lost = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${phone.cloud!.deviceId}/lost`,
        headers: bearer(phone.cloud!.session!.token),
      });
      expect(lost.statusCode).toBe(200);
      expect((await transitCard(wallet, card.id)).state).toBe("wiping");
      const sync = await wallet.sync();
      expect(sync.lost).toBe(true);
      expect(transitInstance(wallet, "tu-jiangsu-suzhou")).toBeUndefined();
      // In flight and never provable now: counted as loaded, so its money goes back with the balance.
      expect(await transitCard(wallet, card.id)).toMatchObject({
        state: "parked",
        deviceId: null,
        balance: 5000,
      });
      await expectBooksBalance(cloud);
      const refund = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/transit/cards/${card.id}/refund`,
        headers: bearer(phone.cloud!.session!.token),
        payload: {},
      });
      expect(refund.statusCode, refund.body).toBe(202);
      expect(refund.json()).toMatchObject({
        state: "done",
        refund: { balance: 5000, fee: 2000, total: 7000, channel: "wechat" },
      });
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(0);
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jiangsu-suzhou"))).toBe(0);
      await expectBooksBalance(cloud);
    });

    it("Shanghai keeps number and balance; the history and the month's spend start over", async () => {
      const a = await phoneOn(cloud, "13800138004");
      const b = await another(cloud, "13800138004", "小米5");
      const { card } = await openTransitCard(a.wallet, {
        productId: "shanghai",
        firstTopUp: 5000,
        channel: "wechat",
      });
      const m = metro(cloud);
      const bus = await m.tap(a.phone, m.bus(200, ["city-union"]));
      expect(bus.ok).toBe(true);
      const op = await operator(cloud);
      await op.upload(m.log.upload(cloud.clock.now()));
      expect((await transitCard(a.wallet, card.id)).monthSpend).toBe(200);
      expect((await readPhone(a.phone)).transactions).toHaveLength(1);

      cloud.clock.advance(60 * 60_000);
      const w = await transferTransitCard(a.wallet, card.id, b.wallet);
      expect(w).toMatchObject({ state: "done", provenBalance: 4800 });
      const seen = await readPhone(b.phone);
      expect([seen.cardNumber, seen.balance, seen.transactions]).toEqual([card.cardNumber, 4800, []]);
      const moved = await transitCard(b.wallet, card.id);
      expect([moved.balance, moved.monthSpend]).toEqual([4800, 0]);
      const history = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/cards/${card.id}/transactions`,
        headers: bearer(b.phone.cloud!.session!.token),
      });
      expect(history.json().transactions).toEqual([]);
      await expectBooksBalance(cloud);
    });
  });
}
