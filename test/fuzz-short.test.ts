/**
 * `npm run fuzz`, shortened for CI: every target of bench/fuzz/targets.ts (applets, parsers, the POS kernel and
 * the transit reader against hostile cards) with a few thousand cases each, on a fixed seed (FUZZ_SEED to
 * change it). A failure shows the shrunk counterexample; `npm run fuzz -- --only NAME --seed N` replays it.
 */
import { describe, expect, it } from "vitest";
import { runTarget } from "../bench/fuzz/runner.js";
import { fromHex } from "../src/core/bytes.js";
import { decodeTranscript, formatDecoded } from "../src/nfc/decode.js";
import { FUZZ_TARGETS } from "../bench/fuzz/targets.js";

const RUNS = Number(process.env["FUZZ_SHORT_RUNS"] ?? 4000);
const SEED = Number(process.env["FUZZ_SEED"] ?? 20261125);

describe("fuzz targets, short run", () => {
  it("covers every applet, parser and terminal the brief names", () => {
    const names = FUZZ_TARGETS.map((t) => t.name).join("\n");
    for (const w of [
      "SE: field",
      "SE: host interface (card manager, SCP03, CRS)",
      "T-Union",
      "City Union",
      "Shenzhen Tong",
      "Lingnan Pass",
      "Wuhan Tong",
      "Beijing",
      "qPBOC applet",
      "door-card applet",
      "MIFARE Classic frame handler",
      "APDU",
      "BER-TLV",
      "DOL",
      "replay transcript",
      "replay card image",
      "door-card dumps",
      "trace files",
      "vpcd framing",
      "PC/SC ATR",
      "TSM sync messages",
      "POS kernel",
      "transit card reader",
    ])
      expect(names).toContain(w);
  });

  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${RUNS.toLocaleString("en-US")} cases, no failure`, async () => {
      const r = await runTarget(target, { numRuns: RUNS, seed: SEED });
      expect(
        r.failures,
        `${r.error ?? ""}\ncounterexample: ${r.counterexample ?? "—"} (seed ${r.seed})`,
      ).toBe(0);
      expect(r.cases).toBe(RUNS);
      expect(r.inputs).toBeGreaterThanOrEqual(RUNS);
    });
  }
});

describe("what longer fuzz runs found, kept as cases", () => {
  it("the decoder shows a zero byte read as a tag (6C 02 00 00 in an answer) instead of throwing", () => {
    // npm run fuzz, "trace files" target, seed 1163315970: tagHex(0) threw RangeError out of the decoder.
    const d = decodeTranscript([
      { command: fromHex("00B2010C00"), response: fromHex("6C0200009F5D060000000387879000") },
    ]);
    expect(formatDecoded(d, "en")).toContain("6C");
    expect(JSON.stringify(d)).toContain('"tag":"00"');
  });
});
