import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { IccLink, MemoryStorageCard } from "../../test/pcsc-doubles.js";
import { CardGoneError } from "./link.js";
import {
  PcscStorageCardLink,
  describeFailure,
  isSectorTrailer,
  mifareBlockCount,
  mifareSectorOf,
  pseudoApdu,
} from "./pcsc-storage.js";
import { StorageCardIcc } from "./vpcd-storage.js";

const KEY_FF = fromHex("FFFFFFFFFFFF");

function setup() {
  const card = new MemoryStorageCard("1k");
  const link = new IccLink(new StorageCardIcc(card));
  return { card, link, mfc: new PcscStorageCardLink(link) };
}

describe("pseudo-APDU encodings (shared/reference/mifare.md §4.2)", () => {
  it("matches the ACS/PC/SC 2.07 byte layouts", () => {
    expect(toHex(pseudoApdu.getUid())).toBe("FFCA000000");
    expect(toHex(pseudoApdu.getAts())).toBe("FFCA010000");
    expect(toHex(pseudoApdu.loadKey(1, KEY_FF))).toBe("FF82000106FFFFFFFFFFFF");
    expect(toHex(pseudoApdu.authenticate(4, "B", 0))).toBe("FF860000050100046100");
    expect(toHex(pseudoApdu.readBinary(4))).toBe("FFB0000410");
    expect(toHex(pseudoApdu.updateBinary(4, new Uint8Array(16)))).toBe("FFD6000410" + "00".repeat(16));
    expect(() => pseudoApdu.loadKey(2, KEY_FF)).toThrow(RangeError);
    expect(() => pseudoApdu.loadKey(0, KEY_FF.subarray(1))).toThrow(RangeError);
    expect(() => pseudoApdu.readBinary(256)).toThrow(RangeError);
  });

  it("knows the MIFARE Classic geometry", () => {
    expect([mifareBlockCount("mini"), mifareBlockCount("1k"), mifareBlockCount("4k")]).toEqual([20, 64, 256]);
    expect([
      mifareSectorOf(3),
      mifareSectorOf(4),
      mifareSectorOf(127),
      mifareSectorOf(128),
      mifareSectorOf(255),
    ]).toEqual([0, 1, 31, 32, 39]);
    expect([isSectorTrailer(3), isSectorTrailer(4), isSectorTrailer(143), isSectorTrailer(131)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });
});

describe("PcscStorageCardLink", () => {
  it("reads the UID, authenticates, reads and updates blocks", async () => {
    const { link, mfc, card } = setup();
    await link.fieldOn();
    expect(await mfc.getUid()).toEqual({ ok: true, value: fromHex("A1B2C3D4") });
    expect((await mfc.authenticateWithKey(4, "A", KEY_FF)).ok).toBe(true);
    const data = fromHex("00112233445566778899AABBCCDDEEFF");
    expect((await mfc.updateBlock(5, data)).ok).toBe(true);
    expect(card.dump(5)).toBe(toHex(data));
    expect(await mfc.readBlock(5)).toEqual({ ok: true, value: data });
  });

  it("returns refusals as results with the status word, and recovers after reactivation", async () => {
    const { link, mfc, card } = setup();
    card.setKeys(2, fromHex("A0A1A2A3A4A5"), fromHex("B0B1B2B3B4B5"));
    await link.fieldOn();
    const failed = await mfc.authenticateWithKey(8, "A", KEY_FF);
    expect(failed).toEqual({
      ok: false,
      error: { sw: 0x6300, operation: "authenticate block 8 with key A" },
    });
    if (!failed.ok) expect(describeFailure(failed.error)).toBe("6300 during authenticate block 8 with key A");
    expect((await mfc.authenticateWithKey(8, "B", fromHex("B0B1B2B3B4B5"))).ok).toBe(false); // card halted
    await mfc.reactivate();
    expect((await mfc.authenticateWithKey(8, "B", fromHex("B0B1B2B3B4B5"))).ok).toBe(true);
    expect((await mfc.readBlock(4)).ok).toBe(false); // another sector
    await expect(mfc.updateBlock(9, new Uint8Array(15))).rejects.toThrow(RangeError);
  });

  it("lets CardGoneError through when the card leaves", async () => {
    const { link, mfc } = setup();
    await link.fieldOn();
    link.present = false;
    await expect(mfc.readBlock(4)).rejects.toBeInstanceOf(CardGoneError);
  });
});
