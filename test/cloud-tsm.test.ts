/**
 * The TSM end to end, phone and cloud in one process over HTTP (buildServer listening on a random port, the
 * phone's fetch client), on SQLite and PostgreSQL: a supported phone registers; the TSM installs a door card
 * onto its SE through SCP03 during the phone's sync and a door reader opens with it; a script altered on
 * the way is refused by the SE; drift is reconciled (an instance gone is marked lost, a stranger reported);
 * a sync cut off after the SE acted completes without a second install; a relay conversation (the shape of
 * a transit top-up) runs and resumes after a cut; a lost phone wipes its cards at its next contact; sessions
 * are the phone's own; and malformed results never make the server fail.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { type Bytes, fromHex, toHex } from "../src/core/bytes.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../src/se/factory-keys.js";
import type { RelayHandler } from "../src/cloud/tsm/index.js";
import { randomBytes } from "node:crypto";
import { signRequest } from "../src/protocol/request-signing.js";
import {
  type Fetch,
  type VirtualPhone,
  Wallet,
  addDoorCard,
  addDoorCardLocally,
  openDoor,
  runOperations,
} from "../src/device/index.js";
import { readDeviceKey } from "../src/device/state.js";
import { deleteCommands, runSecureScript } from "../src/se/scp03-host.js";
import { samplePackage } from "../src/se/testing/sample-applets.js";
import { buildServer } from "../src/cloud/http/server.js";
import { seededRng } from "../src/cloud/random.js";
import { TEST_PEPPER, accountEvents, backends } from "./cloud-harness.js";
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

async function seView(cloud: LiveCloud, p: TestPhone) {
  const r = await cloud.app.inject({
    method: "GET",
    url: `/api/v1/devices/${p.phone.cloud!.deviceId}/se`,
    headers: signedInHeaders(p),
  });
  expect(r.statusCode).toBe(200);
  return r.json() as {
    instances: { aid: string; state: string; owner: string | null; packageId: string | null }[];
    scripts: { id: string; kind: string; state: string; attempts: number; error: { code: string } | null }[];
  };
}

/** Deletes an instance behind the TSM's back (the SE's own keys, as a rogue tool holding them would). */
function deleteBehindTsm(phone: VirtualPhone, aid: string): void {
  const keys = diversifySeKeys(DEV_SE_MASTER_KEY, phone.se.serial);
  const r = runSecureScript(phone.se.host.transmit, keys, deleteCommands(fromHex(aid)), {
    hostChallenge: fromHex("0102030405060708"),
  });
  phone.se.host.reset();
  expect(r.ok).toBe(true);
}

/** A fetch that lets a test alter the cloud's answers (or fail a request) on the way to the phone. */
function interceptingFetch(
  onAnswer: (json: Record<string, unknown>, url: string) => Record<string, unknown>,
  failRequest: (url: string, body: string | undefined) => boolean = () => false,
): Fetch {
  return async (url, init) => {
    if (failRequest(url, init.body as string | undefined)) throw new Error("network cut");
    const r = await fetch(url, init);
    const text = await r.text();
    if (!r.ok || text === "") return new Response(text, { status: r.status, headers: r.headers });
    return new Response(JSON.stringify(onAnswer(JSON.parse(text) as Record<string, unknown>, url)), {
      status: r.status,
      headers: { "content-type": "application/json" },
    });
  };
}

/** Flips one byte inside the protected data of the first wrapped INSTALL (84 E6 …) of a step. */
function tamperInstall(json: Record<string, unknown>): boolean {
  const ops = json["operations"] as { type: string; apdu?: string }[] | undefined;
  const op = ops?.find((o) => o.type === "apdu" && o.apdu?.startsWith("84E6"));
  if (!op?.apdu) return false;
  const b = fromHex(op.apdu);
  b[8]! ^= 0x01;
  op.apdu = toHex(b);
  return true;
}

const doorCount = (phone: VirtualPhone) =>
  phone.se.registry.list().filter((e) => e.packageId === "mifare.door").length;

for (const backend of backends) {
  describe.skipIf(backend.skip)(`TSM on ${backend.name}`, () => {
    let cloud!: LiveCloud;
    freshEachTest(
      () => startCloud(backend),
      (c) => (cloud = c),
    );

    it("installs a door card through SCP03 at the phone's sync; the door opens", async () => {
      const p = await phoneOn(cloud, "13800138000");
      const dump = doorDump("5A17E3C0");
      const added = await addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName });
      expect(added.sync.scripts.map((s) => [s.kind, s.state])).toEqual([
        ["install", "done"],
        ["registry", "done"],
      ]);
      expect(p.phone.cards()).toMatchObject([
        { packageId: "mifare.door", state: "activated", category: "access", label: { zh: "门卡 5A17E3C0" } },
      ]);
      expect(p.phone.fieldMode()).toBe("door");
      const door = await openDoor(p.phone, { mode: "uid", whitelist: [fromHex("5A17E3C0")] }, cloud.clock);
      expect(door).toMatchObject({ granted: true, uid: "5A17E3C0" });
      const view = await seView(cloud, p);
      expect(view.instances).toMatchObject([
        { aid: added.aid, state: "present", owner: "access", packageId: "mifare.door" },
      ]);
      // Keys and personalisation never leave the database in the clear.
      const rows = await cloud.db.db.selectFrom("tsm_scripts").select("spec_sealed").execute();
      const se = await cloud.db.db
        .selectFrom("tsm_secure_elements")
        .select("keys_sealed")
        .executeTakeFirstOrThrow();
      const keys = diversifySeKeys(DEV_SE_MASTER_KEY, p.phone.se.serial);
      expect(se.keys_sealed).not.toContain(toHex(keys.enc));
      expect(Buffer.from(se.keys_sealed).toString()).not.toMatch(/FFFFFFFFFFFF/i);
      for (const r of rows) expect(r.spec_sealed.startsWith("tw1.")).toBe(true);
      // A second sync finds nothing to do and changes nothing.
      const again = await p.wallet.sync();
      expect(again.scripts).toEqual([]);
      expect(doorCount(p.phone)).toBe(1);
    });

    it("an altered script is refused by the SE (6982); the next session installs it", async () => {
      let tampered = 0;
      const p = await phoneOn(cloud, "13800138001", {
        fetch: interceptingFetch((json) => {
          if (tampered === 0 && tamperInstall(json)) tampered++;
          return json;
        }),
      });
      const dump = doorDump("11223344");
      const added = await addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName });
      expect(tampered).toBe(1);
      expect(added.sync.sessions.map((s) => s.outcome)).toEqual(["secure_channel_refused", "ok"]);
      expect(added.sync.sessions[0]!.message!.en).toMatch(/MAC check failed/);
      expect(doorCount(p.phone)).toBe(1);
      const install = (await seView(cloud, p)).scripts.find((s) => s.kind === "install")!;
      expect(install).toMatchObject({ state: "done", attempts: 1 });
    });

    it("a script altered every time fails after three sessions; nothing lands on the SE", async () => {
      const p = await phoneOn(cloud, "13800138002", {
        fetch: interceptingFetch((json) => {
          tamperInstall(json);
          return json;
        }),
      });
      const dump = doorDump("22334455");
      await expect(
        addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName }),
      ).rejects.toMatchObject({
        code: "door_card_install_failed",
      });
      expect(doorCount(p.phone)).toBe(0);
      const view = await seView(cloud, p);
      expect(view.scripts.find((s) => s.kind === "install")).toMatchObject({
        state: "failed",
        attempts: 3,
        error: { code: "secure_channel_refused" },
      });
      const cards = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/access/cards",
        headers: signedInHeaders(p),
      });
      expect(cards.json().cards[0].placements[0]).toMatchObject({
        state: "failed",
        error: { code: "secure_channel_refused" },
      });
    });

    it("reconciles drift: an instance gone from the SE is marked lost, a stranger is reported", async () => {
      const p = await phoneOn(cloud, "13800138003");
      const dump = doorDump("33445566");
      const added = await addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName });
      const stranger = addDoorCardLocally(p.phone, doorDump("44556677").card);
      deleteBehindTsm(p.phone, added.aid);
      const sync = await p.wallet.sync();
      expect(sync.sessions[0]!.outcome).toBe("ok");
      const view = await seView(cloud, p);
      expect(view.instances.map((i) => [i.aid, i.state, i.owner])).toEqual([
        [added.aid, "lost", "access"],
        [toHex(stranger), "unknown", null],
      ]);
      expect(view.instances[1]!.packageId).toBe("mifare.door");
      const card = (
        await cloud.app.inject({ method: "GET", url: "/api/v1/access/cards", headers: signedInHeaders(p) })
      ).json().cards[0];
      expect(card.placements[0]).toMatchObject({ state: "lost", aid: added.aid });
      const events = await accountEvents<{ aid?: string }>(cloud, p.phone.cloud!.session!.token);
      expect(
        events.filter((e) => e.type.startsWith("tsm.instance.")).map((e) => [e.type, e.payload.aid]),
      ).toEqual([
        ["tsm.instance.lost", added.aid],
        ["tsm.instance.unknown", toHex(stranger)],
      ]);
      // The owner puts it back.
      const again = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/access/cards/${card.id}/install`,
        headers: signedInHeaders(p),
        payload: { deviceId: p.phone.cloud!.deviceId },
      });
      expect(again.statusCode).toBe(202);
      await p.wallet.sync();
      expect((await seView(cloud, p)).instances.find((i) => i.owner === "access")!.state).toBe("present");
    });

    it("a sync cut off after the SE installed completes at the next sync without installing twice", async () => {
      let cut = true;
      const p = await phoneOn(cloud, "13800138004", {
        fetch: interceptingFetch(
          (json) => json,
          (url, body) =>
            cut && url.includes("/device/tsm/sessions/") && body !== undefined && JSON.parse(body).step === 3,
        ),
      });
      const dump = doorDump("55667788");
      await expect(
        addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName }),
      ).rejects.toMatchObject({
        code: "cloud_unreachable",
      });
      expect(doorCount(p.phone)).toBe(1); // the SE did it; the TSM was not told
      cut = false;
      const sync = await p.wallet.sync();
      expect(sync.scripts.map((s) => [s.kind, s.state])).toEqual([
        ["install", "done"],
        ["registry", "done"],
      ]);
      expect(doorCount(p.phone)).toBe(1);
      const view = await seView(cloud, p);
      expect(view.instances).toMatchObject([{ state: "present", owner: "access" }]);
      expect(view.scripts.find((s) => s.kind === "install")!.attempts).toBe(0);
      expect(p.phone.cards()[0]!.state).toBe("activated");
    });

    it("runs a relay conversation with an applet, and resumes one that was cut off", async () => {
      const AID = fromHex("A0000003330101FF");
      const seen: { resumed: boolean; answers: string[] }[] = [];
      const handler: RelayHandler = {
        async start(_ctx, state, resumed) {
          seen.push({ resumed, answers: [] });
          // First contact: "INITIALIZE FOR LOAD" (count); after a cut: "GET TRANSACTION PROVE" (read count).
          return {
            commands: [fromHex(resumed ? "8012000004" : "8010000004")],
            state: { ...(state as object), phase: resumed ? "prove" : "init" },
          };
        },
        async next(_ctx, state, answers: Bytes[]) {
          seen.at(-1)!.answers.push(...answers.map(toHex));
          const s = state as { phase: string };
          if (s.phase === "init") return { commands: [fromHex("8014000000")], state: { phase: "credit" } };
          return { done: true, result: { phase: s.phase, last: toHex(answers[0]!).slice(-12) } };
        },
      };
      cloud.app.cloud.tsm.registerRelay("test.count", handler);
      const p = await phoneOn(cloud, "13800138005", { packages: [samplePackage] });
      const deviceId = p.phone.cloud!.deviceId!;
      await cloud.app.cloud.tsm.enqueueInstall(deviceId, {
        packageId: "test.applet",
        aid: AID,
        owner: "test",
        ref: "i1",
      });
      await cloud.app.cloud.tsm.enqueueRelay(deviceId, {
        aid: AID,
        handler: "test.count",
        state: {},
        owner: "test",
        ref: "r1",
      });
      const sync = await p.wallet.sync();
      expect(sync.scripts.map((s) => [s.kind, s.state])).toEqual([
        ["install", "done"],
        ["relay", "done"],
      ]);
      expect(seen).toEqual([
        { resumed: false, answers: ["000000019000", expect.stringMatching(/^0001.*9000$/)] },
      ]);
      expect(seen[0]!.answers[1]!.length).toBe(2 * 302); // 300 bytes through 61XX + GET RESPONSE
      const done = await cloud.db.db
        .selectFrom("tsm_scripts")
        .select("result")
        .where("ref", "=", "r1")
        .executeTakeFirstOrThrow();
      expect(JSON.parse(done.result!)).toEqual({ phase: "credit", last: "28292A2B9000" });

      // A second conversation, cut after its first step: resumed at the next sync.
      await cloud.app.cloud.tsm.enqueueRelay(deviceId, {
        aid: AID,
        handler: "test.count",
        state: {},
        owner: "test",
        ref: "r2",
      });
      const cutPhone = new Wallet(p.phone, {
        fetch: interceptingFetch(
          (json) => json,
          // Cut when the phone reports the applet's answers to the first relay step (its SELECT says TEST).
          (url, body) =>
            url.includes("/device/tsm/sessions/") && body !== undefined && body.includes("54455354"),
        ),
      });
      await expect(cutPhone.sync()).rejects.toMatchObject({ code: "cloud_unreachable" });
      const resumed = await p.wallet.sync();
      expect(resumed.scripts).toMatchObject([{ kind: "relay", state: "done", ref: "r2" }]);
      expect(seen.slice(1).map((s) => s.resumed)).toEqual([false, true]);
      expect(seen[2]!.answers).toEqual(["000000029000"]); // the count the cut-off step left on the card
    });

    it("a lost phone wipes its door cards at its next contact", async () => {
      const p = await phoneOn(cloud, "13800138006");
      for (const uid of ["66778899", "778899AA"]) {
        const dump = doorDump(uid);
        await addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName });
      }
      expect(doorCount(p.phone)).toBe(2);
      const lost = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${p.phone.cloud!.deviceId}/lost`,
        headers: signedInHeaders(p),
      });
      expect(lost.statusCode).toBe(200);
      // New cards are refused for a lost phone.
      const card = (
        await cloud.app.inject({ method: "GET", url: "/api/v1/access/cards", headers: signedInHeaders(p) })
      ).json().cards[0];
      const refused = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/access/cards/${card.id}/install`,
        headers: signedInHeaders(p),
        payload: { deviceId: p.phone.cloud!.deviceId },
      });
      expect(refused.statusCode).toBe(409);
      const sync = await p.wallet.sync();
      expect(sync.lost).toBe(true);
      expect(sync.scripts.map((s) => [s.kind, s.state])).toEqual([
        ["delete", "done"],
        ["delete", "done"],
      ]);
      expect(doorCount(p.phone)).toBe(0);
      expect(p.phone.cards()).toEqual([]);
      const door = await openDoor(p.phone, { mode: "uid", whitelist: [fromHex("66778899")] }, cloud.clock);
      expect(door.outcome).toBe("no_card");
      const after = (
        await cloud.app.inject({ method: "GET", url: "/api/v1/access/cards", headers: signedInHeaders(p) })
      ).json();
      expect(after.cards.map((c: { placements: unknown[] }) => c.placements)).toEqual([[], []]);
      expect((await seView(cloud, p)).instances).toEqual([]);
    });

    it("holds no session state in memory: a sync stepped alternately through two server instances completes", async () => {
      const other = await buildServer({
        db: cloud.db,
        clock: cloud.clock,
        rng: seededRng("second-instance"),
        otpSender: cloud.otp,
        otpPepper: TEST_PEPPER,
        janitor: false,
      });
      const otherUrl = await other.listen({ port: 0, host: "127.0.0.1" });
      try {
        let n = 0;
        const alternating: Fetch = (url, init) =>
          fetch(n++ % 2 === 0 ? url : url.replace(cloud.url, otherUrl), init);
        const p = await phoneOn(cloud, "13800138011", { fetch: alternating });
        const dump = doorDump("0D0E0F10");
        const added = await addDoorCard(p.wallet, { bytes: dump.bytes, fileName: dump.fileName });
        expect(added.sync.sessions.map((s) => s.outcome)).toEqual(["ok"]);
        expect(n).toBeGreaterThan(8);
        expect(doorCount(p.phone)).toBe(1);
      } finally {
        await other.close();
      }
    });

    it("refuses an SE whose keys are not from the TSM's factory master, saying so", async () => {
      const p = await phoneOn(cloud, "13800138007", {
        factoryMasterKey: fromHex("000102030405060708090A0B0C0D0E0F"),
      });
      const sync = await p.wallet.sync();
      expect(sync.sessions).toHaveLength(1);
      expect(sync.sessions[0]).toMatchObject({
        outcome: "se_keys_mismatch",
        message: { zh: expect.stringContaining("密钥") },
      });
    });

    it("keeps each phone to its own sessions (another phone's session id is 404)", async () => {
      const a = await phoneOn(cloud, "13800138008");
      const b = await phoneOn(cloud, "13800138009");
      const opened = (await a.wallet.client().openSync(a.phone.registryReport())) as { session: string };
      await expect(b.wallet.client().stepSync(opened.session, 2, [])).rejects.toMatchObject({
        status: 404,
        code: "tsm_session_not_found",
      });
      await expect(a.wallet.client().stepSync(opened.session, 7, [])).rejects.toMatchObject({
        status: 409,
        code: "tsm_step_mismatch",
      });
      const other = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/devices/${a.phone.cloud!.deviceId}/se`,
        headers: signedInHeaders(b),
      });
      expect(other.statusCode).toBe(404);
    });

    it("never fails on malformed step results or sync reports (property)", async () => {
      const p = await phoneOn(cloud, "13800138010");
      const client = p.wallet.client();
      const hex = fc.uint8Array({ maxLength: 40 }).map((b) => toHex(b));
      const result = fc.oneof(
        fc.record({
          type: fc.constant("apdu"),
          response: fc.oneof(hex, fc.constant("9000"), fc.constant("")),
        }),
        fc.record({ type: fc.constant("registry"), ok: fc.boolean(), reason: fc.string({ maxLength: 10 }) }),
        fc.anything(),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(result, { maxLength: 6 }),
          fc.integer({ min: 1, max: 3 }),
          async (results, depth) => {
            let answer = (await client.openSync(p.phone.registryReport())) as StepJson;
            // Answer a few steps truthfully, then with junk.
            for (let i = 1; i < depth && !answer.done; i++) {
              const results = runOperations(p.phone.se, answer.operations ?? []);
              answer = (await client.stepSync(answer.session, answer.step, results)) as StepJson;
            }
            if (answer.done) return;
            const r = await cloud.app.inject({
              ...signedStep(p, answer.session, { step: answer.step, results }),
            });
            expect(r.statusCode).toBeLessThan(500);
            p.phone.se.host.reset();
          },
        ),
        { numRuns: 40 },
      );
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (report) => {
          const r = await cloud.app.inject(signedOpen(p, { report }));
          expect(r.statusCode === 201 || r.statusCode === 400).toBe(true);
        }),
        { numRuns: 40 },
      );
    });
  });
}

/** A signed inject request for a step, with any body (bypassing the client's own typing). */
function signedStep(p: TestPhone, session: string, body: unknown) {
  return signedInject(p, "POST", `/api/v1/device/tsm/sessions/${session}`, body);
}

function signedOpen(p: TestPhone, body: unknown) {
  return signedInject(p, "POST", "/api/v1/device/tsm/sessions", body);
}

interface StepJson {
  session: string;
  step: number;
  done: boolean;
  operations?: Parameters<typeof runOperations>[1];
}

function signedInject(p: TestPhone, method: "POST", url: string, body: unknown) {
  const payload = JSON.stringify(body);
  const headers = signRequest(
    readDeviceKey(p.phone.dir)!,
    {
      method,
      path: url,
      timestamp: p.phone.clock.now().getTime(),
      nonce: randomBytes(18).toString("base64url"),
      body: payload,
    },
    p.phone.cloud!.deviceId!,
  );
  return { method, url, payload, headers: { ...headers, "content-type": "application/json" } };
}
