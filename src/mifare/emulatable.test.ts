import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { encodeAccessBits } from "./access.js";
import { type MifareCard, blankCard, setBlock, uidOnlyCard } from "./card.js";
import { checkEmulatable, refusalText } from "./emulatable.js";
import { trailerOfSector } from "./geometry.js";
import { encodeValueBlock } from "./value.js";

const blank = (): MifareCard => blankCard({ type: "1k", uid: fromHex("01A062BD") });
const codes = (c: MifareCard) => checkEmulatable(c).reasons.map((r) => [r.code, r.sector]);

describe("the emulatable check (Mi Pay's rule)", () => {
  it("a blank card (every sector FFFFFFFFFFFF, transport access bits) is emulatable", () => {
    expect(checkEmulatable(blank())).toEqual({ emulatable: true, kind: "classic", reasons: [] });
  });

  it("a card with a non-default key is refused, naming the sector, in zh-CN and English", () => {
    const card = blank();
    setBlock(card.memory!, trailerOfSector(3), fromHex("1A2B3C4D5E6F FF078069 1A2B3C4D5E6F"));
    const v = checkEmulatable(card);
    expect(v.emulatable).toBe(false);
    expect(v.reasons).toEqual([
      {
        code: "key_not_default",
        sector: 3,
        zh: "扇区 3：密钥不是默认密钥（加密扇区）",
        en: "sector 3: no default key opens it (encrypted sector)",
      },
    ]);
    expect(refusalText(v.reasons[0]!)).toBe(
      "扇区 3：密钥不是默认密钥（加密扇区） / sector 3: no default key opens it (encrypted sector)",
    );
  });

  it("key B counts only when the access bits do not make it readable", () => {
    const card = blank();
    const madLike = toHex(encodeAccessBits([0b100, 0b100, 0b100, 0b011]));
    setBlock(card.memory!, trailerOfSector(4), fromHex(`1A2B3C4D5E6F ${madLike} 69 FFFFFFFFFFFF`));
    expect(checkEmulatable(card).emulatable).toBe(true);
    setBlock(card.memory!, trailerOfSector(4), fromHex(`1A2B3C4D5E6F FF078069 FFFFFFFFFFFF`));
    expect(codes(card)).toEqual([["key_not_default", 4]]);
  });

  it("unknown keys, unknown access bits and unread data are refused per sector", () => {
    const card = blank();
    const m = card.memory!;
    m.known.fill(0, trailerOfSector(1) * 16, trailerOfSector(1) * 16 + 6);
    m.known.fill(0, trailerOfSector(1) * 16 + 10, trailerOfSector(1) * 16 + 16);
    m.known.fill(0, trailerOfSector(2) * 16 + 6, trailerOfSector(2) * 16 + 9);
    m.known.fill(0, 13 * 16, 13 * 16 + 1);
    expect(codes(card)).toEqual([
      ["key_unknown", 1],
      ["access_unknown", 2],
      ["data_unknown", 3],
    ]);
  });

  it("a data block the default key may not read is refused (condition 111)", () => {
    const card = blank();
    setBlock(
      card.memory!,
      trailerOfSector(6),
      fromHex(`FFFFFFFFFFFF ${toHex(encodeAccessBits([0, 0b111, 0, 0b001]))} 69 FFFFFFFFFFFF`),
    );
    expect(checkEmulatable(card).reasons.map((r) => [r.code, r.sector, r.block])).toEqual([
      ["data_locked", 6, 25],
    ]);
  });

  it("value blocks (stored value) are refused", () => {
    const card = blank();
    setBlock(card.memory!, 9, encodeValueBlock(5000, 9));
    const v = checkEmulatable(card);
    expect(v.reasons.map((r) => [r.code, r.sector, r.block])).toEqual([["value_block", 2, 9]]);
    expect(v.reasons[0]!.zh).toContain("数值块");
  });

  it("MAD entries of transit or payment applications are refused, only when the MAD is declared (GPB DA bit)", () => {
    const card = blank();
    const m = card.memory!;
    // MAD1: CRC, info, then AIDs of sectors 1–15 (application code, cluster): sector 1 = 0x1837 city traffic,
    // sector 2 = 0x887B electronic purse, sector 3 = 0x4701 access control (allowed).
    setBlock(m, 1, fromHex("0000 3718 7B88 0147 0000 0000 0000 0000"));
    expect(checkEmulatable(card).emulatable).toBe(true); // GPB 69: no MAD
    const t = m.data.slice(48, 64);
    t[9] = 0xc1;
    setBlock(m, 3, t);
    const v = checkEmulatable(card);
    expect(v.reasons.map((r) => [r.code, r.sector])).toEqual([
      ["mad_application", 1],
      ["mad_application", 2],
    ]);
    expect(v.reasons[0]!.en).toContain("transit");
    expect(v.reasons[1]!.zh).toContain("电子钱包");
  });

  it("known transit layouts are refused (EasyCard's sector 0 signature)", () => {
    const card = blank();
    setBlock(card.memory!, 1, fromHex("0E140001070208030904081000000000"));
    const v = checkEmulatable(card);
    expect(v.reasons.map((r) => [r.code, r.sector])).toEqual([["transit_layout", 0]]);
    expect(v.reasons[0]!.en).toContain("EasyCard");
  });

  it("UID-only cards are emulatable; CPU cards (SAK 20) and non-Classic SAKs are not", () => {
    const id = { uid: fromHex("08A1B2C3"), atqa: fromHex("0004"), sak: 0x08 };
    expect(checkEmulatable(uidOnlyCard(id))).toEqual({ emulatable: true, kind: "uid-only", reasons: [] });
    expect(codes(uidOnlyCard({ ...id, sak: 0x20 }))).toEqual([["iso_dep", null]]);
    expect(codes(uidOnlyCard({ ...id, sak: 0x28 }))).toEqual([["iso_dep", null]]);
    expect(codes(uidOnlyCard({ ...id, sak: 0x00 }))).toEqual([["not_classic", null]]);
    expect(codes({ ...uidOnlyCard(id), uid: fromHex("0102030405060708090A") })).toEqual([
      ["uid_length", null],
    ]);
  });

  it("a bad BCC in block 0 is refused", () => {
    const card = blank();
    card.memory!.data[4] = 0x00;
    expect(codes(card)).toEqual([["bad_bcc", null]]);
  });
});
