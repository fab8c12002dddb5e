/** CAPK store: UnionPay's CA index 08 with its published checksum (reference vectors/emv/unionpay-capk-08.json). */
import { describe, expect, it } from "vitest";
import { concat, fromHex, toHex } from "../../core/bytes.js";
import { tlv } from "../../core/tlv.js";
import { CapkStore, UNIONPAY_CAPK_08, capkChecksum } from "./capk.js";
import { defaultCapks } from "./config.js";

describe("CAPK store", () => {
  it("UnionPay index 08 is 1152 bits and matches its published SHA-1 checksum", () => {
    expect(UNIONPAY_CAPK_08.modulus.length * 8).toBe(1152);
    expect(toHex(capkChecksum(UNIONPAY_CAPK_08))).toBe("EE23B616C95C02652AD18860E48787C079E8E85A");
  });

  it("loads a key from POS parameter TLVs and refuses a wrong checksum", () => {
    const params = (sum: string) =>
      concat(
        tlv(0x9f06, UNIONPAY_CAPK_08.rid),
        tlv(0x9f22, Uint8Array.of(8)),
        tlv(0xdf05, fromHex("20301231")),
        tlv(0xdf02, UNIONPAY_CAPK_08.modulus),
        tlv(0xdf04, UNIONPAY_CAPK_08.exponent),
        tlv(0xdf03, fromHex(sum)),
      );
    const store = new CapkStore();
    expect(store.addFromParameters(params("EE23B616C95C02652AD18860E48787C079E8E85A")).ok).toBe(true);
    expect(store.get(fromHex("A000000333"), 8)?.expiry).toBe("20301231");
    const bad = new CapkStore();
    expect(bad.addFromParameters(params("EE23B616C95C02652AD18860E48787C079E8E85B")).ok).toBe(false);
    expect(bad.size).toBe(0);
  });

  it("ships index 08 and Tapwallet's test CA (index F1)", () => {
    const s = defaultCapks();
    expect(s.get(fromHex("A000000333"), 0x08)).toBeDefined();
    expect(s.get(fromHex("A000000333"), 0xf1)?.modulus.length).toBe(176);
  });
});
