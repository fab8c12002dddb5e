import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromHex, toHex } from "../core/bytes.js";
import { BIT_FC, FC_HZ, airTime, airTimeAllRates, atsParameters, crcA, frameSize } from "./airtime.js";
import { qpbocOnline } from "./fixtures/qpboc-online.js";

const fcUs = (cycles: number) => (cycles * 1e6) / FC_HZ;

describe("CRC_A (ISO/IEC 14443-3 §6.2.4)", () => {
  it("matches the CRCs every reader sends: HLTA 50 00 57 CD, RATS E0 50 BC A5 and E0 80 31 73", () => {
    expect(toHex(crcA(fromHex("5000")))).toBe("57CD");
    expect(toHex(crcA(fromHex("E050")))).toBe("BCA5");
    expect(toHex(crcA(fromHex("E080")))).toBe("3173");
  });
});

describe("ATS parameters", () => {
  it("reads FSCI and SFGI, with ISO defaults when absent", () => {
    expect(atsParameters(fromHex("0578807002"))).toEqual({ fsc: 256, sfgi: 0, fwi: 7 });
    expect(atsParameters(fromHex("057780F102"))).toMatchObject({ fsc: 128, sfgi: 1, fwi: 15 });
    expect(atsParameters(fromHex("01"))).toEqual({ fsc: 32, sfgi: 0, fwi: 4 });
    expect(atsParameters(fromHex("0202"))).toEqual({ fsc: 32, sfgi: 0, fwi: 4 });
    expect(frameSize(15)).toBe(4096);
  });
});

describe("air-time lower bound", () => {
  const trace = qpbocOnline();

  it("the qPBOC online trace: 3 APDUs, 75 command bytes, 228 response bytes", () => {
    expect(trace.reduce((n, e) => n + e.command.length, 0)).toBe(75);
    expect(trace.reduce((n, e) => n + e.response.length, 0)).toBe(228);
  });

  it("lands at ≈ 28 ms at 106 kbit/s, as shared/reference/emv.md §0 fact 14 and §5 give (27.9 ms)", () => {
    const r = airTime(trace, { bitRate: 106 });
    // Floor: every frame byte is 9 bits of 128/fc — 303 APDU bytes + 6 × (PCB + CRC_A) = 321 bytes.
    const floor = fcUs(321 * 9 * 128);
    // Ceiling: add per frame its start/end bits (3) and the longest n = 9 FDT (1236/fc).
    const ceiling = floor + 6 * fcUs(3 * 128 + 1236);
    expect(r.totalUs).toBeGreaterThan(floor);
    expect(r.totalUs).toBeLessThan(ceiling);
    expect(Math.abs(r.totalUs - 27_900) / 27_900).toBeLessThan(0.02);
    expect(r.breakdown.apduBytes).toBe(303);
    expect(r.breakdown.framingBytes).toBe(18);
    expect(r.breakdown.chainedBlocks).toBe(0);
    expect(r.frames).toHaveLength(6);
  });

  it("is ordered 848k < 424k < 212k < 106k, and close to the reference at each rate (14.2, 7.4, 3.9 ms)", () => {
    const [r106, r212, r424, r848] = airTimeAllRates(trace).map((r) => r.totalUs);
    expect(r848!).toBeLessThan(r424!);
    expect(r424!).toBeLessThan(r212!);
    expect(r212!).toBeLessThan(r106!);
    expect(r212! / 1000).toBeCloseTo(14.2, 0);
    expect(r424! / 1000).toBeCloseTo(7.4, 0);
    expect(r848! / 1000).toBeCloseTo(3.9, 0);
    // Frame delays do not shrink with the bit rate, so 848k is less than 8× faster than 106k.
    expect(r106! / r848!).toBeLessThan(8);
    expect(r106! / r848!).toBeGreaterThan(6);
  });

  it("counts bits per frame: start, 9 per byte, PCD end 2 bits / PICC end 1 bit", () => {
    const r = airTime(trace, { bitRate: 424 });
    const [cmd, rsp] = r.frames;
    expect(cmd!.bytes.length).toBe(20 + 3);
    expect(cmd!.bits).toBe(1 + 23 * 9 + 2);
    expect(rsp!.bits).toBe(1 + 55 * 9 + 1);
    expect(cmd!.airUs).toBeCloseTo(fcUs(cmd!.bits * BIT_FC[424]), 9);
    expect(toHex(cmd!.bytes.subarray(0, 1))).toBe("02");
    expect(toHex(r.frames[2]!.bytes.subarray(0, 1))).toBe("03"); // block number toggles
    // PCD→PICC: FDT (9·128 + 84 or 20)/fc counts from the last pause, inside the frame's last bits.
    expect(cmd!.gapUs).toBeGreaterThan(fcUs(1172 - 3 * 128));
    expect(rsp!.gapUs).toBeGreaterThan(fcUs(1172 - 2 * 128));
    expect(r.frames[r.frames.length - 1]!.gapUs).toBe(0);
    expect(r.frames[1]!.startUs).toBeCloseTo(cmd!.airUs + cmd!.gapUs, 9);
  });

  it("adds a CID byte to every block when asked", () => {
    const plain = airTime(trace, { bitRate: 106 });
    const withCid = airTime(trace, { bitRate: 106, cid: 1 });
    expect(withCid.breakdown.framingBytes).toBe(plain.breakdown.framingBytes + 6);
    expect(toHex(withCid.frames[0]!.bytes.subarray(0, 2))).toBe("0A01");
    expect(withCid.totalUs).toBeGreaterThan(plain.totalUs);
  });

  it("chains commands and responses longer than FSC/FSD, with an R(ACK) per chained block", () => {
    const r = airTime(trace, { bitRate: 106, fsc: 32, fsd: 64 });
    // SELECT PPSE 20 B fits in 32-3; GPO 41 B → 2 blocks. Responses 52/93/83 B with 61 per block → 1/2/2.
    expect(r.breakdown.chainedBlocks).toBe(1 + 1 + 1);
    const kinds = r.frames
      .filter((f) => f.apdu === 2)
      .map((f) => `${f.direction === "PCD→PICC" ? ">" : "<"}${f.kind}${f.chaining ? "+" : ""}`);
    expect(kinds).toEqual([">I-block+", "<R(ACK)", ">I-block", "<I-block+", ">R(ACK)", "<I-block"]);
    expect(r.frames.every((f) => f.bytes.length <= (f.direction === "PCD→PICC" ? 32 : 64))).toBe(true);
    expect(r.totalUs).toBeGreaterThan(airTime(trace, { bitRate: 106 }).totalUs);
    // The ATS's FSCI sets FSC when no fsc is given: FSCI 2 → 32 bytes.
    expect(airTime(trace, { bitRate: 106, ats: fromHex("0572807002") }).breakdown.chainedBlocks).toBe(1);
  });

  it("counts the activation at 106 kbit/s: REQA, cascade levels by UID length, RATS/ATS, PPS above 106k", () => {
    const kinds = (uidLength: 4 | 7 | 10, bitRate: 106 | 848) =>
      airTime([], { bitRate, includeActivation: true, uidLength }).frames.map((f) => f.kind);
    expect(kinds(4, 106)).toEqual(["REQA", "ATQA", "ANTICOLLISION", "UID", "SELECT", "SAK", "RATS", "ATS"]);
    expect(kinds(7, 106).filter((k) => k === "SELECT")).toHaveLength(2);
    expect(kinds(10, 106).filter((k) => k === "SELECT")).toHaveLength(3);
    expect(kinds(4, 848).slice(-2)).toEqual(["PPS", "PPS response"]);
    const act = airTime([], { bitRate: 848, includeActivation: true }).frames;
    expect(act.every((f) => f.bitRate === 106)).toBe(true);
    expect(act[0]!.bits).toBe(1 + 7 + 2); // REQA is a 7-bit short frame
    expect(toHex(act.find((f) => f.kind === "PPS")!.bytes.subarray(0, 3))).toBe("D0110F");
    const r = airTime(trace, { bitRate: 106, includeActivation: true });
    expect(r.breakdown.activationUs).toBeGreaterThan(2_500);
    expect(r.breakdown.activationUs).toBeLessThan(5_000); // emv.md §5: ≈ 40 bytes ≈ 4 ms at 106k
    expect(r.totalUs).toBeCloseTo(airTime(trace, { bitRate: 106 }).totalUs + r.breakdown.activationUs, 6);
  });

  it("uses the card's own UID and ATS, and waits the SFGT the ATS asks for", () => {
    const activation = {
      uid: fromHex("04A1B2C3D4E5F6"),
      atqa: fromHex("0044"),
      sak: 0x20,
      ats: fromHex("0578807102"),
    };
    const r = airTime(trace.slice(0, 1), { bitRate: 106, includeActivation: true, activation });
    expect(r.frames.filter((f) => f.kind === "SELECT")).toHaveLength(2);
    expect(toHex(r.frames[3]!.bytes)).toBe("8804A1B2" + "9F");
    const ats = r.frames.find((f) => f.kind === "ATS")!;
    expect(ats.gapUs).toBeGreaterThanOrEqual(fcUs(256 * 16 * 2)); // SFGI 1
  });

  it("refuses impossible options", () => {
    expect(() => airTime(trace, { bitRate: 106, fsd: 100 })).toThrow(RangeError);
    expect(() => airTime(trace, { bitRate: 106, fsc: 3 })).toThrow(RangeError);
    expect(() => airTime(trace, { bitRate: 106, cid: 15 })).toThrow(RangeError);
    expect(() => airTime(trace, { bitRate: 100 as 106 })).toThrow(RangeError);
  });

  it("grows with every byte and is positive for any transcript", () => {
    const ex = fc.record({
      command: fc.uint8Array({ maxLength: 300 }),
      response: fc.uint8Array({ minLength: 2, maxLength: 600 }),
    });
    fc.assert(
      fc.property(
        fc.array(ex, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(106, 212, 424, 848),
        (tr, rate) => {
          const r = airTime(tr, { bitRate: rate as 106 });
          const longer = airTime(
            [
              ...tr.slice(0, -1),
              { ...tr[tr.length - 1]!, response: Uint8Array.of(0, ...tr[tr.length - 1]!.response) },
            ],
            { bitRate: rate as 106 },
          );
          return r.totalUs > 0 && longer.totalUs > r.totalUs && r.frames.length >= 2 * tr.length;
        },
      ),
      { numRuns: 300 },
    );
  });
});
