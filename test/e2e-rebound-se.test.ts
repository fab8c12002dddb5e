/**
 * A removed phone's SE bound again, on SQLite and PostgreSQL, through the real HTTP server and real virtual
 * phones. The removed phone could not be told anything (its key stopped working at once), so its SE still
 * holds the applets of its old binding: a transit card whose balance was refunded from the cloud, a bank
 * token deleted in the cloud, a door card. The TSM's first sync of the new binding deletes them through the
 * secure channel before anything else; the phone's registry (express, default card) follows; what the new
 * binding owns is never touched, even a new card of the same AID queued before that first sync
 * (docs/PHONE.md "Reconcile", docs/DECISIONS.md "An SE bound again"). The phone learns of its removal at its
 * next signed request (`device_removed`) and drops its binding, so it registers again without help; registering
 * syncs at once, so the old applets are gone before the user adds a card.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { bankCard } from "../src/device/bank-cards.js";
import { addDoorCard } from "../src/device/door-cards.js";
import type { Wallet } from "../src/device/index.js";
import { writeDeviceKey } from "../src/device/state.js";
import { openTransitCard, transitCards } from "../src/device/transit.js";
import { toHex } from "../src/core/bytes.js";
import { backends, bearer } from "./cloud-harness.js";
import { expectBooksBalance, readPhone } from "./cloud-transit-harness.js";
import { CARDS } from "./cloud-tsp-harness.js";
import { doorDump, phoneOn, removeStateDirs } from "./device-harness.js";
import { type WalletCloud, addBankCard, startWalletCloud } from "./e2e-harness.js";

afterAll(removeStateDirs);

const JJJ = "A00000063201010510009156000014A1";

for (const backend of backends) {
  describe.skipIf(backend.skip)(`an SE bound again on ${backend.name}`, () => {
    let cloud!: WalletCloud;
    freshEachTest(
      () => startWalletCloud(backend, `rebound-${backend.name}`),
      (c) => (cloud = c),
    );

    /** A phone with a T-Union card (express), a bank card (default) and a door card, then removed. */
    async function removedPhone(mobile: string) {
      const t = await phoneOn(cloud, mobile);
      await addBankCard(cloud, t.wallet, CARDS.icbc[0]!);
      await addDoorCard(t.wallet, doorDump("C0FFEE02"));
      const { card } = await openTransitCard(t.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 4000,
        channel: "wechat",
      });
      t.phone.setExpress(JJJ);
      expect(toHex(t.phone.se.registry.expressTransit()!)).toBe(JJJ);
      expect(t.phone.se.registry.defaultPayment()).not.toBeNull();
      const oldNumber = (await readPhone(t.phone)).cardNumber;
      const removed = await cloud.app.inject({
        method: "DELETE",
        url: `/api/v1/devices/${t.phone.cloud!.deviceId}`,
        headers: bearer(t.phone.cloud!.session!.token),
      });
      expect(removed.statusCode).toBe(204);
      // Nothing reached the SE: every applet is still there.
      expect(
        t.phone
          .cards()
          .map((c) => c.packageId)
          .sort(),
      ).toEqual(["emv.qpboc", "mifare.door", "transit.epurse"]);
      return { ...t, card, oldNumber };
    }

    /** The removed phone's next signed request: refused, and the phone drops its binding (id and key). */
    async function learnsRemoved(wallet: Wallet) {
      const oldDevice = wallet.phone.cloud!.deviceId;
      await expect(wallet.sync()).rejects.toMatchObject({
        status: 401,
        code: "device_removed",
        zh: expect.stringContaining("已清除本机的绑定"),
        en: expect.stringContaining("register it again"),
      });
      expect(wallet.phone.cloud).toMatchObject({ deviceId: null, session: expect.anything() });
      expect(existsSync(join(wallet.phone.dir, "device-key.pem"))).toBe(false);
      return oldDevice;
    }

    /** Binds the phone again (the same SE, a new device key) after signing in as `mobile`. */
    async function bindAgain(wallet: Wallet, mobile: string) {
      cloud.clock.advance(61_000);
      await wallet.requestCode(mobile, cloud.url);
      await wallet.signIn(mobile, cloud.otp.last(mobile)!, cloud.url);
      return wallet.register();
    }

    /**
     * Binds the phone again without the sync registering runs, as a phone whose first sync never reached the
     * cloud: what the TSM does at that first sync, whenever it comes.
     */
    async function bindWithoutSync(wallet: Wallet) {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const device = await wallet.client().bind(
        {
          model: wallet.phone.model.code,
          region: wallet.phone.region,
          name: "rebound",
          publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
          seId: wallet.phone.seId,
        },
        privateKey,
      );
      writeDeviceKey(wallet.phone.dir, privateKey);
      wallet.phone.setCloud({ ...wallet.phone.cloud!, deviceId: device.id });
      return device;
    }

    const seView = (wallet: Wallet) =>
      cloud.app.inject({
        method: "GET",
        url: `/api/v1/devices/${wallet.phone.cloud!.deviceId}/se`,
        headers: bearer(wallet.phone.cloud!.session!.token),
      });

    it("the same account binds the SE again: the first sync deletes the old applets, before a new card of the same AID lands", async () => {
      const { phone, wallet, card, oldNumber } = await removedPhone("13600136201");
      await learnsRemoved(wallet);
      const device = await bindWithoutSync(wallet);
      expect(device.seId).toBe(phone.seId);
      // Before any sync the new binding's view of its SE is empty: the old instances are not its own.
      expect((await seView(wallet)).json().instances).toEqual([]);
      // A new card of the same product is asked for before the first sync (the phone's own check would
      // stop at the old card still on its SE, so straight to the cloud): same AID, queued behind the purge.
      const opened = await wallet
        .client()
        .request<{ id: string; cardNumber: string }>("POST", "/api/v1/transit/cards", "device", {
          requestId: "rebound-open-0001",
          productId: "tu-jingjinji",
          firstTopUp: 1500,
          channel: "alipay",
        });
      expect(opened.cardNumber).not.toBe(oldNumber);

      const sync = await wallet.sync();
      const purge = sync.scripts.filter((s) => s.owner === "tsm" && s.ref === "earlier-binding");
      expect(purge.map((s) => s.aid).sort()).toHaveLength(3);
      expect(purge.every((s) => s.kind === "delete" && s.state === "done")).toBe(true);
      // The deletes ran first, then the new card's install (same AID): the SE holds the new card, not the old
      // one taken for it (the summary lists scripts by queue order, so the card itself is the proof).
      expect(phone.cards().map((c) => c.packageId)).toEqual(["transit.epurse"]);
      const reading = await readPhone(phone);
      expect(reading).toMatchObject({ cardNumber: opened.cardNumber, balance: 1500 });
      // The registry followed: the old express and default cards are gone with their applets.
      expect(phone.se.registry.defaultPayment()).toBeNull();
      expect(phone.se.registry.expressTransit()).toBeNull();
      const view = (await seView(wallet)).json();
      expect(view.instances).toEqual([
        expect.objectContaining({ aid: JJJ, state: "present", owner: "transit", ref: opened.id }),
      ]);
      expect((await transitCards(wallet)).map((c) => [c.id, c.state])).toEqual(
        expect.arrayContaining([
          [card.id, "parked"],
          [opened.id, "active"],
        ]),
      );
      // A second sync finds nothing to do: no orphans left, no stranger reported.
      const again = await wallet.sync();
      expect(again.scripts).toEqual([]);
      expect(again.sessions.at(-1)!.outcome).toBe("ok");
      await expectBooksBalance(cloud);
    });

    it("another account binds the SE: it sees none of the first account's cards, and they leave the SE at its first sync", async () => {
      const first = await removedPhone("13600136202");
      const firstToken = first.phone.cloud!.session!.token;
      // Signing in as another account starts a new binding; registering syncs at once.
      const registration = await bindAgain(first.wallet, "13600136203");
      const wallet = first.wallet;
      expect(registration.syncError).toBeNull();
      const sync = registration.sync!;
      expect(sync.scripts.filter((s) => s.ref === "earlier-binding")).toHaveLength(3);
      expect(JSON.stringify(sync)).not.toContain(first.card.id);
      expect(first.phone.cards()).toEqual([]);
      expect((await seView(wallet)).json().instances).toEqual([]);
      expect(await transitCards(wallet)).toEqual([]);
      const events = (
        await cloud.app.inject({
          method: "GET",
          url: "/api/v1/notifications?after=0&limit=100",
          headers: bearer(wallet.phone.cloud!.session!.token),
        })
      ).json().events as { type: string; payload: Record<string, unknown> }[];
      expect(events.filter((e) => e.type === "tsm.instance.orphaned")).toHaveLength(3);
      expect(events.some((e) => e.type === "tsm.instance.unknown")).toBe(false);
      expect(JSON.stringify(events)).not.toContain(first.card.id);
      // The first account's cards stay its own: the transit card parked, its balance refundable.
      const parked = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/transit/cards/${first.card.id}`,
        headers: bearer(firstToken),
      });
      expect(parked.json()).toMatchObject({ state: "parked", balance: 4000 });
      // The new account opens its own card through the phone, as usual.
      const { card } = await openTransitCard(wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 1000,
        channel: "unionpay",
      });
      expect((await readPhone(first.phone)).cardNumber).toBe(card.cardNumber);
      await expect(bankCard(wallet, "bc_nothing")).rejects.toMatchObject({ status: 404 });
      await expectBooksBalance(cloud);
    });

    it("a removed phone drops its binding at its next request, registers again at once and opens a new T-Union card straight away", async () => {
      const { phone, wallet, card } = await removedPhone("13600136205");
      const oldDevice = await learnsRemoved(wallet);
      // No sign-in, no manual clearing: the session still stands, the binding is gone, register works.
      const registration = await wallet.register();
      expect(registration.id).not.toBe(oldDevice);
      expect(registration.seId).toBe(phone.seId);
      expect(wallet.phone.cloud!.deviceId).toBe(registration.id);
      // Registering synced at once: the old binding's applets are off the SE before the user adds a card.
      expect(registration.syncError).toBeNull();
      const purge = registration.sync!.scripts.filter((s) => s.ref === "earlier-binding");
      expect(purge.map((s) => [s.kind, s.state])).toEqual([
        ["delete", "done"],
        ["delete", "done"],
        ["delete", "done"],
      ]);
      expect(phone.cards()).toEqual([]);
      // The phone's own one-T-Union check sees the SE as it is: a new T-Union card of another product opens.
      const { card: fresh } = await openTransitCard(wallet, {
        productId: "tu-lingnan",
        firstTopUp: 1000,
        channel: "alipay",
      });
      expect(await readPhone(phone)).toMatchObject({ cardNumber: fresh.cardNumber, balance: 1000 });
      expect((await transitCards(wallet)).map((c) => [c.id, c.state])).toEqual(
        expect.arrayContaining([
          [card.id, "parked"],
          [fresh.id, "active"],
        ]),
      );
      await expectBooksBalance(cloud);
    });

    it("a phone reported lost and then found is still wiped at its next contact (the same binding: no orphans)", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13600136204");
      await openTransitCard(wallet, { productId: "tu-jingjinji", firstTopUp: 2000, channel: "wechat" });
      const lost = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${phone.cloud!.deviceId}/lost`,
        headers: bearer(phone.cloud!.session!.token),
      });
      expect(lost.statusCode).toBe(200);
      const sync = await wallet.sync();
      expect(sync.lost).toBe(true);
      expect(phone.cards()).toEqual([]);
      expect(sync.scripts.some((s) => s.ref === "earlier-binding")).toBe(false);
      await expectBooksBalance(cloud);
    });
  });
}
