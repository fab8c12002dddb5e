import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Frame, plainFrame, shortFrame } from "../nfc/frame.js";
import { decodeFrames } from "./frame-names.js";
import { doorOpenTrace as doorTrace } from "./testing/door-card.js";

describe("MIFARE frames in words", () => {
  it("names a UID-whitelist door open, frame by frame (4- and 7-byte UIDs)", async () => {
    const four = decodeFrames(await doorTrace("uid", "5A17E3C0")).map((f) => `${f.from}:${f.name.en}`);
    expect(four).toEqual([
      "reader:WUPA",
      "card:ATQA",
      "reader:ANTICOLLISION CL1",
      "card:UID CL1 + BCC",
      "reader:SELECT CL1",
      "card:SAK",
      "reader:HALT",
    ]);
    const seven = decodeFrames(await doorTrace("uid", "04A1B2C3D4E5F6")).map((f) => f.name.en);
    expect(seven).toContain("cascade tag + UID CL1 + BCC");
    expect(seven).toContain("SELECT CL2");
    expect(seven).toContain("UID CL2 + BCC");
  });

  it("names the three-pass authentication and marks what follows as encrypted", async () => {
    const frames = decodeFrames(await doorTrace("sector", "5A17E3C0"));
    const names = frames.map((f) => f.name.en);
    const auth = names.indexOf("AUTH key A, block 4");
    expect(auth).toBeGreaterThan(0);
    expect(names.slice(auth + 1, auth + 4)).toEqual([
      "card nonce nT",
      "reader answer {nR}{aR}",
      "card answer {aT}",
    ]);
    expect(frames[auth + 1]!.encrypted).toBe(false);
    expect(frames.slice(auth + 2).every((f) => f.encrypted)).toBe(true);
    expect(names).toContain("encrypted block data");
    // Encrypted parity shows as `!` marks, as proxmark3 prints it, somewhere after the authentication.
    expect(frames.slice(auth + 2).some((f) => f.hex.includes("!"))).toBe(true);
    for (const f of frames) expect(f.name.zh.length).toBeGreaterThan(0);
  });

  it("never throws on any trace, and names every frame", () => {
    const frame: fc.Arbitrary<Frame> = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 20 }).map((d) => plainFrame(d)),
      fc
        .tuple(fc.integer({ min: 0, max: 127 }), fc.constantFrom(4, 7))
        .map(([v, b]) => shortFrame(v & ((1 << b) - 1), b)),
    );
    const entry = fc.record({ from: fc.constantFrom("reader" as const, "card" as const), frame });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), (trace) => {
        const out = decodeFrames(trace);
        expect(out).toHaveLength(trace.length);
        for (const f of out) {
          expect(f.name.zh).not.toBe("");
          expect(f.name.en).not.toBe("");
        }
      }),
      { numRuns: 2000 },
    );
  });
});
