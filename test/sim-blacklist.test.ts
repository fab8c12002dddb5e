/**
 * The simulator's gates load the issuer's blacklist from the cloud before each tap (src/sim/gate-blacklist.ts),
 * on SQLite and PostgreSQL: a phone removed from its account keeps its transit card on its SE, but the card
 * was parked in the cloud, so the next gate refuses it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backends, bearer, signIn } from "./cloud-harness.js";
import { ALL_CARDS } from "./cloud-tsp-harness.js";
import { freshEachTest } from "./each-test.js";
import { type SimCloud, startSimCloud } from "./sim-harness.js";

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the simulator's gates and the blacklist on ${backend.name}`, () => {
    let cloud!: SimCloud;
    freshEachTest(
      () => startSimCloud(backend, ALL_CARDS, "sim-bl"),
      (c) => (cloud = c),
    );

    const call = async (token: string, method: "GET" | "POST" | "DELETE", url: string, payload?: unknown) => {
      const r = await cloud.app.inject({
        method,
        url,
        headers: bearer(token),
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: r.statusCode, body: (r.body === "" ? {} : r.json()) as Record<string, any> };
    };

    it("a removed phone's card, parked in the cloud, is refused at the next gate", async () => {
      const { token } = await signIn(cloud, "13800138301");
      const made = await call(token, "POST", "/sim/v1/phones", {
        model: "小米9",
        region: "CN",
        name: "旧手机",
      });
      expect(made.status).toBe(201);
      const p = `/sim/v1/phones/${made.body["id"]}`;
      const opened = await call(token, "POST", `${p}/transit/cards`, {
        productId: "tu-jingjinji",
        firstTopUp: 3000,
        channel: "wechat",
      });
      expect(opened.status, JSON.stringify(opened.body)).toBe(201);
      const entry = { terminal: { kind: "gate", direction: "entry", station: "0101" } };
      const before = await call(token, "POST", `${p}/taps`, entry);
      expect(before.body).toMatchObject({ ok: true, details: { blacklist: { cards: 0, fresh: true } } });

      // The phone is removed from the account in the cloud (not through the simulator): its SE keeps the card.
      const removed = await call(token, "DELETE", `/api/v1/devices/${made.body["deviceId"]}`);
      expect(removed.status).toBe(204);
      const after = await call(token, "POST", `${p}/taps`, entry);
      expect(after.body).toMatchObject({
        ok: false,
        code: "blacklisted",
        details: {
          reason: "blacklisted",
          cardNumber: opened.body["cardNumber"],
          blacklist: { cards: 1, fresh: true },
        },
      });
      // The gates keep the copy on disk, at the version they fetched.
      const copy = JSON.parse(readFileSync(join(cloud.dataDir, "terminals", "blacklist.json"), "utf8"));
      expect(copy.products["tu-jingjinji"]).toMatchObject({ version: 1, cards: [opened.body["cardNumber"]] });
    });
  });
}
