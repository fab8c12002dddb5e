/** Door cards on the phone's SE: installed as "mifare.door" instances, presented to door readers at frame level. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import { MemoryFrameLink } from "../nfc/frame.js";
import type { HostSignals } from "../se/applet.js";
import type { SecureElement } from "../se/secure-element.js";
import { personalizationCommands, runSecureScript } from "../se/scp03-host.js";
import { TEST_KEYS, createTestSecureElement, installForTest } from "../se/testing/provision.js";
import { samplePackage } from "../se/testing/sample-applets.js";
import { seededRandom } from "../se/testing/random.js";
import { type MifareCard, blankCard, blockData, cardsEqual, setBlock, uidOnlyCard } from "./card.js";
import { type WriteMode, decodeFrame, doorPackage, encodeFrame } from "./door-applet.js";
import { DoorReader } from "./door-reader.js";
import { addDoorCardForTest } from "./testing/door-card.js";
import {
  MAX_DOOR_CARDS,
  blankDoorCard,
  canAddDoorCard,
  doorCardsOn,
  doorFieldCard,
  doorPersonalization,
  encoderWindowDgi,
  phoneManufacturerData,
  switchDoorCard,
  withPhoneManufacturerData,
} from "./phone.js";
import { ClassicReader, readCard } from "./reader.js";

const FF = fromHex("FFFFFFFFFFFF");
const SITE_KEY = fromHex("5A1B3C7D9E0F");
const CREDENTIAL = fromHex("54415057414C4C455400000000000042");

function phone(options: { clock?: ManualClock; host?: HostSignals } = {}): SecureElement {
  return createTestSecureElement({ packages: [doorPackage, samplePackage], ...options });
}

/** Adds a door card as the wallet would: check, then install and personalise through SCP03. */
function add(se: SecureElement, card: MifareCard, writes?: WriteMode): Bytes {
  return addDoorCardForTest(se, card, {
    ...(writes ? { writes } : {}),
    activate: doorCardsOn(se).every((c) => !c.active),
  });
}

const field = (se: SecureElement) => new MemoryFrameLink(doorFieldCard(se));

describe("a copied door card on the phone", () => {
  it("opens a UID reader and reads back identical at frame level (7-byte UID 4K)", async () => {
    const se = phone();
    const plain = blankCard({ type: "4k", uid: fromHex("04112233445566") });
    add(se, plain);
    const uidDoor = new DoorReader({ mode: "uid", whitelist: [plain.uid] }, new ManualClock());
    expect((await uidDoor.tap(field(se))).granted).toBe(true);
    const read = await readCard(field(se));
    expect(read.ok && cardsEqual(read.value.card, plain)).toBe(true);
  });

  it("reader writes persist in the SE (across field cycles and a reboot); key A still reads as zeros", async () => {
    const se = phone();
    add(se, blankCard({ type: "1k", uid: fromHex("01A062BD") }));
    const link = field(se);
    await link.fieldOn();
    const reader = new ClassicReader(link);
    await reader.activate();
    await reader.authenticate(5, "A", FF);
    expect(await reader.writeBlock(5, CREDENTIAL)).toBe(true);
    expect(toHex((await reader.readBlock(7))!)).toBe("000000000000FF078069FFFFFFFFFFFF");
    await link.fieldOff();
    se.reboot();
    const again = await readCard(field(se));
    expect(again.ok && toHex(blockData(again.value.card.memory!, 5))).toBe(toHex(CREDENTIAL));
  });

  it("can carry the phone's fixed manufacturer bytes in block 0", async () => {
    const se = phone();
    const original = blankCard({
      type: "1k",
      uid: fromHex("01A062BD"),
      manufacturer: fromHex("011B8CC2D5107E1D"),
    });
    const onPhone = withPhoneManufacturerData(original, phoneManufacturerData(se));
    expect(toHex(blockData(onPhone.memory!, 0))).toBe("01A062BD7E080400" + toHex(se.serial));
    add(se, onPhone);
    const read = await readCard(field(se));
    expect(read.ok && toHex(blockData(read.value.card.memory!, 0))).toBe(
      "01A062BD7E080400" + toHex(se.serial),
    );
  });

  it("a UID-only card answers anticollision with its UID", async () => {
    const se = phone();
    add(se, uidOnlyCard({ uid: fromHex("08A1B2C3"), atqa: fromHex("0004"), sak: 0x08 }));
    const door = new DoorReader({ mode: "uid", whitelist: [fromHex("08A1B2C3")] }, new ManualClock());
    expect((await door.tap(field(se))).granted).toBe(true);
  });
});

describe("the contactless registry: one door card for the field at a time", () => {
  it("a second card stays inactive until switched to; the field presents the active one", async () => {
    const se = phone();
    const a = add(se, blankCard({ type: "1k", uid: fromHex("11111111") }));
    const b = add(se, blankCard({ type: "1k", uid: fromHex("22222222") }));
    expect(doorCardsOn(se).map((c) => [toHex(c.aid), c.active])).toEqual([
      [toHex(a), true],
      [toHex(b), false],
    ]);
    const seen = async () => {
      const link = field(se);
      await link.fieldOn();
      return toHex((await new ClassicReader(link).activate())!.uid);
    };
    expect(await seen()).toBe("11111111");
    switchDoorCard(se, b);
    expect(doorCardsOn(se).map((c) => c.active)).toEqual([false, true]);
    expect(await seen()).toBe("22222222");
    // The registry itself refuses a second active door card.
    expect(se.registry.activate(a).ok).toBe(false);
  });

  it("nothing answers when no door card is active, or the phone is locked", async () => {
    let locked = false;
    const se = phone({ host: { lastUserVerification: () => null, locked: () => locked } });
    expect(await new ClassicReader(await on(field(se))).activate()).toBeNull();
    add(se, blankCard({ type: "1k", uid: fromHex("11223344") }));
    expect(await new ClassicReader(await on(field(se))).activate()).not.toBeNull();
    locked = true;
    expect(await new ClassicReader(await on(field(se))).activate()).toBeNull();
  });

  it("an access instance of another package is not presented as a door card", async () => {
    const se = phone();
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A0000000FF0101"),
      params: { category: "access" },
    });
    expect(se.registry.activeAccessInstance()).not.toBeNull();
    expect(await new ClassicReader(await on(field(se))).activate()).toBeNull();
  });

  it(`holds at most ${MAX_DOOR_CARDS} door cards; a card that is not emulatable is refused with its reasons`, () => {
    const se = phone();
    for (let i = 0; i < MAX_DOOR_CARDS; i++)
      add(se, blankCard({ type: "mini", uid: Uint8Array.of(0x10 + i, 1, 2, 3) }));
    const full = canAddDoorCard(se, blankCard({ type: "mini", uid: fromHex("55667788") }));
    expect(!full.ok && full.error.code).toBe("door_card_limit");
    expect(!full.ok && full.error.zh).toContain(`最多 ${MAX_DOOR_CARDS} 张门卡`);
    const encrypted = blankCard({ type: "1k", uid: fromHex("55667788") });
    setBlock(encrypted.memory!, 11, fromHex("123456789ABC FF078069 123456789ABC"));
    const refused = canAddDoorCard(phone(), encrypted);
    expect(!refused.ok && refused.error.reasons.map((r) => r.sector)).toEqual([2]);
    expect(!refused.ok && refused.error.en).toContain("sector 2");
  });
});

describe("a blank card an authorised encoder writes with its own keys", () => {
  it("random or chosen UID; writes refused until the encoder's window, then kept; closed again after it", async () => {
    const clock = new ManualClock("2026-05-01T09:00:00Z");
    const se = phone({ clock });
    const random = blankDoorCard({ random: seededRandom(7) });
    expect(random.uid).toHaveLength(4);
    expect([0x08, 0x88, 0xf8]).not.toContain(random.uid[0]);
    expect(toHex(blankDoorCard({ uid: fromHex("C0FFEE01"), random: seededRandom(1) }).uid)).toBe("C0FFEE01");
    const aid = add(se, random, { mode: "refused" });

    const encode = async () => {
      const link = field(se);
      await link.fieldOn();
      const reader = new ClassicReader(link);
      await reader.activate();
      await reader.authenticate(7, "A", FF);
      const data = await reader.writeBlock(4, CREDENTIAL);
      await reader.activate();
      await reader.authenticate(7, "A", FF);
      const trailer = await reader.writeBlock(7, fromHex("5A1B3C7D9E0F FF078069 FFFFFFFFFFFF"));
      await link.fieldOff();
      return data && trailer;
    };
    expect(await encode()).toBe(false);

    // The user agrees in the wallet; the TSM opens a 10-minute window over SCP03.
    personalise(se, aid, [encoderWindowDgi(new Date("2026-05-01T09:10:00Z"))]);
    expect(await encode()).toBe(true);

    const door = new DoorReader(
      { mode: "sector", block: 4, keyType: "A", key: SITE_KEY, credentials: [CREDENTIAL] },
      clock,
    );
    expect((await door.tap(field(se))).granted).toBe(true);

    clock.advance(11 * 60_000);
    const link = field(se);
    await link.fieldOn();
    const reader = new ClassicReader(link);
    await reader.activate();
    await reader.authenticate(4, "A", SITE_KEY);
    expect(await reader.writeBlock(5, CREDENTIAL)).toBe(false);
    se.reboot();
    expect((await door.tap(field(se))).granted).toBe(true);
  });
});

describe("the door applet's APDUs", () => {
  it("frames encode and decode both ways", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 18 }), (data) => {
        const frame = { data, parity: data.map((b) => b & 1) };
        const { bits, body } = encodeFrame(frame);
        expect(decodeFrame(bits, body)).toEqual(frame);
      }),
    );
    expect(decodeFrame(7, Uint8Array.of(0x26))).toEqual({
      data: Uint8Array.of(0x26),
      bits: 7,
      parity: new Uint8Array(0),
    });
    expect(decodeFrame(0, Uint8Array.of(1, 2, 3))).toBeNull();
    expect(decodeFrame(0, Uint8Array.of(1, 2))).toBeNull();
  });

  it("never answer 6F00, whatever arrives after SELECT (field on or off)", () => {
    const se = phone();
    const aid = add(se, blankCard({ type: "mini", uid: fromHex("11223344") }));
    se.activate();
    const select = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00);
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(0x4a, 0x4c, 0xca, 0x00, 0xe2),
        fc.nat(9),
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom(0x80, 0x00),
        (fieldOn, ins, p1, data, cla) => {
          se.process(select);
          if (fieldOn) se.process(Uint8Array.of(0x80, 0x4c, 0x01, 0x00));
          const apdu = data.length
            ? Uint8Array.of(cla, ins, p1, 0, data.length, ...data)
            : Uint8Array.of(cla, ins, p1, 0);
          const r = se.process(apdu);
          expect(r.length).toBeGreaterThanOrEqual(2);
          expect(toHex(r.subarray(r.length - 2))).not.toBe("6F00");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the identity command shows UID, SAK, ATQA, type and write mode, no keys", () => {
    const se = phone();
    const aid = add(se, blankCard({ type: "1k", uid: fromHex("01A062BD") }), { mode: "refused" });
    se.activate();
    se.process(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00));
    expect(toHex(se.process(fromHex("80CA0000")))).toBe(
      "7018DF010401A062BDDF020108DF03020004DF040101DF0501009000",
    );
  });
});

async function on(link: MemoryFrameLink): Promise<MemoryFrameLink> {
  await link.fieldOn();
  return link;
}

/** STORE DATA to an installed instance through SCP03 (INSTALL [for personalization]), as the TSM does. */
function personalise(se: SecureElement, aid: Bytes, dgis: ReturnType<typeof doorPersonalization>): void {
  const r = runSecureScript(se.host.transmit, TEST_KEYS, personalizationCommands(aid, dgis), {
    hostChallenge: fromHex("D00DCAFE00000001"),
  });
  se.host.reset();
  if (!r.ok) throw new Error(`personalisation failed: ${r.error.step} ${r.error.reason}`);
}
