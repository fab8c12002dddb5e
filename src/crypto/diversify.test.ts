import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, not, toHex } from "../core/bytes.js";
import { ecbEncrypt } from "./cipher.js";
import { adjustParity, emvOptionA, emvOptionB, pbocDiversify } from "./diversify.js";

const h = fromHex;
/** Key check value: the first 2 bytes of 3DES_K(00…00), as pyemv's tools.key_check_digits. */
const kcv = (k: Bytes) => toHex(ecbEncrypt("3des", k, new Uint8Array(8))).slice(0, 4);
const IMK = h("0123456789ABCDEFFEDCBA9876543210"); // pyemv tests' issuer master key, KCV 08D7

describe("adjustParity", () => {
  it("pyemv tools.adjust_key_parity docstring", () => {
    expect(toHex(adjustParity(h("1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A")))).toBe(
      "1A2A3D4C5E0B1A2C4C5E6B7A8C9D0E1A",
    );
  });

  it("gives every byte odd parity, changes only bit 0, and is idempotent (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (k) => {
        const p = adjustParity(k);
        for (let i = 0; i < k.length; i++) {
          let ones = 0;
          for (let b = 0; b < 8; b++) ones += (p[i]! >> b) & 1;
          expect(ones % 2).toBe(1);
          expect(p[i]! & 0xfe).toBe(k[i]! & 0xfe);
        }
        expect(adjustParity(p)).toEqual(p);
      }),
    );
  });
});

describe("EMV option A (pyemv vectors: tests/test_kd_hsm.py, test_ac_hsm.py, kd.py docstrings)", () => {
  it("the issuer master key is the one the vectors name", () => {
    expect(kcv(IMK)).toBe("08D7");
  });

  it("PAN 9901234567890123 PSN 45 → ICC MK KCV 1DA5", () => {
    const mk = emvOptionA(IMK, "9901234567890123", "45");
    expect(kcv(mk)).toBe("1DA5");
    expect(toHex(mk)).toBe("F84315C7B95BD3B0C74694922C3808B0");
  });

  it("17-digit PAN keeps the rightmost 16 digits of PAN‖PSN", () => {
    expect(kcv(emvOptionA(IMK, "12345678901234567", "45"))).toBe("FF08");
    expect(toHex(emvOptionA(IMK, "12345678901234567", "45"))).toBe("946DC1A8C78A624519BC4645CB073737");
    expect(toHex(emvOptionA(IMK, "12345678901234567"))).toBe("8357F1866492A1C8D657132AABF25789");
    expect(toHex(emvOptionA(IMK, "12345678901234567", "01"))).toBe("73AD54688CEF2934B0979857E3C719F1");
    expect(toHex(emvOptionA(IMK, "99012345678901234", "45"))).toBe("67F8292358083E5EA7AB7FDA58D53B6B");
  });

  it("PBOC CVN 01 blog (cnblogs.com/1024Planet/p/6256545.html): IMK-AC F0C3…6EAC, PAN 6228000100001 PSN 01 → UDK", () => {
    // A 13-digit PAN: Y = 0622800010000101 (left-padded); the UDK is parity-adjusted.
    expect(toHex(emvOptionA(h("F0C34A8124CEE0A91A0B034AA97D6EAC"), "6228000100001", "01"))).toBe(
      "014C986ECD8F49157CC8B59E3BCDFD98",
    );
  });

  it("is 3DES_IMK(Y) ‖ 3DES_IMK(~Y) up to parity (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.stringMatching(/^\d{12,19}$/),
        fc.stringMatching(/^\d{2}$/),
        (imk, pan, psn) => {
          const mk = emvOptionA(imk, pan, psn);
          const y = h((pan + psn).slice(-16).padStart(16, "0"));
          expect(mk.subarray(0, 8)).toEqual(adjustParity(ecbEncrypt("3des", imk, y)));
          expect(mk.subarray(8)).toEqual(adjustParity(ecbEncrypt("3des", imk, not(y))));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("rejects PANs and PSNs that are not digits, without quoting them", () => {
    expect(() => emvOptionA(IMK, "4111-1111", "00")).toThrow(/PAN must be/);
    expect(() => emvOptionA(IMK, "4111111111111111", "0")).toThrow(/PSN/);
    expect(() => emvOptionA(IMK, "41111111111111112222", "00")).toThrow(RangeError);
    try {
      emvOptionA(IMK, "411111111111111X", "00");
    } catch (e) {
      expect(String(e)).not.toContain("411111111111111");
    }
  });
});

describe("EMV option B (pyemv tests/test_kd_hsm.py and kd.py docstring)", () => {
  it("PAN of 16 digits or fewer: the same as option A (KCV BAB0)", () => {
    expect(kcv(emvOptionB(IMK, "1234567890123456"))).toBe("BAB0");
    expect(emvOptionB(IMK, "1234567890123456", "07")).toEqual(emvOptionA(IMK, "1234567890123456", "07"));
  });

  it("17- and 18-digit PANs hash PAN‖PSN with SHA-1 and decimalise", () => {
    expect(kcv(emvOptionB(IMK, "12345678901234567", "45"))).toBe("0BAF");
    expect(kcv(emvOptionB(IMK, "12345678901234567"))).toBe("4626");
    expect(kcv(emvOptionB(IMK, "123456789012345679", "00"))).toBe("C2F3");
    expect(toHex(emvOptionB(IMK, "12345678901234567", "01"))).toBe("AD406D7F6D7570916D75E5DCAB8CF737");
  });

  it("tops up with letters a–f → 0–5 when the digest has fewer than 16 decimal digits (pyemv sha_pad case)", () => {
    expect(kcv(emvOptionB(IMK, "000000000000000005", "23"))).toBe("DD73");
  });

  it("Visa CVN 10 secure-messaging integrity key: IMK-SMI FEDC…CDEF, PAN 1234567890123456 → KCV F010", () => {
    expect(kcv(emvOptionB(h("FEDCBA98765432100123456789ABCDEF"), "1234567890123456"))).toBe("F010");
  });
});

describe("PBOC diversification", () => {
  const mk = h("11223344556677888877665544332211");
  const asn = h("0000000012345678");

  it("3DES: 3DES_MK(F) ‖ 3DES_MK(~F) (transit reference §3.3, J GetProcessKey)", () => {
    const dk = pbocDiversify(mk, asn);
    expect(dk.subarray(0, 8)).toEqual(ecbEncrypt("3des", mk, asn));
    expect(dk.subarray(8)).toEqual(ecbEncrypt("3des", mk, not(asn)));
    expect(dk.length).toBe(16);
  });

  it("two levels (group factor, then ASN) as Sinopec/MOHURD PSAMs do", () => {
    const group = h("2000FF0000000000");
    const level1 = pbocDiversify(mk, group);
    const level2 = pbocDiversify(level1, asn);
    expect(level2.subarray(0, 8)).toEqual(ecbEncrypt("3des", level1, asn));
    expect(level2).not.toEqual(pbocDiversify(mk, asn));
  });

  it("SM4: SM4_MK(F ‖ ~F), one 16-byte block (our choice, docs/DECISIONS.md)", () => {
    const dk = pbocDiversify(mk, asn, "sm4");
    expect(dk).toEqual(ecbEncrypt("sm4", mk, h(toHex(asn) + toHex(not(asn)))));
    expect(toHex(dk)).not.toBe(toHex(pbocDiversify(mk, asn, "3des")));
  });

  it("rejects factors that are not 8 bytes and SM4 keys that are not 16", () => {
    expect(() => pbocDiversify(mk, h("00112233"))).toThrow(RangeError);
    expect(() => pbocDiversify(new Uint8Array(24), asn, "sm4")).toThrow(RangeError);
  });
});
