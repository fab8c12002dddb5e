import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  PcscCardName,
  atrForActivation,
  contactlessAtr,
  parseAts,
  parseContactlessAtr,
  storageCardAtr,
} from "./pcsc-atr.js";

// Expected ATRs: shared/reference/mifare.md §4.1 (storage-card ATRs with TCK computed there, after the ACS
// ACR122U/ACR1281U manuals) and §4.1's DESFire example; pcsc.md §3 (a vicc with no historical bytes).
describe("PC/SC Part 3 ATRs", () => {
  it.each([
    [PcscCardName.MIFARE_CLASSIC_1K, "3B8F8001804F0CA000000306030001000000006A"],
    [PcscCardName.MIFARE_CLASSIC_4K, "3B8F8001804F0CA0000003060300020000000069"],
    [PcscCardName.MIFARE_ULTRALIGHT, "3B8F8001804F0CA0000003060300030000000068"],
    [PcscCardName.MIFARE_MINI, "3B8F8001804F0CA000000306030026000000004D"],
  ])("storage card %s", (name, atr) => {
    expect(toHex(storageCardAtr(name))).toBe(atr);
  });

  it("ISO 14443-4 card: 3B 8n 80 01 <historical bytes> TCK", () => {
    expect(toHex(contactlessAtr(fromHex("80")))).toBe("3B8180018080"); // DESFire
    expect(toHex(contactlessAtr(new Uint8Array(0)))).toBe("3B80800101");
    expect(contactlessAtr(new Uint8Array(20)).length).toBe(4 + 15 + 1);
  });

  it("takes the historical bytes from the ATS of the activation", () => {
    const activation = { uid: fromHex("04A1B2C3D4E5F6"), atqa: fromHex("0044"), sak: 0x20 };
    expect(toHex(atrForActivation({ ...activation, ats: fromHex("067577810280") }))).toBe("3B8180018080");
    expect(toHex(atrForActivation({ ...activation, ats: fromHex("0578800270") }))).toBe("3B80800101"); // TL/T0 only
    expect(toHex(atrForActivation(activation))).toBe("3B80800101");
    expect(toHex(atrForActivation({ ...activation, ats: fromHex("FF") }))).toBe("3B80800101"); // malformed
  });

  it("parses an ATS: TL, T0, TA/TB/TC as announced, historical bytes", () => {
    expect(parseAts(fromHex("0D78807102 4A434F5034315632"))).toMatchObject({
      ok: true,
      value: { fsci: 8, ta: 0x80, tb: 0x71, tc: 0x02, historical: fromHex("4A434F5034315632") },
    });
    expect(parseAts(fromHex("01"))).toMatchObject({ ok: true, value: { historical: new Uint8Array(0) } });
    expect(parseAts(fromHex("")).ok).toBe(false);
    expect(parseAts(fromHex("0370")).ok).toBe(false); // TL says 3, 2 given
    expect(parseAts(fromHex("0370 77")).ok).toBe(false); // T0 promises TA TB TC, only TA follows
    expect(parseAts(fromHex("02F0")).ok).toBe(false); // T0 bit 8 set
  });

  it("recognises what it builds, and checks TCK", () => {
    expect(parseContactlessAtr(storageCardAtr(PcscCardName.MIFARE_CLASSIC_4K))).toEqual({
      kind: "storage",
      standard: 3,
      cardName: 2,
      variant: "4k",
    });
    expect(parseContactlessAtr(fromHex("3B8180018080"))).toEqual({
      kind: "iso14443-4",
      historical: fromHex("80"),
    });
    expect(parseContactlessAtr(fromHex("3B8180018081")).kind).toBe("other"); // bad TCK
    expect(parseContactlessAtr(fromHex("3BFF1300008131FE45")).kind).toBe("other"); // a contact card
  });

  it("round-trips any historical bytes, and never throws on arbitrary input (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 15 }), (h) => {
        const info = parseContactlessAtr(contactlessAtr(h));
        if (info.kind === "iso14443-4") expect(toHex(info.historical)).toBe(toHex(h));
        else expect(info.kind).toBe("storage"); // historical bytes that happen to spell a storage card
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        parseContactlessAtr(bytes);
        const ats = parseAts(bytes);
        if (ats.ok) expect(ats.value.historical.length).toBeLessThan(bytes.length);
      }),
      { numRuns: 1000 },
    );
  });
});
