/**
 * The e-purse MACs against the textbook vectors: "基于PBOC的电子钱包的圈存过程" (ncuisine.com/xingyexinwen/379.html)
 * and "基于PBOC电子钱包的消费过程详解" (cnblogs.com/ttss/p/4280430.html), kept in
 * reference/vectors/transit/pboc_blog_vectors.json; the purchase MAC2 56988A13 is from the same purchase
 * walkthrough. The textbook gives no TAC value, so the TAC is checked against an independent single-DES
 * CBC-MAC written here over node:crypto.
 */
import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fromHex, toHex, xor } from "../core/bytes.js";
import {
  TxType,
  deriveCardKeys,
  loadMac1,
  loadMac2,
  loadSessionKey,
  loadTac,
  purchaseMac1,
  purchaseMac2,
  purchaseSessionKey,
  purchaseTac,
  tacKey,
} from "./epurse-crypto.js";

const KEY = fromHex("11223344556677888877665544332211");
const TERMINAL = fromHex("001122334455");

/** DES-CBC-MAC, ISO 9797-1 padding 2, left 4 bytes — written out independently of src/crypto. */
function referenceDesMac(key8: Uint8Array, data: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil((data.length + 1) / 8) * 8);
  padded.set(data);
  padded[data.length] = 0x80;
  const k = Buffer.concat([key8, key8, key8]);
  const c = createCipheriv("des-ede3-cbc", k, Buffer.alloc(8));
  c.setAutoPadding(false);
  const out = Buffer.concat([c.update(padded), c.final()]);
  return out
    .subarray(out.length - 8, out.length - 4)
    .toString("hex")
    .toUpperCase();
}

describe("load (圈存) — textbook vector", () => {
  const ses = loadSessionKey(KEY, fromHex("11223344"), 0, "3des");

  it("derives SESLK 9B1D924E05595603 from random 11223344 and online ATC 0000", () => {
    expect(toHex(ses)).toBe("9B1D924E05595603");
  });

  it("MAC1 over balance ‖ amount ‖ type ‖ terminal is 2988AE5A", () => {
    expect(
      toHex(loadMac1(ses, "3des", 0, { amount: 0x1000, type: TxType.ED_LOAD, terminal: TERMINAL })),
    ).toBe("2988AE5A");
  });

  it("MAC2 over amount ‖ type ‖ terminal ‖ 20111221 ‖ 214822 is 3A845BF0", () => {
    const f = { amount: 0x1000, type: TxType.ED_LOAD, terminal: TERMINAL };
    expect(toHex(loadMac2(ses, "3des", f, fromHex("20111221"), fromHex("214822")))).toBe("3A845BF0");
  });
});

describe("purchase (消费) — textbook vector", () => {
  const ses = purchaseSessionKey(KEY, fromHex("11223344"), 0, fromHex("00000001"), "3des");
  const f = {
    amount: 0x1000,
    type: TxType.EP_PURCHASE,
    terminal: TERMINAL,
    date4: fromHex("20120229"),
    time3: fromHex("135100"),
  };

  it("derives SESPK 003238ABC57659DD from random, offline ATC 0000 and terminal sequence 00000001", () => {
    expect(toHex(ses)).toBe("003238ABC57659DD");
  });

  it("MAC1 is F15CAB75", () => {
    expect(toHex(purchaseMac1(ses, "3des", f))).toBe("F15CAB75");
  });

  it("MAC2 over the amount is 56988A13", () => {
    expect(toHex(purchaseMac2(ses, "3des", 0x1000))).toBe("56988A13");
  });

  it("the City Union MAC1 covers the 9-byte 80CA code: a different code, a different MAC1", () => {
    const a = purchaseMac1(ses, "3des", f, fromHex("8588D32B7688D32B76"));
    const b = purchaseMac1(ses, "3des", f, fromHex("850526E0B885AC58FC"));
    expect(toHex(a)).toBe(
      referenceDesMac(ses, fromHex("00001000 06 001122334455 20120229 135100 8588D32B7688D32B76")),
    );
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(a)).not.toBe("F15CAB75");
  });
});

describe("TAC", () => {
  const dtk = fromHex("0011223344556677 8899AABBCCDDEEFF");
  const key8 = xor(dtk.subarray(0, 8), dtk.subarray(8, 16));

  it("the 3DES TAC key is DTK left ⊕ right", () => {
    expect(toHex(tacKey(dtk, "3des"))).toBe(toHex(key8));
  });

  it("purchase TAC = DES-MAC(amount ‖ type ‖ terminal ‖ terminal sequence ‖ date ‖ time)", () => {
    const f = {
      amount: 0x1000,
      type: 6,
      terminal: TERMINAL,
      date4: fromHex("20120229"),
      time3: fromHex("135100"),
    };
    const tac = purchaseTac(key8, "3des", f, fromHex("00000001"));
    expect(toHex(tac)).toBe(
      referenceDesMac(key8, fromHex("00001000 06 001122334455 00000001 20120229 135100")),
    );
  });

  it("load TAC = DES-MAC(new balance ‖ online ATC before ‖ amount ‖ type ‖ terminal ‖ date ‖ time)", () => {
    const f = { amount: 0x1000, type: 2, terminal: TERMINAL };
    const tac = loadTac(key8, "3des", 0x1000, 0, f, fromHex("20111221"), fromHex("214822"));
    expect(toHex(tac)).toBe(
      referenceDesMac(key8, fromHex("00001000 0000 00001000 02 001122334455 20111221 214822")),
    );
  });
});

describe("card keys", () => {
  it("DPK/DLK/DTK are the master keys diversified by the ASN, and a group factor adds one level", () => {
    const master = { algorithm: "3des" as const, keyVersion: 1, mpk: KEY, mlk: KEY, mtk: KEY };
    const asn = fromHex("2000000000000001");
    const one = deriveCardKeys(master, asn);
    const two = deriveCardKeys({ ...master, groupFactor: fromHex("2000FF0000000000") }, asn);
    expect(toHex(one.dpk)).toHaveLength(32);
    expect(toHex(one.dpk)).toBe(toHex(one.dlk));
    expect(toHex(one.dpk)).not.toBe(toHex(two.dpk));
  });

  it("SM4 cards get 16-byte SM4 session keys and 4-byte MACs", () => {
    const ses = purchaseSessionKey(KEY, fromHex("11223344"), 0, fromHex("00000001"), "sm4");
    expect(ses).toHaveLength(16);
    expect(purchaseMac2(ses, "sm4", 100)).toHaveLength(4);
    expect(toHex(purchaseMac2(ses, "sm4", 100))).not.toBe(toHex(purchaseMac2(ses, "sm4", 101)));
  });
});
