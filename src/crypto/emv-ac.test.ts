import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex, xor } from "../core/bytes.js";
import { ecbEncrypt } from "./cipher.js";
import { emvOptionA, emvOptionB } from "./diversify.js";
import { arpcMethod1, arpcMethod2, arqc, arqcMatches } from "./emv-ac.js";
import { retailMac } from "./mac.js";
import { emvCommonSessionKey, pbocSessionKey, visaSecureMessagingSessionKey } from "./session.js";

const h = fromHex;
const kcv = (k: Bytes) => toHex(ecbEncrypt("3des", k, new Uint8Array(8))).slice(0, 4);
const IMK = h("0123456789ABCDEFFEDCBA9876543210");
const DATA16 = h("0123456789ABCDEF0123456789ABCDEF");
const R = h("1234567890123456");

describe("pyemv tests/test_ac_hsm.py", () => {
  const mk = emvOptionA(IMK, "9901234567890123", "45");
  const sk = emvCommonSessionKey(mk, R);

  it("EMV padding: ARQC, ARPC method 1 under the ICC MK, ARPC method 2 with and without proprietary data", () => {
    const ac = arqc(sk, DATA16);
    expect(toHex(ac)).toBe("4B46013359B7A58B");
    expect(toHex(arpcMethod1(mk, ac, h("0000")))).toBe("F8C9CECAABD55AD1");
    expect(toHex(arpcMethod2(sk, ac, h("00000000"), h("1234567890ABCDEF")))).toBe("4962B76C");
    expect(toHex(arpcMethod2(sk, ac, h("00000000")))).toBe("7DFB1188");
  });

  it("Visa padding (method 1): 17 bytes, and 16 bytes where nothing is added", () => {
    const ac = arqc(sk, h("0123456789ABCDEF0123456789ABCDEF01"), "m1");
    expect(toHex(ac)).toBe("2E141C6BC4A20DA8");
    expect(toHex(arpcMethod1(mk, ac, h("0000")))).toBe("16A49AAB314B9262");
    const ac2 = arqc(sk, DATA16, "m1");
    expect(toHex(ac2)).toBe("922F3E83125EB46B");
    expect(toHex(arpcMethod1(mk, ac2, h("0000")))).toBe("8AE6E836084B0E80");
  });
});

describe("pyemv tests/test_kd_hsm.py (derivation → session key → ARQC → ARPC)", () => {
  it("option A, 17-digit PAN with PSN 45: ARPC 1 under the ICC MK and under the session key", () => {
    const mk = emvOptionA(IMK, "12345678901234567", "45");
    const sk = emvCommonSessionKey(mk, R);
    expect(kcv(sk)).toBe("DF82");
    expect(toHex(sk)).toBe("C7AEDF49AEF2F146D692400E0B851A8F");
    const ac = arqc(sk, DATA16);
    expect(toHex(ac)).toBe("19C1FBC83EBDC0D5");
    expect(toHex(arpcMethod1(mk, ac, h("0000")))).toBe("78A372523FA35A03");
    expect(toHex(arpcMethod1(sk, ac, h("0000")))).toBe("C3620580668E5B65");
  });

  it("option A, no PSN", () => {
    const mk = emvOptionA(IMK, "12345678901234567");
    const sk = emvCommonSessionKey(mk, R);
    expect(kcv(sk)).toBe("3F4F");
    expect(toHex(sk)).toBe("40F454B643E54C0D7A20DA4A62A72A5E");
    const ac = arqc(sk, DATA16);
    expect(toHex(ac)).toBe("8698A7319324FD93");
    expect(toHex(arpcMethod1(mk, ac, h("0000")))).toBe("BEA11C8F4A47EF6F");
  });

  const optionB: [string, string | undefined, string, string, string, string][] = [
    // pan, psn, ICC MK KCV, SK KCV, ARQC, ARPC method 2 (CSU 00000000)
    ["1234567890123456", undefined, "BAB0", "BC19", "0CE77D211CB5459A", "8CD9AA5D"],
    ["12345678901234567", "45", "0BAF", "4262", "5760EE07B4FA65D1", "106B81D9"],
    ["12345678901234567", undefined, "4626", "7F36", "0BAA251EA8989442", "C1C41F3A"],
    ["123456789012345679", "00", "C2F3", "7C35", "DC95BCE3EBBE0296", "ECCA0C4B"],
  ];
  it.each(optionB)("option B, PAN %s PSN %s", (pan, psn, mkKcv, skKcv, ac, arpc) => {
    const mk = emvOptionB(IMK, pan, psn);
    expect(kcv(mk)).toBe(mkKcv);
    const sk = emvCommonSessionKey(mk, R);
    expect(kcv(sk)).toBe(skKcv);
    const a = arqc(sk, DATA16);
    expect(toHex(a)).toBe(ac);
    expect(toHex(arpcMethod2(sk, a, h("00000000")))).toBe(arpc);
  });

  it("option B with decimalisation padding, R = ATC 001C ‖ 00×6, a real CDOL payload, ARPC 2 with PAD 12345678", () => {
    const mk = emvOptionB(IMK, "000000000000000005", "23");
    expect(kcv(mk)).toBe("DD73");
    const sk = emvCommonSessionKey(mk, h("001C000000000000"));
    expect(kcv(sk)).toBe("04F8");
    const a = arqc(sk, h("0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800"));
    expect(toHex(a)).toBe("8CAD6F2489C640B1");
    expect(toHex(arpcMethod2(sk, a, h("00000000"), h("12345678")))).toBe("E39F1876");
  });

  it("Visa secure messaging: command MAC over 8418000008 ‖ ATC ‖ ARQC under the SM session key", () => {
    const smi = emvOptionB(h("FEDCBA98765432100123456789ABCDEF"), "1234567890123456");
    const sk = visaSecureMessagingSessionKey(smi, 0x1c);
    expect(toHex(retailMac(sk, h("8418000008 001C 29CCA15AE665FA2E"), "m2"))).toBe("DB56BA60087CEFD3");
  });
});

describe("pyemv tests/test_cvn_hsm.py and pyemv.json scheme cases", () => {
  const mk = emvOptionA(IMK, "1234567890123456", "00");
  const visaData = "0000000040000000000000000124800004800001241911050152BF45851800001C";
  const mcData = h("00000000999900000000000001248000000000012420990600ABCDEF121800001CA00003220000");

  it("Visa CVN 10: SK = ICC MK, CVR 03A06010, Visa padding; ARPC 1 with ARC 3030", () => {
    expect(kcv(mk)).toBe("BAB0");
    const a = arqc(mk, h(visaData + "03A06010"), "m1");
    expect(toHex(a)).toBe("29CCA15AE665FA2E");
    expect(toHex(arpcMethod1(mk, a, h("3030")))).toBe("28993816AFAE4AEB");
  });

  it("Visa CVN 18: common SK, whole IAD 06011203A0B800, ARPC 2", () => {
    const sk = emvCommonSessionKey(mk, h("001C000000000000"));
    const a = arqc(sk, h(visaData + "06011203A0B800"));
    expect(toHex(a)).toBe("7A788EA6B8A3E733");
    expect(toHex(arpcMethod2(sk, a, h("00000000")))).toBe("9AF514C1");
  });

  it("MasterCard CVN 16: proprietary SK (R = ATC‖0000‖UN), ARPC 1 under the ICC MK with ARC 0010", () => {
    const sk = emvCommonSessionKey(mk, h("001C0000ABCDEF12"));
    const a = arqc(sk, mcData);
    expect(toHex(a)).toBe("24CCF3DEE3158C70");
    expect(toHex(arpcMethod1(mk, a, h("0010")))).toBe("73F6BBF389A6586C");
  });

  it("MasterCard CVN 20: common SK, ARPC 1 under the session key", () => {
    const sk = emvCommonSessionKey(mk, h("001C000000000000"));
    const a = arqc(sk, mcData);
    expect(toHex(a)).toBe("CD29615D6452E70E");
    expect(toHex(arpcMethod1(sk, a, h("0010")))).toBe("DFD0956606B68D64");
  });
});

describe("pyemv ac.py docstrings", () => {
  it("generate_ac / generate_arpc_1 / generate_arpc_2 with SK 29B3…0E61", () => {
    const sk = h("29B33180E567CE38EA4CBC9D753B0E61");
    const a = arqc(sk, DATA16);
    expect(toHex(a)).toBe("FA624250B008B59A");
    expect(toHex(arpcMethod1(sk, a, h("0000")))).toBe("45D4255EEF10C920");
    expect(toHex(arpcMethod2(sk, a, h("00000000")))).toBe("CB56FA40");
  });

  it("generate_arpc_1 / generate_arpc_2 with SK AAAA…BBBB and ARQC 1234567890ABCDEF", () => {
    const sk = h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
    expect(toHex(arpcMethod1(sk, h("1234567890ABCDEF"), h("0000")))).toBe("F5E6F44147E2F1B0");
    expect(toHex(arpcMethod2(sk, h("1234567890ABCDEF"), h("00000000")))).toBe("9308BEBC");
  });
});

describe("PBOC CVN 01 end to end (cnblogs.com/1024Planet/p/6256545.html, reference emv.md §2)", () => {
  // AC data = 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36 CVR (IAD bytes 3..6, length byte included).
  const acData = h("000000000001 000000000000 0156 0080046000 0156 140701 00 1E78EEBC 7D00 0240 03A04002");

  it("IMK-AC → UDK → SK → ARQC 5D016C91005E7CC2 → ARPC (ARC '01' = 3031, under SK) 21415243527CE78F", () => {
    const udk = emvOptionA(h("F0C34A8124CEE0A91A0B034AA97D6EAC"), "6228000100001", "01");
    expect(toHex(udk)).toBe("014C986ECD8F49157CC8B59E3BCDFD98");
    const sk = pbocSessionKey(udk, 0x0240);
    expect(toHex(sk)).toBe("D4102725E6E5AD329E55AAB50BF23DA9");
    const ac = arqc(sk, acData);
    expect(toHex(ac)).toBe("5D016C91005E7CC2");
    expect(arqcMatches(sk, acData, h("5D016C91005E7CC2"))).toBe(true);
    expect(arqcMatches(sk, acData, h("5D016C91005E7CC3"))).toBe(false);
    expect(toHex(arpcMethod1(sk, ac, h("3031")))).toBe("21415243527CE78F");
  });
});

describe("properties", () => {
  it("ARPC method 1 is 3DES of ARQC with the ARC XORed into its first two bytes (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 2, maxLength: 2 }),
        (k, a, arc) => {
          const arc8 = new Uint8Array(8);
          arc8.set(arc);
          expect(arpcMethod1(k, a, arc)).toEqual(ecbEncrypt("3des", k, xor(a, arc8)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("an ARQC matches only its own data: any changed byte fails verification (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (sk, data, at, delta) => {
          const ac = arqc(sk, data);
          expect(arqcMatches(sk, data, ac)).toBe(true);
          const bad = data.slice();
          bad[at % bad.length]! ^= delta;
          expect(arqcMatches(sk, bad, ac)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses wrong field lengths", () => {
    const k = IMK;
    expect(() => arpcMethod1(k, h("00"), h("0000"))).toThrow(RangeError);
    expect(() => arpcMethod1(k, new Uint8Array(8), h("00"))).toThrow(RangeError);
    expect(() => arpcMethod2(k, new Uint8Array(8), h("00"))).toThrow(RangeError);
    expect(() => arpcMethod2(k, new Uint8Array(8), h("00000000"), new Uint8Array(9))).toThrow(RangeError);
  });
});
