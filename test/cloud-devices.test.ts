/**
 * Devices: binding (supported models only, mainland China only, proof of possession), signed requests
 * (good, bad signature, replayed nonce, stale timestamp), one account never touching another's phones,
 * rename / remove / lost. On SQLite and PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SUPPORTED_MODELS } from "../src/protocol/phone-models.js";
import { generateDeviceKeyPair } from "../src/protocol/request-signing.js";
import {
  backends,
  bind,
  freshNonce,
  json,
  makeCloud,
  newPhone,
  signed,
  signIn,
  type TestCloud,
} from "./cloud-harness.js";

for (const backend of backends) {
  describe.skipIf(backend.skip)(`devices on ${backend.name}`, () => {
    let cloud: TestCloud;
    let token: string;
    beforeEach(async () => {
      cloud = await makeCloud(backend);
      ({ token } = await signIn(cloud, "13800138000"));
    });
    afterEach(async () => {
      await cloud.close();
    });

    const auth = (t: string) => ({ authorization: `Bearer ${t}` });

    it("binds every supported model and lists them", async () => {
      const models = await cloud.app.inject({ method: "GET", url: "/api/v1/models" });
      expect(json<{ models: unknown[]; regions: string[] }>(models).models).toHaveLength(13);
      expect(json<{ regions: string[] }>(models).regions).toEqual(["CN"]);
      const limited = await makeCloud(backend, {
        policy: { maxDevicesPerAccount: 20, bindsPerAccount: { limit: 20, windowMs: 3600_000 } },
      });
      try {
        const { token: t } = await signIn(limited, "13900139000");
        for (const m of SUPPORTED_MODELS) {
          const r = await bind(limited, t, newPhone(), { model: m.code });
          expect(r.statusCode, m.code).toBe(201);
          expect(json(r)).toMatchObject({
            model: { code: m.code, zh: m.zh, en: m.en },
            name: m.zh,
            region: "CN",
            lost: false,
          });
          limited.clock.advance(1000);
        }
        const list = json<{ devices: { model: { code: string } }[] }>(
          await limited.app.inject({ method: "GET", url: "/api/v1/devices", headers: auth(t) }),
        );
        expect(list.devices.map((d) => d.model.code)).toEqual(SUPPORTED_MODELS.map((m) => m.code));
      } finally {
        await limited.close();
      }
    });

    it("refuses a model not in the list, with the reason", async () => {
      for (const model of ["iPhone 15", "cupid", "umi", "tissot"]) {
        const r = await bind(cloud, token, newPhone(), { model });
        expect(r.statusCode).toBe(403);
        const body = json<{
          error: string;
          message: { zh: string; en: string };
          details: { supportedModels: string[] };
        }>(r);
        expect(body.error).toBe("unsupported_model");
        expect(body.message.zh).toContain("不支持小米支付");
        expect(body.message.en).toContain("does not support Mi Pay");
        expect(body.details.supportedModels).toContain("sagit");
      }
    });

    it("refuses regions outside mainland China, naming Hong Kong, Macau and Taiwan", async () => {
      const cases: [string, string, string][] = [
        ["HK", "中国香港", "Hong Kong"],
        ["MO", "中国澳门", "Macau"],
        ["TW", "中国台湾", "Taiwan"],
        ["US", "US", "US"],
        ["sg", "SG", "SG"],
      ];
      for (const [region, zh, en] of cases) {
        const r = await bind(cloud, token, newPhone(), { region });
        expect(r.statusCode, region).toBe(403);
        const body = json<{ error: string; message: { zh: string; en: string } }>(r);
        expect(body.error).toBe("region_not_supported");
        expect(body.message.zh).toContain("仅在中国大陆");
        expect(body.message.zh).toContain(zh);
        expect(body.message.en).toContain(en);
      }
      expect((await bind(cloud, token, newPhone(), { region: "cn" })).statusCode).toBe(201);
    });

    it("requires the binding request to be signed by the key it registers", async () => {
      const phone = newPhone();
      const other = generateDeviceKeyPair();
      const body = { model: "sagit", region: "CN", publicKey: phone.publicKey, seId: phone.seId };
      // Signed by a different key than the one in the body.
      const req = signed(
        cloud,
        { ...phone, privateKey: other.privateKey },
        { method: "POST", url: "/api/v1/devices", body },
      );
      const r = await cloud.app.inject({
        ...req,
        headers: { ...(req.headers as Record<string, string>), ...auth(token) },
      });
      expect(r.statusCode).toBe(401);
      expect(json(r).error).toBe("bad_signature");
      // Not signed at all.
      const bare = await cloud.app.inject({
        method: "POST",
        url: "/api/v1/devices",
        payload: body,
        headers: auth(token),
      });
      expect(bare.statusCode).toBe(401);
      expect(json(bare).error).toBe("proof_of_possession_required");
      // Not an ECDSA P-256 key.
      const bad = await bind(cloud, token, {
        ...phone,
        publicKey: Buffer.from("not a key").toString("base64"),
      });
      expect(bad.statusCode).toBe(400);
      expect(json(bad).error).toBe("invalid_public_key");
    });

    it("accepts a signed request, and refuses a bad signature, a replayed nonce, a stale timestamp", async () => {
      const phone = newPhone();
      expect((await bind(cloud, token, phone)).statusCode).toBe(201);

      const ok = await cloud.app.inject(
        signed(cloud, phone, {
          method: "POST",
          url: "/api/v1/device/checkin",
          body: { appVersion: "1.0.0" },
        }),
      );
      expect(ok.statusCode).toBe(200);
      expect(json(ok)).toMatchObject({ device: { id: phone.deviceId, appVersion: "1.0.0", lost: false } });

      // Body changed after signing.
      const req = signed(cloud, phone, {
        method: "POST",
        url: "/api/v1/device/checkin",
        body: { appVersion: "1.0.0" },
      });
      const tampered = await cloud.app.inject({ ...req, payload: JSON.stringify({ appVersion: "6.6.6" }) });
      expect(tampered.statusCode).toBe(401);
      expect(json(tampered).error).toBe("bad_signature");

      // Signed by another key under this device's id.
      const impostor = { ...phone, privateKey: generateDeviceKeyPair().privateKey };
      const forged = await cloud.app.inject(
        signed(cloud, impostor, { method: "GET", url: "/api/v1/device" }),
      );
      expect(json(forged).error).toBe("bad_signature");

      // Replay: the same signed request twice.
      const once = signed(cloud, phone, { method: "GET", url: "/api/v1/device", nonce: freshNonce() });
      expect((await cloud.app.inject(once)).statusCode).toBe(200);
      const replay = await cloud.app.inject(once);
      expect(replay.statusCode).toBe(401);
      expect(json(replay).error).toBe("nonce_replayed");

      // Stale and future timestamps.
      const now = cloud.clock.now().getTime();
      for (const timestamp of [now - 5 * 60_000 - 1, now + 5 * 60_000 + 1]) {
        const r = await cloud.app.inject(
          signed(cloud, phone, { method: "GET", url: "/api/v1/device", timestamp }),
        );
        expect(r.statusCode).toBe(401);
        expect(json(r).error).toBe("timestamp_out_of_window");
      }
      // Within the window is fine.
      const edge = await cloud.app.inject(
        signed(cloud, phone, { method: "GET", url: "/api/v1/device", timestamp: now - 4 * 60_000 }),
      );
      expect(edge.statusCode).toBe(200);

      // Signature over another path does not carry over.
      const wrongPath = signed(cloud, phone, { method: "GET", url: "/api/v1/device?x=1" });
      const moved = await cloud.app.inject({ ...wrongPath, url: "/api/v1/device" });
      expect(json(moved).error).toBe("bad_signature");

      // No signature; malformed headers; unknown device.
      expect(json(await cloud.app.inject({ method: "GET", url: "/api/v1/device" })).error).toBe(
        "signature_missing",
      );
      const malformed = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/device",
        headers: { "x-tapwallet-timestamp": "soon", "x-tapwallet-nonce": "x", "x-tapwallet-signature": "!!" },
      });
      expect(json(malformed).error).toBe("signature_malformed");
      const ghost = { ...newPhone(), deviceId: "dev_000000000000000000000000" };
      expect(
        json(await cloud.app.inject(signed(cloud, ghost, { method: "GET", url: "/api/v1/device" }))).error,
      ).toBe("unknown_device");
    });

    it("keeps nonces in the database: a replay is refused by a second server on the same database", async () => {
      const phone = newPhone();
      await bind(cloud, token, phone);
      const req = signed(cloud, phone, { method: "GET", url: "/api/v1/device" });
      expect((await cloud.app.inject(req)).statusCode).toBe(200);
      const { buildServer } = await import("../src/cloud/http/server.js");
      const { MemoryOtpSender } = await import("../src/cloud/accounts/otp-sender.js");
      const twin = await buildServer({
        db: cloud.db,
        clock: cloud.clock,
        otpSender: new MemoryOtpSender(),
        otpPepper: "test-pepper",
        janitor: false,
      });
      try {
        const r = await twin.inject(req);
        expect(json(r).error).toBe("nonce_replayed");
      } finally {
        await twin.close();
      }
    });

    it("never shows or changes another account's devices: 404 as for an unknown id", async () => {
      const mine = newPhone();
      await bind(cloud, token, mine);
      cloud.clock.advance(61_000);
      const other = await signIn(cloud, "13900139000");
      const theirs = newPhone();
      await bind(cloud, other.token, theirs);

      const list = json<{ devices: { id: string }[] }>(
        await cloud.app.inject({ method: "GET", url: "/api/v1/devices", headers: auth(token) }),
      );
      expect(list.devices.map((d) => d.id)).toEqual([mine.deviceId]);

      const target = `/api/v1/devices/${theirs.deviceId}`;
      const unknown = `/api/v1/devices/dev_ffffffffffffffffffffffff`;
      for (const url of [target, unknown]) {
        const attempts = [
          cloud.app.inject({ method: "GET", url, headers: auth(token) }),
          cloud.app.inject({ method: "PATCH", url, payload: { name: "mine now" }, headers: auth(token) }),
          cloud.app.inject({ method: "POST", url: `${url}/lost`, headers: auth(token) }),
          cloud.app.inject({ method: "DELETE", url, headers: auth(token) }),
        ];
        for (const r of await Promise.all(attempts)) {
          expect(r.statusCode).toBe(404);
          expect(json(r)).toEqual({
            error: "device_not_found",
            message: { zh: "设备不存在", en: "No such device" },
          });
        }
      }
      // Untouched for its owner.
      const still = json(await cloud.app.inject({ method: "GET", url: target, headers: auth(other.token) }));
      expect(still).toMatchObject({ id: theirs.deviceId, name: "小米6", lost: false });
    });

    it("renames, reports lost (running the hook), and removes a device", async () => {
      const phone = newPhone();
      await bind(cloud, token, phone, { name: "工作手机" });
      const seen: string[] = [];
      cloud.app.cloud.devices.onLost(async (trx, device) => {
        // Runs inside the lost transaction: it sees the flag already set.
        const row = await trx
          .selectFrom("devices")
          .select("lost_at")
          .where("id", "=", device.id)
          .executeTakeFirstOrThrow();
        expect(row.lost_at).not.toBeNull();
        seen.push(device.id);
      });
      const url = `/api/v1/devices/${phone.deviceId}`;
      const renamed = await cloud.app.inject({
        method: "PATCH",
        url,
        payload: { name: "旧手机" },
        headers: auth(token),
      });
      expect(json(renamed)).toMatchObject({ name: "旧手机" });

      const lost = await cloud.app.inject({ method: "POST", url: `${url}/lost`, headers: auth(token) });
      expect(json(lost)).toMatchObject({ lost: true });
      await cloud.app.inject({ method: "POST", url: `${url}/lost`, headers: auth(token) });
      expect(seen).toEqual([phone.deviceId]); // idempotent: the hook ran once

      // A lost phone can still check in, and learns that it is lost.
      const checkin = await cloud.app.inject(
        signed(cloud, phone, {
          method: "POST",
          url: "/api/v1/device/checkin",
          body: { appVersion: "1.0.1" },
        }),
      );
      expect(json(checkin)).toMatchObject({ device: { lost: true } });

      expect((await cloud.app.inject({ method: "DELETE", url, headers: auth(token) })).statusCode).toBe(204);
      expect((await cloud.app.inject({ method: "GET", url, headers: auth(token) })).statusCode).toBe(404);
      const after = await cloud.app.inject(signed(cloud, phone, { method: "GET", url: "/api/v1/device" }));
      expect(after.statusCode).toBe(401);
      expect(json(after).error).toBe("device_removed");

      // The secure element may be bound again (with a new key) once removed.
      expect((await bind(cloud, token, { ...newPhone(), seId: phone.seId })).statusCode).toBe(201);
    });

    it("refuses a second live binding of one secure element, and more devices than the limit", async () => {
      const phone = newPhone();
      await bind(cloud, token, phone);
      const again = await bind(cloud, token, { ...newPhone(), seId: phone.seId });
      expect(again.statusCode).toBe(409);
      expect(json(again).error).toBe("device_already_bound");

      const small = await makeCloud(backend, { policy: { maxDevicesPerAccount: 2 } });
      try {
        const { token: t } = await signIn(small, "13700137000");
        expect((await bind(small, t, newPhone())).statusCode).toBe(201);
        expect((await bind(small, t, newPhone())).statusCode).toBe(201);
        const third = await bind(small, t, newPhone());
        expect(third.statusCode).toBe(409);
        expect(json(third).error).toBe("too_many_devices");
      } finally {
        await small.close();
      }
    });

    it("binds concurrently without exceeding the device limit", async () => {
      const small = await makeCloud(backend, { policy: { maxDevicesPerAccount: 3 } });
      try {
        const { token: t } = await signIn(small, "13700137000");
        const results = await Promise.all(Array.from({ length: 8 }, () => bind(small, t, newPhone())));
        expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
        expect(results.filter((r) => r.statusCode === 409)).toHaveLength(5);
      } finally {
        await small.close();
      }
    });
  });
}
