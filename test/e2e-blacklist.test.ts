/**
 * The gate blacklist (`GET /api/v1/transit/blacklist`), on SQLite and PostgreSQL, through the real HTTP server
 * and real virtual phones. A removed phone's transit card is parked and refunded from the cloud, yet its SE
 * still holds it: its number goes on the product's list once, numbered; a gate that loaded the list refuses
 * it, and a gate that had not yet loaded it lets the ride through — that ride is honoured to the operator and,
 * the card's money having gone back, paid by the issuer's shortfall account, never by the float that holds
 * other people's money; the records after it in the same upload clear too (docs/TRANSIT.md "The issuer's
 * blacklist").
 */
import { afterAll, describe, expect, it } from "vitest";
import { type OpenOptions, openTransitCard } from "../src/device/transit.js";
import {
  type BlacklistCopy,
  blacklistOf,
  emptyBlacklistCopy,
  refreshBlacklist,
} from "../src/transit/index.js";
import { backends, bearer } from "./cloud-harness.js";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { expectBooksBalance, ledgerBalance, metro, operator, readPhone } from "./cloud-transit-harness.js";
import { phoneOn, removeStateDirs } from "./device-harness.js";
import { type WalletCloud, freshWalletCloudEachTest, removePhone } from "./e2e-harness.js";

afterAll(removeStateDirs);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the gate blacklist on ${backend.name}`, () => {
    let cloud!: WalletCloud;
    freshWalletCloudEachTest(backend, "blacklist", (c) => (cloud = c));

    /** GET over real HTTP, as a gate asks. */
    const get = async (path: string, key?: string) => {
      const res = await fetch(`${cloud.url}/api/v1/transit/blacklist${path}`, {
        headers: key ? { "x-operator-key": key } : {},
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    /**
     * A card opened on one phone and another card on someone else's; then the first phone is removed (its card
     * parked) and the card refunded from the cloud: the cloud holds none of its money, its SE still has it.
     */
    async function refundedBesideAnother(
      [mobile, opening]: [string, OpenOptions],
      [otherMobile, otherOpening]: [string, OpenOptions],
    ) {
      const { phone, wallet } = await phoneOn(cloud, mobile);
      const token = phone.cloud!.session!.token;
      const { card } = await openTransitCard(wallet, opening);
      const other = await phoneOn(cloud, otherMobile);
      await openTransitCard(other.wallet, otherOpening);
      expect((await removePhone(cloud, phone)).statusCode).toBe(204);
      const refund = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/transit/cards/${card.id}/refund`,
        headers: bearer(token),
        payload: {},
      });
      expect(refund.json()).toMatchObject({ state: "done", refund: { balance: opening.firstTopUp } });
      return { phone, token, card, other };
    }

    it("a removed phone's card is listed once, numbered; a gate that loaded the list refuses it", async () => {
      const op = await operator(cloud);
      const { phone, wallet } = await phoneOn(cloud, "13600136101");
      const token = phone.cloud!.session!.token;
      const { card } = await openTransitCard(wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 5000,
        channel: "wechat",
      });
      const cardNumber = (await readPhone(phone)).cardNumber;
      expect(cardNumber).toBe(card.cardNumber);
      // Nothing listed yet: version 0, no entries.
      expect((await get("?product=tu-jingjinji", op.token)).body).toMatchObject({
        version: 0,
        next: 0,
        more: false,
        entries: [],
      });

      expect((await removePhone(cloud, phone)).statusCode).toBe(204);
      const listed = await get("?product=tu-jingjinji&since=0", op.token);
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({
        format: "tapwallet.transit.blacklist/1",
        product: "tu-jingjinji",
        system: "t-union",
        version: 1,
        since: 0,
        next: 1,
        more: false,
        entries: [{ seq: 1, cardNumber, reason: "parked" }],
      });
      // Refunded from the cloud: already on the list, not listed again.
      const refund = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/transit/cards/${card.id}/refund`,
        headers: bearer(token),
        payload: {},
      });
      expect(refund.json()).toMatchObject({ state: "done" });
      expect((await get("?product=tu-jingjinji&since=0", op.token)).body).toMatchObject({
        version: 1,
        entries: [{ seq: 1, cardNumber }],
      });
      expect((await get("?product=tu-jingjinji&since=1", op.token)).body).toMatchObject({
        version: 1,
        since: 1,
        next: 1,
        entries: [],
      });
      const versions = await get("/versions", op.token);
      expect(versions.body["products"]).toContainEqual({
        product: "tu-jingjinji",
        system: "t-union",
        version: 1,
      });
      expect(versions.body["products"]).toContainEqual({
        product: "shanghai",
        system: "city-union",
        version: 0,
      });

      // A gate that loaded the list (over HTTP, with the operator's key) refuses the card still on the SE.
      const loaded = await refreshBlacklist(emptyBlacklistCopy(), ["t-union", "city-union"], {
        url: cloud.url,
        operatorKey: op.token,
      });
      expect(loaded).toMatchObject({ added: 1, error: null });
      const m = metro(cloud);
      const refused = await m.tap(phone, sbGate(m, "0101", loaded.copy));
      expect(refused).toMatchObject({ ok: false, reason: "blacklisted", cardNumber });
      expect(m.log.all).toHaveLength(0);
      // Refused, not locked (our gate's blacklist, src/transit/terminal/gate.ts): the card still reads.
      expect((await readPhone(phone)).balance).toBe(5000);
      await expectBooksBalance(cloud);
    });

    it("a ride taken before the gate loaded the list is honoured: the issuer's shortfall pays, the float holds the others' money", async () => {
      const op = await operator(cloud);
      // Someone else's card of the product: the float holds their money, which the ride must not touch.
      const { phone, token, card } = await refundedBesideAnother(
        ["13600136102", { productId: "tu-jingjinji", firstTopUp: 3000, channel: "alipay" }],
        ["13600136103", { productId: "tu-jingjinji", firstTopUp: 2000, channel: "wechat" }],
      );
      // An offline gate with an old list: the ride goes through on the SE's copy of the card.
      const m = metro(cloud);
      cloud.clock.advance(60_000);
      expect(await m.ride(phone, "0101", "0112")).toBe(500);
      const up = await op.upload(m.log.upload(cloud.clock.now()));
      expect(up.statusCode, up.body).toBe(200);
      expect(up.json()).toMatchObject({
        cleared: 2,
        rejected: [],
        amount: 500,
        shortfall: 500,
        shortfalls: [{ seq: 2, amount: 500, shortfall: 500 }],
      });
      const after = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/cards/${card.id}`,
        headers: bearer(token),
      });
      // The shortfall: shown on the card, paid by the issuer's shortfall account; the float is the other card's.
      expect(after.json()).toMatchObject({ state: "refunded", balance: 0, shortfall: 500 });
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(2000);
      expect(await ledgerBalance(cloud, transitAccounts.shortfall("tu-jingjinji"))).toBe(-500);
      expect(await ledgerBalance(cloud, transitAccounts.operator("bj-subway"))).toBe(500);
      await expectBooksBalance(cloud);
    });

    it("the only card of its product, removed and refunded, rides: it clears with a shortfall and the records after it clear too", async () => {
      const op = await operator(cloud);
      // The only card of tu-jilin anywhere: once refunded its float holds nothing.
      const { phone, token, card, other } = await refundedBesideAnother(
        ["13600136104", { productId: "tu-jilin", firstTopUp: 2000, channel: "wechat" }],
        ["13600136105", { productId: "shanghai", firstTopUp: 3000, channel: "alipay" }],
      );
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jilin"))).toBe(0);

      // One gate log: the other card's ride, the refunded card's two rides (one a bus), the other card's ride.
      const m = metro(cloud);
      cloud.clock.advance(60_000);
      const before = await m.ride(other.phone, "0101", "0105");
      expect(await m.ride(phone, "0101", "0112")).toBe(500);
      const bus = await m.tap(phone, m.bus(200));
      expect(bus.ok).toBe(true);
      const after = await m.ride(other.phone, "0105", "0112");
      const log = m.log.upload(cloud.clock.now());
      expect(log.records.map((r) => r.amount)).toEqual([0, before, 0, 500, 200, 0, after]);
      const up = await op.upload(log);
      expect(up.statusCode, up.body).toBe(200);
      expect(up.json()).toMatchObject({
        records: 7,
        cleared: 7,
        duplicates: 0,
        rejected: [],
        amount: before + 700 + after,
        shortfall: 700,
        shortfalls: [
          { seq: 4, amount: 500, shortfall: 500 },
          { seq: 5, amount: 200, shortfall: 200 },
        ],
      });
      // Honoured to the operator in full; the refunded card's part from the issuer's shortfall account.
      expect(await ledgerBalance(cloud, transitAccounts.operator("bj-subway"))).toBe(before + 700 + after);
      expect(await ledgerBalance(cloud, transitAccounts.shortfall("tu-jilin"))).toBe(-700);
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jilin"))).toBe(0);
      expect(await ledgerBalance(cloud, transitAccounts.float("shanghai"))).toBe(3000 - before - after);
      const view = (id: string, t: string) =>
        cloud.app.inject({ method: "GET", url: `/api/v1/transit/cards/${id}`, headers: bearer(t) });
      expect((await view(card.id, token)).json()).toMatchObject({ balance: 0, shortfall: 700 });
      const [otherCard] = (
        await cloud.app.inject({
          method: "GET",
          url: "/api/v1/transit/cards",
          headers: bearer(other.phone.cloud!.session!.token),
        })
      ).json().cards as { id: string; balance: number; shortfall: number }[];
      expect(otherCard).toMatchObject({ balance: 3000 - before - after, shortfall: 0 });
      // The same upload again moves nothing.
      const again = await op.upload(log);
      expect(again.json()).toMatchObject({ cleared: 0, duplicates: 7, shortfall: 0, shortfalls: [] });
      expect(await ledgerBalance(cloud, transitAccounts.shortfall("tu-jilin"))).toBe(-700);
      await expectBooksBalance(cloud);
    });

    it("a record the books refuse is answered on its own: the records after it clear", async () => {
      const op = await operator(cloud);
      const { phone, wallet } = await phoneOn(cloud, "13600136106");
      await openTransitCard(wallet, { productId: "tu-jingjinji", firstTopUp: 3000, channel: "wechat" });
      const reading = await readPhone(phone);
      const m = metro(cloud);
      cloud.clock.advance(60_000);
      expect(await m.ride(phone, "0101", "0112")).toBe(500);
      expect(await m.ride(phone, "0112", "0101")).toBe(500);
      const log = m.log.upload(cloud.clock.now());
      // Someone already used the first exit's posting key for other entries: the ledger refuses that posting.
      const first = log.records[1]!;
      const key = `transit.clear:tu-jingjinji:${reading.cardNumber}:${first.cardAtc}:${first.psamTerminal.toUpperCase()}`;
      await cloud.app.cloud.ledger.openAccount({ id: "channel:test", kind: "channel" });
      await cloud.app.cloud.ledger.post({
        idempotencyKey: key,
        kind: "test",
        entries: [
          { account: "channel:test", amount: 1 },
          { account: transitAccounts.operator("bj-subway"), amount: -1 },
        ],
      });
      const up = await op.upload(log);
      expect(up.statusCode, up.body).toBe(200);
      expect(up.json()).toMatchObject({
        records: 4,
        cleared: 3,
        rejected: [{ seq: 2, reason: "idempotency_conflict" }],
        amount: 500,
      });
      // Nothing of the refused record was kept: it is not a duplicate, it may come again.
      const again = await op.upload(log);
      expect(again.json()).toMatchObject({ cleared: 0, duplicates: 3, rejected: [{ seq: 2 }] });
      await expectBooksBalance(cloud);
    });

    it("refuses without the operator's key, an unknown product, a version the cloud never issued, a malformed query", async () => {
      const op = await operator(cloud);
      expect(await get("?product=tu-jingjinji")).toMatchObject({ status: 401 });
      expect(await get("/versions", "twop_not-a-key")).toMatchObject({ status: 401 });
      const unknown = await get("?product=atlantis", op.token);
      expect(unknown).toMatchObject({ status: 404, body: { error: "product_not_found" } });
      expect((unknown.body["message"] as { zh: string; en: string }).zh).toBeTruthy();
      expect(await get("?product=tu-jingjinji&since=5", op.token)).toMatchObject({
        status: 409,
        body: { error: "blacklist_version_ahead", details: { version: 0 } },
      });
      for (const q of [
        "",
        "?product=tu-jingjinji&since=-1",
        "?product=tu-jingjinji&since=x",
        "?product=tu-jingjinji&other=1",
      ])
        expect((await get(q, op.token)).status, q).toBe(400);
    });
  });
}

/** An entry gate of the example operator whose blacklist is the copy the gate loaded. */
function sbGate(m: ReturnType<typeof metro>, station: string, copy: BlacklistCopy) {
  return m.gate({ station, direction: "entry", blacklist: blacklistOf(copy) });
}
