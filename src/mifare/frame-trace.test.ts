import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concat, fromHex, toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import { MemoryFrameLink, formatFrame } from "../nfc/frame.js";
import { blankCard, setBlock } from "./card.js";
import { DoorReader } from "./door-reader.js";
import { EmulatedClassic } from "./emulator.js";
import { decodeFrameTrace, formatFrameTrace, frameTraceToJson, parseFrameTrace } from "./frame-trace.js";
import { doorOpenTrace } from "./testing/door-card.js";
import { frameTraceDocArb } from "./testing/frame-trace-docs.js";

const SITE_KEY = fromHex("A0A1A2A3A4A5");
const CREDENTIAL = fromHex("54415057414C4C455400000000000042");

/** A sector-mode door open under a key that is not FF…FF (sector 1's key A), its frames recorded. */
async function siteKeyTrace() {
  const card = blankCard({ type: "1k", uid: fromHex("5A17E3C0") });
  setBlock(card.memory!, 4, CREDENTIAL);
  setBlock(card.memory!, 7, concat(SITE_KEY, fromHex("FF078069FFFFFFFFFFFF")));
  const link = new MemoryFrameLink(new EmulatedClassic(card), { trace: true });
  const reader = new DoorReader(
    { mode: "sector", block: 4, keyType: "A", key: SITE_KEY, credentials: [CREDENTIAL] },
    new ManualClock(),
  );
  expect((await reader.tap(link)).granted).toBe(true);
  return link.trace;
}

const roundTrip = (json: unknown) => {
  const r = parseFrameTrace(JSON.parse(JSON.stringify(json)));
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("the MIFARE frame trace file", () => {
  it("round-trips every frame, data and parity bits, except the authentication nonces, which it hides", async () => {
    const trace = await doorOpenTrace("sector", "5A17E3C0");
    const json = frameTraceToJson(trace);
    const back = roundTrip(json);
    expect(back).toHaveLength(trace.length);
    const hidden = back.flatMap((e, i) => (e.hidden ? [i] : []));
    expect(hidden).toHaveLength(3);
    for (const [i, e] of back.entries()) {
      expect(e.from).toBe(trace[i]!.from);
      expect(e.frame.data.length).toBe(trace[i]!.frame.data.length);
      if (!e.hidden) expect(e.frame).toEqual(trace[i]!.frame);
    }
    // The air time loses at most the hidden frames' last parity bits.
    const decoded = decodeFrameTrace(back);
    expect(decoded.airTime.totalUs).toBeGreaterThan(6800);
    expect(decoded.airTime.totalUs).toBeLessThan(7000);
  });

  it("never holds or prints the key: the AUTH shows key slot A and the block, the nonces are ??", async () => {
    const trace = await siteKeyTrace();
    const file = JSON.stringify(frameTraceToJson(trace));
    const decoded = decodeFrameTrace(roundTrip(JSON.parse(file)));
    const text = [
      file,
      formatFrameTrace(decoded, "zh"),
      formatFrameTrace(decoded, "en"),
      JSON.stringify(decoded),
    ];
    const key = toHex(SITE_KEY);
    const spaced = key.replace(/(..)(?!$)/g, "$1 ");
    for (const t of text) {
      expect(t.replace(/[\s!]/g, "")).not.toContain(key);
      expect(t).not.toContain(spaced);
    }
    // Nor the nonces mfkey64 would need: none of the three frames' bytes are in the file.
    const names = decoded.frames.map((f) => f.name.en);
    const auth = names.indexOf("AUTH key A, block 4");
    expect(auth).toBeGreaterThan(0);
    expect(
      decoded.frames.slice(auth + 1, auth + 4).map((f) => [f.hex.replace(/\?\? ?/g, ""), f.hidden]),
    ).toEqual([
      ["", true],
      ["", true],
      ["", true],
    ]);
    for (const e of trace.slice(auth + 1, auth + 4)) expect(file).not.toContain(toHex(e.frame.data));
  });

  it("a file from elsewhere that holds the nonces in clear: trace still shows them as ??", async () => {
    const trace = await doorOpenTrace("sector", "5A17E3C0");
    const clear = {
      kind: "mifare-classic-frames",
      frames: trace.map(({ from, frame }) => ({ from, frame: formatFrame(frame) })),
    };
    const decoded = decodeFrameTrace(roundTrip(clear));
    const shown = JSON.stringify(decoded);
    const hidden = decoded.frames.filter((f) => f.hidden);
    expect(hidden.map((f) => f.name.en)).toEqual([
      "card nonce nT",
      "reader answer {nR}{aR}",
      "card answer {aT}",
    ]);
    for (const f of hidden) expect(shown).not.toContain(formatFrame(trace[f.index]!.frame));
    expect(formatFrameTrace(decoded, "en")).toContain("authentication nonces (nT, {nR}{aR}, {aT})");
  });

  it("names the frames of a 7-byte UID open by UID (no authentication: nothing hidden)", async () => {
    const decoded = decodeFrameTrace(
      roundTrip(frameTraceToJson(await doorOpenTrace("uid", "04A1B2C3D4E5F6"))),
    );
    expect(decoded.frames.map((f) => f.name.en)).toEqual([
      "WUPA",
      "ATQA",
      "ANTICOLLISION CL1",
      "cascade tag + UID CL1 + BCC",
      "SELECT CL1",
      "SAK",
      "ANTICOLLISION CL2",
      "UID CL2 + BCC",
      "SELECT CL2",
      "SAK",
      "HALT",
    ]);
    expect(decoded.frames.some((f) => f.hidden)).toBe(false);
    expect(decoded.frames[1]!.startUs).toBeGreaterThan(decoded.frames[0]!.startUs + decoded.frames[0]!.airUs);
  });

  it("explains a wrong file by its field", () => {
    const bad = (frames: unknown) => {
      const r = parseFrameTrace({ kind: "mifare-classic-frames", frames });
      return r.ok ? "ok" : r.error;
    };
    expect(bad([{ from: "reader", frame: "26(7)" }])).toBe("ok");
    expect(bad("x")).toBe('"frames" must be an array');
    expect(bad([{ from: "phone", frame: "00" }])).toBe('frames[0].from must be "reader" or "card"');
    expect(bad([{ from: "card", frame: "" }])).toBe("frames[0].frame is empty");
    expect(bad([{ from: "card", frame: "80(7)" }])).toBe("frames[0].frame: 80 does not fit in 7 bits");
    expect(bad([{ from: "card", frame: "?? 00" }])).toBe("frames[0].frame mixes hidden (??) and known bytes");
    expect(bad([{ from: "card", frame: "0G" }])).toContain('"0G" is not a byte');
    expect(parseFrameTrace({ kind: "other", frames: [] })).toEqual({
      ok: false,
      error: '"kind" must be "mifare-classic-frames"',
    });
  });

  it("never throws on any JSON, and what it accepts decodes and prints", () => {
    fc.assert(
      fc.property(frameTraceDocArb, (json) => {
        const r = parseFrameTrace(json);
        if (!r.ok) {
          expect(r.error.length).toBeGreaterThan(0);
          return;
        }
        const d = decodeFrameTrace(r.value);
        expect(d.frames).toHaveLength(r.value.length);
        expect(formatFrameTrace(d, "en")).toContain("Air-time lower bound");
      }),
      { numRuns: 3000 },
    );
  });
});
