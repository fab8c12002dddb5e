import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex, xor } from "../core/bytes.js";
import { BLOCK_SIZE, ecbEncrypt } from "./cipher.js";
import { type CmacCipher, cmac, cmacSubkeys } from "./cmac.js";

const h = fromHex;

// The four messages of NIST SP 800-38B appendix D (prefixes of the SP 800-38A test message).
const M = h(
  "6BC1BEE22E409F96E93D7E117393172A AE2D8A571E03AC9C9EB76FAC45AF8E51" +
    "30C81C46A35CE411E5FBC1191A0A52EF F69F2445DF4F9B17AD2B417BE66C3710",
);

/** SP 800-38B §6.2 written out bit by bit with the block cipher one block at a time. */
function cmacByDefinition(name: CmacCipher, key: Bytes, data: Bytes): Bytes {
  const b = BLOCK_SIZE[name];
  const rb = b === 16 ? 0x87 : 0x1b;
  const dbl = (x: Bytes): Bytes => {
    let bits = BigInt("0x" + (toHex(x) || "0")) << 1n;
    if (x[0]! & 0x80) bits ^= BigInt(rb);
    bits &= (1n << BigInt(8 * b)) - 1n;
    return h(bits.toString(16).padStart(2 * b, "0"));
  };
  const l = ecbEncrypt(name, key, new Uint8Array(b));
  const k1 = dbl(l);
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(data.length / b));
  const lastLen = data.length - (n - 1) * b;
  let last: Bytes;
  if (data.length > 0 && lastLen === b) last = xor(data.subarray((n - 1) * b), k1);
  else {
    const p = new Uint8Array(b);
    p.set(data.subarray((n - 1) * b));
    p[lastLen] = 0x80;
    last = xor(p, k2);
  }
  let c: Bytes = new Uint8Array(b);
  for (let i = 0; i < n - 1; i++) c = ecbEncrypt(name, key, xor(c, data.subarray(i * b, (i + 1) * b)));
  return ecbEncrypt(name, key, xor(c, last));
}

describe("CMAC known answers", () => {
  it("AES-128: RFC 4493 §4 examples 1–4 and subkeys", () => {
    const k = h("2B7E151628AED2A6ABF7158809CF4F3C");
    const { k1, k2 } = cmacSubkeys("aes", k);
    expect(toHex(k1)).toBe("FBEED618357133667C85E08F7236A8DE");
    expect(toHex(k2)).toBe("F7DDAC306AE266CCF90BC11EE46D513B");
    expect(toHex(cmac("aes", k, new Uint8Array(0)))).toBe("BB1D6929E95937287FA37D129B756746");
    expect(toHex(cmac("aes", k, M.subarray(0, 16)))).toBe("070A16B46B4D4144F79BDD9DD04A287C");
    expect(toHex(cmac("aes", k, M.subarray(0, 40)))).toBe("DFA66747DE9AE63030CA32611497C827");
    expect(toHex(cmac("aes", k, M))).toBe("51F0BEBF7E3B9D92FC49741779363CFE");
  });

  it("AES-192 and AES-256: NIST SP 800-38B appendix D.2/D.3 examples", () => {
    const k192 = h("8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B");
    expect(toHex(cmac("aes", k192, new Uint8Array(0)))).toBe("D17DDF46ADAACDE531CAC483DE7A9367");
    const k256 = h("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4");
    expect(toHex(cmac("aes", k256, new Uint8Array(0)))).toBe("028962F61B7BF89EFC6B551F4667D983");
    expect(toHex(cmac("aes", k256, M.subarray(0, 40)))).toBe("AAF3D8F1DE5640C232F5B169B9C911E6");
    expect(toHex(cmac("aes", k256, M))).toBe("E1992190549F6ED5696A2C056C315410");
  });

  it("three-key TDEA: NIST SP 800-38B appendix D (updated CMAC examples, 64-bit R_b = 1B)", () => {
    const k = h("8AA83BF8CBDA1062 0BC1BF19FBB6CD58 BC313D4A371CA8B5");
    expect(toHex(cmac("3des", k, new Uint8Array(0)))).toBe("B7A688E122FFAF95");
    expect(toHex(cmac("3des", k, M.subarray(0, 8)))).toBe("8E8F293136283797");
    expect(toHex(cmac("3des", k, M.subarray(0, 20)))).toBe("743DDBE0CE2DC2ED");
    expect(toHex(cmac("3des", k, M.subarray(0, 32)))).toBe("33E6B1092400EAE5");
  });

  it("two-key TDEA: NIST SP 800-38B appendix D (with the errata to examples 18/19) and subkeys", () => {
    const k = h("4CF15134A2850DD5 8A3D10BA80570D38");
    const { k1, k2 } = cmacSubkeys("3des", k);
    expect(toHex(k1)).toBe("8ECF373ED71AFAEF");
    expect(toHex(k2)).toBe("1D9E6E7DAE35F5C5");
    expect(toHex(cmac("3des", k, new Uint8Array(0)))).toBe("BD2EBF9A3BA00361");
    expect(toHex(cmac("3des", k, M.subarray(0, 8)))).toBe("4FF2AB813C53CE83");
    expect(toHex(cmac("3des", k, M.subarray(0, 20)))).toBe("62DD1B471902BD4E");
    expect(toHex(cmac("3des", k, M.subarray(0, 32)))).toBe("31B1E431DABC4EB8");
    // Key3 = Key1 written out as a 24-byte key gives the same tags.
    expect(toHex(cmac("3des", h("4CF15134A2850DD58A3D10BA80570D384CF15134A2850DD5"), M))).toBe(
      toHex(cmac("3des", k, M)),
    );
  });

  it("SM4: cross-checked with `openssl mac -cipher SM4-CBC CMAC` (OpenSSL 3.0.19); no published SM4-CMAC KAT found", () => {
    const k = h("0123456789ABCDEFFEDCBA9876543210");
    expect(toHex(cmac("sm4", k, M.subarray(0, 20)))).toBe("0E7B321E15EBDF207E9A62F5A6093E92");
  });
});

describe("CMAC properties", () => {
  const input = fc.constantFrom<CmacCipher>("aes", "sm4", "3des").chain((name) =>
    fc.record({
      name: fc.constant(name),
      key: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      data: fc.uint8Array({ maxLength: 70 }),
    }),
  );

  it("equals the SP 800-38B definition for arbitrary keys and messages (property)", () => {
    fc.assert(
      fc.property(input, ({ name, key, data }) => {
        const t = cmac(name, key, data);
        expect(t.length).toBe(BLOCK_SIZE[name]);
        expect(t).toEqual(cmacByDefinition(name, key, data));
      }),
      { numRuns: 300 },
    );
  });

  it("changes when any one bit of the message flips (property)", () => {
    fc.assert(
      fc.property(input, fc.nat(), ({ name, key, data }, pick) => {
        fc.pre(data.length > 0);
        const flipped = data.slice();
        flipped[pick % data.length]! ^= 1 << (pick % 8);
        expect(cmac(name, key, flipped)).not.toEqual(cmac(name, key, data));
      }),
      { numRuns: 200 },
    );
  });

  it("leaves key and message untouched", () => {
    const key = h("2B7E151628AED2A6ABF7158809CF4F3C");
    const msg = M.slice(0, 20);
    cmac("aes", key, msg);
    expect(toHex(key)).toBe("2B7E151628AED2A6ABF7158809CF4F3C");
    expect(msg).toEqual(M.subarray(0, 20));
  });
});
