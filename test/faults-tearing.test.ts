/**
 * Tearing at every write of every card command, enumerated: each card's whole working life is recorded once as
 * the APDUs a terminal or the wallet sends (selection, reads, loads, purchases, compound purchases, proofs,
 * GPOs online and offline, door-card frames with reader writes, CRS and registry changes); then, for every
 * command of that recording, a fresh SE is brought to the state just before it and the power is cut after
 * 0, 1, 2, … physical NVM writes of that command (src/se/testing/tearing.ts). Every cut of every command leaves
 * the NVM exactly as before the command or exactly as after it. Commands that write nothing stop at once.
 *
 * The card manager's INSTALL, STORE DATA and DELETE under SCP03 are enumerated the same way in
 * src/se/tearing.test.ts; the e-purse's proofs after a cut (GET TRANSACTION PROVE) in test/transit-tearing.test.ts.
 */
import { describe, expect, it } from "vitest";
import { type Bytes, concat, fromHex, toHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { TapwalletError } from "../src/core/errors.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { startTransaction } from "../src/emv/terminal/entry-point.js";
import { AID } from "../src/emv/profile.js";
import { qpbocPackage } from "../src/emv/card/package.js";
import { blankCard } from "../src/mifare/card.js";
import { doorPackage } from "../src/mifare/door-applet.js";
import { doorFieldCard } from "../src/mifare/phone.js";
import { addDoorCardForTest } from "../src/mifare/testing/door-card.js";
import { ClassicReader } from "../src/mifare/reader.js";
import { MemoryFrameLink } from "../src/nfc/frame.js";
import type { Link } from "../src/nfc/link.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { CRS_AID } from "../src/se/gp.js";
import { SecureElement } from "../src/se/secure-element.js";
import { createTestSecureElement, installForTest } from "../src/se/testing/provision.js";
import { seededRandom } from "../src/se/testing/random.js";
import { samplePackage } from "../src/se/testing/sample-applets.js";
import { atomicityViolations, enumerateTearing } from "../src/se/testing/tearing.js";
import type { SeImage } from "../src/se/secure-element.js";
import { FuzzModel } from "../src/transit/testing/fuzz.js";
import { textbookCard } from "../src/transit/testing/textbook-card.js";
import { quickPassWorld } from "./emv-support.js";

/** One recorded command: which interface it went to, and its bytes. */
interface Recorded {
  via: "field" | "host" | "api";
  apdu: Bytes;
  /** For "api": the registry call to make. */
  call?: (se: SecureElement) => void;
}

interface Life {
  create(): SecureElement;
  commands: Recorded[];
}

function send(se: SecureElement, c: Recorded): Bytes {
  if (c.via === "api") {
    try {
      c.call!(se);
    } catch (e) {
      // The wallet's typed calls report a cut as an error; the cut itself is what is being tested.
      if (!(e instanceof TapwalletError && e.code === "se_power_lost")) throw e;
    }
    return new Uint8Array(0);
  }
  return c.via === "host" ? se.host.transmit(c.apdu) : se.process(c.apdu);
}

/** Records what reaches the SE's field interface (commands, field on and off) until the returned stop(). */
function recording(se: SecureElement, into: Recorded[]): () => void {
  const { process, activate, deactivate } = se;
  se.process = (apdu: Bytes) => {
    into.push({ via: "field", apdu: apdu.slice() });
    return process.call(se, apdu);
  };
  se.activate = () => {
    into.push({ via: "api", apdu: new Uint8Array(0), call: (s) => void s.activate() });
    return activate.call(se);
  };
  se.deactivate = () => {
    into.push({ via: "api", apdu: new Uint8Array(0), call: (s) => s.deactivate() });
    deactivate.call(se);
  };
  return () => {
    Object.assign(se, { process, activate, deactivate });
  };
}

/** Enumerates tearing for every command of a life; returns per command its writes and cut outcomes. */
function tearEveryCommand(life: Life) {
  const out: { index: number; apdu: string; writes: number; cuts: number; before: number; after: number }[] =
    [];
  for (const [i, c] of life.commands.entries()) {
    const report = enumerateTearing({
      create: life.create,
      prepare: (se) => {
        for (const p of life.commands.slice(0, i)) send(se, p);
      },
      command: (se) => send(se, c),
    });
    expect(atomicityViolations(report), `command ${i} ${toHex(c.apdu)}`).toEqual([]);
    if (report.writes > 0) expect(report.cuts).toHaveLength(report.writes + 1);
    out.push({
      index: i,
      apdu: toHex(c.apdu).slice(0, 10),
      writes: report.writes,
      cuts: report.cuts.length,
      before: report.cuts.filter((x) => x.outcome === "before").length,
      after: report.cuts.filter((x) => x.outcome === "after").length,
    });
  }
  return out;
}

const ins = (apdu: string) => apdu.slice(2, 4);

// ---- the e-purse, every profile ---------------------------------------------------------------------------

const PROFILES = [
  "tu-jingjinji",
  "shanghai",
  "shenzhen-tong",
  "lingnan-pass",
  "wuhan-tong",
  "beijing-yikatong",
];

function epurseLife(productId: string): Life {
  const options = { productId, overdraftLimit: productId === "tu-jingjinji" ? 500 : 0 };
  const ref = textbookCard(options);
  const commands: Recorded[] = [];
  const stop = recording(ref.se, commands);
  const model = new FuzzModel(ref);
  model.reselect();
  for (const c of ["805C000204", "00B0950000", "00B201C400", "0084000004", "80CA000009"])
    model.send(fromHex(c));
  model.load(3000);
  model.purchase(200, false);
  model.purchase(500, true);
  model.send(fromHex("805A0006020002"));
  model.load(1000);
  model.send(fromHex("805C000204"));
  stop();
  expect(model.loads).toBe(4000);
  expect(model.purchases).toBe(700);
  return { create: () => textbookCard(options).se, commands };
}

describe("tearing at every write of every e-purse command", () => {
  for (const productId of PROFILES) {
    it(`${productId}: selection, reads, challenge, loads, purchases, compound purchase, proof — before or after at every cut`, () => {
      const result = tearEveryCommand(epurseLife(productId));
      const writing = new Set(result.filter((r) => r.writes > 0).map((r) => ins(r.apdu)));
      // CREDIT FOR LOAD and DEBIT FOR PURCHASE write (balance, counter, record, proof) and were cut at each write.
      expect(writing).toContain("52");
      expect(writing).toContain("54");
      for (const r of result.filter((x) => x.writes > 0)) {
        expect(r.before + r.after).toBe(r.cuts);
        expect(r.after).toBeGreaterThanOrEqual(1); // the last cut loses only the answer
      }
    });
  }
});

// ---- qPBOC: GPO online and offline, records, data --------------------------------------------------------

async function qpbocLife(): Promise<Life> {
  const w = await quickPassWorld({ floorLimit: 0 });
  const image: SeImage = structuredClone(w.se.toImage());
  const clockAt = "2026-03-01T04:00:00Z";
  const create = () =>
    SecureElement.fromImage(structuredClone(image), {
      packages: [qpbocPackage],
      clock: new ManualClock(clockAt),
      random: seededRandom(11),
      host: { lastUserVerification: () => null, locked: () => false },
    });
  const se = create();
  const commands: Recorded[] = [];
  const stop = recording(se, commands);
  const link: Link = new MemoryLink(se);
  const env = { clock: new ManualClock(clockAt), random: () => fromHex("0A0B0C0D") };
  const online = defaultTerminalConfig();
  const offline = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit: 300_00 })] });
  for (const [config, amount] of [
    [online, 12_34],
    [offline, 50_00],
    [offline, 20_00],
  ] as const) {
    await link.fieldOn();
    await startTransaction(
      link,
      config,
      { amount, sequenceCounter: 1, unpredictableNumber: fromHex("0A0B0C0D") },
      env,
    );
    await link.fieldOff();
  }
  se.process(fromHex("80CA9F3600"));
  se.process(fromHex("80CA9F7900"));
  stop();
  return { create, commands };
}

describe("tearing at every write of the qPBOC card", () => {
  it("PPSE, SELECT, GPO (online; offline with fDDA and the offline balance), READ RECORD, GET DATA — before or after", async () => {
    const result = tearEveryCommand(await qpbocLife());
    const gpos = result.filter((r) => r.apdu.startsWith("80A8"));
    expect(gpos).toHaveLength(3);
    // Every GPO writes (ATC, and offline: balance and log) and was cut at each of its writes.
    for (const g of gpos) expect(g.writes).toBeGreaterThan(0);
  });
});

// ---- the door-card applet: a reader writing blocks ------------------------------------------------------

const CREDENTIAL = fromHex("54415057414C4C455400000000000042");

async function doorLife(): Promise<Life> {
  const build = () => {
    const se = createTestSecureElement({ packages: [doorPackage, samplePackage], seed: 3 });
    const card = blankCard({ type: "1k", uid: fromHex("01A062BD") });
    addDoorCardForTest(se, card, { activate: true });
    return se;
  };
  const se = build();
  const commands: Recorded[] = [];
  const stop = recording(se, commands);
  const link = new MemoryFrameLink(doorFieldCard(se));
  await link.fieldOn();
  const reader = new ClassicReader(link);
  await reader.activate();
  await reader.authenticate(5, "A", fromHex("FFFFFFFFFFFF"));
  expect(await reader.writeBlock(5, CREDENTIAL)).toBe(true);
  expect(await reader.writeBlock(6, concat(CREDENTIAL.subarray(8), CREDENTIAL.subarray(0, 8)))).toBe(true);
  expect(toHex((await reader.readBlock(5))!)).toBe(toHex(CREDENTIAL));
  await link.fieldOff();
  stop();
  return { create: build, commands };
}

describe("tearing at every write of the door-card applet", () => {
  it("field on, anticollision, authentication, WRITE of two blocks, READ — every frame before or after", async () => {
    const result = tearEveryCommand(await doorLife());
    // The two WRITEs' data frames store the blocks: those commands write and were cut at each write.
    expect(result.filter((r) => r.writes > 0).length).toBeGreaterThanOrEqual(2);
  });
});

// ---- the contactless registry: CRS SET STATUS and the wallet's typed calls ------------------------------

const PAY_1 = fromHex("A000000333010101");
const PAY_2 = fromHex("A000000333010102");
const TRANSIT = fromHex("A0000006320101051001");

function registryLife(): Life {
  const create = () => {
    const se = createTestSecureElement({ packages: [samplePackage], seed: 5 });
    installForTest(se, {
      packageId: "test.applet",
      aid: PAY_1,
      params: { category: "payment", label: "ONE" },
    });
    installForTest(se, {
      packageId: "test.applet",
      aid: PAY_2,
      params: { category: "payment", label: "TWO" },
    });
    installForTest(se, { packageId: "test.applet", aid: TRANSIT, params: { category: "transit" } });
    return se;
  };
  const setStatus = (aid: Bytes, on: boolean) =>
    concat(fromHex(`80F001${on ? "01" : "00"}`), Uint8Array.of(aid.length + 2, 0x4f, aid.length), aid);
  const selectCrs = concat(fromHex("00A40400"), Uint8Array.of(CRS_AID.length), CRS_AID, fromHex("00"));
  const api = (call: (se: SecureElement) => void, tag: string): Recorded => ({
    via: "api",
    apdu: fromHex(tag),
    call,
  });
  return {
    create,
    commands: [
      { via: "host", apdu: selectCrs },
      { via: "host", apdu: setStatus(PAY_1, false) }, // installed active: off, then on again
      { via: "host", apdu: setStatus(PAY_1, true) },
      api((se) => void se.registry.setDefaultPayment(PAY_2), "01"),
      api((se) => void se.registry.setExpressTransit(TRANSIT), "02"),
      { via: "host", apdu: selectCrs },
      { via: "host", apdu: setStatus(PAY_2, false) }, // deactivating the default clears the role with it
      api((se) => void se.registry.setDefaultPayment(PAY_1), "03"),
      { via: "host", apdu: setStatus(TRANSIT, false) },
    ],
  };
}

describe("tearing at every write of registry changes", () => {
  it("CRS SET STATUS activate/deactivate, default payment and express transit — before or after", () => {
    const life = registryLife();
    const result = tearEveryCommand(life);
    const writing = result.filter((r) => r.writes > 0);
    expect(writing.length).toBe(7); // every change but the two CRS selections
    // The registry really moved: after the whole life PAY_1 is the default, the transit card is off.
    const se = life.create();
    for (const c of life.commands) send(se, c);
    expect(toHex(se.registry.defaultPayment() ?? new Uint8Array(0))).toBe(toHex(PAY_1));
  });
});
