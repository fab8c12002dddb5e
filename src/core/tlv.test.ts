import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { equal, fromHex, toHex } from "./bytes.js";
import {
  type Tlv,
  encodeLength,
  encodeTag,
  encodeTlv,
  encodeTlvs,
  findTag,
  isConstructedTag,
  parseTlv,
  tagHex,
  tlv,
  walkTlv,
} from "./tlv.js";

const parse = (h: string) => {
  const r = parseTlv(fromHex(h));
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

// SELECT PPSE response of the real qPBOC trace (neil-pan-s/qpboc-kernel QPboc-Kata-Run-Log.txt), SW removed.
const PPSE_FCI =
  "6F30840E325041592E5359532E4444463031A51EBF0C1B61194F08A000000333010101500A50424F43204445424954870101";

describe("BER-TLV parsing", () => {
  it("parses a real FCI into a tree with 2-byte tags", () => {
    const [fci] = parse(PPSE_FCI);
    expect(fci!.tag).toBe(0x6f);
    expect(fci!.children!.map((c) => c.tag)).toEqual([0x84, 0xa5]);
    const bf0c = findTag([fci!], 0xbf0c)!;
    expect(bf0c.value.length).toBe(0x1b);
    expect(toHex(findTag([fci!], 0x4f)!.value)).toBe("A000000333010101");
    expect(toHex(findTag([fci!], 0x87)!.value)).toBe("01");
    expect(findTag([fci!], 0x9f38)).toBeUndefined();
    expect([...walkTlv([fci!])].map((w) => `${tagHex(w.node.tag)}@${w.depth}`)).toEqual([
      "6F@0",
      "84@1",
      "A5@1",
      "BF0C@2",
      "61@3",
      "4F@4",
      "50@4",
      "87@4",
    ]);
  });

  it("reads 3-byte tags", () => {
    const [t] = parse("DF8101 02 ABCD");
    expect(t!.tag).toBe(0xdf8101);
    expect(toHex(t!.value)).toBe("ABCD");
  });

  it("reads long-form lengths 81, 82 and 83", () => {
    const v200 = "AA".repeat(200);
    expect(parse(`90 81C8 ${v200}`)[0]!.value.length).toBe(200);
    const v300 = "BB".repeat(300);
    expect(parse(`90 82012C ${v300}`)[0]!.value.length).toBe(300);
    const v70000 = "CC".repeat(70000);
    expect(parse(`90 83011170 ${v70000}`)[0]!.value.length).toBe(70000);
    expect(parse("90 8100")[0]!.value.length).toBe(0); // non-minimal long form is accepted
  });

  it("encodes lengths in the shortest form", () => {
    expect(toHex(encodeLength(0x7f))).toBe("7F");
    expect(toHex(encodeLength(0x80))).toBe("8180");
    expect(toHex(encodeLength(0xff))).toBe("81FF");
    expect(toHex(encodeLength(0x100))).toBe("820100");
    expect(toHex(encodeLength(0x10000))).toBe("83010000");
    expect(toHex(encodeLength(0x1000000))).toBe("8401000000");
    expect(() => encodeLength(-1)).toThrow(RangeError);
    expect(toHex(encodeTag(0x9f38))).toBe("9F38");
    expect(toHex(encodeTag(0xdf8101))).toBe("DF8101");
    expect(() => encodeTag(0)).toThrow(RangeError);
  });

  it("skips 00 and FF padding between objects (EMV Book 3 Annex B)", () => {
    const nodes = parse("00 5A0162 FF FF 00 5F3401 01 00");
    expect(nodes.map((n) => n.tag)).toEqual([0x5a, 0x5f34]);
    const strict = parseTlv(fromHex("0000 5A0162"), { skipPadding: false });
    expect(strict.ok).toBe(true);
    if (strict.ok) expect(strict.value[0]!.tag).toBe(0x00);
  });

  it("knows constructed tags and can leave them unparsed", () => {
    expect(isConstructedTag(0x6f)).toBe(true);
    expect(isConstructedTag(0xbf0c)).toBe(true);
    expect(isConstructedTag(0x9f38)).toBe(false);
    expect(isConstructedTag(0x84)).toBe(false);
    const flat = parseTlv(fromHex(PPSE_FCI), { recurse: false });
    expect(flat.ok && flat.value[0]!.children).toBeUndefined();
  });

  it("keeps a constructed tag whose value is not TLV, without children", () => {
    const nodes = parse("70 03 5F 2D 09 9F3601 01");
    expect(nodes[0]!.tag).toBe(0x70);
    expect(nodes[0]!.children).toBeUndefined();
    expect(toHex(nodes[0]!.value)).toBe("5F2D09");
    expect(nodes[1]!.tag).toBe(0x9f36);
  });

  it("returns errors for truncated or hostile input", () => {
    for (const h of [
      "9F",
      "9F36",
      "9F3602 01",
      "90 82 01",
      "90 80",
      "90 85 0000000001",
      "9F8181 01 00",
      "5A 03 0102",
    ]) {
      const r = parseTlv(fromHex(h));
      expect(r.ok, h).toBe(false);
    }
    let nest = fromHex("5A0101");
    for (let i = 0; i < 40; i++) nest = tlv(0x70, nest);
    expect(parseTlv(nest).ok).toBe(false);
    expect(parseTlv(nest, { maxDepth: 64 }).ok).toBe(true);
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        const r = parseTlv(b);
        return r.ok ? Array.isArray(r.value) : typeof r.error === "string";
      }),
      { numRuns: 100_000 },
    );
  });
});

/** Valid tag numbers: 1–3 bytes, first byte neither 00 nor FF (those are padding). */
const tagArb = (constructed: boolean): fc.Arbitrary<number> => {
  const cbit = constructed ? 0x20 : 0x00;
  const oneByte = fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 30 }))
    .map(([cls, num]) => (cls << 6) | cbit | num)
    .filter((t) => t !== 0);
  const twoByte = fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0x7f }))
    .map(([cls, b2]) => (((cls << 6) | cbit | 0x1f) << 8) | b2)
    .filter((t) => t >> 8 !== 0xff);
  const threeByte = fc
    .tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.integer({ min: 0, max: 0x7f }),
    )
    .map(([cls, b2, b3]) => (((((cls << 6) | cbit | 0x1f) << 8) | b2) << 8) | b3)
    .filter((t) => t >> 16 !== 0xff);
  return fc.oneof(oneByte, twoByte, threeByte);
};

const { tree } = fc.letrec<{ tree: Tlv[]; node: Tlv }>((rec) => ({
  tree: fc.array(rec("node"), { maxLength: 4 }),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ tag: tagArb(false), value: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({ tag: tagArb(true), children: rec("tree") }).map(({ tag, children }) => ({
      tag,
      children,
      value: encodeTlvs(children),
    })),
  ),
}));

describe("BER-TLV round trip", () => {
  it("encode → parse gives back the same tree (tags, lengths up to 82xxxx, constructed)", () => {
    fc.assert(
      fc.property(tree, (nodes) => {
        const bytes = encodeTlvs(nodes);
        const r = parseTlv(bytes);
        if (!r.ok) return false;
        expect(r.value).toEqual(nodes);
        return equal(encodeTlvs(r.value), bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it("tlv() builds primitive and constructed objects", () => {
    expect(toHex(tlv(0x9f36, fromHex("0ADC")))).toBe("9F36020ADC");
    expect(toHex(tlv(0x77, [{ tag: 0x82, value: fromHex("7C00") }]))).toBe("770482027C00");
    expect(toHex(encodeTlv({ tag: 0x5f34, value: fromHex("00") }))).toBe("5F340100");
  });
});
