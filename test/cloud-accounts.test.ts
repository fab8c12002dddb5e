/** Accounts: sign-up / sign-in by mobile number and one-time code, lockout, rate limits, sessions. On SQLite and PostgreSQL. */
import { describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { backends, json, makeCloud, signIn, type TestCloud } from "./cloud-harness.js";

const PHONE = "13800138000";

for (const backend of backends) {
  describe.skipIf(backend.skip)(`accounts on ${backend.name}`, () => {
    let cloud!: TestCloud;
    freshEachTest(
      () => makeCloud(backend),
      (c) => (cloud = c),
    );

    const requestCode = (phone: string, ip = "198.51.100.1") =>
      cloud.app.inject({ method: "POST", url: "/api/v1/auth/code", payload: { phone }, remoteAddress: ip });
    const submit = (phone: string, code: string, ip = "198.51.100.1") =>
      cloud.app.inject({
        method: "POST",
        url: "/api/v1/auth/session",
        payload: { phone, code },
        remoteAddress: ip,
      });
    const wrongCode = (right: string) => String((Number(right) + 1) % 1_000_000).padStart(6, "0");

    it("signs up a new number, then signs the same account in again", async () => {
      const sent = await requestCode(PHONE);
      expect(sent.statusCode).toBe(202);
      expect(json(sent)).toEqual({ expiresInSeconds: 300, resendAfterSeconds: 60 });
      const code = cloud.otp.last(PHONE)!;
      expect(code).toMatch(/^\d{6}$/);

      const first = await submit(PHONE, code);
      expect(first.statusCode).toBe(200);
      const a = json<{ token: string; created: boolean; account: { id: string; phone: string } }>(first);
      expect(a.created).toBe(true);
      expect(a.account.phone).toBe(PHONE);
      expect(a.token).toMatch(/^tws_/);

      // The code is single use.
      expect(json(await submit(PHONE, code)).error).toBe("otp_expired");

      cloud.clock.advance(61_000);
      expect((await requestCode(`+86 138-0013-8000`)).statusCode).toBe(202);
      const second = json<{ created: boolean; account: { id: string } }>(
        await submit(PHONE, cloud.otp.last(PHONE)!),
      );
      expect(second.created).toBe(false);
      expect(second.account.id).toBe(a.account.id);

      const me = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/me",
        headers: { authorization: `Bearer ${a.token}` },
      });
      expect(me.statusCode).toBe(200);
      expect(json(me)).toMatchObject({ id: a.account.id, phone: PHONE });
    });

    it("stores neither the code nor the session token, only their hashes", async () => {
      await requestCode(PHONE);
      const code = cloud.otp.last(PHONE)!;
      const { token } = json<{ token: string }>(await submit(PHONE, code));
      const codes = await cloud.db.db.selectFrom("otp_codes").selectAll().execute();
      const sessions = await cloud.db.db.selectFrom("sessions").selectAll().execute();
      const dump = JSON.stringify([codes, sessions]);
      expect(codes).toHaveLength(1);
      expect(dump).not.toContain(token);
      expect(codes[0]!.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(dump).not.toContain(`"${code}"`);
    });

    it("refuses numbers outside mainland China and malformed codes with reasons", async () => {
      for (const bad of ["12800138000", "1380013800", "85291234567", "+852 9123 4567", "abc"]) {
        const r = await requestCode(bad);
        expect(r.statusCode).toBe(400);
        expect(json(r)).toMatchObject({
          error: "invalid_phone",
          message: { zh: expect.any(String), en: expect.any(String) },
        });
      }
      await requestCode(PHONE);
      const r = await submit(PHONE, "12345");
      expect(r.statusCode).toBe(400);
      expect(json(r).error).toBe("invalid_code_format");
    });

    it("locks the number after five wrong codes, for 15 minutes, even against the right code", async () => {
      await requestCode(PHONE);
      const right = cloud.otp.last(PHONE)!;
      const wrong = wrongCode(right);
      for (let i = 1; i <= 4; i++) {
        const r = await submit(PHONE, wrong);
        expect(r.statusCode).toBe(400);
        expect(json(r)).toMatchObject({ error: "otp_wrong", details: { attemptsRemaining: 5 - i } });
      }
      const fifth = await submit(PHONE, wrong);
      expect(fifth.statusCode).toBe(429);
      expect(json(fifth)).toMatchObject({ error: "otp_locked", details: { retryAfterSeconds: 900 } });
      expect(fifth.headers["retry-after"]).toBe("900");

      // Locked: the right code fails, and no new code is sent.
      expect(json(await submit(PHONE, right)).error).toBe("otp_locked");
      const sentBefore = cloud.otp.sent;
      expect(json(await requestCode(PHONE)).error).toBe("otp_locked");
      expect(cloud.otp.sent).toBe(sentBefore);

      // Another number is unaffected.
      expect((await requestCode("13900139000")).statusCode).toBe(202);

      cloud.clock.advance(15 * 60_000 + 1);
      expect((await requestCode(PHONE)).statusCode).toBe(202);
      const r = await submit(PHONE, cloud.otp.last(PHONE)!);
      expect(r.statusCode).toBe(200);
    });

    it("counts wrong codes across re-sent codes (a new code does not reset the count)", async () => {
      await requestCode(PHONE);
      for (let i = 0; i < 3; i++) await submit(PHONE, wrongCode(cloud.otp.last(PHONE)!));
      cloud.clock.advance(61_000);
      await requestCode(PHONE);
      const code = cloud.otp.last(PHONE)!;
      expect(json(await submit(PHONE, wrongCode(code)))).toMatchObject({ details: { attemptsRemaining: 1 } });
      expect(json(await submit(PHONE, wrongCode(code))).error).toBe("otp_locked");
    });

    it("expires a code after five minutes and refuses a resend within a minute", async () => {
      await requestCode(PHONE);
      const code = cloud.otp.last(PHONE)!;
      const again = await requestCode(PHONE);
      expect(again.statusCode).toBe(429);
      expect(json(again).error).toBe("otp_resend_too_soon");
      cloud.clock.advance(5 * 60_000);
      const r = await submit(PHONE, code);
      expect(r.statusCode).toBe(400);
      expect(json(r).error).toBe("otp_expired");
    });

    it("rate-limits code requests per client IP, in the database", async () => {
      const limit = 30;
      for (let i = 0; i < limit; i++) {
        const phone = `139${String(i).padStart(8, "0")}`;
        expect((await requestCode(phone, "203.0.113.9")).statusCode).toBe(202);
      }
      const over = await requestCode("13700000000", "203.0.113.9");
      expect(over.statusCode).toBe(429);
      expect(json(over).error).toBe("rate_limited");
      // Another IP is still served; the counters live in the database.
      expect((await requestCode("13700000000", "203.0.113.10")).statusCode).toBe(202);
      const rows = await cloud.db.db
        .selectFrom("rate_limit_windows")
        .selectAll()
        .where("bucket", "=", "otp-ip:203.0.113.9")
        .execute();
      expect(rows[0]!.hits).toBe(limit + 1);
    });

    it("expires sessions, and revokes them on sign-out", async () => {
      const { token } = await signIn(cloud, PHONE);
      const me = () =>
        cloud.app.inject({ method: "GET", url: "/api/v1/me", headers: { authorization: `Bearer ${token}` } });
      expect((await me()).statusCode).toBe(200);
      cloud.clock.advance(30 * 24 * 3600_000);
      const expired = await me();
      expect(expired.statusCode).toBe(401);
      expect(json(expired).error).toBe("session_expired");

      cloud.clock.advance(61_000);
      const second = await signIn(cloud, PHONE);
      const out = await cloud.app.inject({
        method: "DELETE",
        url: "/api/v1/auth/session",
        headers: { authorization: `Bearer ${second.token}` },
      });
      expect(out.statusCode).toBe(204);
      const after = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/me",
        headers: { authorization: `Bearer ${second.token}` },
      });
      expect(after.statusCode).toBe(401);
      expect(json(after).error).toBe("session_invalid");
    });

    it("refuses missing and forged tokens", async () => {
      const none = await cloud.app.inject({ method: "GET", url: "/api/v1/me" });
      expect(none.statusCode).toBe(401);
      expect(json(none).error).toBe("unauthenticated");
      const forged = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/me",
        headers: { authorization: `Bearer tws_${"A".repeat(43)}` },
      });
      expect(forged.statusCode).toBe(401);
      expect(json(forged).error).toBe("session_invalid");
    });
  });
}
