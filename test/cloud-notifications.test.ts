/**
 * Notifications: events per account with a cursor, the server-sent-events stream (new events pushed,
 * resumption with Last-Event-ID, served by any instance, closed when the session ends), one account
 * never seeing another's events. On SQLite and PostgreSQL.
 */
import { get } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildServer } from "../src/cloud/http/server.js";
import { MemoryOtpSender } from "../src/cloud/accounts/otp-sender.js";
import {
  backends,
  bind,
  json,
  makeCloud,
  newPhone,
  signed,
  signIn,
  TEST_PEPPER,
  type TestCloud,
} from "./cloud-harness.js";

const fastPolicy = { notificationPollMs: 20, notificationRecheckMs: 50, notificationHeartbeatMs: 100 };

interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: boolean;
}

interface Stream {
  status: number;
  contentType: string;
  /** Reads until `until` holds for the frames so far, or the server ends the stream. */
  read(
    until: (frames: SseFrame[]) => boolean,
    timeoutMs?: number,
  ): Promise<{ frames: SseFrame[]; ended: boolean }>;
  close(): void;
}

/** A minimal SSE client on its own connection (no pooling, so closing it closes the socket). */
function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, agent: false }, (res) => {
      res.setEncoding("utf8");
      const frames: SseFrame[] = [];
      let buffer = "";
      let ended = false;
      let notify = () => {};
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const frame: SseFrame = {};
          for (const line of buffer.slice(0, cut).split("\n")) {
            if (line.startsWith(":")) frame.comment = true;
            const m = /^(id|event|data): (.*)$/.exec(line);
            if (m) frame[m[1] as "id" | "event" | "data"] = m[2];
          }
          buffer = buffer.slice(cut + 2);
          frames.push(frame);
        }
        notify();
      });
      res.on("end", () => {
        ended = true;
        notify();
      });
      resolve({
        status: res.statusCode ?? 0,
        contentType: String(res.headers["content-type"] ?? ""),
        read: (until, timeoutMs = 10_000) =>
          new Promise((done, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`timed out; frames: ${JSON.stringify(frames)}`)),
              timeoutMs,
            );
            notify = () => {
              if (ended || until(frames)) {
                clearTimeout(timer);
                done({ frames: [...frames], ended });
              }
            };
            notify();
          }),
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
  });
}

const events = (frames: SseFrame[]) => frames.filter((f) => f.event);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`notifications on ${backend.name}`, () => {
    let cloud: TestCloud;
    let base: string;
    beforeEach(async () => {
      cloud = await makeCloud(backend, { policy: fastPolicy });
      base = await cloud.app.listen({ port: 0, host: "127.0.0.1" });
    });
    afterEach(async () => {
      await cloud.close();
    });

    it("lists an account's own events after a cursor, and nobody else's", async () => {
      const a = await signIn(cloud, "13800138000");
      await bind(cloud, a.token, newPhone());
      cloud.clock.advance(61_000);
      const b = await signIn(cloud, "13900139000");
      await cloud.app.cloud.notifications.publish(b.accountId, "test.secret", { for: "b" });

      const list = (token: string, q = "") =>
        cloud.app.inject({
          method: "GET",
          url: `/api/v1/notifications${q}`,
          headers: { authorization: `Bearer ${token}` },
        });
      const page = json<{ events: { seq: number; type: string }[]; cursor: number }>(await list(a.token));
      expect(page.events.map((e) => [e.seq, e.type])).toEqual([
        [1, "account.created"],
        [2, "device.bound"],
      ]);
      expect(page.cursor).toBe(2);
      const next = json<{ events: unknown[]; cursor: number }>(await list(a.token, "?after=1&limit=1"));
      expect(next).toMatchObject({ events: [{ seq: 2, type: "device.bound" }], cursor: 2 });
      expect(json<{ events: unknown[]; cursor: number }>(await list(a.token, "?after=2"))).toEqual({
        events: [],
        cursor: 2,
      });

      const theirs = json<{ events: { type: string }[] }>(await list(b.token));
      expect(theirs.events.map((e) => e.type)).toEqual(["account.created", "test.secret"]);
    });

    it("lets a bound phone read its account's events with a signed request", async () => {
      const a = await signIn(cloud, "13800138000");
      const phone = newPhone();
      await bind(cloud, a.token, phone);
      const r = await cloud.app.inject(
        signed(cloud, phone, { method: "GET", url: "/api/v1/notifications?after=0" }),
      );
      expect(r.statusCode).toBe(200);
      expect(json<{ events: { type: string }[] }>(r).events.map((e) => e.type)).toEqual([
        "account.created",
        "device.bound",
      ]);
    });

    it("streams new events as they are published, and resumes after Last-Event-ID", async () => {
      const a = await signIn(cloud, "13800138000");
      const auth = { authorization: `Bearer ${a.token}` };
      const stream = await openStream(`${base}/api/v1/notifications/stream`, auth);
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain("text/event-stream");

      // Published after the stream opened (the stream starts at the latest event, 1).
      setTimeout(() => {
        void cloud.app.cloud.notifications
          .publish(a.accountId, "card.added", { card: "T-Union" })
          .then(() =>
            cloud.app.cloud.notifications.publish(a.accountId, "card.topped_up", { amountFen: 5000 }),
          );
      }, 60);
      const { frames } = await stream.read((f) => events(f).length >= 2);
      stream.close();
      expect(events(frames).map((f) => [f.id, f.event])).toEqual([
        ["2", "card.added"],
        ["3", "card.topped_up"],
      ]);
      expect(JSON.parse(events(frames)[1]!.data!)).toMatchObject({
        seq: 3,
        type: "card.topped_up",
        payload: { amountFen: 5000 },
      });

      // A reconnect with Last-Event-ID gets exactly what came after it, from a second server instance.
      const twin = await buildServer({
        db: cloud.db,
        clock: cloud.clock,
        otpSender: new MemoryOtpSender(),
        otpPepper: TEST_PEPPER,
        policy: fastPolicy,
        janitor: false,
      });
      try {
        const twinBase = await twin.listen({ port: 0, host: "127.0.0.1" });
        const again = await openStream(`${twinBase}/api/v1/notifications/stream`, {
          ...auth,
          "last-event-id": "2",
        });
        const resumed = await again.read((f) => events(f).length >= 1);
        expect(events(resumed.frames).map((f) => [f.id, f.event])).toEqual([["3", "card.topped_up"]]);
        const fromStart = await openStream(`${twinBase}/api/v1/notifications/stream?after=0`, auth);
        const all = await fromStart.read((f) => events(f).length >= 3);
        expect(events(all.frames).map((f) => f.id)).toEqual(["1", "2", "3"]);
        // Left open on purpose: closing the server ends its streams.
      } finally {
        await twin.close();
      }
    });

    it("sends keep-alive comments on an idle stream and ends it when the session is revoked", async () => {
      const a = await signIn(cloud, "13800138000");
      const auth = { authorization: `Bearer ${a.token}` };
      const idle = await openStream(`${base}/api/v1/notifications/stream`, auth);
      const quiet = await idle.read((f) => f.some((x) => x.comment), 5_000);
      expect(quiet.frames.some((f) => f.comment)).toBe(true);
      expect(quiet.ended).toBe(false);

      await cloud.app.inject({ method: "DELETE", url: "/api/v1/auth/session", headers: auth });
      const after = await idle.read(() => false, 5_000);
      expect(after.ended).toBe(true);
    });

    it("refuses a stream without a valid session or signature", async () => {
      const res = await fetch(`${base}/api/v1/notifications/stream`, { headers: { connection: "close" } });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthenticated" });
    });
  });
}
