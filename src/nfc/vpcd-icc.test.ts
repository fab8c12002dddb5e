import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { MemoryStorageCard, PpseTestCard, SELECT_PPSE } from "../../test/pcsc-doubles.js";
import { ContactlessIcc, SelectingIcc, answerGetData } from "./vpcd-icc.js";
import { StorageCardIcc } from "./vpcd-storage.js";

describe("ContactlessIcc: an ISO 14443-4 card in a virtual contactless reader", () => {
  it("activates on insertion and builds the ATR from the ATS historical bytes", () => {
    const card = new PpseTestCard();
    const icc = new ContactlessIcc(card);
    expect(toHex(icc.atr())).toBe("3B80800101"); // before any activation: no historical bytes known
    icc.insert();
    expect(card.activations).toBe(1);
    expect(toHex(icc.atr())).toBe("3B8180018080");
  });

  it("maps power off, power on and reset to deactivate/activate", () => {
    const card = new PpseTestCard();
    const icc = new ContactlessIcc(card);
    icc.insert();
    icc.powerOn(); // already powered: nothing happens
    expect([card.activations, card.deactivations]).toEqual([1, 0]);
    icc.powerOff();
    icc.powerOff();
    expect(card.deactivations).toBe(1);
    icc.powerOn();
    expect(card.activations).toBe(2);
    icc.reset();
    expect([card.activations, card.deactivations]).toEqual([3, 2]);
    icc.remove();
    expect(card.deactivations).toBe(3);
  });

  it("passes APDUs to the card and answers GET DATA itself", () => {
    const card = new PpseTestCard();
    const icc = new ContactlessIcc(card);
    icc.insert();
    expect(toHex(icc.transmit(SELECT_PPSE)).endsWith("9000")).toBe(true);
    expect(toHex(icc.transmit(fromHex("8010000000")))).toBe("00019000");
    expect(toHex(icc.transmit(fromHex("FFCA000000")))).toBe("04A1B2C3D4E5F69000");
    expect(toHex(icc.transmit(fromHex("FFCA010000")))).toBe("0675778102809000");
    expect(toHex(icc.transmit(fromHex("FF82000006FFFFFFFFFFFF")))).toBe("6A81");
  });

  it("powers the card for an APDU that arrives while it is off", () => {
    const card = new PpseTestCard();
    const icc = new ContactlessIcc(card);
    icc.insert();
    icc.powerOff();
    expect(toHex(icc.transmit(fromHex("8010000000")))).toBe("00019000");
    expect(card.activations).toBe(2);
  });

  it("answers 6F 00 when a card breaks its contract and throws", () => {
    const card = new PpseTestCard();
    card.process = () => {
      throw new Error("bug");
    };
    const icc = new ContactlessIcc(card);
    icc.insert();
    expect(toHex(icc.transmit(fromHex("00B0000000")))).toBe("6F00");
  });

  it("GET DATA never throws on malformed commands (property)", () => {
    const activation = new PpseTestCard().activationData;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (tail) => {
        const r = answerGetData(Uint8Array.of(0xff, 0xca, ...tail), activation);
        expect(r.length).toBeGreaterThanOrEqual(2);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("SelectingIcc: the card a phone presents, chosen per activation", () => {
  it("chooses at insertion and at power-up after a power off, never in the middle of a session", () => {
    const iso = new PpseTestCard();
    const storage = new MemoryStorageCard("1k");
    let door = true;
    const isoIcc = new ContactlessIcc(iso);
    const storageIcc = new StorageCardIcc(storage);
    const icc = new SelectingIcc(() => (door ? storageIcc : isoIcc));
    icc.insert();
    expect(toHex(icc.atr())).toBe("3B8F8001804F0CA000000306030001000000006A");
    expect(storage.active).toBe(true);
    door = false;
    // Still the storage card until it loses power: the session goes on.
    expect(toHex(icc.transmit(fromHex("FFCA000000")))).toBe("A1B2C3D49000");
    icc.reset();
    expect(storage.active).toBe(false);
    expect(toHex(icc.atr())).toBe("3B8180018080");
    expect(toHex(icc.transmit(SELECT_PPSE)).endsWith("9000")).toBe(true);
    door = true;
    icc.powerOn(); // already powered: no change
    expect(icc.presented).toBe(isoIcc);
    icc.powerOff();
    expect(iso.deactivations).toBeGreaterThan(0);
    icc.powerOn();
    expect(icc.presented).toBe(storageIcc);
    icc.remove();
    door = false;
    icc.insert();
    expect(icc.presented).toBe(isoIcc);
  });
});
