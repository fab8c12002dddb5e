import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, ascii, fromHex, toHex, xor } from "../core/bytes.js";
import { ecbDecrypt, ecbEncrypt } from "./cipher.js";
import { macAlg1, pbocMac, retailMac } from "./mac.js";
import { padIso9797M1, padIso9797M2 } from "./padding.js";

const h = fromHex;

/** ISO/IEC 9797-1 MAC algorithm 3 written block by block, straight from the standard's definition. */
function retailMacByDefinition(key: Bytes, data: Bytes, padding: "m1" | "m2"): Bytes {
  const p = padding === "m1" ? padIso9797M1(data, 8) : padIso9797M2(data, 8);
  const kl = key.subarray(0, 8);
  const kr = key.subarray(8, 16);
  let hq: Bytes = new Uint8Array(8);
  for (let i = 0; i < p.length; i += 8) hq = ecbEncrypt("des", kl, xor(hq, p.subarray(i, i + 8)));
  return ecbEncrypt("des", kl, ecbDecrypt("des", kr, hq));
}

describe("retail MAC (ISO/IEC 9797-1 MAC algorithm 3)", () => {
  const key = h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");

  it("pyemv mac.mac_iso9797_3 docstring: 'hello world' with padding 1 and 2", () => {
    expect(toHex(retailMac(key, ascii("hello world"), "m1"))).toBe("78DA3D3DEB48FD4D");
    expect(toHex(retailMac(key, ascii("hello world"), "m2"))).toBe("2BC2D9EDE0CF31F6");
  });

  it("pyemv ac.generate_ac docstring: SK 29B3…0E61 over 0123456789ABCDEF×2 (method 2)", () => {
    const sk = h("29B33180E567CE38EA4CBC9D753B0E61");
    expect(toHex(retailMac(sk, h("0123456789ABCDEF0123456789ABCDEF"), "m2"))).toBe("FA624250B008B59A");
  });

  it("single-block input is one 3DES encryption", () => {
    expect(retailMac(key, h("01020304050607"), "m2")).toEqual(ecbEncrypt("3des", key, h("0102030405060780")));
  });

  it("takes an IV (PBOC secure messaging chains from a challenge)", () => {
    const iv = h("1122334400000000");
    const data = h("04D6950009");
    // With an IV the first block is XORed with it: the same as prefixing nothing but changing block 1.
    expect(retailMac(key, data, "m2", iv)).toEqual(retailMac(key, xor(padIso9797M2(data, 8), iv), "m1"));
    expect(() => retailMac(key, data, "m2", h("00"))).toThrow(RangeError);
  });

  it("rejects keys that are not 16 bytes", () => {
    expect(() => retailMac(h("0123456789ABCDEF"), h("00"), "m1")).toThrow(RangeError);
  });

  const key16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const data = fc.uint8Array({ maxLength: 80 });

  it("equals the block-by-block definition for arbitrary keys and data (property)", () => {
    fc.assert(
      fc.property(key16, data, fc.constantFrom("m1" as const, "m2" as const), (k, d, p) => {
        expect(retailMac(k, d, p)).toEqual(retailMacByDefinition(k, d, p));
      }),
      { numRuns: 300 },
    );
  });

  it("with K_L = K_R it is the single-DES CBC-MAC; method 2 is method 1 of the padded data (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), data, (k, d) => {
        const kk = new Uint8Array(16);
        kk.set(k);
        kk.set(k, 8);
        expect(retailMac(kk, d, "m1")).toEqual(macAlg1("des", k, d, "m1"));
        expect(retailMac(kk, d, "m2")).toEqual(retailMac(kk, padIso9797M2(d, 8), "m1"));
      }),
      { numRuns: 200 },
    );
  });
});

describe("MAC algorithm 1 (CBC-MAC)", () => {
  it("single-DES CBC-MAC with K equals 3DES CBC-MAC with K‖K (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ maxLength: 64 }), (k, d) => {
        const kk = new Uint8Array(16);
        kk.set(k);
        kk.set(k, 8);
        expect(macAlg1("3des", kk, d, "m2")).toEqual(macAlg1("des", k, d, "m2"));
      }),
      { numRuns: 200 },
    );
  });

  it("is the last CBC block; empty data under method 1 is E_K(0)", () => {
    const k = h("000102030405060708090A0B0C0D0E0F");
    expect(macAlg1("aes", k, new Uint8Array(0), "m1")).toEqual(ecbEncrypt("aes", k, new Uint8Array(16)));
    expect(macAlg1("sm4", k, h("01"), "m2")).toEqual(ecbEncrypt("sm4", k, padIso9797M2(h("01"), 16)));
    expect(macAlg1("aes", k, h("01"), "m2", new Uint8Array(16).fill(1))).toEqual(
      ecbEncrypt("aes", k, xor(padIso9797M2(h("01"), 16), new Uint8Array(16).fill(1))),
    );
  });
});

describe("PBOC e-purse MAC", () => {
  // Textbook e-purse example (transit reference §3.4; blogs cnblogs.com/ttss/p/4280430.html and
  // ncuisine.com/xingyexinwen/379.html): the session keys below are the published SESLK and SESPK.
  const seslk = h("9B1D924E05595603");
  const sespk = h("003238ABC57659DD");

  it("load MAC1 and MAC2 under SESLK (PBOC blog vectors)", () => {
    expect(toHex(pbocMac("des", seslk, h("00000000 00001000 01 001122334455")))).toBe("2988AE5A");
    expect(toHex(pbocMac("des", seslk, h("00001000 01 001122334455 20111221 214822")))).toBe("3A845BF0");
  });

  it("purchase MAC1 under SESPK (PBOC blog vectors)", () => {
    expect(toHex(pbocMac("des", sespk, h("00001000 06 001122334455 20120229135100")))).toBe("F15CAB75");
  });

  it("SM4 form: SM4-CBC-MAC, method 2 on 16-byte blocks, left 4 bytes (cross-checked with `openssl enc -sm4-cbc -nopad`, OpenSSL 3.0.19)", () => {
    const k = h("0123456789ABCDEFFEDCBA9876543210");
    expect(toHex(pbocMac("sm4", k, h("00000000 00001000 01 001122334455")))).toBe("1C46C72D");
    expect(toHex(pbocMac("sm4", k, h("00001000 01 001122334455 20111221 214822")))).toBe("9B8C4B0F");
  });

  it("is 4 bytes, the left of the CBC-MAC, with an optional IV (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("des" as const, "sm4" as const).chain((name) =>
          fc.record({
            name: fc.constant(name),
            key: fc.uint8Array({ minLength: name === "des" ? 8 : 16, maxLength: name === "des" ? 8 : 16 }),
            iv: fc.uint8Array({ minLength: name === "des" ? 8 : 16, maxLength: name === "des" ? 8 : 16 }),
            data: fc.uint8Array({ maxLength: 64 }),
          }),
        ),
        ({ name, key, iv, data }) => {
          const m = pbocMac(name, key, data, iv);
          expect(m.length).toBe(4);
          expect(m).toEqual(macAlg1(name, key, data, "m2", iv).subarray(0, 4));
          expect(pbocMac(name, key, data)).toEqual(pbocMac(name, key, data, new Uint8Array(iv.length)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a 3DES-length key for the single-DES form", () => {
    expect(() => pbocMac("des", h("11223344556677888877665544332211"), h("00"))).toThrow(RangeError);
  });
});
