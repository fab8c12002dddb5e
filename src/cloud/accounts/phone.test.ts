import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskPhone, parseMainlandMobile } from "./phone.js";

describe("mainland mobile numbers", () => {
  it("accepts 11-digit 1[3-9] numbers, with +86/0086 and separators", () => {
    for (const [input, want] of [
      ["13800138000", "13800138000"],
      ["+86 138 0013 8000", "13800138000"],
      ["0086-199-1234-5678", "19912345678"],
      ["15012345678", "15012345678"],
    ]) {
      expect(parseMainlandMobile(input!)).toEqual({ ok: true, value: want });
    }
  });

  it("refuses everything else: wrong length, 10–12 prefixes, Hong Kong and Macau numbers, letters", () => {
    for (const bad of [
      "",
      "1380013800",
      "138001380000",
      "12800138000",
      "10086",
      "+852 9123 4567",
      "+853 6612 3456",
      "1380013800a",
      "8613800138000x",
    ]) {
      expect(parseMainlandMobile(bad).ok, bad).toBe(false);
    }
  });

  it("never throws, and accepts exactly what normalises to 1[3-9] plus nine digits (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^(\+86|0086)?[ -]?1[0-9]{10}$/)), (s) => {
        const r = parseMainlandMobile(s);
        if (r.ok) expect(r.value).toMatch(/^1[3-9]\d{9}$/);
        const stripped = s.replace(/[\s-]/g, "").replace(/^(\+86|0086)/, "");
        expect(r.ok).toBe(s.length <= 32 && /^1[3-9]\d{9}$/.test(stripped));
      }),
      { numRuns: 2000 },
    );
  });

  it("masks the middle four digits for logs", () => {
    expect(maskPhone("13800138000")).toBe("138****8000");
    expect(maskPhone("123")).toBe("***");
  });
});
