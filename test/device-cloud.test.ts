/**
 * The phone's wallet against the cloud over HTTP, on SQLite and PostgreSQL: sign-in, registration of a
 * supported phone (and the cloud's refusals, reaching the user in both languages), signed requests exactly
 * as the server verifies them, the account's activity, and a phone removed from its account.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { ManualClock } from "../src/core/clock.js";
import { VirtualPhone, Wallet, addDoorCard, maskMobile, resolveModel } from "../src/device/index.js";
import { backends } from "./cloud-harness.js";
import {
  type LiveCloud,
  doorDump,
  phoneOn,
  removeStateDirs,
  startCloud,
  stateDir,
} from "./device-harness.js";

afterAll(removeStateDirs);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the phone's wallet on ${backend.name}`, () => {
    let cloud!: LiveCloud;
    freshEachTest(
      () => startCloud(backend),
      (c) => (cloud = c),
    );

    it("signs in and registers a supported phone with a device key only it holds", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13700137000");
      const c = phone.cloud!;
      expect(c).toMatchObject({
        server: cloud.url,
        mobile: "137****7000",
        deviceId: expect.stringMatching(/^dev_/),
      });
      expect(statSync(join(phone.dir, "device-key.pem")).mode & 0o777).toBe(0o600);
      const devices = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/devices",
        headers: { authorization: `Bearer ${c.session!.token}` },
      });
      expect(devices.json().devices).toMatchObject([
        { id: c.deviceId, model: { code: "cepheus" }, region: "CN", seId: phone.seId },
      ]);
      const check = await wallet.client().checkIn("test");
      expect(check.device).toMatchObject({ id: c.deviceId, lost: false });
      await expect(wallet.register()).rejects.toMatchObject({ code: "already_registered" });
    });

    it("reports the cloud's refusals of a model or region it does not serve, in both languages", async () => {
      const cupid = await phoneOn(cloud, "13700137001", { model: "cupid", register: false });
      await expect(cupid.wallet.register()).rejects.toMatchObject({
        status: 403,
        code: "unsupported_model",
        zh: expect.stringContaining("不支持小米支付"),
        en: expect.stringContaining("does not support Mi Pay"),
      });
      expect(existsSync(join(cupid.phone.dir, "device-key.pem"))).toBe(false);
      expect(cupid.phone.cloud!.deviceId).toBeNull();
      cloud.clock.advance(61_000);
      const hk = await phoneOn(cloud, "13700137002", { region: "HK", register: false });
      await expect(hk.wallet.register()).rejects.toMatchObject({
        status: 403,
        code: "region_not_supported",
        zh: expect.stringContaining("中国香港"),
        en: expect.stringContaining("Hong Kong"),
      });
      await expect(hk.wallet.sync()).rejects.toMatchObject({ code: "not_registered" });
    });

    it("says what was wrong with a code, and with a phone whose clock is off", async () => {
      const phone = VirtualPhone.create(stateDir(), {
        name: "skewed",
        model: resolveModel("小米8"),
        region: "CN",
        clock: new ManualClock(cloud.clock.now().getTime() + 10 * 60_000),
      });
      const wallet = new Wallet(phone);
      await wallet.requestCode("13700137003", cloud.url);
      await expect(wallet.signIn("13700137003", "000000", cloud.url)).rejects.toMatchObject({
        status: 400,
        code: expect.stringMatching(/^otp_/),
      });
      await wallet.signIn("13700137003", cloud.otp.last("13700137003")!, cloud.url);
      await expect(wallet.register()).rejects.toMatchObject({
        status: 401,
        code: "timestamp_out_of_window",
        zh: expect.stringContaining("时间"),
      });
      expect(maskMobile("+86 137-0013-7003")).toBe("137****7003");
    });

    it("lists the account's activity: the door card added and installed", async () => {
      const { wallet } = await phoneOn(cloud, "13700137004");
      const dump = doorDump("DEADBEEF");
      await addDoorCard(wallet, { bytes: dump.bytes, fileName: dump.fileName });
      const types = (await wallet.activity()).map((e) => e.type);
      expect(types).toEqual(
        expect.arrayContaining([
          "device.bound",
          "access.card.added",
          "tsm.script.finished",
          "access.card.installed",
        ]),
      );
      expect(types.indexOf("access.card.added")).toBeLessThan(types.indexOf("access.card.installed"));
      expect(types).not.toContain("tsm.work");
    });

    it("a phone removed from its account can no longer sync: it drops its binding; its cards stay until it is bound again", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13700137005");
      const dump = doorDump("0BADF00D");
      await addDoorCard(wallet, { bytes: dump.bytes, fileName: dump.fileName });
      const r = await cloud.app.inject({
        method: "DELETE",
        url: `/api/v1/devices/${phone.cloud!.deviceId}`,
        headers: { authorization: `Bearer ${phone.cloud!.session!.token}` },
      });
      expect(r.statusCode).toBe(204);
      // The phone learns it at its next signed request and drops its binding (device id and key), saying so.
      await expect(wallet.sync()).rejects.toMatchObject({
        status: 401,
        code: "device_removed",
        zh: expect.stringContaining("已从账户中移除"),
        en: expect.stringContaining("register it again"),
      });
      expect(phone.cloud).toMatchObject({ deviceId: null, session: expect.anything() });
      expect(existsSync(join(phone.dir, "device-key.pem"))).toBe(false);
      expect(phone.cards()).toHaveLength(1);
      const placements = await cloud.db.db.selectFrom("access_placements").selectAll().execute();
      expect(placements).toEqual([]);
    });

    it("a removed phone that has not heard of it yet registers again: register asks the cloud first", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13700137006");
      const old = phone.cloud!.deviceId;
      const r = await cloud.app.inject({
        method: "DELETE",
        url: `/api/v1/devices/${old}`,
        headers: { authorization: `Bearer ${phone.cloud!.session!.token}` },
      });
      expect(r.statusCode).toBe(204);
      expect(phone.cloud!.deviceId).toBe(old);
      const again = await wallet.register();
      expect(again.id).not.toBe(old);
      expect(again.syncError).toBeNull();
      expect(phone.cloud!.deviceId).toBe(again.id);
      expect((await wallet.sync()).sessions.at(-1)!.outcome).toBe("ok");
    });
  });
}
