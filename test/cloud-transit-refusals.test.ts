/**
 * What the transit service refuses, and says why (zh-CN and English), on SQLite and PostgreSQL: a second
 * T-Union card on a phone (the phone's own check, and the cloud's when the phone is bypassed), a product
 * closed for new cards (its successor named, or the advice when there is none), a model that does not carry
 * the card, another account's card or phone (404, as for an unknown id), a card on another phone, amounts out
 * of range, a second request while one is under way. An install that cannot land pays everything back.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { openTransitCard, topUpTransitCard } from "../src/device/transit.js";
import { backends } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance } from "./cloud-transit-harness.js";
import { type LiveCloud, type TestPhone, phoneOn, removeStateDirs, startCloud } from "./device-harness.js";

afterAll(removeStateDirs);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`transit refusals on ${backend.name}`, () => {
    let cloud: LiveCloud;
    let me: TestPhone;
    beforeEach(async () => {
      cloud = await startCloud(backend, `refusals-${backend.name}`);
      me = await phoneOn(cloud, "13600136000");
    });
    afterEach(async () => {
      await cloud.close();
    });

    /** POST /transit/cards straight from the phone's key, without the phone's own checks. */
    const openRaw = (p: TestPhone, productId: string, requestId: string, firstTopUp = 2000) =>
      p.wallet.client().request("POST", "/api/v1/transit/cards", "device", {
        requestId,
        productId,
        firstTopUp,
        channel: "wechat",
      });

    const cardRows = async () =>
      cloud.db.db.selectFrom("transit_cards").select(["product_id", "state"]).orderBy("created_at").execute();

    it("refuses a second T-Union card on a phone, on the phone and in the cloud; city cards sit beside it", async () => {
      await openTransitCard(me.wallet, { productId: "tu-jingjinji", firstTopUp: 2000, channel: "wechat" });
      await expect(
        openTransitCard(me.wallet, { productId: "tu-jiangsu-suzhou", firstTopUp: 2000, channel: "wechat" }),
      ).rejects.toMatchObject({
        code: "t_union_limit",
        zh: expect.stringContaining("仅能存在一张交通联合卡"),
      });
      expect(await cardRows()).toHaveLength(1);
      await expect(openRaw(me, "tu-jiangsu-suzhou", "bypass-0001")).rejects.toMatchObject({
        status: 409,
        code: "t_union_limit",
        en: expect.stringContaining("at most one China T-Union card"),
        details: { conflicting: { id: "tu-jingjinji" } },
      });
      // Two opens before the first install landed: the second still sees the first.
      const other = await phoneOn(cloud, "13600136009");
      await openRaw(other, "tu-jilin", "pending-0001");
      await expect(openRaw(other, "tu-hainan", "pending-0002")).rejects.toMatchObject({
        code: "t_union_limit",
      });
      // A city card beside the T-Union card is fine.
      await openTransitCard(me.wallet, { productId: "shenzhen-tong", firstTopUp: 2000, channel: "wechat" });
      expect((await cardRows()).map((r) => r.product_id)).toEqual([
        "tu-jingjinji",
        "tu-jilin",
        "shenzhen-tong",
      ]);
      await expectBooksBalance(cloud);
    });

    it("refuses a closed product, naming its successor (or the advice), and an unknown one", async () => {
      await expect(openRaw(me, "beijing-yikatong", "closed-0001")).rejects.toMatchObject({
        status: 409,
        code: "product_closed",
        zh: expect.stringContaining("请改开京津冀互联互通卡"),
        details: { successor: { id: "tu-jingjinji", name: { zh: "京津冀互联互通卡" } } },
      });
      await expect(
        openTransitCard(me.wallet, { productId: "suzhou-citizen", firstTopUp: 2000, channel: "wechat" }),
      ).rejects.toMatchObject({ code: "product_closed", details: { successorId: "tu-jiangsu-suzhou" } });
      await expect(openRaw(me, "hangzhou-tong", "closed-0002")).rejects.toMatchObject({
        code: "product_closed",
        details: { advice: { zh: expect.stringContaining("银行卡") } },
      });
      await expect(openRaw(me, "atlantis-pass", "closed-0003")).rejects.toMatchObject({
        status: 400,
        code: "unknown_product",
      });
      expect(await cardRows()).toEqual([]);
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(0);
    });

    it("refuses a model that does not carry the card, to open or to move onto", async () => {
      const mi5 = await phoneOn(cloud, "13600136001", { model: "小米5" });
      await expect(openRaw(mi5, "tu-jingjinji", "model-0001")).rejects.toMatchObject({
        status: 403,
        code: "model_not_supported",
        zh: "小米5 不支持京津冀互联互通卡",
      });
      const { card } = await openTransitCard(me.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 2000,
        channel: "wechat",
      });
      cloud.clock.advance(61_000);
      const mine5 = await phoneOn(cloud, "13600136000", { model: "小米5" });
      await expect(
        me.wallet.client().request("POST", `/api/v1/transit/cards/${card.id}/transfer`, "device", {
          targetDeviceId: mine5.phone.cloud!.deviceId,
        }),
      ).rejects.toMatchObject({ status: 403, code: "model_not_supported" });
      // 小米5 carries city cards.
      await openTransitCard(mine5.wallet, { productId: "wuhan-tong", firstTopUp: 2000, channel: "alipay" });
    });

    it("answers 404 for another account's card, top-up and phone, as for unknown ones", async () => {
      const { card } = await openTransitCard(me.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 2000,
        channel: "wechat",
      });
      const t = await topUpTransitCard(me.wallet, card.id, 1000);
      const eve = await phoneOn(cloud, "13600136002");
      const as = (method: "GET" | "POST", path: string, body?: unknown) =>
        eve.wallet.client().request(method, `/api/v1/transit/${path}`, "device", body);
      const unknown = await as("GET", "cards/tcd_000000000000000000000000").catch((e: unknown) => e);
      expect(unknown).toMatchObject({ status: 404, code: "transit_card_not_found" });
      for (const [method, path, body] of [
        ["GET", `cards/${card.id}`, undefined],
        ["GET", `cards/${card.id}/transactions`, undefined],
        ["GET", `cards/${card.id}/topups`, undefined],
        ["POST", `cards/${card.id}/topups`, { requestId: "eve-topup-1", amount: 1000, channel: "wechat" }],
        ["POST", `cards/${card.id}/refund`, {}],
        ["POST", `cards/${card.id}/transfer`, { targetDeviceId: eve.phone.cloud!.deviceId }],
      ] as const) {
        const e = await as(method, path, body).catch((x: unknown) => x);
        expect(e, `${method} ${path}`).toMatchObject({
          status: 404,
          code: "transit_card_not_found",
          zh: (unknown as { zh: string }).zh,
        });
      }
      await expect(as("GET", `topups/${t.id}`)).rejects.toMatchObject({
        status: 404,
        code: "topup_not_found",
      });
      // And my card onto eve's phone: her phone is not mine.
      await expect(
        me.wallet.client().request("POST", `/api/v1/transit/cards/${card.id}/transfer`, "device", {
          targetDeviceId: eve.phone.cloud!.deviceId,
        }),
      ).rejects.toMatchObject({ status: 404, code: "device_not_found" });
      expect(
        (await eve.wallet.client().request<{ cards: unknown[] }>("GET", "/api/v1/transit/cards", "device"))
          .cards,
      ).toEqual([]);
    });

    it("refuses a top-up from a phone the card is not on, and a second refund under way", async () => {
      const { card } = await openTransitCard(me.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 2000,
        channel: "wechat",
      });
      cloud.clock.advance(61_000);
      const second = await phoneOn(cloud, "13600136000", { model: "小米8" });
      await expect(topUpTransitCard(second.wallet, card.id, 1000)).rejects.toMatchObject({
        status: 409,
        code: "card_not_on_this_phone",
      });
      const refund = () =>
        me.wallet.client().request("POST", `/api/v1/transit/cards/${card.id}/refund`, "device", {});
      await expect(refund()).resolves.toMatchObject({ state: "requested" });
      await expect(refund()).rejects.toMatchObject({ status: 409, code: "transit_request_in_progress" });
      await expect(topUpTransitCard(me.wallet, card.id, 1000)).rejects.toMatchObject({
        code: "card_not_active",
        details: { state: "refunding" },
      });
      await expect(openRaw(me, "wuhan-tong", "opening-0001", 60000)).rejects.toMatchObject({
        status: 400,
        code: "topup_out_of_range",
      });
    });

    it("pays everything back when the install cannot land (the phone was reported lost first)", async () => {
      const issuing = (await openRaw(me, "tu-shengjingtong", "lost-0001", 5000)) as {
        id: string;
        state: string;
      };
      expect(issuing.state).toBe("issuing");
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(7000);
      const lost = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${me.phone.cloud!.deviceId}/lost`,
        headers: { authorization: `Bearer ${me.phone.cloud!.session!.token}` },
      });
      expect(lost.statusCode).toBe(200);
      const card = await me.wallet
        .client()
        .request<{ state: string; balance: number }>("GET", `/api/v1/transit/cards/${issuing.id}`, "device");
      expect(card).toMatchObject({ state: "failed", balance: 0 });
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(0);
      expect(await ledgerBalance(cloud, transitAccounts.deposits())).toBe(0);
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-shengjingtong"))).toBe(0);
      await expectBooksBalance(cloud);
    });
  });
}
