import { describe, expect, it } from "vitest";
import { formatExpiry, groupCardNumber, luhnValid } from "./card-number.js";

describe("the card number field", () => {
  it("checks Luhn on published test numbers and catches a changed digit or a swap", () => {
    // UnionPay's and the generic Luhn examples (ISO/IEC 7812-1 Annex B: 79927398713).
    expect(luhnValid("79927398713")).toBe(false); // 11 digits: too short for a card
    expect(luhnValid("6222020000000000018")).toBe(true);
    expect(luhnValid("6222020000000000019")).toBe(false);
    expect(luhnValid("6222020000000000081")).toBe(false);
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("62220200000000000180")).toBe(false); // 20 digits
    expect(luhnValid("6222 0200 0000 0000 018")).toBe(false); // spaces are the caller's to strip
  });

  it("groups digits by four and shapes the expiry as MM/YY", () => {
    expect(groupCardNumber("6222020000000000018")).toBe("6222 0200 0000 0000 018");
    expect(groupCardNumber("6222")).toBe("6222");
    expect(formatExpiry("1230")).toBe("12/30");
    expect(formatExpiry("12/3")).toBe("12/3");
    expect(formatExpiry("1")).toBe("1");
    expect(formatExpiry("12a30xx99")).toBe("12/30");
  });
});
