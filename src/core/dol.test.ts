import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromHex, toHex } from "./bytes.js";
import { buildDolData, dolDataLength, encodeDol, parseDol, splitDolData } from "./dol.js";

// The PDOL UnionPay cards ask for, from the qPBOC trace's SELECT AID response (neil-pan-s/qpboc-kernel).
const PDOL = "9F66049F02069F03069F1A0295055F2A029A039C019F3704";
// The GPO data the trace's terminal sent for it.
const GPO_DATA = "36800000000000000001000000000000015600000000000156170601002B29EBE4";

const dol = (h: string) => {
  const r = parseDol(fromHex(h));
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("DOL", () => {
  it("parses the UnionPay PDOL: 9 entries, 33 bytes of data", () => {
    const entries = dol(PDOL);
    expect(entries.map((e) => e.tag)).toEqual([
      0x9f66, 0x9f02, 0x9f03, 0x9f1a, 0x95, 0x5f2a, 0x9a, 0x9c, 0x9f37,
    ]);
    expect(entries.map((e) => e.length)).toEqual([4, 6, 6, 2, 5, 2, 3, 1, 4]);
    expect(dolDataLength(entries)).toBe(33);
    expect(toHex(encodeDol(entries))).toBe(PDOL);
  });

  it("splits the trace's GPO data back into the terminal's values", () => {
    const r = splitDolData(dol(PDOL), fromHex(GPO_DATA));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(toHex(r.value.get(0x9f66)!)).toBe("36800000");
    expect(toHex(r.value.get(0x9f02)!)).toBe("000000000001");
    expect(toHex(r.value.get(0x9a)!)).toBe("170601");
    expect(toHex(r.value.get(0x9f37)!)).toBe("2B29EBE4");
    expect(splitDolData(dol(PDOL), fromHex("00")).ok).toBe(false);
  });

  it("builds DOL data: numeric left-padded with zeros and truncated on the left", () => {
    const values = new Map([
      [0x9f02, fromHex("0123")], // n 6: pad left
      [0x9a, fromHex("20170601")], // n 3: keep rightmost
    ]);
    expect(toHex(buildDolData(dol("9F0206 9A03"), values))).toBe("000000000123" + "170601");
  });

  it("builds DOL data: cn padded on the right with FF, truncated on the right", () => {
    const pan = fromHex("6228000100001F");
    expect(toHex(buildDolData(dol("5A0A"), new Map([[0x5a, pan]])))).toBe("6228000100001FFFFFFF");
    expect(toHex(buildDolData(dol("5A04"), new Map([[0x5a, pan]])))).toBe("62280001");
  });

  it("builds DOL data: binary and text keep the leftmost bytes and pad with zeros; unknown tags are zeros", () => {
    const values = new Map([
      [0x9f37, fromHex("2B29EBE4AA")], // b 4: leftmost
      [0x95, fromHex("80")], // b 5: pad right
      [0x9f4e, fromHex("414243")], // ans 5
    ]);
    expect(toHex(buildDolData(dol("9F3704 9505 9F4E05 DF7F02"), values))).toBe(
      "2B29EBE4" + "8000000000" + "4142430000" + "0000",
    );
  });

  it("rejects malformed DOLs", () => {
    for (const h of ["9F", "9F66", "9F6681", "9F8181"]) expect(parseDol(fromHex(h)).ok, h).toBe(false);
  });

  it("never throws on arbitrary bytes, and built data has the DOL's length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 20 }), (b, v) => {
        const r = parseDol(b);
        if (!r.ok) return typeof r.error === "string";
        const values = new Map(r.value.map((e) => [e.tag, v] as [number, Uint8Array]));
        return buildDolData(r.value, values).length === dolDataLength(r.value);
      }),
      { numRuns: 20_000 },
    );
  });
});
