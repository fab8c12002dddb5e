import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { MemoryStorageCard } from "../../test/pcsc-doubles.js";
import { StorageCardIcc } from "./vpcd-storage.js";

// Pseudo-APDUs and status words as in shared/reference/mifare.md §4.2 (ACS ACR122U/ACR1281U manuals).
const KEY_FF = "FFFFFFFFFFFF";
const setup = (variant: "1k" | "4k" | "mini" = "1k") => {
  const card = new MemoryStorageCard(variant);
  const icc = new StorageCardIcc(card);
  icc.insert();
  const tx = (hex: string) => toHex(icc.transmit(fromHex(hex)));
  return { card, icc, tx };
};

describe("StorageCardIcc: PC/SC pseudo-APDUs over a StorageCard", () => {
  it("presents the storage-card ATR of the card's variant", () => {
    expect(toHex(setup("1k").icc.atr())).toBe("3B8F8001804F0CA000000306030001000000006A");
    expect(toHex(setup("4k").icc.atr())).toBe("3B8F8001804F0CA0000003060300020000000069");
    expect(toHex(setup("mini").icc.atr())).toBe("3B8F8001804F0CA000000306030026000000004D");
  });

  it("answers FF CA 00 00 with the UID, honouring Le; FF CA 01 (ATS) is not there for MIFARE Classic", () => {
    const { tx } = setup();
    expect(tx("FFCA000000")).toBe("A1B2C3D49000");
    expect(tx("FFCA0000")).toBe("A1B2C3D49000");
    expect(tx("FFCA000004")).toBe("A1B2C3D49000");
    expect(tx("FFCA000002")).toBe("6C04");
    expect(tx("FFCA000008")).toBe("A1B2C3D46282");
    expect(tx("FFCA010000")).toBe("6A81");
    expect(tx("FFCA020000")).toBe("6A81");
    expect(tx("FFCA000100")).toBe("6B00");
  });

  it("loads a key, authenticates, reads and updates a block", () => {
    const { tx, card } = setup();
    expect(tx(`FF82000006${KEY_FF}`)).toBe("9000");
    expect(tx("FF860000050100046000")).toBe("9000");
    expect(tx("FFB0000410")).toBe("00".repeat(16) + "9000");
    expect(tx("FFD6000410" + "11".repeat(16))).toBe("9000");
    expect(card.dump(4)).toBe("11".repeat(16));
    expect(tx("FFB0000410")).toBe("11".repeat(16) + "9000");
    // Three blocks of the same sector in one read (ACR1281-class readers), but not across sectors.
    expect(tx("FFB0000430")).toBe("11".repeat(16) + "00".repeat(32) + "9000");
    expect(tx("FFB0000420")).toBe("11".repeat(16) + "00".repeat(16) + "9000");
    expect(tx("FFB0000520")).toBe("00".repeat(32) + "9000");
    expect(tx("FFB0000720")).toBe("6300");
  });

  it("shows key A of a trailer as zeros", () => {
    const { tx } = setup();
    tx(`FF82000106${KEY_FF}`);
    expect(tx("FF860000050100076101")).toBe("9000");
    expect(tx("FFB0000710")).toBe("000000000000FF078069FFFFFFFFFFFF9000");
  });

  it("answers 63 00 to what fails: empty slot, wrong key, other sector, read-only, bad lengths", () => {
    const { tx, card } = setup();
    expect(tx("FF860000050100046001")).toBe("6300"); // slot 1 empty
    expect(tx("FFB0000410")).toBe("6300"); // not authenticated
    expect(tx(`FF82000206${KEY_FF}`)).toBe("6300"); // slot 2 does not exist
    expect(tx(`FF82200006${KEY_FF}`)).toBe("6300"); // non-volatile key structure
    expect(tx("FF820000050102030405")).toBe("6300"); // 5-byte key
    tx(`FF82000006${KEY_FF}`);
    expect(tx("FF860000050100406000")).toBe("6300"); // block 64 is past a 1K
    expect(tx("FF860000050200046000")).toBe("6300"); // version byte 02
    expect(tx("FF860000050100046200")).toBe("6300"); // key type 62
    expect(tx("FF860000050100046000")).toBe("9000");
    expect(tx("FFB0000810")).toBe("6300"); // sector 2, authenticated for sector 1
    expect(tx("FFB000040F")).toBe("6300"); // not a whole block
    expect(tx("FFD600040F" + "00".repeat(15))).toBe("6300");
    card.readOnlySectors.add(1);
    expect(tx("FFD6000410" + "22".repeat(16))).toBe("6300");
    expect(card.dump(4)).toBe("00".repeat(16));
  });

  it("after a failed authentication, every card operation fails until power-up or reset", () => {
    const { tx, icc, card } = setup();
    card.setKeys(1, fromHex("A0A1A2A3A4A5"), fromHex("B0B1B2B3B4B5"));
    tx(`FF82000006${KEY_FF}`);
    expect(tx("FF860000050100046000")).toBe("6300"); // wrong key: card halted
    tx("FF82000006A0A1A2A3A4A5");
    expect(tx("FF860000050100046000")).toBe("6300"); // right key, but the card is gone for the reader
    expect(tx("FFCA000000")).toBe("A1B2C3D49000"); // the reader still knows the UID
    icc.reset();
    expect(tx("FF860000050100046000")).toBe("9000"); // key slot 0 survived: reader memory
    icc.powerOff();
    icc.powerOn();
    expect(tx("FFB0000410")).toBe("6300"); // a new activation starts unauthenticated
  });

  it("supports the obsolete FF 88 authenticate", () => {
    const { tx } = setup();
    tx(`FF82000006${KEY_FF}`);
    expect(tx("FF8800086000")).toBe("9000");
    expect(tx("FFB0000810")).toBe("00".repeat(16) + "9000");
    expect(tx("FF88010860")).toBe("6300");
  });

  it("answers 6A 81 to other reader instructions and 6E 00 to non-reader commands", () => {
    const { tx } = setup();
    expect(tx("FFD7000405")).toBe("6A81");
    expect(tx("00A4040007A0000000041010")).toBe("6E00");
  });

  it("forgets the reader's keys when the card leaves the bridge, and activates on a first APDU", () => {
    const { tx, icc, card } = setup();
    tx(`FF82000006${KEY_FF}`);
    icc.remove();
    expect(card.active).toBe(false);
    expect(tx("FF860000050100046000")).toBe("6300");
    expect(card.active).toBe(true);
  });

  it("never throws and always ends with a status word; only a 90 00 update changes memory (property)", () => {
    const { icc, card } = setup();
    icc.transmit(fromHex(`FF82000006${KEY_FF}`));
    icc.transmit(fromHex("FF860000050100046000"));
    const ff = fc.tuple(
      fc.constantFrom(0xff),
      fc.constantFrom(0xca, 0x82, 0x86, 0x88, 0xb0, 0xd6, 0xd7, 0x00),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 60 }),
          ff.map(([a, b, rest]) => Uint8Array.of(a, b, ...rest)),
        ),
        (cmd) => {
          const before = card.blocks.map(toHex).join();
          const r = icc.transmit(cmd);
          expect(r.length).toBeGreaterThanOrEqual(2);
          const okUpdate = cmd[0] === 0xff && cmd[1] === 0xd6 && toHex(r.subarray(r.length - 2)) === "9000";
          if (!okUpdate) expect(card.blocks.map(toHex).join()).toBe(before);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
