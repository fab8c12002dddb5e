import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { padIso9797M1, padIso9797M2, unpadIso9797M2 } from "./padding.js";

describe("ISO/IEC 9797-1 padding", () => {
  it("method 1 pads with zeros only when needed; empty input becomes one zero block", () => {
    expect(toHex(padIso9797M1(fromHex("0102"), 8))).toBe("0102000000000000");
    expect(toHex(padIso9797M1(fromHex("0102030405060708"), 8))).toBe("0102030405060708");
    expect(toHex(padIso9797M1(new Uint8Array(0), 8))).toBe("0000000000000000");
    expect(padIso9797M1(new Uint8Array(17), 16).length).toBe(32);
  });

  it("method 2 always adds 80 then zeros", () => {
    expect(toHex(padIso9797M2(fromHex("0102"), 8))).toBe("0102800000000000");
    expect(toHex(padIso9797M2(fromHex("01020304050607"), 8))).toBe("0102030405060780");
    expect(toHex(padIso9797M2(fromHex("0102030405060708"), 8))).toBe("01020304050607088000000000000000");
    expect(toHex(padIso9797M2(new Uint8Array(0), 16))).toBe("80" + "00".repeat(15));
  });

  it("returns new arrays (the input is never aliased)", () => {
    const d = fromHex("0102030405060708");
    const p = padIso9797M1(d, 8);
    p[0] = 0xff;
    expect(d[0]).toBe(1);
  });

  it("unpads method 2 and rejects what is not method-2 padding", () => {
    expect(unpadIso9797M2(fromHex("0102800000000000"))).toEqual({ ok: true, value: fromHex("0102") });
    expect(unpadIso9797M2(fromHex("80"))).toEqual({ ok: true, value: new Uint8Array(0) });
    expect(unpadIso9797M2(fromHex("0102030405060708"), 8).ok).toBe(false);
    expect(unpadIso9797M2(fromHex("0000000000000000")).ok).toBe(false);
    expect(unpadIso9797M2(new Uint8Array(0)).ok).toBe(false);
    expect(unpadIso9797M2(fromHex("0102800000"), 8).ok).toBe(false); // not whole blocks
    expect(unpadIso9797M2(fromHex("80000000000000000000000000000000"), 8).ok).toBe(false); // > one block
    expect(unpadIso9797M2(fromHex("80000000000000000000000000000000"), 16).ok).toBe(true);
  });

  it("rejects a bad block size", () => {
    expect(() => padIso9797M1(new Uint8Array(1), 0)).toThrow(RangeError);
    expect(() => padIso9797M2(new Uint8Array(1), 1.5)).toThrow(RangeError);
  });

  const blockSize = fc.constantFrom(8, 16);

  it("unpad(pad(x)) = x for any data and block size (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), blockSize, (data, bs) => {
        const p = padIso9797M2(data, bs);
        expect(p.length % bs).toBe(0);
        expect(p.length - data.length).toBeGreaterThanOrEqual(1);
        expect(p.length - data.length).toBeLessThanOrEqual(bs);
        expect(unpadIso9797M2(p, bs)).toEqual({ ok: true, value: data });
      }),
      { numRuns: 500 },
    );
  });

  it("method 1 keeps the data as a prefix and adds fewer than a block of zeros (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), blockSize, (data, bs) => {
        const p = padIso9797M1(data, bs);
        expect(p.length % bs).toBe(0);
        expect(p.subarray(0, data.length)).toEqual(data);
        expect(p.subarray(data.length).every((b) => b === 0)).toBe(true);
        expect(p.length - data.length).toBeLessThan(data.length === 0 ? bs + 1 : bs);
      }),
      { numRuns: 500 },
    );
  });

  it("unpad never throws on arbitrary bytes and, when it succeeds, re-padding gives the input back (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(blockSize, { nil: undefined }), (data, bs) => {
        const r = unpadIso9797M2(data, bs);
        if (r.ok && bs !== undefined) expect(padIso9797M2(r.value, bs)).toEqual(data);
        if (r.ok) expect(data[r.value.length]).toBe(0x80);
      }),
      { numRuns: 1000 },
    );
  });
});
