/**
 * Door cards in the cloud, on SQLite and PostgreSQL: uploads checked (a card with a non-default key is
 * refused naming its sector, in zh-CN and English; broken files get a clear error), images sealed at rest
 * and never returned, the per-device limit, one account never touching another's door cards (404), a card
 * deleted from the account leaving every phone at its next sync, and arbitrary uploads never failing the
 * server.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { addDoorCard } from "../src/device/index.js";
import { MAX_DOOR_CARDS } from "../src/mifare/phone.js";
import { backends } from "./cloud-harness.js";
import {
  type LiveCloud,
  type TestPhone,
  doorDump,
  phoneOn,
  removeStateDirs,
  signedInHeaders,
  startCloud,
} from "./device-harness.js";

afterAll(removeStateDirs);

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures/mifare", name));

for (const backend of backends) {
  describe.skipIf(backend.skip)(`door cards in the cloud on ${backend.name}`, () => {
    let cloud!: LiveCloud;
    freshEachTest(
      () => startCloud(backend),
      (c) => (cloud = c),
    );

    const upload = (p: TestPhone, body: Record<string, unknown>) =>
      cloud.app.inject({
        method: "POST",
        url: "/api/v1/access/cards",
        headers: signedInHeaders(p),
        payload: body,
      });
    const install = (p: TestPhone, cardId: string, deviceId = p.phone.cloud!.deviceId!) =>
      cloud.app.inject({
        method: "POST",
        url: `/api/v1/access/cards/${cardId}/install`,
        headers: signedInHeaders(p),
        payload: { deviceId },
      });

    it("refuses a card with a non-default key, naming the sector in both languages (cloud and phone alike)", async () => {
      const p = await phoneOn(cloud, "13900139000");
      const r = await upload(p, {
        dump: fixture("encrypted-sector3.json").toString("base64"),
        fileName: "card.json",
      });
      expect(r.statusCode).toBe(403);
      const body = r.json();
      expect(body.error).toBe("door_card_not_emulatable");
      expect(body.message.zh).toContain("扇区 3");
      expect(body.message.en).toContain("sector 3");
      expect(body.details.reasons).toMatchObject([{ code: "key_not_default", sector: 3 }]);
      // The phone checks first and says the same before anything is sent.
      await expect(
        addDoorCard(p.wallet, { bytes: fixture("encrypted-sector3.json"), fileName: "card.json" }),
      ).rejects.toMatchObject({ code: "not_emulatable", details: { reasons: [{ sector: 3 }] } });
      const list = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/access/cards",
        headers: signedInHeaders(p),
      });
      expect(list.json().cards).toEqual([]);
    });

    it("gives a clear error for truncated, garbage, bad-BCC and non-base64 uploads", async () => {
      const p = await phoneOn(cloud, "13900139001", { register: false });
      const cases: [string, number, string][] = [
        ["bad-truncated.bin", 400, "dump_truncated"],
        ["bad-garbage.json", 400, "dump_bad_json"],
      ];
      for (const [file, status, code] of cases) {
        const r = await upload(p, { dump: fixture(file).toString("base64"), fileName: file });
        expect([r.statusCode, r.json().error], file).toEqual([status, code]);
        expect(r.json().message.zh.length).toBeGreaterThan(0);
        expect(r.json().message.en.length).toBeGreaterThan(0);
      }
      const bcc = await upload(p, {
        dump: fixture("bad-bcc.eml").toString("base64"),
        fileName: "bad-bcc.eml",
      });
      expect(bcc.statusCode).toBeGreaterThanOrEqual(400);
      expect(bcc.statusCode).toBeLessThan(500);
      expect(JSON.stringify(bcc.json())).toMatch(/BCC/);
      const notB64 = await upload(p, { dump: "@@not base64@@" });
      expect([notB64.statusCode, notB64.json().error]).toEqual([400, "dump_not_base64"]);
    });

    it("keeps the image sealed and never returns keys or sectors", async () => {
      const p = await phoneOn(cloud, "13900139002");
      const dump = doorDump("0A0B0C0D", "json");
      const r = await upload(p, {
        dump: Buffer.from(dump.bytes).toString("base64"),
        fileName: dump.fileName,
        name: "公司门禁",
      });
      expect(r.statusCode).toBe(201);
      expect(r.json()).toMatchObject({
        name: "公司门禁",
        uid: "0A0B0C0D",
        type: "1k",
        sak: "08",
        atqa: "0004",
        format: "json",
      });
      for (const url of ["/api/v1/access/cards", `/api/v1/access/cards/${r.json().id}`]) {
        const body = (await cloud.app.inject({ method: "GET", url, headers: signedInHeaders(p) })).body;
        expect(body).not.toMatch(/FFFFFFFFFFFF|FF0780|blocks/i);
      }
      const row = await cloud.db.db
        .selectFrom("access_cards")
        .select("image_sealed")
        .executeTakeFirstOrThrow();
      expect(row.image_sealed.startsWith("tw1.")).toBe(true);
      expect(row.image_sealed).not.toMatch(/FFFFFFFFFFFF|0A0B0C0D/i);
    });

    it(`holds at most ${MAX_DOOR_CARDS} door cards per phone; the ninth is refused`, async () => {
      const p = await phoneOn(cloud, "13900139003");
      const ids: string[] = [];
      for (let i = 0; i <= MAX_DOOR_CARDS; i++) {
        const dump = doorDump(`1${i}00AA55`);
        const r = await upload(p, {
          dump: Buffer.from(dump.bytes).toString("base64"),
          fileName: dump.fileName,
        });
        ids.push(r.json().id);
      }
      for (const id of ids.slice(0, MAX_DOOR_CARDS)) expect((await install(p, id)).statusCode).toBe(202);
      const ninth = await install(p, ids[MAX_DOOR_CARDS]!);
      expect(ninth.statusCode).toBe(409);
      expect(ninth.json()).toMatchObject({ error: "door_card_limit", details: { limit: MAX_DOOR_CARDS } });
      expect(ninth.json().message.zh).toContain(`最多 ${MAX_DOOR_CARDS} 张门卡`);
      const sync = await p.wallet.sync();
      expect(sync.sessions.map((s) => s.outcome)).toEqual(["ok"]);
      const doors = p.phone.cards().filter((c) => c.category === "access");
      expect(doors).toHaveLength(MAX_DOOR_CARDS);
      expect(doors.filter((c) => c.state === "activated")).toHaveLength(1);
      // The phone's own check refuses the ninth before uploading it.
      const more = doorDump("99AA55AA");
      await expect(
        addDoorCard(p.wallet, { bytes: more.bytes, fileName: more.fileName }),
      ).rejects.toMatchObject({
        code: "door_card_limit",
      });
      expect((await install(p, ids[0]!)).json().error).toBe("door_card_already_on_device");
    });

    it("never shows or touches another account's door card (404, same as an unknown id)", async () => {
      const a = await phoneOn(cloud, "13900139004");
      const b = await phoneOn(cloud, "13900139005");
      const dump = doorDump("ABCDEF01");
      const card = (
        await upload(a, { dump: Buffer.from(dump.bytes).toString("base64"), fileName: dump.fileName })
      ).json();
      const own = (
        await upload(b, { dump: Buffer.from(dump.bytes).toString("base64"), fileName: dump.fileName })
      ).json();
      const unknown = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/access/cards/dc_000000000000000000000000",
        headers: signedInHeaders(b),
      });
      expect(unknown.statusCode).toBe(404);
      const attempts = [
        cloud.app.inject({
          method: "GET",
          url: `/api/v1/access/cards/${card.id}`,
          headers: signedInHeaders(b),
        }),
        cloud.app.inject({
          method: "DELETE",
          url: `/api/v1/access/cards/${card.id}`,
          headers: signedInHeaders(b),
        }),
        install(b, card.id, b.phone.cloud!.deviceId!),
        cloud.app.inject({
          method: "POST",
          url: `/api/v1/access/cards/${card.id}/activate`,
          headers: signedInHeaders(b),
          payload: { deviceId: b.phone.cloud!.deviceId },
        }),
        cloud.app.inject({
          method: "DELETE",
          url: `/api/v1/access/cards/${card.id}/devices/${a.phone.cloud!.deviceId}`,
          headers: signedInHeaders(b),
        }),
      ];
      for (const r of await Promise.all(attempts)) {
        expect(r.statusCode).toBe(404);
        expect(r.json()).toEqual(unknown.json());
      }
      // B's own card on A's phone: the phone is not B's.
      const onA = await install(b, own.id, a.phone.cloud!.deviceId!);
      expect([onA.statusCode, onA.json().error]).toEqual([404, "device_not_found"]);
      const listB = (
        await cloud.app.inject({ method: "GET", url: "/api/v1/access/cards", headers: signedInHeaders(b) })
      ).json();
      expect(listB.cards.map((c: { id: string }) => c.id)).toEqual([own.id]);
      // A's card is untouched.
      expect(
        (
          await cloud.app.inject({
            method: "GET",
            url: `/api/v1/access/cards/${card.id}`,
            headers: signedInHeaders(a),
          })
        ).statusCode,
      ).toBe(200);
    });

    it("a card deleted from the account leaves each phone at its next sync; removed from one phone, it stays on the other", async () => {
      const first = await phoneOn(cloud, "13900139006");
      cloud.clock.advance(61_000); // one code a minute per number
      const second = await phoneOn(cloud, "13900139006");
      const dump = doorDump("CAFEBABE");
      const card = (
        await upload(first, { dump: Buffer.from(dump.bytes).toString("base64"), fileName: dump.fileName })
      ).json();
      expect((await install(first, card.id)).statusCode).toBe(202);
      expect((await install(second, card.id)).statusCode).toBe(202);
      await first.wallet.sync();
      await second.wallet.sync();
      expect([first, second].map((p) => p.phone.cards().length)).toEqual([1, 1]);
      const off = await cloud.app.inject({
        method: "DELETE",
        url: `/api/v1/access/cards/${card.id}/devices/${second.phone.cloud!.deviceId}`,
        headers: signedInHeaders(second),
      });
      expect(off.statusCode).toBe(204);
      await second.wallet.sync();
      expect(second.phone.cards()).toEqual([]);
      const del = await cloud.app.inject({
        method: "DELETE",
        url: `/api/v1/access/cards/${card.id}`,
        headers: signedInHeaders(first),
      });
      expect(del.statusCode).toBe(204);
      expect(
        (
          await cloud.app.inject({
            method: "GET",
            url: "/api/v1/access/cards",
            headers: signedInHeaders(first),
          })
        ).json().cards,
      ).toEqual([]);
      expect(await cloud.db.db.selectFrom("access_cards").select("id").execute()).toHaveLength(1); // until the phone syncs
      const sync = await first.wallet.sync();
      expect(sync.scripts.map((s) => [s.kind, s.state])).toEqual([["delete", "done"]]);
      expect(first.phone.cards()).toEqual([]);
      expect(await cloud.db.db.selectFrom("access_cards").select("id").execute()).toEqual([]);
    });

    it("never fails on arbitrary uploads (property)", async () => {
      const p = await phoneOn(cloud, "13900139007", { register: false });
      const blank = Buffer.from(doorDump("01020304").bytes);
      const mutated = fc
        .tuple(
          fc.nat({ max: blank.length - 1 }),
          fc.integer({ min: 0, max: 255 }),
          fc.nat({ max: blank.length }),
        )
        .map(([at, v, cut]) => {
          const b = Buffer.from(blank);
          b[at] = v;
          return b.subarray(0, Math.max(1, cut));
        });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((u) => Buffer.from(u)),
            mutated,
          ),
          fc.constantFrom("x.bin", "x.json", "x.eml", "x.mct", "x.nfc"),
          async (bytes, fileName) => {
            const r = await upload(p, { dump: bytes.toString("base64"), fileName });
            expect([201, 400, 403]).toContain(r.statusCode);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
