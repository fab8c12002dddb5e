/**
 * MIFARE Classic through PC/SC without pcscd: the emulated card and the phone's door card as `StorageCard`s
 * behind the bridge's reader firmware (pseudo-APDUs and status words as in shared/reference/mifare.md §4.2,
 * ATRs as in §4.1), and the door reader over those pseudo-APDUs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import { PcscStorageCardLink } from "../nfc/pcsc-storage.js";
import { StorageCardIcc } from "../nfc/vpcd-storage.js";
import { SecureElement } from "../se/secure-element.js";
import { MemoryStorage } from "../se/persistence.js";
import { createTestSecureElement } from "../se/testing/provision.js";
import { seededRandom } from "../se/testing/random.js";
import { qpbocPackage } from "../emv/card/package.js";
import { IccLink } from "../../test/pcsc-doubles.js";
import { type MifareCard, blankCard, blockData, setBlock } from "./card.js";
import { doorPackage } from "./door-applet.js";
import { DoorReader } from "./door-reader.js";
import { EmulatedClassic } from "./emulator.js";
import { doorCardsOn } from "./phone.js";
import { FrameStorageCard, PcscClassicReader, doorStorageCard, phoneFieldIcc } from "./storage-card.js";
import { addDoorCardForTest } from "./testing/door-card.js";

const FF = fromHex("FFFFFFFFFFFF");
const SITE_KEY = fromHex("5A1B3C7D9E0F");
const CREDENTIAL = fromHex("54415057414C4C455400000000000042");
const ATR_1K = "3B8F8001804F0CA000000306030001000000006A";
const ATR_4K = "3B8F8001804F0CA0000003060300020000000069";

/** A 1K whose sector 1 a site encoded: its own key A, the credential in block 4. */
function siteCard(uid = "01A062BD"): MifareCard {
  const card = blankCard({ type: "1k", uid: fromHex(uid) });
  setBlock(card.memory!, 7, fromHex("5A1B3C7D9E0FFF078069FFFFFFFFFFFF"));
  setBlock(card.memory!, 4, CREDENTIAL);
  return card;
}

const nonces = () => {
  let n = 0x1234;
  return () => (n = (n * 69069 + 1) >>> 0);
};

describe("FrameStorageCard: an emulated MIFARE Classic as the reader firmware sees it", () => {
  it("activates (UID, SAK, ATQA, variant), authenticates, reads and writes at frame level", () => {
    const emulated = new EmulatedClassic(siteCard(), { nonce: nonces() });
    const card = new FrameStorageCard(emulated, { readerNonce: nonces() });
    const a = card.activate();
    expect([toHex(a.uid), a.sak, toHex(a.atqa), card.variant]).toEqual(["01A062BD", 0x08, "0004", "1k"]);
    expect(card.readBlock(4)).toEqual({ ok: false, error: "not_authenticated" });
    expect(card.authenticate(4, "A", FF)).toBe(false);
    expect(card.authenticate(4, "A", SITE_KEY)).toBe(true);
    expect(card.readBlock(4)).toEqual({ ok: true, value: CREDENTIAL });
    expect(card.readBlock(8)).toEqual({ ok: false, error: "not_authenticated" });
    // The trailer reads with key A as zeros, as the chip answers.
    expect(card.readBlock(7)).toEqual({ ok: true, value: fromHex("000000000000FF078069FFFFFFFFFFFF") });
    const data = fromHex("00112233445566778899AABBCCDDEEFF");
    expect(card.updateBlock(5, data)).toEqual({ ok: true, value: undefined });
    expect(toHex(blockData(emulated.image().memory!, 5))).toBe(toHex(data));
    // Nested authentication into another sector, then block 0 (the UID) refuses writes: the card sleeps.
    expect(card.authenticate(0, "A", FF)).toBe(true);
    expect(card.updateBlock(1, data).ok).toBe(true);
    expect(card.updateBlock(0, data)).toEqual({ ok: false, error: "access_denied" });
    expect(card.readBlock(1)).toEqual({ ok: false, error: "not_authenticated" });
    // The next authentication wakes it again.
    expect(card.authenticate(1, "A", FF)).toBe(true);
    expect(card.readBlock(1)).toEqual({ ok: true, value: data });
    expect(card.updateBlock(1, data.subarray(0, 8))).toEqual({ ok: false, error: "bad_length" });
    expect(card.readBlock(64)).toEqual({ ok: false, error: "out_of_range" });
    card.deactivate();
    expect(card.readBlock(1)).toEqual({ ok: false, error: "not_authenticated" });
  });

  it("learns the variant from SAK and ATQA: a 4K with a 7-byte UID gets the 4K storage-card ATR", () => {
    const card = new FrameStorageCard(
      new EmulatedClassic(blankCard({ type: "4k", uid: fromHex("04112233445566") })),
    );
    const icc = new StorageCardIcc(card);
    icc.insert();
    expect(card.variant).toBe("4k");
    expect(toHex(icc.atr())).toBe(ATR_4K);
    expect(toHex(icc.transmit(fromHex("FFCA000000")))).toBe("041122334455669000");
    // A block of the 4K's large sectors, through the pseudo-APDUs.
    expect(toHex(icc.transmit(fromHex(`FF82000006${toHex(FF)}`)))).toBe("9000");
    expect(toHex(icc.transmit(fromHex("FF860000050100F06000")))).toBe("9000");
    expect(toHex(icc.transmit(fromHex("FFB000F010")))).toBe("00".repeat(16) + "9000");
  });

  it("answers every pseudo-APDU sequence with a status word and never throws (fast-check)", () => {
    const key = fc.constantFrom("FFFFFFFFFFFF", "5A1B3C7D9E0F", "000000000000");
    const command = fc.oneof(
      key.chain((k) => fc.constantFrom(`FF82000006${k}`, `FF82000106${k}`)),
      fc
        .tuple(fc.integer({ min: 0, max: 70 }), fc.constantFrom("60", "61"), fc.constantFrom("00", "01"))
        .map(([b, t, s]) => `FF8600000501${b.toString(16).padStart(4, "0")}${t}${s}`),
      fc.integer({ min: 0, max: 70 }).map((b) => `FFB000${b.toString(16).padStart(2, "0")}10`),
      fc
        .tuple(fc.integer({ min: 1, max: 70 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
        .map(([b, d]) => `FFD600${b.toString(16).padStart(2, "0")}10${toHex(d)}`),
      fc.uint8Array({ minLength: 0, maxLength: 24 }).map((b) => toHex(b)),
      fc.constant("FFCA000000"),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 12 }), (commands) => {
        const emulated = new EmulatedClassic(siteCard(), { nonce: nonces() });
        const icc = new StorageCardIcc(new FrameStorageCard(emulated, { readerNonce: nonces() }));
        icc.insert();
        for (const c of commands) {
          const r = icc.transmit(fromHex(c));
          expect(r.length).toBeGreaterThanOrEqual(2);
          const sw = toHex(r.subarray(r.length - 2));
          if (sw !== "9000") expect(r.length).toBe(2);
          // Block 0 (the UID) never changes, whatever the reader sends.
          expect(toHex(blockData(emulated.image().memory!, 0)).slice(0, 8)).toBe("01A062BD");
        }
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * A phone whose SE holds a bank-card package and one door card: a copied card whose site uses the default
 * key and a credential in block 4 (an encrypted card would not pass the emulatable check).
 */
function phoneWithDoorCard(storage?: MemoryStorage): { se: SecureElement; aid: Bytes } {
  const se = createTestSecureElement({
    packages: [doorPackage, qpbocPackage],
    random: seededRandom(3),
    ...(storage ? { storage } : {}),
  });
  const card = blankCard({ type: "1k", uid: fromHex("C0FFEE01") });
  setBlock(card.memory!, 4, CREDENTIAL);
  return { se, aid: addDoorCardForTest(se, card) };
}

describe("the phone's door card behind the bridge's reader firmware", () => {
  it("presents the storage-card ATR while a door card is active, the ISO 14443-4 ATR otherwise", () => {
    const { se, aid } = phoneWithDoorCard();
    expect(doorCardsOn(se)).toEqual([{ aid, active: true }]);
    const icc = phoneFieldIcc(se);
    icc.insert();
    expect(toHex(icc.atr())).toBe(ATR_1K);
    expect(toHex(icc.transmit(fromHex("FFCA000000")))).toBe("C0FFEE019000");
    expect(toHex(icc.transmit(fromHex("00A404000E325041592E5359532E444446303100")))).toBe("6E00");
    icc.remove();
    expect(se.registry.deactivate(aid).ok).toBe(true);
    icc.insert();
    // SE ATS 05 78 80 70 02: no historical bytes.
    expect(toHex(icc.atr())).toBe("3B80800101");
    expect(toHex(icc.transmit(fromHex("FFCA010000")))).toBe("0578807002" + "9000");
  });

  it("writes through the pseudo-APDUs land in the SE's storage: an SE loaded from it reads them", async () => {
    const storage = new MemoryStorage();
    const { se } = phoneWithDoorCard(storage);
    const link = new IccLink(new StorageCardIcc(doorStorageCard(se)));
    const mfc = new PcscStorageCardLink(link);
    expect(toHex((await link.fieldOn()).uid)).toBe("C0FFEE01");
    expect((await mfc.authenticateWithKey(4, "A", FF)).ok).toBe(true);
    const data = fromHex("0F0E0D0C0B0A09080706050403020100");
    expect((await mfc.updateBlock(6, data)).ok).toBe(true);
    await link.fieldOff();
    const loaded = SecureElement.fromImage(storage.image!, { packages: [doorPackage, qpbocPackage] });
    const again = new IccLink(new StorageCardIcc(doorStorageCard(loaded)));
    const mfc2 = new PcscStorageCardLink(again);
    await again.fieldOn();
    expect((await mfc2.authenticateWithKey(6, "A", FF)).ok).toBe(true);
    expect(await mfc2.readBlock(6)).toEqual({ ok: true, value: data });
  });

  it("a door reader opens over pseudo-APDUs (sector and UID modes) and refuses a wrong site key", async () => {
    const { se } = phoneWithDoorCard();
    const clock = new ManualClock("2026-03-01T08:00:00Z");
    const tapWith = (door: DoorReader) => {
      const link = new IccLink(new StorageCardIcc(doorStorageCard(se)));
      return door.tapVia(link, new PcscClassicReader(link));
    };
    const sector = new DoorReader(
      { mode: "sector", block: 4, keyType: "A", key: FF, credentials: [CREDENTIAL] },
      clock,
      { id: "lobby" },
    );
    expect(await tapWith(sector)).toMatchObject({ granted: true, outcome: "granted", uid: "C0FFEE01" });
    const wrongKey = new DoorReader(
      { mode: "sector", block: 4, keyType: "A", key: SITE_KEY, credentials: [CREDENTIAL] },
      clock,
    );
    expect(await tapWith(wrongKey)).toMatchObject({ granted: false, outcome: "auth_failed" });
    const uid = new DoorReader({ mode: "uid", whitelist: [fromHex("C0FFEE01")] }, clock);
    expect((await tapWith(uid)).granted).toBe(true);
    expect(sector.log().map((e) => [e.reader, e.outcome])).toEqual([["lobby", "granted"]]);
  });

  it("retries with another key after a failed authentication (the reader powers the card up again)", async () => {
    const { se } = phoneWithDoorCard();
    const link = new IccLink(new StorageCardIcc(doorStorageCard(se)));
    await link.fieldOn();
    const reader = new PcscClassicReader(link);
    expect(await reader.authenticate(4, "A", SITE_KEY)).toBe(false);
    expect(await reader.authenticate(4, "A", FF)).toBe(true);
    expect(toHex((await reader.readBlock(4))!)).toBe(toHex(CREDENTIAL));
  });
});
