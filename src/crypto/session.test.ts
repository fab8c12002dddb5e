import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex, xor } from "../core/bytes.js";
import { ecbEncrypt } from "./cipher.js";
import { adjustParity, emvOptionA } from "./diversify.js";
import { pbocMac } from "./mac.js";
import {
  emv2000TreeSessionKey,
  emvCommonSessionKey,
  epurseLoadSessionKey,
  epursePurchaseSessionKey,
  epurseTacKey,
  pbocSessionKey,
  visaSecureMessagingSessionKey,
} from "./session.js";

const h = fromHex;
const kcv = (k: Bytes) => toHex(ecbEncrypt("3des", k, new Uint8Array(8))).slice(0, 4);
const IMK = h("0123456789ABCDEFFEDCBA9876543210");

describe("EMV common session key (Book 2 A1.3.1)", () => {
  it("pyemv kd.derive_common_sk docstring: MK = IMK, R = 001C000000000000", () => {
    expect(toHex(emvCommonSessionKey(IMK, h("001C000000000000")))).toBe("E9FB384AF807B940FEDCEA613461B0C4");
  });

  it("pyemv test_ac_hsm: ICC MK (KCV 1DA5), R = 1234567890123456 → SK KCV 0995", () => {
    const sk = emvCommonSessionKey(emvOptionA(IMK, "9901234567890123", "45"), h("1234567890123456"));
    expect(kcv(sk)).toBe("0995");
    expect(toHex(sk)).toBe("3E736BF8D37664348A04E3ABE00DEFC1");
  });

  it("pyemv Visa CVN 18 / MasterCard CVN 20 (R = ATC 001C ‖ 00×6) and MasterCard CVN 16 (R = ATC ‖ 0000 ‖ UN)", () => {
    const mk = emvOptionA(IMK, "1234567890123456", "00");
    expect(toHex(mk)).toBe("154F349D8585CB7F6B0798E9839B10C1");
    const sk18 = emvCommonSessionKey(mk, h("001C000000000000"));
    expect(kcv(sk18)).toBe("22C8");
    expect(toHex(sk18)).toBe("436B942AD637E08564B532B0EC97CB26");
    const sk16 = emvCommonSessionKey(mk, h("001C0000ABCDEF12"));
    expect(kcv(sk16)).toBe("2FD5");
    expect(toHex(sk16)).toBe("5D8F37BCD9E5DA68048CDFA2EA255D9E");
  });

  it("is 3DES over R with byte 3 set to F0 and 0F, parity-adjusted (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (mk, r) => {
          const sk = emvCommonSessionKey(mk, r);
          const a = r.slice();
          a[2] = 0xf0;
          const b = r.slice();
          b[2] = 0x0f;
          expect(sk.subarray(0, 8)).toEqual(adjustParity(ecbEncrypt("3des", mk, a)));
          expect(sk.subarray(8)).toEqual(adjustParity(ecbEncrypt("3des", mk, b)));
        },
      ),
      { numRuns: 100 },
    );
    expect(() => emvCommonSessionKey(IMK, h("001C"))).toThrow(RangeError);
  });
});

describe("other EMV session keys", () => {
  it("EMV 2000 tree: pyemv kd.derive_emv2000_tree_sk docstring (MK = IMK, ATC 001C, H = 8, b = 4, IV 0)", () => {
    expect(toHex(emv2000TreeSessionKey(IMK, 0x1c, 8, 4))).toBe("E5BF6D1067F194B0A89B7F5D83BC64A2");
  });

  it("EMV 2000 tree: keys differ per ATC, shape and IV; bad shapes are refused", () => {
    const a = emv2000TreeSessionKey(IMK, 1);
    expect(emv2000TreeSessionKey(IMK, 2)).not.toEqual(a);
    expect(emv2000TreeSessionKey(IMK, 1, 16, 2)).not.toEqual(a);
    expect(emv2000TreeSessionKey(IMK, 1, 8, 4, new Uint8Array(16).fill(0xf0))).not.toEqual(a);
    expect(() => emv2000TreeSessionKey(IMK, 1, 7, 4)).toThrow(RangeError); // 4^7 < 2^16
    expect(() => emv2000TreeSessionKey(IMK, 0x10000)).toThrow(RangeError);
  });

  it("Visa secure messaging: pyemv kd.derive_visa_sm_sk docstring and test_derive_visa_sm_sk (KCV DB10)", () => {
    expect(toHex(visaSecureMessagingSessionKey(IMK, 0x1c))).toBe("0123456789ABCDF2FEDCBA987654CDF2");
    const smi = emvOptionA(h("FEDCBA98765432100123456789ABCDEF"), "1234567890123456");
    expect(kcv(visaSecureMessagingSessionKey(smi, 0x1c))).toBe("DB10");
  });
});

describe("PBOC / UICS CVN 01 session key", () => {
  it("PBOC blog (cnblogs.com/1024Planet/p/6256545.html): UDK, ATC 0240 → SK", () => {
    const udk = h("014C986ECD8F49157CC8B59E3BCDFD98");
    expect(toHex(pbocSessionKey(udk, 0x0240))).toBe("D4102725E6E5AD329E55AAB50BF23DA9");
  });

  it("is 3DES_UDK(00×6‖ATC) ‖ 3DES_UDK(00×6‖~ATC) (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xffff }),
        (udk, atc) => {
          const sk = pbocSessionKey(udk, atc);
          const l = new Uint8Array(8);
          l[6] = atc >> 8;
          l[7] = atc & 0xff;
          const r = new Uint8Array(8);
          r[6] = (~atc >> 8) & 0xff;
          r[7] = ~atc & 0xff;
          expect(sk).toEqual(h(toHex(ecbEncrypt("3des", udk, l)) + toHex(ecbEncrypt("3des", udk, r))));
        },
      ),
      { numRuns: 100 },
    );
    expect(() => pbocSessionKey(IMK, -1)).toThrow(RangeError);
    expect(() => pbocSessionKey(IMK, 1.5)).toThrow(RangeError);
  });
});

describe("PBOC e-purse process keys", () => {
  // Textbook e-purse (transit reference §3.4; cnblogs.com/ttss/p/4280430.html, ncuisine.com/xingyexinwen/379.html).
  const key = h("11223344556677888877665544332211");

  it("load: SESLK = 3DES_DLK(random ‖ online ATC ‖ 8000), then MAC1 and MAC2", () => {
    const seslk = epurseLoadSessionKey(key, h("11223344"), 0x0000);
    expect(toHex(seslk)).toBe("9B1D924E05595603");
    expect(toHex(pbocMac("des", seslk, h("00000000 00001000 01 001122334455")))).toBe("2988AE5A");
    expect(toHex(pbocMac("des", seslk, h("00001000 01 001122334455 20111221 214822")))).toBe("3A845BF0");
  });

  it("purchase: SESPK = 3DES_DPK(random ‖ offline ATC ‖ terminal seq low 2 bytes), then MAC1", () => {
    const sespk = epursePurchaseSessionKey(key, h("11223344"), 0x0000, h("00000001"));
    expect(toHex(sespk)).toBe("003238ABC57659DD");
    expect(toHex(pbocMac("des", sespk, h("00001000 06 001122334455 20120229135100")))).toBe("F15CAB75");
    // Only the low two bytes of the terminal sequence number enter the key.
    expect(epursePurchaseSessionKey(key, h("11223344"), 0, h("FFFF0001"))).toEqual(sespk);
  });

  it("TAC key: DTK left ⊕ right", () => {
    expect(toHex(epurseTacKey(key))).toBe(toHex(xor(key.subarray(0, 8), key.subarray(8))));
    expect(toHex(epurseTacKey(key))).toBe("9955551111555599");
  });

  it("SM4 forms (our choice, docs/DECISIONS.md): SM4 of the same inputs padded 80 00… to 16 bytes; TAC key = DTK", () => {
    const seslk = epurseLoadSessionKey(key, h("11223344"), 0x0102, "sm4");
    expect(seslk).toEqual(ecbEncrypt("sm4", key, h("11223344 0102 80 000000000000000000")));
    const sespk = epursePurchaseSessionKey(key, h("11223344"), 0x0102, h("00000001"), "sm4");
    expect(sespk).toEqual(ecbEncrypt("sm4", key, h("11223344 0102 0001 80 00000000000000")));
    expect(sespk.length).toBe(16);
    expect(epurseTacKey(key, "sm4")).toEqual(key);
    expect(epurseTacKey(key, "sm4")).not.toBe(key); // a copy, not the caller's array
  });

  it("refuses wrong lengths", () => {
    expect(() => epurseLoadSessionKey(key, h("112233"), 0)).toThrow(RangeError);
    expect(() => epurseLoadSessionKey(h("1122334455667788"), h("11223344"), 0)).toThrow(RangeError);
    expect(() => epursePurchaseSessionKey(key, h("11223344"), 0, h("0001"))).toThrow(RangeError);
    expect(() => epurseTacKey(h("1122334455667788"))).toThrow(RangeError);
  });
});
