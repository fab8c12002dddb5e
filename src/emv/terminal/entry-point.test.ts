/**
 * Entry Point pre-processing (EMV Book B §3.1; JR/T 0025.12-2013 §6.2 as HXCORE implements it), PPSE
 * parsing and candidate order, and the C-7 CVM outcome.
 */
import { describe, expect, it } from "vitest";
import { concat, fromHex, toHex } from "../../core/bytes.js";
import { tlv } from "../../core/tlv.js";
import { AID } from "../profile.js";
import { defaultTerminalConfig, unionPayAid } from "./config.js";
import { buildCandidates, parsePpse, preprocess } from "./entry-point.js";
import { cvmOutcome } from "./kernel-c7.js";

const config = defaultTerminalConfig({
  aids: [
    unionPayAid(AID.debit, {
      ttq: fromHex("3600C080"),
      contactlessTransactionLimit: 5000_00,
      cvmRequiredLimit: 1000_01,
      floorLimit: 300_00,
    }),
  ],
});
const ttqFor = (amount: number) => toHex(preprocess(config, amount)[0]!.ttq);

describe("pre-processing", () => {
  it("sets nothing in byte 2 under the floor and CVM limits", () => expect(ttqFor(100_00)).toBe("3600C080"));
  it("requires an online cryptogram above the floor limit", () => expect(ttqFor(300_01)).toBe("3680C080"));
  it("requires a CVM from ¥1000.01 (¥1000.00 is still 双免)", () => {
    expect(ttqFor(1000_00)).toBe("3680C080");
    expect(ttqFor(1000_01)).toBe("36C0C080");
    expect(preprocess(config, 1000_01)[0]!.cvmRequired).toBe(true);
  });
  it("refuses contactless at and above the contactless transaction limit", () => {
    expect(preprocess(config, 4999_99)[0]!.contactlessAllowed).toBe(true);
    expect(preprocess(config, 5000_00)[0]!.contactlessAllowed).toBe(false);
  });
  it("sends a zero amount online, or refuses it on an offline-only reader", () => {
    expect(ttqFor(0)).toBe("3680C080");
    const offlineOnly = defaultTerminalConfig({
      aids: [unionPayAid(AID.debit, { ttq: fromHex("2A000080") })],
    });
    expect(preprocess(offlineOnly, 0)[0]!.contactlessAllowed).toBe(false);
  });
});

describe("PPSE and candidates", () => {
  const entry = (aid: string, label: string, priority?: number, kernel?: number) =>
    tlv(
      0x61,
      concat(
        tlv(0x4f, fromHex(aid)),
        tlv(0x50, new TextEncoder().encode(label)),
        ...(priority !== undefined ? [tlv(0x87, Uint8Array.of(priority))] : []),
        ...(kernel !== undefined ? [tlv(0x9f2a, Uint8Array.of(kernel))] : []),
      ),
    );
  const ppse = (...entries: Uint8Array[]) =>
    tlv(
      0x6f,
      concat(
        tlv(0x84, new TextEncoder().encode("2PAY.SYS.DDF01")),
        tlv(0xa5, tlv(0xbf0c, concat(...entries))),
      ),
    );

  it("orders by priority, entries without priority last, and skips other kernels and AIDs", () => {
    const fci = ppse(
      entry("A000000333010102", "PBOC CREDIT"),
      entry("A0000000031010", "VISA", 1),
      entry("A000000333010101", "PBOC DEBIT", 2),
      entry("A000000333010103", "QUASI", 1, 0x02),
    );
    const entries = parsePpse(fci)!;
    expect(entries.map((e) => e.kernelId)).toEqual([7, -1, 7, 2]);
    const c = buildCandidates(entries, preprocess(defaultTerminalConfig(), 10_00));
    expect(c.map((x) => x.entry.label)).toEqual(["PBOC DEBIT", "PBOC CREDIT"]);
  });

  it("returns null for a PPSE answer that is not an FCI", () => {
    expect(parsePpse(fromHex("6F03840100"))).toBeNull();
    expect(parsePpse(fromHex("77020000"))).toBeNull();
  });
});

describe("CVM outcome", () => {
  const ttq = fromHex("3640C080");
  it("takes CDCVM when the card did it and the reader supports it", () =>
    expect(cvmOutcome(ttq, fromHex("2080"), true, true)).toBe("cdcvm"));
  it("asks for online PIN when the card wants it and the reader has a PIN pad", () =>
    expect(cvmOutcome(ttq, fromHex("8000"), true, true)).toBe("online-pin"));
  it("falls back to signature when a CVM is required and the card names none", () =>
    expect(cvmOutcome(ttq, fromHex("0000"), true, true)).toBe("signature"));
  it("fails when a CVM is required and the reader can do none", () =>
    expect(cvmOutcome(fromHex("2040C080"), fromHex("0000"), true, true)).toBeNull());
  it("needs none under the CVM limit", () =>
    expect(cvmOutcome(ttq, fromHex("0000"), true, false)).toBe("none"));
});
