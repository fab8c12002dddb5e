import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ascii, concat, fromHex, toHex } from "../../core/bytes.js";
import { type MifareCard, blankCard, cardsEqual, setBlock, standardIdentity, uidOnlyCard } from "../card.js";
import {
  BLOCK_SIZE,
  type CardType,
  blockCount,
  firstBlockOfSector,
  sectorCount,
  trailerOfSector,
} from "../geometry.js";
import { DUMP_FORMATS, type DumpFormat, detectFormat, exportDump, importDump } from "./index.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function exported(card: MifareCard, format: DumpFormat, nfcVersion?: 2 | 3 | 4): Uint8Array {
  const r = exportDump(card, format, nfcVersion ? { nfcVersion } : {});
  if (!r.ok) throw new Error(r.error.en);
  return r.value.bytes;
}

function imported(bytes: Uint8Array, format: DumpFormat): MifareCard {
  const r = importDump(bytes, { format });
  if (!r.ok) throw new Error(`${format}: ${r.error.en}`);
  return r.value.card;
}

function errorOf(bytes: Uint8Array | string, format: DumpFormat) {
  const r = importDump(typeof bytes === "string" ? ascii(bytes) : bytes, { format });
  if (r.ok) throw new Error(`${format} should have failed`);
  return r.error;
}

/** A fully known card: consistent block 0, random data and trailers. */
const knownCardArb: fc.Arbitrary<MifareCard> = fc
  .record({
    type: fc.constantFrom<CardType>("mini", "1k", "4k"),
    uid: fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 7, maxLength: 7 }),
    ),
    manufacturer: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    seed: fc.integer(),
  })
  .map(({ type, uid, manufacturer, seed }) => {
    // A 4-byte UID may not start with the cascade tag 88 (it would read as a 7-byte layout).
    if (uid.length === 4 && uid[0] === 0x88) uid[0] = 0x08;
    const card = blankCard({ type, uid, manufacturer });
    let x = seed >>> 0;
    const m = card.memory!;
    for (let i = 16; i < m.data.length; i++) m.data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return card;
  })
  .filter((c) => {
    // Keep block 0 unambiguous under the raw formats' UID-length rule.
    const back = importDump(c.memory!.data, { format: "bin" });
    return back.ok && cardsEqual(back.value.card, c);
  });

/** A card with unknown bytes anywhere but block 0 (which carries the UID for header-less formats). */
const partialCardArb: fc.Arbitrary<MifareCard> = fc
  .tuple(knownCardArb, fc.array(fc.tuple(fc.nat(4095), fc.nat(40)), { maxLength: 12 }), fc.nat(39))
  .map(([card, holes, deadSector]) => {
    const m = card.memory!;
    for (const [at, len] of holes) {
      const from = Math.max(16, at % m.data.length);
      m.known.fill(0, from, Math.min(m.data.length, from + len));
    }
    // One whole sector unread (never sector 0: block 0 carries the UID).
    const dead = 1 + (deadSector % (sectorCount(card.type) - 1));
    m.known.fill(0, firstBlockOfSector(dead) * 16, (trailerOfSector(dead) + 1) * 16);
    for (let i = 0; i < m.data.length; i++) if (!m.known[i]) m.data[i] = 0;
    return card;
  });

describe("every format converts to every other and back unchanged", () => {
  it("fully known Mini/1K/4K cards, 4- and 7-byte UIDs: A → B → A for all 25 pairs (and Flipper v2/v3/v4)", () => {
    fc.assert(
      fc.property(knownCardArb, (card) => {
        for (const a of DUMP_FORMATS) {
          const viaA = imported(exported(card, a), a);
          expect(cardsEqual(viaA, card)).toBe(true);
          for (const b of DUMP_FORMATS) {
            const back = imported(exported(imported(exported(viaA, b), b), a), a);
            expect(cardsEqual(back, card)).toBe(true);
          }
        }
        for (const v of [2, 3, 4] as const)
          expect(cardsEqual(imported(exported(card, "nfc", v), "nfc"), card)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("unknown bytes survive Flipper ↔ MCT exactly; the other formats fill them and say so", () => {
    fc.assert(
      fc.property(partialCardArb, (card) => {
        const viaMct = imported(exported(card, "mct"), "mct");
        const viaNfc = imported(exported(viaMct, "nfc"), "nfc");
        expect(cardsEqual(viaNfc, card)).toBe(true);
        expect(cardsEqual(imported(exported(viaNfc, "mct"), "mct"), card)).toBe(true);
        const holes = card.memory!.known.some((k) => !k);
        for (const f of ["bin", "eml", "json"] as const) {
          const r = exportDump(card, f);
          expect(r.ok && r.value.warnings.map((w) => w.code)).toEqual(holes ? ["unknown_filled"] : []);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("the blank S50 card (proxmark3 traces/mifare/s50-empty) reads the same from every format", () => {
  // UID 01A062BD, manufacturer data 011B8CC2D5107E1D: the facts of that dump, typed here.
  const card = blankCard({ type: "1k", uid: fromHex("01A062BD"), manufacturer: fromHex("011B8CC2D5107E1D") });

  it("writes what the tools write", () => {
    expect(text(exported(card, "eml")).split("\n").slice(0, 4)).toEqual([
      "01A062BD7E080400011B8CC2D5107E1D",
      "00000000000000000000000000000000",
      "00000000000000000000000000000000",
      "FFFFFFFFFFFFFF078069FFFFFFFFFFFF",
    ]);
    const nfc = text(exported(card, "nfc"));
    expect(nfc).toContain("\nUID: 01 A0 62 BD\n# ISO14443-3A specific data\nATQA: 00 04\nSAK: 08\n");
    expect(nfc).toContain("\nMifare Classic type: 1K\nData format version: 2\n");
    expect(nfc).toContain("\nBlock 63: FF FF FF FF FF FF FF 07 80 69 FF FF FF FF FF FF\n");
    expect(text(exported(card, "nfc", 2))).toContain("\nATQA: 04 00\n");
    expect(text(exported(card, "mct")).startsWith("+Sector: 0\n01A062BD7E080400011B8CC2D5107E1D\n")).toBe(
      true,
    );
    const json = JSON.parse(text(exported(card, "json")));
    expect(json.Card).toEqual({ UID: "01A062BD", ATQA: "0400", SAK: "08" });
    expect(json.FileType).toBe("mfc v2");
    expect(json.blocks["3"]).toBe("FFFFFFFFFFFFFF078069FFFFFFFFFFFF");
    expect(json.SectorKeys["0"]).toMatchObject({
      KeyA: "FFFFFFFFFFFF",
      KeyB: "FFFFFFFFFFFF",
      AccessConditions: "FF078069",
    });
    expect(exported(card, "bin")).toHaveLength(1024);
  });

  it("loads identically from every format and detects each by content", () => {
    for (const f of DUMP_FORMATS) {
      const bytes = exported(card, f);
      expect(detectFormat(bytes)).toBe(f);
      expect(cardsEqual(imported(bytes, f), card)).toBe(true);
    }
  });
});

describe("format details", () => {
  it("Flipper: ATQA LSB first in v2, MSB first in v3/v4; ?? bytes; UID-only device types", () => {
    const head = (v: number, atqa: string, device = "Mifare Classic") =>
      `Filetype: Flipper NFC device\nVersion: ${v}\nDevice type: ${device}\nUID: 04 11 22 33 44 55 66\nATQA: ${atqa}\nSAK: 18\n`;
    const blocks = (n: number) =>
      Array.from({ length: n }, (_, b) =>
        b === 0
          ? "Block 0: 04 11 22 33 44 55 66 18 42 00 ?? ?? ?? ?? ?? ??"
          : `Block ${b}: ${b % 4 === 3 || (b >= 128 && b % 16 === 15) ? "?? ?? ?? ?? ?? ?? FF 07 80 69 ?? ?? ?? ?? ?? ??" : "?? ".repeat(15) + "??"}`,
      ).join("\n");
    const v2 = imported(ascii(head(2, "42 00") + "Mifare Classic type: 4K\n" + blocks(256)), "nfc");
    const v3 = imported(ascii(head(3, "00 42") + "Mifare Classic type: 4K\n" + blocks(256)), "nfc");
    expect(toHex(v2.atqa)).toBe("0042");
    expect(cardsEqual(v2, v3)).toBe(true);
    expect(v2.type).toBe("4k");
    expect(v2.memory!.known[10]).toBe(0);
    expect(v2.memory!.known[9]).toBe(1);

    const uid = imported(ascii(head(4, "00 44", "ISO14443-3A").replace("SAK: 18", "SAK: 08")), "nfc");
    expect(uid.memory).toBeNull();
    expect(uid.type).toBe("1k");
    const old = imported(ascii(head(2, "44 00", "UID").replace("SAK: 18", "SAK: 08")), "nfc");
    expect(cardsEqual(old, uid)).toBe(true);
    expect(text(exported(uid, "nfc", 3))).toContain("Device type: UID\n");
    expect(text(exported(uid, "nfc"))).toContain("Device type: ISO14443-3A\n");
    expect(
      errorOf(
        text(exported(uid, "nfc")) + "Block 0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n",
        "nfc",
      ).code,
    ).toBe("bad_nfc");
    expect(exportDump(uid, "bin").ok).toBe(false);
  });

  it("Flipper data format 1: keys of sectors clear in the key maps are unknown", () => {
    const card = blankCard({ type: "mini", uid: fromHex("11223344") });
    const body = text(exported(card, "nfc")).replace(
      "Data format version: 2",
      "Data format version: 1\nKey A map: 1F\nKey B map: 1D",
    );
    const back = imported(ascii(body), "nfc");
    const t1 = trailerOfSector(1) * 16;
    expect(back.memory!.known.subarray(t1, t1 + 6).every((k) => k === 1)).toBe(true);
    expect(back.memory!.known.subarray(t1 + 10, t1 + 16).every((k) => k === 0)).toBe(true);
  });

  it("Flipper: the type comes from SAK/ATQA; a declared type that differs only warns", () => {
    const card = blankCard({ type: "1k", uid: fromHex("11223344") });
    const r = importDump(
      ascii(text(exported(card, "nfc")).replace("Mifare Classic type: 1K", "Mifare Classic type: 4K")),
      {
        format: "nfc",
      },
    );
    expect(r.ok && r.value.card.type).toBe("1k");
    expect(r.ok && r.value.warnings.map((w) => w.code)).toEqual(["type_mismatch"]);
  });

  it("MCT: missing sectors, * lines and - bytes are unknown; repeated sectors are refused", () => {
    const card = blankCard({ type: "1k", uid: fromHex("01A062BD") });
    const mct = text(exported(card, "mct"));
    const cut = mct.split("+Sector: 5\n")[0]! + "+Sector: 5\n*No keys found or dead sector\n";
    const back = imported(
      ascii(cut.replace("FFFFFFFFFFFFFF078069FFFFFFFFFFFF", "------------FF078069------------")),
      "mct",
    );
    expect(back.type).toBe("1k");
    expect(back.memory!.known.subarray(5 * 64).every((k) => k === 0)).toBe(true);
    expect(back.memory!.known.subarray(48, 54).every((k) => k === 0)).toBe(true);
    expect(errorOf(mct + "+Sector: 0\n" + mct.split("\n").slice(1, 5).join("\n"), "mct").code).toBe(
      "duplicate_sector",
    );
    expect(errorOf("+Sector: 0\n0123", "mct")).toMatchObject({ code: "bad_line", line: 2 });
    expect(errorOf("+Sector: 1\n" + "00".repeat(16) + "\n", "mct").code).toBe("bad_line");
  });

  it("proxmark3 JSON: FileType mfcard and no Card object (identity from block 0) are accepted", () => {
    const card = blankCard({ type: "mini", uid: fromHex("11223344") });
    const doc = JSON.parse(text(exported(card, "json")));
    delete doc.Card;
    doc.FileType = "mfcard";
    expect(cardsEqual(imported(ascii(JSON.stringify(doc)), "json"), card)).toBe(true);
    doc.FileType = "mfu";
    expect(errorOf(JSON.stringify(doc), "json").code).toBe("bad_json");
    doc.FileType = "mfc v2";
    delete doc.blocks["7"];
    expect(errorOf(JSON.stringify(doc), "json").code).toBe("bad_json");
  });

  it("the card type comes from SAK/ATQA, not the size: a 1K in a 4096-byte image, a 4K SAK in 1024 bytes", () => {
    const card = blankCard({ type: "1k", uid: fromHex("01A062BD") });
    const big = concat(exported(card, "bin"), new Uint8Array(3072));
    const r = importDump(big, { format: "bin" });
    expect(r.ok && r.value.card.type).toBe("1k");
    expect(r.ok && r.value.warnings.map((w) => w.code)).toEqual(["extra_blocks"]);
    const as4k = exported(blankCard({ type: "4k", uid: fromHex("01A062BD") }), "bin").slice(0, 1024);
    expect(errorOf(as4k, "bin")).toMatchObject({ code: "truncated", en: expect.stringContaining("4K") });
  });

  it("a standard identity survives: Mini SAK 09, 4K 7-byte ATQA 0042", () => {
    const card = blankCard({ type: "mini", uid: fromHex("11223344") });
    expect(imported(exported(card, "bin"), "bin").sak).toBe(0x09);
    expect(toHex(standardIdentity("4k", fromHex("04112233445566")).atqa)).toBe("0042");
  });
});

describe("bad files give a clear error in both languages, never a crash", () => {
  const card = blankCard({ type: "1k", uid: fromHex("01A062BD") });

  it("truncated, oversized, garbage and bad-BCC files, in every format", () => {
    for (const f of DUMP_FORMATS) {
      const good = exported(card, f);
      const truncated = errorOf(good.slice(0, Math.floor(good.length / 2)), f);
      expect(truncated.zh.length).toBeGreaterThan(0);
      expect(truncated.en.length).toBeGreaterThan(0);
      expect(errorOf(new Uint8Array(2 << 20), f).code).toBe("oversized");
      expect(errorOf("\u0000\u0001garbage\u00ff{{", f).en.length).toBeGreaterThan(0);
    }
    const bad = card.memory!.data.slice();
    bad[4] = 0x7f;
    const badCard: MifareCard = { ...card, memory: { data: bad, known: card.memory!.known } };
    for (const f of DUMP_FORMATS) {
      const e = errorOf(exported(badCard, f), f);
      expect(e.code).toBe("bad_bcc");
      expect(e.zh).toContain("BCC");
      expect(e.en).toContain("BCC 7E");
    }
  });

  it("specific messages: not whole blocks, too many blocks, header UID ≠ block 0", () => {
    expect(errorOf(new Uint8Array(1000), "bin").code).toBe("truncated");
    expect(errorOf(new Uint8Array(4112), "bin").code).toBe("oversized");
    expect(errorOf("112233444408C4000000000000000000\n", "eml").code).toBe("bad_block0");
    expect(errorOf("00".repeat(16) + "\n", "eml").code).toBe("unknown_type");
    const nfc = text(exported(card, "nfc")).replace("UID: 01 A0 62 BD", "UID: 01 A0 62 BE");
    expect(errorOf(nfc, "nfc").code).toBe("uid_mismatch");
  });

  it.each(DUMP_FORMATS)("the %s parser never throws on arbitrary or mutated input", (f) => {
    const good = exported(card, f);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 5000 }),
          fc.string({ maxLength: 2000 }).map((s) => ascii(s)),
          fc
            .tuple(fc.nat(good.length), fc.uint8Array({ maxLength: 40 }), fc.nat(good.length))
            .map(([at, junk, cut]) =>
              concat(good.slice(0, at), junk, good.slice(at + junk.length, Math.max(at, cut))),
            ),
        ),
        (bytes) => {
          const r = importDump(bytes, { format: f });
          if (!r.ok) expect(r.error.zh.length * r.error.en.length).toBeGreaterThan(0);
          else
            expect(
              r.value.card.memory === null ||
                r.value.card.memory.data.length === blockCount(r.value.card.type) * BLOCK_SIZE,
            ).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("format detection never throws", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.string(), (b, name) =>
        DUMP_FORMATS.includes(detectFormat(b, name)),
      ),
    );
  });
});

describe("UID-only cards", () => {
  it("round-trip through Flipper only", () => {
    const u = uidOnlyCard({ uid: fromHex("04A1B2C3D4E5F6"), atqa: fromHex("0044"), sak: 0x08 });
    for (const v of [2, 3, 4] as const)
      expect(cardsEqual(imported(exported(u, "nfc", v), "nfc"), u)).toBe(true);
    for (const f of ["bin", "eml", "json", "mct"] as const) expect(exportDump(u, f).ok).toBe(false);
  });

  it("an ISO14443-4A file (a CPU card) loads as UID-only with its SAK, so the check can refuse it", () => {
    const body =
      "Filetype: Flipper NFC device\nVersion: 4\nDevice type: ISO14443-4A\nUID: 04 A1 B2 C3 D4 E5 F6\nATQA: 03 44\nSAK: 20\nATS: 06 75 77 81 02 80\n";
    const c = imported(ascii(body), "nfc");
    expect([c.sak, c.memory]).toEqual([0x20, null]);
  });
});

describe("setBlock in fixtures", () => {
  it("marks written bytes known", () => {
    const card = blankCard({ type: "mini", uid: fromHex("11223344") });
    card.memory!.known.fill(0, 32, 48);
    setBlock(card.memory!, 2, new Uint8Array(4), 4);
    expect(Array.from(card.memory!.known.subarray(32, 48))).toEqual([
      0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });
});
