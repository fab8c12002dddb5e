import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  ascii,
  bcd,
  concat,
  equal,
  equalConstantTime,
  fromHex,
  isHex,
  not,
  padLeft,
  readAscii,
  readBcd,
  readUintBE,
  readUintLE,
  startsWith,
  toHex,
  uintBE,
  xor,
} from "./bytes.js";

describe("hex", () => {
  it("parses hex with spaces, colons and newlines, in either case", () => {
    expect(fromHex("00 a4:04\n00")).toEqual(Uint8Array.of(0x00, 0xa4, 0x04, 0x00));
    expect(fromHex("")).toEqual(new Uint8Array(0));
  });

  it("writes upper-case hex", () => {
    expect(toHex(Uint8Array.of(0x0a, 0xbc, 0xff, 0x00))).toBe("0ABCFF00");
  });

  it("rejects odd lengths and non-hex characters", () => {
    expect(() => fromHex("ABC")).toThrow(RangeError);
    expect(() => fromHex("0G")).toThrow(RangeError);
    expect(isHex("ABC")).toBe(false);
    expect(isHex("0g")).toBe(false);
    expect(isHex("0a 0B")).toBe(true);
  });

  it("round-trips arbitrary bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => equal(fromHex(toHex(b)), b)));
  });
});

describe("byte helpers", () => {
  it("concatenates, compares and tests prefixes", () => {
    const a = fromHex("0102");
    const b = fromHex("03");
    expect(toHex(concat(a, b, new Uint8Array(0)))).toBe("010203");
    expect(equal(a, fromHex("0102"))).toBe(true);
    expect(equal(a, fromHex("0103"))).toBe(false);
    expect(equal(a, fromHex("010203"))).toBe(false);
    expect(equalConstantTime(a, fromHex("0102"))).toBe(true);
    expect(equalConstantTime(a, fromHex("0100"))).toBe(false);
    expect(equalConstantTime(a, fromHex("01"))).toBe(false);
    expect(startsWith(fromHex("A000000333010101"), fromHex("A000000333"))).toBe(true);
    expect(startsWith(fromHex("A0"), fromHex("A000"))).toBe(false);
  });

  it("xors equal lengths and refuses different ones", () => {
    expect(toHex(xor(fromHex("0F0F"), fromHex("FF00")))).toBe("F00F");
    expect(() => xor(fromHex("00"), fromHex("0000"))).toThrow(RangeError);
    expect(toHex(not(fromHex("00FF5A")))).toBe("FF00A5");
  });

  it("encodes and reads big- and little-endian integers", () => {
    expect(toHex(uintBE(0x0adc, 2))).toBe("0ADC");
    expect(toHex(uintBE(1, 4))).toBe("00000001");
    expect(toHex(uintBE(2 ** 48 - 1, 6))).toBe("FFFFFFFFFFFF");
    expect(() => uintBE(256, 1)).toThrow(RangeError);
    expect(() => uintBE(-1, 2)).toThrow(RangeError);
    expect(() => uintBE(1.5, 2)).toThrow(RangeError);
    expect(readUintBE(fromHex("00000B22"))).toBe(2850);
    expect(readUintBE(fromHex("AA0102BB"), 1, 2)).toBe(0x0102);
    expect(readUintLE(fromHex("0201"))).toBe(0x0102);
    expect(() => readUintBE(fromHex("00000000000000"))).toThrow(RangeError);
    expect(() => readUintBE(fromHex("00"), 0, 2)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.nat(), (len, seed) => {
        const v = seed % 2 ** (8 * len);
        return readUintBE(uintBE(v, len)) === v;
      }),
    );
  });

  it("packs and reads BCD", () => {
    expect(toHex(bcd("156", 2))).toBe("0156");
    expect(toHex(bcd(170601, 3))).toBe("170601");
    expect(() => bcd("12345", 2)).toThrow(RangeError);
    expect(() => bcd("12a", 2)).toThrow(RangeError);
    expect(readBcd(fromHex("170601"))).toBe("170601");
    expect(readBcd(fromHex("1A"))).toBeNull();
  });

  it("pads on the left and refuses what does not fit", () => {
    expect(toHex(padLeft(fromHex("0102"), 4))).toBe("00000102");
    expect(toHex(padLeft(fromHex("01"), 3, 0xff))).toBe("FFFF01");
    expect(() => padLeft(fromHex("010203"), 2)).toThrow(RangeError);
  });

  it("converts ASCII both ways", () => {
    expect(toHex(ascii("2PAY.SYS.DDF01"))).toBe("325041592E5359532E4444463031");
    expect(readAscii(fromHex("50424F43204445424954"))).toBe("PBOC DEBIT");
  });
});
