/**
 * The phone and terminal simulator (src/sim) served beside a real cloud, on SQLite and PostgreSQL: phones
 * made and registered with a user's session, cards put on them through the TSM, and the terminals they are
 * held to — a POS authorising online through the issuer endpoint, gates whose records are cleared at once,
 * a door reader in both modes — each answering its decoded timeline and air time. Refusals (the cloud's and
 * the phone's own) keep their codes and both languages; another account's phone is a 404.
 */
import { join } from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { describe, expect, it } from "vitest";
import { fromHex } from "../src/core/bytes.js";
import { blankCard } from "../src/mifare/card.js";
import { exportDump } from "../src/mifare/formats/index.js";
import { backends, signIn } from "./cloud-harness.js";
import { ALL_CARDS, card } from "./cloud-tsp-harness.js";
import { freshEachTest } from "./each-test.js";
import { type SimCloud, startSimCloud } from "./sim-harness.js";

/** A debit card with room for a payment above the ¥1000 no-CVM ceiling. */
const RICH = { ...card("622202", 900, "debit", "13900139900", "ICBC"), available: 5_000_00 };

type Json = Record<string, unknown> & { [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the phone and terminal simulator on ${backend.name}`, () => {
    let cloud!: SimCloud;
    freshEachTest(
      () => startSimCloud(backend, [...ALL_CARDS, RICH], "sim"),
      (c) => (cloud = c),
    );

    const call = async (
      token: string,
      method: "GET" | "POST" | "DELETE" | "PATCH",
      url: string,
      payload?: unknown,
    ): Promise<{ status: number; body: Json }> => {
      const r: LightMyRequestResponse = await cloud.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return { status: r.statusCode, body: r.body === "" ? {} : (r.json() as Json) };
    };
    const sim = (token: string, method: "GET" | "POST" | "DELETE", path: string, payload?: unknown) =>
      call(token, method, `/sim/v1${path}`, payload ?? (method === "POST" ? {} : undefined));
    const api = (
      token: string,
      method: "GET" | "POST" | "DELETE" | "PATCH",
      path: string,
      payload?: unknown,
    ) => call(token, method, `/api/v1${path}`, payload);

    async function phoneFor(mobile: string, model = "小米9") {
      const { token } = await signIn(cloud, mobile);
      const made = await sim(token, "POST", "/phones", { model, region: "CN", name: "测试手机" });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      return { token, phone: made.body as Json };
    }

    it("makes phones registered with the account, refuses what the cloud refuses, and hides them from others", async () => {
      const { token, phone } = await phoneFor("13800138101");
      expect(phone).toMatchObject({
        name: "测试手机",
        region: "CN",
        locked: false,
        cards: [],
        fieldMode: "iso-dep",
      });
      expect(phone["model"]).toMatchObject({ code: "cepheus", supported: true });
      const devices = await api(token, "GET", "/devices");
      expect(devices.body["devices"].map((d: Json) => d["id"])).toEqual([phone["deviceId"]]);
      expect(devices.body["devices"][0]["seId"]).toBe(phone["seId"]);
      // The phone keeps its own key, never the user's session.
      const { readFileSync } = await import("node:fs");
      const file = readFileSync(join(cloud.dataDir, "phones", phone["id"], "phone.json"), "utf8");
      expect(file).not.toContain(token);
      expect(JSON.parse(file).cloud.session).toBeNull();

      const ginkgo = await sim(token, "POST", "/phones", { model: "ginkgo", region: "CN" });
      expect(ginkgo.status).toBe(403);
      expect(ginkgo.body).toMatchObject({ error: "unsupported_model" });
      expect(ginkgo.body["message"]["zh"]).toContain("ginkgo");
      const hk = await sim(token, "POST", "/phones", { model: "小米6", region: "HK" });
      expect(hk.status).toBe(403);
      expect(hk.body["error"]).toBe("region_not_supported");
      expect(hk.body["message"]["en"]).toContain("Hong Kong");
      expect((await sim(token, "GET", "/phones")).body["phones"]).toHaveLength(1);

      const other = await signIn(cloud, "13800138102");
      expect((await sim(other.token, "GET", `/phones/${phone["id"]}`)).status).toBe(404);
      expect((await sim(other.token, "POST", `/phones/${phone["id"]}/sync`)).status).toBe(404);
      expect((await sim(other.token, "GET", "/phones")).body["phones"]).toEqual([]);
      expect((await sim("tws_not-a-token", "GET", "/phones")).status).toBe(401);
      expect((await sim(token, "GET", "/no-such-thing")).status).toBe(404);

      expect((await sim(token, "DELETE", `/phones/${phone["id"]}`)).status).toBe(204);
      expect((await api(token, "GET", "/devices")).body["devices"]).toEqual([]);
    });

    it("adds a bank card with the bank's code and pays at the simulated POS online, with its timeline and air time", async () => {
      const { token, phone } = await phoneFor("13800138111");
      const c = RICH;
      const started = await api(token, "POST", "/bank-cards", {
        deviceId: phone["deviceId"],
        cardNumber: c.pan,
        expiry: "12/30",
        termsVersion: (await api(token, "GET", "/bank-cards/terms")).body["version"],
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const code = cloud.bankOtp.last(c.reservedPhone)!;
      const added = await api(token, "POST", `/bank-cards/enrolments/${started.body["id"]}`, { code });
      expect(added.status).toBe(201);
      const synced = await sim(token, "POST", `/phones/${phone["id"]}/sync`);
      expect(synced.status).toBe(200);
      expect(
        synced.body["sync"]["scripts"].some((s: Json) => s["owner"] === "tsp" && s["state"] === "done"),
      ).toBe(true);
      expect(synced.body["phone"]["cards"].filter((x: Json) => x["category"] === "payment")).toHaveLength(1);

      const paid = await sim(token, "POST", `/phones/${phone["id"]}/taps`, {
        terminal: { kind: "pos", amount: 1234 },
      });
      expect(paid.status, JSON.stringify(paid.body)).toBe(200);
      const r = paid.body;
      expect(r).toMatchObject({ ok: true, code: "approved", terminal: { kind: "pos" } });
      expect(r["details"]["issuer"]).toMatchObject({ responseCode: "00", approved: true });
      expect(r["details"]["receipt"].join("\n")).toContain("签购单");
      expect(r["onlineMs"]).toBeGreaterThan(0);
      expect(r["softwareMs"]).toBeGreaterThan(0);
      const names = r["timeline"]["steps"].map((s: Json) => s["command"]["name"]["en"]);
      expect(names[0]).toMatch(/SELECT/);
      expect(names).toContain("GET PROCESSING OPTIONS");
      const [slow, fast] = r["timeline"]["air"];
      expect(slow).toMatchObject({ bitRate: 106 });
      expect(fast).toMatchObject({ bitRate: 848 });
      expect(slow["totalUs"]).toBeGreaterThan(fast["totalUs"]);
      expect(slow["activationUs"]).toBeGreaterThan(0);
      // The second payment has its own trace number: a new payment, not a replay of the first.
      const again = await sim(token, "POST", `/phones/${phone["id"]}/taps`, {
        terminal: { kind: "pos", amount: 500 },
      });
      expect(again.body["ok"]).toBe(true);
      expect(again.body["details"]["stan"]).not.toBe(r["details"]["stan"]);
      const events = await api(token, "GET", "/notifications?after=0&limit=100");
      expect(events.body["events"].filter((e: Json) => e["type"] === "bank_card.payment")).toHaveLength(2);
      // No answer of the cloud or the simulator carries the funding card's number.
      expect(cloud.responses.some((b) => b.includes(c.pan))).toBe(false);

      // The default card through the cloud, then synced to the SE; a large amount needs the user's verification.
      const cardId = added.body["id"];
      const dflt = await sim(token, "POST", `/phones/${phone["id"]}/default`, { bankCardId: cardId });
      expect(dflt.status).toBe(200);
      expect(
        dflt.body["phone"]["cards"].find((x: Json) => x["category"] === "payment")["defaultPayment"],
      ).toBe(true);
      const big = await sim(token, "POST", `/phones/${phone["id"]}/taps`, {
        terminal: { kind: "pos", amount: 150000 },
      });
      expect(big.body["ok"]).toBe(false);
      await sim(token, "POST", `/phones/${phone["id"]}/verify`, { method: "fingerprint" });
      const verified = await sim(token, "POST", `/phones/${phone["id"]}/taps`, {
        terminal: { kind: "pos", amount: 150000 },
      });
      expect(verified.body).toMatchObject({ ok: true, details: { cvm: "cdcvm" } });
    });

    it("opens a T-Union card, tops it up, rides gates and a bus whose records clear at once; refuses a second T-Union card and a closed product", async () => {
      const { token, phone } = await phoneFor("13800138121");
      const p = `/phones/${phone["id"]}`;
      const opened = await sim(token, "POST", `${p}/transit/cards`, {
        productId: "tu-jingjinji",
        firstTopUp: 5000,
        channel: "wechat",
      });
      expect(opened.status, JSON.stringify(opened.body)).toBe(201);
      expect(opened.body).toMatchObject({ state: "active", balance: 5000 });
      const cardId = opened.body["id"];

      const second = await sim(token, "POST", `${p}/transit/cards`, {
        productId: "tu-shengjingtong",
        firstTopUp: 5000,
        channel: "wechat",
      });
      expect(second.status).toBe(409);
      expect(second.body["error"]).toBe("t_union_limit");
      expect(second.body["message"]["zh"]).toContain("每台设备仅能存在一张交通联合卡");
      const closed = await sim(token, "POST", `${p}/transit/cards`, {
        productId: "beijing-yikatong",
        firstTopUp: 5000,
        channel: "wechat",
      });
      expect(closed.status).toBe(409);
      expect(closed.body["error"]).toBe("product_closed");
      expect(closed.body["message"]["zh"]).toContain("京津冀互联互通卡");

      const top = await sim(token, "POST", `${p}/transit/cards/${cardId}/topups`, {
        amount: 2000,
        channel: "alipay",
      });
      expect(top.status, JSON.stringify(top.body)).toBe(200);
      expect(top.body["state"]).toBe("completed");

      const entry = await sim(token, "POST", `${p}/taps`, {
        terminal: { kind: "gate", direction: "entry", station: "0101" },
      });
      expect(entry.body, JSON.stringify(entry.body)).toMatchObject({ ok: true, code: "metro-entry" });
      expect(entry.body["clearing"]).toMatchObject({ sent: true });
      cloud.clock.advance(25 * 60_000);
      const exit = await sim(token, "POST", `${p}/taps`, {
        terminal: { kind: "gate", direction: "exit", station: "0116" },
      });
      expect(exit.body).toMatchObject({ ok: true, code: "metro-exit", clearing: { sent: true, cleared: 1 } });
      const fare = exit.body["details"]["amount"];
      expect(fare).toBeGreaterThan(0);
      expect(exit.body["message"]["en"]).toContain("exit");
      expect(
        exit.body["timeline"]["steps"].some((s: Json) => /PURCHASE/i.test(s["command"]["name"]["en"])),
      ).toBe(true);
      const bus = await sim(token, "POST", `${p}/taps`, { terminal: { kind: "bus" } });
      expect(bus.body).toMatchObject({ ok: true, code: "bus", details: { amount: 200 } });
      // A validator whose clock says another day (as `tapwallet gate --at`): the ride is dated then.
      // (Not before the card was opened: a card refuses to ride before its validity starts.)
      const earlier = await sim(token, "POST", `${p}/taps`, {
        terminal: { kind: "bus", at: "2026-04-10T02:00:00Z" },
      });
      expect(earlier.body, JSON.stringify(earlier.body.message)).toMatchObject({
        ok: true,
        at: "2026-04-10T02:00:00.000Z",
        clearing: { cleared: 1 },
      });

      const card = await api(token, "GET", `/transit/cards/${cardId}`);
      expect(card.body["balance"]).toBe(7000 - fare - 400);
      const trips = await api(token, "GET", `/transit/cards/${cardId}/transactions`);
      const kinds = trips.body["transactions"].map((t: Json) => t["kind"]);
      expect(kinds).toEqual(expect.arrayContaining(["open", "load", "entry", "purchase"]));
      expect(trips.body["transactions"].some((t: Json) => t["time"] === "2026-04-10T02:00:00.000Z")).toBe(
        true,
      );

      const unknownStation = await sim(token, "POST", `${p}/taps`, {
        terminal: { kind: "gate", direction: "entry", station: "9999" },
      });
      expect(unknownStation.status).toBe(400);

      // The express card answers a locked phone; nothing else does.
      const express = await sim(token, "POST", `${p}/express`, { aid: opened.body["aid"] });
      expect(
        express.body["phone"]["cards"].find((x: Json) => x["aid"] === opened.body["aid"])["expressTransit"],
      ).toBe(true);
      await sim(token, "POST", `${p}/lock`);
      const locked = await sim(token, "POST", `${p}/taps`, {
        terminal: { kind: "gate", direction: "entry", station: "0105" },
      });
      expect(locked.body["ok"]).toBe(true);
    });

    it("checks door dumps, reads a sample fob, and opens the simulated door in UID and sector mode", async () => {
      const { token, phone } = await phoneFor("13800138131");
      const p = `/phones/${phone["id"]}`;
      const dump = exportDump(blankCard({ type: "1k", uid: fromHex("5A17E3C0") }), "eml");
      if (!dump.ok) throw new Error(dump.error.en);
      const b64 = Buffer.from(dump.value.bytes).toString("base64");
      const verdict = await sim(token, "POST", "/door-cards/inspect", { dump: b64, fileName: "card.eml" });
      expect(verdict.body).toMatchObject({
        format: "eml",
        type: "1k",
        uid: "5A17E3C0",
        emulatable: true,
        reasons: [],
      });
      expect(JSON.stringify(verdict.body)).not.toContain("FFFFFFFFFFFF");
      const garbage = await sim(token, "POST", "/door-cards/inspect", {
        dump: Buffer.from("not a dump").toString("base64"),
        fileName: "x.nfc",
      });
      expect(garbage.status).toBe(400);

      const read = await sim(token, "POST", "/reader/door-cards", { sample: "encrypted" });
      expect(read.status).toBe(200);
      expect(read.body["inspection"]["emulatable"]).toBe(false);
      expect(read.body["inspection"]["reasons"].some((r: Json) => r["sector"] === 3)).toBe(true);
      expect(read.body["timeline"]["steps"][0]["name"]["en"]).toMatch(/^(REQA|WUPA)$/);
      expect(read.body["timeline"]["air"][0]["totalUs"]).toBeGreaterThan(1000);
      const refused = await api(token, "POST", "/access/cards", {
        dump: read.body["dump"],
        fileName: read.body["fileName"],
      });
      expect(refused.status).toBe(403);

      const up = await api(token, "POST", "/access/cards", {
        dump: b64,
        fileName: "card.eml",
        name: "单元门",
      });
      expect(up.status).toBe(201);
      const inst = await api(token, "POST", `/access/cards/${up.body["id"]}/install`, {
        deviceId: phone["deviceId"],
        activate: true,
      });
      expect(inst.status, JSON.stringify(inst.body)).toBeLessThan(300);
      const synced = await sim(token, "POST", `${p}/sync`);
      expect(synced.body["phone"]).toMatchObject({ fieldMode: "door", activeDoorUid: "5A17E3C0" });

      const shut = await sim(token, "POST", `${p}/taps`, { terminal: { kind: "door", mode: "uid" } });
      expect(shut.body).toMatchObject({ ok: false, code: "uid_not_enrolled" });
      const enrol = await sim(token, "POST", `${p}/taps`, {
        terminal: { kind: "door", mode: "uid", enrol: true },
      });
      expect(enrol.body).toMatchObject({ ok: true, code: "enrolled" });
      const open = await sim(token, "POST", `${p}/taps`, { terminal: { kind: "door", mode: "uid" } });
      expect(open.body).toMatchObject({ ok: true, code: "granted", details: { uid: "5A17E3C0" } });
      expect(open.body["timeline"]["kind"]).toBe("frames");
      await sim(token, "POST", `${p}/taps`, { terminal: { kind: "door", mode: "sector", enrol: true } });
      const sector = await sim(token, "POST", `${p}/taps`, { terminal: { kind: "door", mode: "sector" } });
      expect(sector.body).toMatchObject({ ok: true, code: "granted" });
      expect(sector.body["timeline"]["steps"].some((s: Json) => s["encrypted"])).toBe(true);
      expect((await sim(token, "GET", "/door-reader")).body).toEqual({ uids: 1, credentials: 1 });

      await sim(token, "POST", `${p}/lock`);
      const locked = await sim(token, "POST", `${p}/taps`, { terminal: { kind: "door", mode: "uid" } });
      expect(locked.body).toMatchObject({ ok: false, code: "no_card" });
      expect((await sim(token, "DELETE", "/door-reader")).status).toBe(204);
    });

    it("reports a phone lost: the cloud suspends it and the phone wipes its cards at once", async () => {
      const { token, phone } = await phoneFor("13800138141");
      const p = `/phones/${phone["id"]}`;
      const opened = await sim(token, "POST", `${p}/transit/cards`, {
        productId: "tu-jingjinji",
        firstTopUp: 1000,
        channel: "wechat",
      });
      expect(opened.status).toBe(201);
      const lost = await sim(token, "POST", `${p}/lost`);
      expect(lost.status, JSON.stringify(lost.body)).toBe(200);
      expect(lost.body["sync"]["lost"]).toBe(true);
      expect(lost.body["phone"]["lastSync"]).toMatchObject({ lost: true });
      expect(lost.body["phone"]["cards"]).toEqual([]);
      expect((await api(token, "GET", "/devices")).body["devices"][0]["lost"]).toBe(true);
    });

    it("moves a transit card to the account's second phone, and refunds it there", async () => {
      const { token, phone } = await phoneFor("13800138151");
      const second = await sim(token, "POST", "/phones", { model: "小米8", region: "CN", name: "新手机" });
      expect(second.status).toBe(201);
      const opened = await sim(token, "POST", `/phones/${phone["id"]}/transit/cards`, {
        productId: "tu-jingjinji",
        firstTopUp: 3000,
        channel: "wechat",
      });
      const moved = await sim(
        token,
        "POST",
        `/phones/${phone["id"]}/transit/cards/${opened.body["id"]}/transfer`,
        {
          targetPhoneId: second.body["id"],
        },
      );
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.body).toMatchObject({ kind: "transfer", state: "done" });
      const onNew = await sim(token, "GET", `/phones/${second.body["id"]}`);
      expect(onNew.body["cards"].filter((c: Json) => c["category"] === "transit")).toHaveLength(1);
      const onOld = await sim(token, "GET", `/phones/${phone["id"]}`);
      expect(onOld.body["cards"].filter((c: Json) => c["category"] === "transit")).toHaveLength(0);

      const card = await api(token, "GET", `/transit/cards/${opened.body["id"]}`);
      const refunded = await sim(
        token,
        "POST",
        `/phones/${second.body["id"]}/transit/cards/${card.body["id"]}/refund`,
      );
      expect(refunded.status, JSON.stringify(refunded.body)).toBe(200);
      expect(refunded.body).toMatchObject({ kind: "refund", state: "done", refund: { balance: 3000 } });
      const same = await sim(
        token,
        "POST",
        `/phones/${phone["id"]}/transit/cards/${opened.body["id"]}/transfer`,
        {
          targetPhoneId: phone["id"],
        },
      );
      expect(same.status).toBe(409);
    });
  });
}
