/**
 * Per-system identity layouts: card numbers (Shanghai's printed number, Shenzhen Tong's check digit), EF15 and
 * friends written for every product and read back, the published samples of reference/transit.md §1.4, and
 * malformed files.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../core/bytes.js";
import { PRODUCTS } from "../catalogue.js";
import { luhnCheckDigit, shanghaiPrintedNumber, shanghaiSerial } from "./city-union.js";
import { LAYOUTS } from "./index.js";
import { sztCardNumber, sztCheckDigit } from "./shenzhen-tong.js";

describe("card numbers", () => {
  it("prints Shanghai's number: serial as 10 digits, 2-digit groups reversed, Luhn digit in front", () => {
    // 0x12345678 = 305419896 → "0305419896" → "9698410503"; Luhn over it (rightmost doubled): 41 → 9.
    expect(luhnCheckDigit("9698410503")).toBe(9);
    expect(shanghaiPrintedNumber(0x12345678)).toBe("99698410503");
    expect(shanghaiSerial("99698410503")).toBe(0x12345678);
    expect(shanghaiSerial("19698410503")).toBeNull();
  });

  it("gives Shenzhen Tong's serial its check digit (10 − digit sum mod 10) mod 10", () => {
    // The SZT sample EF15 (reference §1.4) holds E63C1D29 little-endian = 689781990, digit sum 57.
    expect(sztCheckDigit(689781990)).toBe(3);
    expect(sztCardNumber(689781990)).toBe("6897819903");
  });

  it("round-trips Shanghai numbers for any 32-bit serial", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (s) => {
        expect(shanghaiSerial(shanghaiPrintedNumber(s))).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("published samples", () => {
  it("reads the Shenzhen Tong EF15 of a real card's FCI", () => {
    const ef15 = fromHex("0000000000000000FD440000518000 00E63C1D29 20171201 20271201 1010 0000");
    const r = LAYOUTS["shenzhen-tong"].decodeIdentity(new Map([[0x15, ef15]]));
    expect(r.ok && r.value).toMatchObject({
      cardNumber: "6897819903",
      validFrom: "2017-12-01",
      validTo: "2027-12-01",
      city: { code: "5180", name: "深圳" },
      productId: "shenzhen-tong",
    });
  });

  it("reads a T-Union EF15: issuer 01011000FFFFFFFF (Beijing), 19-digit number without its first nibble", () => {
    const ef15 = fromHex("01011000FFFFFFFF 02 01 03105170000012345678 20200101 20301231 0000");
    const r = LAYOUTS["t-union"].decodeIdentity(new Map([[0x15, ef15]]));
    expect(r.ok && r.value).toMatchObject({
      cardNumber: "3105170000012345678",
      city: { code: "1000", name: "北京" },
      productId: "tu-jingjinji",
    });
    expect(r.ok && toHex(r.value.asn)).toBe("5170000012345678");
  });

  it("reads a Shanghai City Union EF15 (big-endian serial) and another city's (little-endian)", () => {
    const sh = fromHex("8698 2000 0000 0000 01 01 0000 2000 0000 12345678 20150101 20991231 0000");
    const r = LAYOUTS["city-union"].decodeIdentity(new Map([[0x15, sh]]));
    expect(r.ok && r.value.cardNumber).toBe("99698410503");
    const cq = fromHex("4000 4000 0000 0000 01 01 0000 4000 0000 78563412 20150101 20991231 0000");
    const q = LAYOUTS["city-union"].decodeIdentity(new Map([[0x15, cq]]));
    expect(q.ok && q.value).toMatchObject({
      cardNumber: "305419896",
      productId: "chongqing",
      city: { name: "重庆" },
    });
  });
});

describe("every product's layout", () => {
  for (const product of PRODUCTS) {
    const layout = LAYOUTS[product.system];
    it(`${product.id}: writes its identity files and reads back number, validity, city and product`, () => {
      const identity = {
        cardNumber: layout.cardNumberFor(product, 4711),
        validFrom: "2026-03-01",
        validTo: "2036-03-01",
      };
      const files = layout.identityFiles(product, identity);
      expect(files.asn).toHaveLength(8);
      const read = layout.decodeIdentity(new Map(files.binaries.map((b) => [b.sfi, b.data])));
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      expect(read.value.cardNumber).toBe(identity.cardNumber);
      expect(read.value.validFrom).toBe(identity.validFrom);
      expect(read.value.validTo).toBe(identity.validTo);
      expect(toHex(read.value.asn)).toBe(toHex(files.asn));
      expect(read.value.productId).toBe(product.id);
    });
  }

  it("never throws on malformed identity files", () => {
    for (const layout of Object.values(LAYOUTS))
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.uint8Array({ maxLength: 40 })), {
            maxLength: 4,
          }),
          (entries) => {
            layout.decodeIdentity(new Map(entries));
          },
        ),
        { numRuns: 500 },
      );
  });
});
