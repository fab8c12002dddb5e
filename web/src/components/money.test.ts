import { describe, expect, it } from "vitest";
import { parseYuan, yuan } from "./money.js";

describe("money in the wallet", () => {
  it("shows fen as yuan with two decimals", () => {
    expect(yuan(0)).toBe("¥0.00");
    expect(yuan(1234)).toBe("¥12.34");
    expect(yuan(5)).toBe("¥0.05");
    expect(yuan(-200)).toBe("-¥2.00");
    expect(yuan(100_000_00)).toBe("¥100000.00");
  });

  it("reads amounts the user types, refusing anything that is not yuan and fen", () => {
    expect(parseYuan("12.34")).toBe(1234);
    expect(parseYuan("¥12.3")).toBe(1230);
    expect(parseYuan(" 50 ")).toBe(5000);
    for (const bad of ["", "1.234", "-1", "abc", "1e3", "12,00"]) expect(parseYuan(bad)).toBeNull();
  });
});
