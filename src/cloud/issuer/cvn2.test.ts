/**
 * CVN2 by the CVV method, against psec's published vector (github.com/knovichikhin/psec `tests/test_cvv.py`:
 * CVK 99999999999999998888888888888888, PAN 2222222222222222, expiry 3333, service code 111 → 361).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex } from "../../core/bytes.js";
import { CVN2_SERVICE_CODE, cardVerificationValue, cvn2, cvn2Matches } from "./cvn2.js";

const CVK = fromHex("99999999999999998888888888888888");

describe("card verification values", () => {
  it("reproduces psec's vector", () => {
    expect(cardVerificationValue(CVK, "2222222222222222", "3333", "111")).toBe("361");
  });

  it("makes CVN2 with service code 000, depending on every input", () => {
    expect(CVN2_SERVICE_CODE).toBe("000");
    const base = cvn2(CVK, "6222020000000000101", "3012");
    expect(base).toMatch(/^\d{3}$/);
    expect(base).toBe(cardVerificationValue(CVK, "6222020000000000101", "3012", "000"));
    const others = [
      cvn2(CVK, "6222020000000000119", "3012"),
      cvn2(CVK, "6222020000000000101", "3011"),
      cvn2(fromHex("0123456789ABCDEFFEDCBA9876543210"), "6222020000000000101", "3012"),
    ];
    // Three digits collide by chance one time in a thousand; these three do not.
    for (const o of others) expect(o).not.toBe(base);
  });

  it("matches only the card's own CVN2, and only three digits", () => {
    const pan = "6259640000000002001";
    const good = cvn2(CVK, pan, "3012");
    expect(cvn2Matches(CVK, pan, "3012", good)).toBe(true);
    expect(cvn2Matches(CVK, pan, "3012", String((Number(good) + 1) % 1000).padStart(3, "0"))).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), (typed) => {
        if (cvn2Matches(CVK, pan, "3012", typed)) expect(typed).toBe(good);
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses malformed inputs as programming errors", () => {
    expect(() => cardVerificationValue(CVK.subarray(0, 8), "2222", "3333", "111")).toThrow(RangeError);
    expect(() => cardVerificationValue(CVK, "22A2", "3333", "111")).toThrow(RangeError);
    expect(() => cardVerificationValue(CVK, "2222", "333", "111")).toThrow(RangeError);
  });
});
