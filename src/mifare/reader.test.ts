/** Our reader reads our emulated Mini, 1K and 4K cards with 4- and 7-byte UIDs end to end at frame level. */
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { MemoryFrameLink } from "../nfc/frame.js";
import { encodeAccessBits } from "./access.js";
import { type MifareCard, blankCard, blockData, cardsEqual, setBlock, uidOnlyCard } from "./card.js";
import { EmulatedClassic } from "./emulator.js";
import { type CardType, blockCount, sectorCount, trailerOfSector } from "./geometry.js";
import { parseKeyDictionary } from "./keys.js";
import { type ReadReport, readCard } from "./reader.js";

/** A card with recognisable data in every data block. */
function filledCard(type: CardType, uid: string): MifareCard {
  const card = blankCard({ type, uid: fromHex(uid) });
  const m = card.memory!;
  for (let b = 1; b < blockCount(type); b++) {
    if (trailerOfSector(b < 128 ? b >> 2 : 32 + ((b - 128) >> 4)) === b) continue;
    setBlock(
      m,
      b,
      Uint8Array.from({ length: 16 }, (_, i) => (b * 7 + i) & 0xff),
    );
  }
  return card;
}

function setKeys(card: MifareCard, sector: number, keyA: string, keyB: string, access = "FF078069"): void {
  setBlock(card.memory!, trailerOfSector(sector), fromHex(keyA + access + keyB));
}

async function read(card: MifareCard, keys?: Bytes[]): Promise<ReadReport> {
  const link = new MemoryFrameLink(new EmulatedClassic(card));
  const r = await readCard(link, keys ? { keys } : {});
  if (!r.ok) throw new Error(r.error.en);
  return r.value;
}

describe("end to end: every type and UID size", () => {
  it.each([
    ["mini", "11223344"],
    ["mini", "04112233445566"],
    ["1k", "01A062BD"],
    ["1k", "04A1B2C3D4E5F6"],
    ["4k", "BAE27C9D"],
    ["4k", "04112233445566"],
  ] as const)(
    "%s card with UID %s reads back identical, every sector opened by FFFFFFFFFFFF",
    async (type, uid) => {
      const card = filledCard(type, uid);
      const report = await read(card);
      expect(toHex(report.activation.uid)).toBe(uid);
      expect(report.card.type).toBe(type);
      expect(cardsEqual(report.card, card)).toBe(true);
      expect(report.sectors).toHaveLength(sectorCount(type));
      for (const s of report.sectors) {
        expect(toHex(s.keyA!)).toBe("FFFFFFFFFFFF");
        expect(s.blocksRead).toBe(s.blocks);
      }
    },
  );
});

describe("the dictionary attack", () => {
  it("reports which key opened which sector, trying user dictionaries (.dic / .keys)", async () => {
    const card = filledCard("1k", "01A062BD");
    // 787788: data read AB / write B; trailer: key B not readable, so key B is a real key.
    setKeys(card, 2, "A0A1A2A3A4A5", "B0B1B2B3B4B5", "787788C1");
    setKeys(card, 5, "4D3A99C351DD", "1A982C7E459A", "787788C1");
    setKeys(card, 9, "0123456789AB", "CDEF01234567", "787788C1");
    const dictionary = parseKeyDictionary("# site keys\n0123456789ab\nCDEF01234567 # key B\n");
    if (!dictionary.ok) throw new Error("bad test dictionary");

    const builtin = await read(card);
    expect(builtin.sectors[2]).toMatchObject({ blocksRead: 4 });
    expect(toHex(builtin.sectors[2]!.keyA!)).toBe("A0A1A2A3A4A5");
    expect(toHex(builtin.sectors[2]!.keyB!)).toBe("B0B1B2B3B4B5");
    expect(toHex(builtin.sectors[5]!.keyA!)).toBe("4D3A99C351DD");
    expect(builtin.sectors[9]!.keyA).toBeNull();
    expect(builtin.sectors[9]!.keyB).toBeNull();
    expect(builtin.sectors[9]!.blocksRead).toBe(0);
    // Unread sector: every byte unknown.
    expect(builtin.card.memory!.known.subarray(36 * 16, 40 * 16).every((k) => k === 0)).toBe(true);

    const withUser = await read(card, [
      ...dictionary.value,
      fromHex("FFFFFFFFFFFF"),
      fromHex("A0A1A2A3A4A5"),
    ]);
    expect(toHex(withUser.sectors[9]!.keyA!)).toBe("0123456789AB");
    expect(toHex(withUser.sectors[9]!.keyB!)).toBe("CDEF01234567");
    expect(withUser.sectors[5]!.keyA).toBeNull(); // not in that dictionary
  });

  it("a sector readable only with key B is read with key B", async () => {
    const card = filledCard("1k", "01A062BD");
    // Data 011 (read/write B only), trailer 011.
    const ac = toHex(encodeAccessBits([0b011, 0b011, 0b011, 0b011]));
    setKeys(card, 3, "112233445566", "FFFFFFFFFFFF", `${ac}69`);
    const r = await read(card);
    expect(r.sectors[3]!.keyA).toBeNull();
    expect(toHex(r.sectors[3]!.keyB!)).toBe("FFFFFFFFFFFF");
    expect(r.sectors[3]!.blocksRead).toBe(4);
    expect(toHex(blockData(r.card.memory!, 13))).toBe(toHex(blockData(card.memory!, 13)));
    // Key A stays unknown (a READ returns it as zeros).
    expect(r.card.memory!.known.subarray(15 * 16, 15 * 16 + 6).every((k) => k === 0)).toBe(true);
  });

  it("a UID-only card (no sector opens) reads as its UID with every sector unknown", async () => {
    const r = await read(uidOnlyCard({ uid: fromHex("08A1B2C3"), atqa: fromHex("0004"), sak: 0x08 }), [
      fromHex("FFFFFFFFFFFF"),
    ]);
    expect(toHex(r.card.uid)).toBe("08A1B2C3");
    expect(r.sectors.every((s) => s.keyA === null && s.keyB === null)).toBe(true);
    expect(r.card.memory!.known.every((k) => k === 0)).toBe(true);
  });

  it("a card that is not MIFARE Classic (SAK 20) is returned UID-only, without trying keys", async () => {
    const link = new MemoryFrameLink(
      new EmulatedClassic(uidOnlyCard({ uid: fromHex("04A1B2C3D4E5F6"), atqa: fromHex("0344"), sak: 0x20 })),
      { trace: true },
    );
    const r = await readCard(link);
    expect(r.ok && r.value.card.memory).toBeNull();
    expect(link.trace.length).toBeLessThan(12);
  });

  it("an empty field is an error in both languages", async () => {
    const r = await readCard(new MemoryFrameLink(null));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: "no_card", zh: "感应区内没有卡片" });
  });
});
