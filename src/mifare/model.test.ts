/** Card model: geometry, access bits, value blocks, block 0, the card image and its JSON form. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  type AccessConditions,
  accessBitsValid,
  dataAllowed,
  decodeAccessBits,
  encodeAccessBits,
  groupOfBlock,
  keyBReadable,
  trailerAllowed,
} from "./access.js";
import { bcc, buildBlock0, identityOfBlock0, onAirSak, uidLengthOfBlock0 } from "./block0.js";
import {
  blankCard,
  block0BccValid,
  cardFromJson,
  cardToJson,
  cardsEqual,
  standardIdentity,
  trailerParts,
  typeFromSakAtqa,
  uidOnlyCard,
} from "./card.js";
import {
  blockCount,
  blocksInSector,
  firstBlockOfSector,
  isTrailer,
  sectorCount,
  sectorOfBlock,
  trailerOfSector,
} from "./geometry.js";
import { decodeValueBlock, encodeValueBlock, isValueBlock } from "./value.js";

describe("geometry (Mini 5×4, 1K 16×4, 4K 32×4 + 8×16)", () => {
  it("sizes, sectors and trailers", () => {
    expect([blockCount("mini"), blockCount("1k"), blockCount("4k")]).toEqual([20, 64, 256]);
    expect([sectorCount("mini"), sectorCount("1k"), sectorCount("4k")]).toEqual([5, 16, 40]);
    expect([
      sectorOfBlock(127),
      sectorOfBlock(128),
      sectorOfBlock(143),
      sectorOfBlock(144),
      sectorOfBlock(255),
    ]).toEqual([31, 32, 32, 33, 39]);
    expect([trailerOfSector(0), trailerOfSector(31), trailerOfSector(32), trailerOfSector(39)]).toEqual([
      3, 127, 143, 255,
    ]);
    expect([firstBlockOfSector(33), blocksInSector(33), blocksInSector(31)]).toEqual([144, 16, 4]);
    expect([isTrailer(3), isTrailer(4), isTrailer(143), isTrailer(131)]).toEqual([true, false, true, false]);
  });

  it("every block belongs to the sector whose range holds it", () => {
    for (let b = 0; b < 256; b++) {
      const s = sectorOfBlock(b);
      expect(b >= firstBlockOfSector(s) && b <= trailerOfSector(s)).toBe(true);
    }
  });

  it("access groups: one per block below 128, blocks 0–4, 5–9, 10–14 and the trailer above", () => {
    expect([0, 1, 2, 3].map((o) => groupOfBlock(4 + o))).toEqual([0, 1, 2, 3]);
    expect([128, 132, 133, 137, 138, 142, 143].map(groupOfBlock)).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });
});

describe("access bits (NXP MF1S50 §8.7)", () => {
  it("decodes the examples of the reference: FF0780, 787788 (MAD), 878787", () => {
    expect(decodeAccessBits(fromHex("FF0780"))).toEqual([0, 0, 0, 0b001]);
    expect(decodeAccessBits(fromHex("787788"))).toEqual([0b100, 0b100, 0b100, 0b011]);
    expect(decodeAccessBits(fromHex("878787"))).toEqual([0b010, 0b010, 0b010, 0b101]);
    expect(decodeAccessBits(fromHex("FF0781"))).toBeNull();
    expect(decodeAccessBits(fromHex("0000"))).toBeNull();
  });

  it("encode and decode are inverse; exactly 4096 of the 2^24 byte triples are valid", () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(7), fc.nat(7), fc.nat(7), fc.nat(7)), (c) => {
        expect(decodeAccessBits(encodeAccessBits(c as unknown as AccessConditions))).toEqual(c);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 3, maxLength: 3 }), (b) => {
        const d = decodeAccessBits(b);
        if (d) expect(toHex(encodeAccessBits(d))).toBe(toHex(b));
        expect(accessBitsValid(b)).toBe(d !== null);
      }),
    );
  });

  it("data rights per condition; readable key B voids key B", () => {
    const ac = (data: number, trailer: number): AccessConditions => [data, data, data, trailer];
    expect(dataAllowed(ac(0b000, 0b011), 0, "write", "A")).toBe(true);
    expect(dataAllowed(ac(0b100, 0b011), 0, "write", "A")).toBe(false);
    expect(dataAllowed(ac(0b100, 0b011), 0, "write", "B")).toBe(true);
    expect(dataAllowed(ac(0b110, 0b011), 0, "increment", "A")).toBe(false);
    expect(dataAllowed(ac(0b110, 0b011), 0, "decrement", "A")).toBe(true);
    expect(dataAllowed(ac(0b011, 0b011), 0, "read", "A")).toBe(false);
    expect(dataAllowed(ac(0b111, 0b011), 0, "read", "B")).toBe(false);
    expect(dataAllowed(ac(0b000, 0b001), 0, "read", "B")).toBe(false); // transport: key B is data
    expect([0, 1, 2, 3, 4, 5, 6, 7].filter(keyBReadable)).toEqual([0, 1, 2]);
  });

  it("trailer rights: key A never readable; transport 001 lets key A rewrite everything", () => {
    for (let c = 0; c < 8; c++)
      for (const k of ["A", "B"] as const)
        expect(trailerAllowed([0, 0, 0, c], "keyA", "read", k)).toBe(false);
    const t: AccessConditions = [0, 0, 0, 0b001];
    expect((["keyA", "access", "keyB"] as const).every((f) => trailerAllowed(t, f, "write", "A"))).toBe(true);
    expect(trailerAllowed(t, "keyB", "read", "A")).toBe(true);
    const mad: AccessConditions = [4, 4, 4, 0b011];
    expect(trailerAllowed(mad, "access", "write", "A")).toBe(false);
    expect(trailerAllowed(mad, "access", "write", "B")).toBe(true);
    expect(trailerAllowed(mad, "keyB", "read", "A")).toBe(false);
  });
});

describe("value blocks", () => {
  it("encodes value, ~value, value and the address four times", () => {
    expect(toHex(encodeValueBlock(100, 4))).toBe("64000000" + "9BFFFFFF" + "64000000" + "04FB04FB");
    expect(decodeValueBlock(encodeValueBlock(-1, 0x21))).toEqual({ value: -1, address: 0x21 });
    expect(isValueBlock(new Uint8Array(16))).toBe(false);
    expect(isValueBlock(fromHex("00000000FFFFFFFF0000000000FF00FF"))).toBe(true);
  });

  it("any int32 round-trips; a flipped byte is no longer a value block", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat(255), fc.nat(15), (v, a, i) => {
        const b = encodeValueBlock(v, a);
        expect(decodeValueBlock(b)).toEqual({ value: v, address: a });
        b[i]! ^= 0x10;
        expect(isValueBlock(b)).toBe(false);
      }),
    );
  });

  it("never throws on any 0–20 bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (b) => typeof isValueBlock(b) === "boolean"));
  });
});

describe("block 0 (proxmark3 magic_cards_notes.md)", () => {
  it("4-byte layout 11223344 44 08 0400 6263646566676869 and 7-byte 04112233445566 88 4400 C82000000000", () => {
    const b4 = fromHex("11223344440804006263646566676869");
    expect(uidLengthOfBlock0(b4)).toBe(4);
    const id4 = identityOfBlock0(b4)!;
    expect([toHex(id4.uid), id4.sak, toHex(id4.atqa)]).toEqual(["11223344", 0x08, "0004"]);
    expect(toHex(buildBlock0(id4, fromHex("6263646566676869")))).toBe(toHex(b4));

    const b7 = fromHex("04112233445566884400C82000000000");
    expect(uidLengthOfBlock0(b7)).toBe(7);
    const id7 = identityOfBlock0(b7)!;
    expect([toHex(id7.uid), id7.sak, toHex(id7.atqa)]).toEqual(["04112233445566", 0x08, "0044"]);
    // This card keeps SAK | 0x80 in block 0; on air it answers 08.
    expect(toHex(buildBlock0({ ...id7, sak: 0x88 }, fromHex("C82000000000")))).toBe(toHex(b7));
  });

  it("SAK stored with 0x80 answers without it; a bad BCC is not a 4-byte layout", () => {
    expect([onAirSak(0x88), onAirSak(0x98), onAirSak(0x08), onAirSak(0x28)]).toEqual([
      0x08, 0x18, 0x08, 0x28,
    ]);
    expect(uidLengthOfBlock0(fromHex("11223344450804000000000000000000"))).toBeNull();
    expect(bcc(fromHex("01A062BD"))).toBe(0x7e);
  });

  it("identity → block 0 → identity for 4- and 7-byte UIDs", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.uint8Array({ minLength: 7, maxLength: 7 }),
        ),
        fc.constantFrom("mini", "1k", "4k" as const),
        (uid, type) => {
          const id = standardIdentity(type, uid);
          const back = identityOfBlock0(buildBlock0(id))!;
          expect([toHex(back.uid), back.sak, toHex(back.atqa)]).toEqual([toHex(uid), id.sak, toHex(id.atqa)]);
        },
      ),
    );
  });
});

describe("card type from SAK and ATQA, not from size", () => {
  it.each([
    [0x08, "0004", "1k"],
    [0x09, "0004", "mini"],
    [0x18, "0002", "4k"],
    [0x88, "0004", "1k"],
    [0x98, "0002", "4k"],
    [0x28, "0004", "1k"],
    [0x00, "0002", "4k"],
    [0x20, "0344", "1k"],
    [0x00, "0000", null],
  ] as const)("SAK %i ATQA %s → %s", (sak, atqa, type) => {
    expect(typeFromSakAtqa(sak, fromHex(atqa))).toBe(type);
  });
});

describe("card image", () => {
  it("a blank card is the factory state (pm3 s50-empty layout)", () => {
    const card = blankCard({
      type: "1k",
      uid: fromHex("01A062BD"),
      manufacturer: fromHex("011B8CC2D5107E1D"),
    });
    const m = card.memory!;
    expect(toHex(m.data.subarray(0, 16))).toBe("01A062BD7E080400011B8CC2D5107E1D");
    expect(toHex(m.data.subarray(48, 64))).toBe("FFFFFFFFFFFFFF078069FFFFFFFFFFFF");
    expect(trailerParts(m, 15)).toMatchObject({ gpb: 0x69 });
    expect(block0BccValid(card)).toBe(true);
    m.data[4] = 0;
    expect(block0BccValid(card)).toBe(false);
  });

  it("JSON form round-trips, unknown bytes as ??; UID-only cards have no blocks", () => {
    const card = blankCard({ type: "mini", uid: fromHex("04112233445566") });
    card.memory!.known.fill(0, 16 * 7, 16 * 7 + 6);
    const j = cardToJson(card);
    expect(j.blocks![7]).toBe("????????????FF078069FFFFFFFFFFFF");
    const back = cardFromJson(JSON.parse(JSON.stringify(j)));
    expect(back.ok && cardsEqual(back.value, card)).toBe(true);
    const u = uidOnlyCard({ uid: fromHex("08010203"), atqa: fromHex("0004"), sak: 0x08 });
    const ub = cardFromJson(cardToJson(u));
    expect(ub.ok && ub.value.memory).toBeNull();
  });

  it("cardFromJson refuses malformed input without throwing", () => {
    const good = cardToJson(blankCard({ type: "mini", uid: fromHex("11223344") }));
    for (const bad of [
      null,
      1,
      "x",
      {},
      { ...good, uid: "1122" },
      { ...good, type: "2k" },
      { ...good, sak: 300 },
      { ...good, blocks: ["00"] },
    ])
      expect(cardFromJson(bad).ok).toBe(false);
    fc.assert(fc.property(fc.jsonValue(), (v) => typeof cardFromJson(v).ok === "boolean"));
  });
});
