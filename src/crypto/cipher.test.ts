import { createCipheriv } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ascii, fromHex, toHex } from "../core/bytes.js";
import {
  type CipherName,
  KEY_LENGTHS,
  cbcDecrypt,
  cbcEncrypt,
  cipher,
  ecbDecrypt,
  ecbEncrypt,
} from "./cipher.js";

const h = fromHex;

describe("known-answer tests", () => {
  it("DES: the classic worked example (Grabbe, 'The DES Algorithm Illustrated'; FIPS 46 test key 133457799BBCDFF1)", () => {
    const c = ecbEncrypt("des", h("133457799BBCDFF1"), h("0123456789ABCDEF"));
    expect(toHex(c)).toBe("85E813540F0AB405");
    expect(toHex(ecbDecrypt("des", h("133457799BBCDFF1"), c))).toBe("0123456789ABCDEF");
  });

  it("3DES 3-key: NIST SP 800-67 Rev.1 appendix B example ('The qufck brown fox jump')", () => {
    const key = h("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123");
    const c = ecbEncrypt("3des", key, ascii("The qufck brown fox jump"));
    expect(toHex(c)).toBe("A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900");
    expect(ecbDecrypt("3des", key, c)).toEqual(ascii("The qufck brown fox jump"));
  });

  it("3DES 2-key: pyemv tools.encrypt_tdes_ecb docstring (IMK 0123…3210, '12345678')", () => {
    expect(toHex(cipher("3des").encryptBlock(h("0123456789ABCDEFFEDCBA9876543210"), ascii("12345678")))).toBe(
      "41D2FFBA3CDC15FE",
    );
  });

  it("AES-128/192/256: FIPS-197 appendix C.1–C.3 and appendix B", () => {
    const pt = h("00112233445566778899AABBCCDDEEFF");
    const key = h("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    expect(toHex(ecbEncrypt("aes", key.subarray(0, 16), pt))).toBe("69C4E0D86A7B0430D8CDB78070B4C55A");
    expect(toHex(ecbEncrypt("aes", key.subarray(0, 24), pt))).toBe("DDA97CA4864CDFE06EAF70A0EC0D7191");
    expect(toHex(ecbEncrypt("aes", key, pt))).toBe("8EA2B7CA516745BFEAFC49904B496089");
    expect(toHex(ecbDecrypt("aes", key, h("8EA2B7CA516745BFEAFC49904B496089")))).toBe(toHex(pt));
    const b = cipher("aes").encryptBlock(
      h("2B7E151628AED2A6ABF7158809CF4F3C"),
      h("3243F6A8885A308D313198A2E0370734"),
    );
    expect(toHex(b)).toBe("3925841D02DC09FBDC118597196A0B32");
  });

  it("AES-128-CBC: NIST SP 800-38A F.2.1/F.2.2", () => {
    const key = h("2B7E151628AED2A6ABF7158809CF4F3C");
    const iv = h("000102030405060708090A0B0C0D0E0F");
    const pt = h(
      "6BC1BEE22E409F96E93D7E117393172A AE2D8A571E03AC9C9EB76FAC45AF8E51" +
        "30C81C46A35CE411E5FBC1191A0A52EF F69F2445DF4F9B17AD2B417BE66C3710",
    );
    const ct =
      "7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B2" +
      "73BED6B8E3C1743B7116E69E222295163FF1CAA1681FAC09120ECA307586E1A7";
    expect(toHex(cbcEncrypt("aes", key, iv, pt))).toBe(ct);
    expect(cbcDecrypt("aes", key, iv, h(ct))).toEqual(pt);
  });

  it("SM4: GB/T 32907-2016 example 1 (one block) and example 2 (1 000 000 encryptions)", () => {
    const key = h("0123456789ABCDEFFEDCBA9876543210");
    expect(toHex(ecbEncrypt("sm4", key, key))).toBe("681EDF34D206965E86B3E94F536E4246");
    expect(toHex(ecbDecrypt("sm4", key, h("681EDF34D206965E86B3E94F536E4246")))).toBe(toHex(key));
    // Example 2 iterates the block cipher a million times; one ECB context keeps it to about a second.
    const c = createCipheriv("sm4-ecb", key, null).setAutoPadding(false);
    let block: Uint8Array = key;
    for (let i = 0; i < 1_000_000; i++) block = c.update(block);
    expect(toHex(block)).toBe("595298C7C6FD271F0402F804C33D3F66");
  });
});

describe("modes and errors", () => {
  const keys: Record<CipherName, Uint8Array> = {
    des: h("0123456789ABCDEF"),
    "3des": h("0123456789ABCDEFFEDCBA9876543210"),
    aes: h("000102030405060708090A0B0C0D0E0F"),
    sm4: h("0123456789ABCDEFFEDCBA9876543210"),
  };

  it("single DES equals 3DES with K‖K and K‖K‖K", () => {
    const k = keys.des;
    const data = ascii("sixteen bytes!!!");
    const single = ecbEncrypt("des", k, data);
    expect(ecbEncrypt("3des", h(toHex(k) + toHex(k)), data)).toEqual(single);
    expect(ecbEncrypt("3des", h(toHex(k).repeat(3)), data)).toEqual(single);
  });

  it("ECB of several blocks is the blocks one by one; CBC chains them", () => {
    for (const name of ["des", "3des", "aes", "sm4"] as const) {
      const c = cipher(name);
      const bs = c.blockSize;
      const data = Uint8Array.from({ length: 3 * bs }, (_, i) => i * 7);
      const ecb = ecbEncrypt(name, keys[name], data);
      for (let i = 0; i < 3; i++) {
        expect(ecb.subarray(i * bs, (i + 1) * bs)).toEqual(
          c.encryptBlock(keys[name], data.subarray(i * bs, (i + 1) * bs)),
        );
      }
      const iv = new Uint8Array(bs).fill(0x5a);
      const cbc = cbcEncrypt(name, keys[name], iv, data);
      let chain: Uint8Array = iv;
      for (let i = 0; i < 3; i++) {
        const x = data.subarray(i * bs, (i + 1) * bs).map((b, j) => b ^ chain[j]!);
        chain = c.encryptBlock(keys[name], x);
        expect(cbc.subarray(i * bs, (i + 1) * bs)).toEqual(chain);
      }
    }
  });

  it("returns plain Uint8Arrays and leaves its inputs alone", () => {
    const key = h("0123456789ABCDEF");
    const block = h("0000000000000000");
    const out = ecbEncrypt("des", key, block);
    expect(out.constructor).toBe(Uint8Array);
    expect(toHex(key)).toBe("0123456789ABCDEF");
    expect(toHex(block)).toBe("0000000000000000");
  });

  it("empty data gives empty output", () => {
    expect(ecbEncrypt("aes", keys.aes, new Uint8Array(0)).length).toBe(0);
  });

  it("rejects wrong key, block, IV and data lengths", () => {
    expect(() => ecbEncrypt("des", h("0123456789ABCD"), new Uint8Array(8))).toThrow(RangeError);
    expect(() => ecbEncrypt("3des", h("0123456789ABCDEF"), new Uint8Array(8))).toThrow(/16 or 24/);
    expect(() => ecbEncrypt("sm4", new Uint8Array(24), new Uint8Array(16))).toThrow(RangeError);
    expect(() => ecbEncrypt("aes", new Uint8Array(20), new Uint8Array(16))).toThrow(RangeError);
    expect(() => ecbEncrypt("aes", keys.aes, new Uint8Array(15))).toThrow(/multiple of 16/);
    expect(() => cbcEncrypt("des", keys.des, new Uint8Array(16), new Uint8Array(8))).toThrow(/IV/);
    expect(() => cipher("des").encryptBlock(keys.des, new Uint8Array(16))).toThrow(/block/);
    expect(() => cipher("rc4" as CipherName)).toThrow(RangeError);
  });

  it("decrypt inverts encrypt for every cipher, key length and block count (property)", () => {
    const names = Object.keys(KEY_LENGTHS) as CipherName[];
    const gen = fc
      .constantFrom(...names.flatMap((n) => KEY_LENGTHS[n].map((len) => [n, len] as const)))
      .chain(([name, len]) =>
        fc.record({
          name: fc.constant(name),
          key: fc.uint8Array({ minLength: len, maxLength: len }),
          iv: fc.uint8Array({ minLength: cipher(name).blockSize, maxLength: cipher(name).blockSize }),
          blocks: fc.integer({ min: 0, max: 6 }),
          seed: fc.integer(),
        }),
      );
    fc.assert(
      fc.property(gen, ({ name, key, iv, blocks, seed }) => {
        const data = Uint8Array.from(
          { length: blocks * cipher(name).blockSize },
          (_, i) => (seed + i * 31) & 0xff,
        );
        expect(ecbDecrypt(name, key, ecbEncrypt(name, key, data))).toEqual(data);
        expect(cbcDecrypt(name, key, iv, cbcEncrypt(name, key, iv, data))).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });
});
