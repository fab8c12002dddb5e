import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { sm4DiversificationBlock, sm4SessionKeyInput, sm4TacKey } from "./sm4-pboc.js";

// These pin our unverified SM4 choices (docs/DECISIONS.md "SM4 in PBOC"): a change here is a protocol change.
describe("SM4 PBOC choices", () => {
  it("diversification block is F ‖ ~F", () => {
    expect(toHex(sm4DiversificationBlock(fromHex("0011223344556677")))).toBe(
      "0011223344556677FFEEDDCCBBAA9988",
    );
  });

  it("session key input is the core data padded 80 00… to 16 bytes, and at most 15 bytes of core", () => {
    expect(toHex(sm4SessionKeyInput(fromHex("112233440001")))).toBe("11223344000180000000000000000000");
    expect(() => sm4SessionKeyInput(new Uint8Array(16))).toThrow(RangeError);
  });

  it("TAC key is a copy of the 16-byte DTK", () => {
    const dtk = fromHex("11223344556677888877665544332211");
    const k = sm4TacKey(dtk);
    expect(k).toEqual(dtk);
    k[0] = 0;
    expect(dtk[0]).toBe(0x11);
  });
});
