/**
 * The virtual phone without a cloud: its state directory, the factory's SE keys, the host signals applets
 * read (lock, CDCVM), the field it presents (ISO-DEP or the active door card), local door cards through the
 * TSM script path, door readers in both modes, and the default / express cards.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { response } from "../src/core/apdu.js";
import { type Bytes, fromHex, toHex, uintBE } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { SW } from "../src/core/sw.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../src/se/factory-keys.js";
import {
  VirtualPhone,
  Wallet,
  activeDoorUid,
  addDoorCardLocally,
  openDoor,
  phoneDir,
  resolveModel,
  setDefaultCard,
} from "../src/device/index.js";
import { blankCard } from "../src/mifare/card.js";
import type { AppletPackage } from "../src/se/applet.js";
import { installCommands, runSecureScript } from "../src/se/scp03-host.js";
import { tap } from "../src/se/testing/provision.js";
import { samplePackage } from "../src/se/testing/sample-applets.js";
import { removeStateDirs, stateDir } from "./device-harness.js";

afterAll(removeStateDirs);

/** An applet that answers SELECT with the time of the user's last verification, as the phone tells the SE. */
const cdcvmProbe: AppletPackage = {
  id: "test.cdcvm",
  create: () => ({
    select: (_c, ctx) => {
      const at = ctx.host.lastUserVerification();
      return response(SW.OK, at ? uintBE(Math.floor(at.getTime() / 1000), 4) : new Uint8Array(0));
    },
    process: () => response(SW.INS_NOT_SUPPORTED),
  }),
  contactless: () => ({ category: "payment" }),
};

function makePhone(clock = new ManualClock("2026-03-01T08:00:00Z"), master?: Bytes): VirtualPhone {
  return VirtualPhone.create(stateDir(), {
    name: "test",
    model: resolveModel("小米9"),
    region: "CN",
    clock,
    packages: [samplePackage, cdcvmProbe],
    ...(master ? { factoryMasterKey: master } : {}),
  });
}

/** Installs an instance as the TSM would, with the SE's keys from the factory master. */
function install(phone: VirtualPhone, packageId: string, aid: string, params: unknown = null): void {
  const keys = diversifySeKeys(DEV_SE_MASTER_KEY, phone.se.serial);
  const r = runSecureScript(
    phone.se.host.transmit,
    keys,
    installCommands({ packageId, aid: fromHex(aid), params: params as never }),
    { hostChallenge: fromHex("A1A2A3A4A5A6A7A8") },
  );
  phone.se.host.reset();
  expect(r.ok).toBe(true);
}

const PAY = "A0000003330101AA";
const BUS = "A0000006320101BB";

describe("the phone's state directory", () => {
  it("is 0700 with 0600 files written whole; reopening gives the same phone and SE", () => {
    const clock = new ManualClock("2026-03-01T08:00:00Z");
    const phone = makePhone(clock);
    expect(statSync(phone.dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(phone.dir)) expect(statSync(join(phone.dir, f)).mode & 0o777, f).toBe(0o600);
    expect(readdirSync(phone.dir).sort()).toEqual(["phone.json", "se.json"]);
    phone.verify("passcode");
    const again = VirtualPhone.open(phone.dir, { clock, packages: [samplePackage, cdcvmProbe] });
    expect(again.seId).toBe(phone.seId);
    expect(again.model).toEqual({ code: "cepheus", zh: "小米9", en: "Xiaomi Mi 9", supported: true });
    expect(again.signals.verification).toEqual({ at: "2026-03-01T08:00:00.000Z", method: "passcode" });
    expect(readdirSync(phone.dir).some((f) => f.endsWith(".tmp"))).toBe(false);
    const file = JSON.parse(readFileSync(join(phone.dir, "phone.json"), "utf8"));
    expect(file).toMatchObject({ format: "tapwallet.phone/1", region: "CN", seId: phone.seId, cloud: null });
  });

  it("refuses a second phone in one directory, a missing one and an edited file, with clear errors", () => {
    const phone = makePhone();
    expect(() =>
      VirtualPhone.create(phone.dir, { name: "x", model: resolveModel("sagit"), region: "CN" }),
    ).toThrow(expect.objectContaining({ code: "phone_exists" }));
    expect(() => VirtualPhone.open(stateDir())).toThrow(expect.objectContaining({ code: "no_phone" }));
    const path = join(phone.dir, "phone.json");
    writeFileSync(path, readFileSync(path, "utf8").replace(/"seId": "[0-9A-F]+"/, '"seId": "zz"'));
    expect(() => VirtualPhone.open(phone.dir)).toThrow(
      expect.objectContaining({ code: "phone_state_invalid" }),
    );
  });

  it("lives under ~/.tapwallet/phones/<name> (or $TAPWALLET_HOME), or in --state", () => {
    expect(phoneDir({ name: "mi9" }, { TAPWALLET_HOME: "/h" })).toBe("/h/phones/mi9");
    expect(phoneDir({}, { TAPWALLET_HOME: "/h" })).toBe("/h/phones/default");
    expect(phoneDir({ state: "/x/y", name: "ignored" })).toBe("/x/y");
    expect(() => phoneDir({ name: "../escape" })).toThrow(
      expect.objectContaining({ code: "bad_phone_name" }),
    );
  });
});

describe("models", () => {
  it("resolves the supported Xiaomi models by Chinese name, English name or code name", () => {
    const cases: [string, string][] = [
      ["小米9", "cepheus"],
      ["Mi 9", "cepheus"],
      ["cepheus", "cepheus"],
      ["小米 MIX 2S", "polaris"],
      ["Xiaomi Mi Note 3", "jason"],
      ["小米9 SE", "grus"],
      ["mi 5s plus", "natrium"],
    ];
    for (const [name, code] of cases)
      expect(resolveModel(name), name).toMatchObject({ code, supported: true });
  });

  it("takes any other code name as an unlisted model (the cloud will refuse it) and rejects a non-name", () => {
    expect(resolveModel("cupid")).toEqual({ code: "cupid", zh: "cupid", en: "cupid", supported: false });
    expect(() => resolveModel("iPhone 15")).toThrow(expect.objectContaining({ code: "unknown_model" }));
  });
});

describe("the factory's SE keys", () => {
  it("come from the factory master by the SE serial: the TSM's derivation opens the channel, another master does not", () => {
    const phone = makePhone();
    install(phone, "test.applet", "A000000003869807FF");
    const other = diversifySeKeys(fromHex("000102030405060708090A0B0C0D0E0F"), phone.se.serial);
    const r = runSecureScript(phone.se.host.transmit, other, [], {
      hostChallenge: fromHex("0102030405060708"),
    });
    expect(r.ok === false && r.error.reason).toMatch(/cryptogram/);
    const own = makePhone(undefined, fromHex("000102030405060708090A0B0C0D0E0F"));
    expect(
      runSecureScript(
        own.se.host.transmit,
        diversifySeKeys(fromHex("000102030405060708090A0B0C0D0E0F"), own.se.serial),
        [],
        { hostChallenge: fromHex("0102030405060708") },
      ).ok,
    ).toBe(true);
  });
});

describe("host signals and the field", () => {
  it("tells applets when the user verified (CDCVM), by the injected clock, across a restart", () => {
    const clock = new ManualClock("2026-03-01T08:00:00Z");
    const phone = makePhone(clock);
    install(phone, "test.cdcvm", PAY);
    phone.se.registry.activate(fromHex(PAY));
    phone.se.activate();
    expect(tap(phone.se, `00A4040008${PAY}00`)).toEqual(["9000"]);
    clock.advance(5000);
    phone.verify("fingerprint");
    const at = Math.floor(clock.now().getTime() / 1000);
    expect(tap(phone.se, `00A4040008${PAY}00`)).toEqual([`${toHex(uintBE(at, 4))}9000`]);
    const again = VirtualPhone.open(phone.dir, { clock, packages: [samplePackage, cdcvmProbe] });
    again.se.activate();
    expect(tap(again.se, `00A4040008${PAY}00`)).toEqual([`${toHex(uintBE(at, 4))}9000`]);
  });

  it("answers only with the express transit card while locked; unlocking is a verification", () => {
    const clock = new ManualClock("2026-03-01T08:00:00Z");
    const phone = makePhone(clock);
    install(phone, "test.applet", PAY, { category: "payment", label: "DEBIT" });
    install(phone, "test.applet", BUS, { category: "transit" });
    expect(phone.setDefault("1")).toMatchObject({ aid: PAY, defaultPayment: true, state: "activated" });
    expect(phone.setExpress(BUS)).toMatchObject({ aid: BUS, expressTransit: true });
    expect(() => phone.setExpress(PAY)).toThrow(expect.objectContaining({ code: "se_wrong_category" }));
    expect(() => phone.setDefault("9")).toThrow(expect.objectContaining({ code: "card_not_found" }));
    phone.lock();
    phone.isoDep.activate();
    expect(tap(phone.se, `00A4040008${PAY}00`, `00A4040008${BUS}00`).map((r) => r.slice(-4))).toEqual([
      "6A82",
      "9000",
    ]);
    clock.advance(1000);
    phone.unlock("fingerprint");
    expect(phone.signals.verification).toEqual({ at: "2026-03-01T08:00:01.000Z", method: "fingerprint" });
    phone.isoDep.activate();
    expect(tap(phone.se, `00A4040008${PAY}00`).map((r) => r.slice(-4))).toEqual(["9000"]);
    expect(phone.registryReport()).toEqual({
      locked: false,
      registry: [
        {
          aid: PAY,
          packageId: "test.applet",
          category: "payment",
          state: "activated",
          defaultPayment: true,
          expressTransit: false,
        },
        {
          aid: BUS,
          packageId: "test.applet",
          category: "transit",
          state: "activated",
          defaultPayment: false,
          expressTransit: true,
        },
      ],
    });
  });

  it("makes a card the cloud does not manage the default on the SE at once; a bank card the cloud manages only through the cloud", async () => {
    const phone = makePhone();
    const TOKEN = "A0000003330101CC";
    install(phone, "test.applet", TOKEN, { category: "payment" });
    install(phone, "test.applet", PAY, { category: "payment" });
    phone.setDefault(TOKEN); // as the TSM made it at the token's install
    phone.rememberCards([
      {
        aid: TOKEN,
        packageId: "test.applet",
        owner: "tsp",
        ref: "bc_1",
        label: { zh: "工商银行", en: "ICBC" },
      },
    ]);
    const asked: string[] = [];
    const wallet = new Wallet(phone, {
      fetch: async (url) => {
        asked.push(url);
        throw new Error("no cloud here");
      },
    });
    // Put on the SE without the cloud: the registry changes here, the cloud is not asked.
    const local = await setDefaultCard(wallet, phone.findCard(PAY));
    expect(local).toMatchObject({ bankCard: null, card: { aid: PAY, defaultPayment: true } });
    // The token service's card: only the cloud may move the default (this phone is not registered with one).
    await expect(setDefaultCard(wallet, phone.findCard("工商"))).rejects.toMatchObject({
      code: "not_registered",
    });
    await expect(setDefaultCard(wallet, { bankCardId: "bc_1" })).rejects.toMatchObject({
      code: "not_registered",
    });
    expect(asked).toEqual([]);
    expect(phone.cards().map((c) => [c.aid, c.defaultPayment])).toEqual([
      [TOKEN, false],
      [PAY, true],
    ]);
  });

  it("presents the active door card to door readers, ISO-DEP otherwise; a door reader opens in both modes", async () => {
    const clock = new ManualClock("2026-03-01T08:00:00Z");
    const phone = makePhone(clock);
    expect(phone.fieldMode()).toBe("iso-dep");
    expect(activeDoorUid(phone)).toBeNull();
    const card = blankCard({ type: "1k", uid: fromHex("5A17E3C0") });
    const aid = addDoorCardLocally(phone, card, { name: "单元门" });
    expect(toHex(aid)).toBe("F0544150444F4F5201");
    expect(phone.fieldMode()).toBe("door");
    expect(toHex(activeDoorUid(phone)!)).toBe("5A17E3C0");
    expect(phone.cards()).toMatchObject([{ label: { zh: "单元门" }, owner: "local", state: "activated" }]);
    const byUid = await openDoor(phone, { mode: "uid", whitelist: [fromHex("5A17E3C0")] }, clock);
    expect(byUid.granted).toBe(true);
    const credential = new Uint8Array(16);
    const sector = { mode: "sector" as const, block: 4, keyType: "A" as const, key: fromHex("FFFFFFFFFFFF") };
    expect((await openDoor(phone, { ...sector, credentials: [credential] }, clock)).granted).toBe(true);
    const wrong = await openDoor(phone, { ...sector, credentials: [fromHex("11".repeat(16))] }, clock);
    expect(wrong.outcome).toBe("credential_not_enrolled");
    const siteKey = await openDoor(
      phone,
      { ...sector, key: fromHex("1A2B3C4D5E6F"), credentials: [credential] },
      clock,
    );
    expect(siteKey.outcome).toBe("auth_failed");
    // A second card stays inactive; the first still opens.
    addDoorCardLocally(phone, blankCard({ type: "1k", uid: fromHex("11223344") }));
    expect(phone.cards().map((c) => c.state)).toEqual(["activated", "deactivated"]);
    phone.lock();
    expect((await openDoor(phone, { mode: "uid", whitelist: [fromHex("5A17E3C0")] }, clock)).outcome).toBe(
      "no_card",
    );
  });

  it("refuses a card that cannot be emulated before anything reaches the SE", () => {
    const phone = makePhone();
    const card = blankCard({ type: "1k", uid: fromHex("01020304") });
    card.memory!.data.set(fromHex("1A2B3C4D5E6F"), 3 * 64 + 48); // sector 3 key A, not a well-known one
    expect(() => addDoorCardLocally(phone, card)).toThrow(
      expect.objectContaining({
        code: "not_emulatable",
        details: { reasons: [expect.objectContaining({ sector: 3 })] },
      }),
    );
    expect(phone.cards()).toEqual([]);
    expect(existsSync(join(phone.dir, "device-key.pem"))).toBe(false);
  });
});
