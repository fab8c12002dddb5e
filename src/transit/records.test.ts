/**
 * Record codecs against the T-Union examples of tkerby/flipperzero-firmware-wPlugins docs/card_data_format.md
 * (reference/vectors/transit/tunion_master_doc_examples.json), plus malformed input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  bcdDate,
  chinaIso,
  decodeTransactionRecord,
  decodeTripRecord,
  encodeTransactionRecord,
  encodeTripRecord,
  isoDate,
  isoDateTime,
  transactionTypeName,
} from "./records.js";

describe("EF18 transaction record (23 bytes)", () => {
  it("decodes the T-Union Master example 042D…141740", () => {
    const r = decodeTransactionRecord(fromHex("042D000000000001F409300089000340" + "20241229141740"));
    expect(r.ok && r.value).toEqual({
      atc: 1069,
      overdraft: 0,
      amount: 500,
      type: 9,
      terminal: "300089000340",
      date: "20241229",
      time: "141740",
    });
    expect(transactionTypeName(9)).toBe("compound-purchase");
  });

  it("encodes what it decodes", () => {
    const hex = "042D000000000001F409300089000340" + "20241229141740";
    const r = decodeTransactionRecord(fromHex(hex));
    expect(r.ok && toHex(encodeTransactionRecord(r.value))).toBe(hex);
  });

  it("refuses a short record and never throws on arbitrary bytes", () => {
    expect(decodeTransactionRecord(new Uint8Array(22)).ok).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const r = decodeTransactionRecord(b);
        expect(r.ok).toBe(b.length >= 23);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("EF1E trip record (48 bytes)", () => {
  const hex =
    "04" +
    "0000300089000340" +
    "01" +
    "08001900300000" +
    "000001F4" +
    "00000E01" +
    "20241229141740" +
    "1000" +
    "01011000FFFFFFFF" +
    "000000000000";

  it("decodes the T-Union Master example: exit, metro, ¥5.00, balance ¥35.85, Beijing", () => {
    const r = decodeTripRecord(fromHex(hex));
    expect(r.ok && r.value).toEqual({
      kind: 4,
      terminal: "0000300089000340",
      mode: 1,
      lineStation: "08001900300000",
      amount: 500,
      balanceAfter: 3585,
      time: "2024-12-29T14:17:40",
      city: "1000",
      institution: "01011000FFFFFFFF",
    });
  });

  it("encodes what it decodes", () => {
    const r = decodeTripRecord(fromHex(hex));
    expect(r.ok && toHex(encodeTripRecord(r.value))).toBe(hex);
  });

  it("refuses records without a valid date, and arbitrary bytes never throw", () => {
    expect(decodeTripRecord(new Uint8Array(48)).ok).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        decodeTripRecord(b);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("BCD dates", () => {
  it("reads calendar dates and refuses impossible ones", () => {
    expect(isoDate(fromHex("20240229"))).toBe("2024-02-29");
    expect(isoDate(fromHex("20230229"))).toBeNull();
    expect(isoDate(fromHex("2024AB01"))).toBeNull();
    expect(isoDateTime(fromHex("20241229"), fromHex("246000"))).toBeNull();
    expect(toHex(bcdDate("2027-12-01"))).toBe("20271201");
    expect(() => bcdDate("2027-13-01")).toThrow(RangeError);
  });

  it("writes China time (UTC+8)", () => {
    expect(chinaIso(new Date("2026-03-01T17:30:05Z"))).toBe("2026-03-02T01:30:05");
  });
});
