import { describe, expect, it } from "vitest";
import { ascii, toHex } from "../core/bytes.js";
import { sm3 } from "./sm3.js";

describe("SM3 (GB/T 32905-2016 appendix A)", () => {
  it('example 1: "abc"', () => {
    expect(toHex(sm3(ascii("abc")))).toBe("66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0");
  });

  it('example 2: "abcd" × 16 (64 bytes, two compression blocks after padding)', () => {
    expect(toHex(sm3(ascii("abcd".repeat(16))))).toBe(
      "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732",
    );
  });

  it("gives a plain 32-byte Uint8Array", () => {
    const d = sm3(new Uint8Array(0));
    expect(d.constructor).toBe(Uint8Array);
    expect(d.length).toBe(32);
  });
});
