/**
 * A phone removed from its account (DELETE /devices/{id}, not reported lost), on SQLite and PostgreSQL, through
 * the real HTTP server and real virtual phones. The phone can never sync again, so nothing can take its cards
 * off its SE or have them prove anything: its transit cards are handled as a lost phone's — parked in the cloud
 * with their balance (a load in flight counted as loaded) and refundable — its bank tokens are deleted and its
 * door cards dropped, in the commit that removes it (docs/CLOUD.md, docs/DECISIONS.md "A removed phone's cards").
 */
import { afterAll, describe, expect, it } from "vitest";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import type { Operation } from "../src/protocol/tsm-wire.js";
import { bankCard } from "../src/device/bank-cards.js";
import { addDoorCard } from "../src/device/door-cards.js";
import { runOperations } from "../src/device/relay.js";
import { openTransitCard, topUpTransitCard, transitCard, transitSync } from "../src/device/transit.js";
import { backends, bearer } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance, metro, operator } from "./cloud-transit-harness.js";
import { CARDS } from "./cloud-tsp-harness.js";
import { doorDump, phoneOn, removeStateDirs } from "./device-harness.js";
import {
  type WalletCloud,
  addBankCard,
  freshWalletCloudEachTest,
  posOf,
  removePhone,
} from "./e2e-harness.js";

afterAll(removeStateDirs);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`a removed phone on ${backend.name}`, () => {
    let cloud!: WalletCloud;
    freshWalletCloudEachTest(backend, "removed", (c) => (cloud = c));

    it("parks its transit card with its balance (a load in flight counted), deletes its token and door card; refunded from the cloud", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13600136001");
      const token = phone.cloud!.session!.token;
      const bank = await addBankCard(cloud, wallet, CARDS.icbc[0]!);
      await addDoorCard(wallet, doorDump("C0FFEE01"));
      const { card } = await openTransitCard(wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 5000,
        channel: "wechat",
      });
      await topUpTransitCard(wallet, card.id, 2000, { channel: "alipay" });
      // A ride the gate uploads before the phone goes: ¥5 cleared off the card's balance.
      const m = metro(cloud);
      cloud.clock.advance(60_000);
      expect(await m.ride(phone, "0101", "0112")).toBe(500);
      expect((await (await operator(cloud)).upload(m.log.upload(cloud.clock.now()))).statusCode).toBe(200);
      // A load left in flight: INITIALIZE answered and MAC2 issued, the phone gone before CREDIT.
      const call = <T>(path: string, body: unknown) =>
        wallet.client().request<T>("POST", `/api/v1/transit/${path}`, "device", body);
      const s = await call<{ topup: { id: string }; challenge: { id: string; operations: Operation[] } }>(
        `cards/${card.id}/topups`,
        { requestId: "removed-inflight-1", amount: 1000, channel: "wechat" },
      );
      await call(`topups/${s.topup.id}/authorise`, {
        challengeId: s.challenge.id,
        results: runOperations(phone.se, s.challenge.operations),
      });
      phone.se.host.reset();

      const removed = await removePhone(cloud, phone);
      expect(removed.statusCode, removed.body).toBe(204);

      // Transit: parked in the cloud, on no phone, with 50 + 20 − 5 + 10 (in flight, counted as loaded).
      const parked = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/cards/${card.id}`,
        headers: bearer(token),
      });
      expect(parked.json()).toMatchObject({ state: "parked", deviceId: null, balance: 7500 });
      await expectBooksBalance(cloud);
      // Bank: the token is deleted at once; a tap with the copy left on the SE is declined by the issuer.
      const views = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/bank-cards/${bank.id}`,
        headers: bearer(token),
      });
      expect(views.json()).toMatchObject({ status: "deleted", seState: "removed" });
      const paid = await posOf(cloud).pay(phone, 1234);
      expect(paid.status).not.toBe("approved");
      // Door: no placement left for the phone.
      expect(await cloud.db.db.selectFrom("access_placements").selectAll().execute()).toEqual([]);
      // The phone itself can no longer reach the cloud: told once, it drops its binding and asks no more.
      await expect(wallet.sync()).rejects.toMatchObject({ status: 401, code: "device_removed" });
      await expect(bankCard(wallet, bank.id)).rejects.toMatchObject({ code: "not_registered" });

      // 退卡 from the cloud (京津冀 has no card fee: the balance alone, to the channel that paid for the card).
      const refund = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/transit/cards/${card.id}/refund`,
        headers: bearer(token),
        payload: {},
      });
      expect(refund.statusCode, refund.body).toBe(202);
      expect(refund.json()).toMatchObject({
        state: "done",
        refund: { balance: 7500, fee: 0, total: 7500, channel: "wechat" },
      });
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(0);
      // WeChat paid 50 (opening) + 10 (the load in flight) and got 75 back; Alipay paid 20; the gate took 5.
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(-1500);
      expect(await ledgerBalance(cloud, transitAccounts.channel("alipay"))).toBe(2000);
      await expectBooksBalance(cloud);
      const types = (
        await cloud.app.inject({
          method: "GET",
          url: "/api/v1/notifications?after=0&limit=100",
          headers: bearer(token),
        })
      )
        .json()
        .events.map((e: { type: string }) => e.type);
      expect(types).toEqual(
        expect.arrayContaining(["device.removed", "transit.card.parked", "transit.refund.done"]),
      );
    });

    it("a phone removed while its card's refund waits for the delete: the removal goes through, the card is parked", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13600136002");
      const token = phone.cloud!.session!.token;
      const { card } = await openTransitCard(wallet, {
        productId: "tu-shengjingtong",
        firstTopUp: 3000,
        channel: "wechat",
      });
      // The refund starts: field off at the sync, balance proven at the transit sync; the delete is queued.
      const started = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/transit/cards/${card.id}/refund`,
        headers: bearer(token),
        payload: {},
      });
      expect(started.statusCode).toBe(202);
      await wallet.sync();
      await transitSync(wallet);
      const wfId = started.json().id as string;
      const waiting = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/refunds/${wfId}`,
        headers: bearer(token),
      });
      expect(waiting.json().state).toBe("verified");

      const removed = await removePhone(cloud, phone);
      expect(removed.statusCode, removed.body).toBe(204);
      const wf = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/refunds/${wfId}`,
        headers: bearer(token),
      });
      expect(wf.json()).toMatchObject({ state: "failed", failure: { code: "device_removed" } });
      expect(
        (
          await cloud.app.inject({
            method: "GET",
            url: `/api/v1/transit/cards/${card.id}`,
            headers: bearer(token),
          })
        ).json(),
      ).toMatchObject({
        state: "parked",
        balance: 3000,
      });
      const refund = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/transit/cards/${card.id}/refund`,
        headers: bearer(token),
        payload: {},
      });
      expect(refund.json()).toMatchObject({
        state: "done",
        refund: { balance: 3000, fee: 2000, total: 5000 },
      });
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(0);
      await expectBooksBalance(cloud);
    });

    it("a transfer whose new phone is removed before the install parks the card; the old phone syncs on", async () => {
      const a = await phoneOn(cloud, "13600136003");
      cloud.clock.advance(61_000);
      const b = await phoneOn(cloud, "13600136003", { model: "小米8" });
      const { card } = await openTransitCard(a.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 4000,
        channel: "alipay",
      });
      const started = await a.wallet
        .client()
        .request<{ id: string }>("POST", `/api/v1/transit/cards/${card.id}/transfer`, "device", {
          targetDeviceId: b.phone.cloud!.deviceId,
        });
      expect((await removePhone(cloud, b.phone)).statusCode).toBe(204);
      // The old phone carries the workflow through: off for the field, proven, deleted — then nowhere to go.
      await a.wallet.sync();
      await transitSync(a.wallet);
      await a.wallet.sync();
      const wf = await a.wallet
        .client()
        .request<{ state: string; failure: { code: string } | null }>(
          "GET",
          `/api/v1/transit/transfers/${started.id}`,
          "device",
        );
      expect(wf).toMatchObject({ state: "failed", failure: { code: "device_removed" } });
      expect(await transitCard(a.wallet, card.id)).toMatchObject({
        state: "parked",
        deviceId: null,
        balance: 4000,
      });
      expect((await a.wallet.sync()).sessions.at(-1)!.outcome).toBe("ok");
      await expectBooksBalance(cloud);
    });
  });
}
