/**
 * Test support: MIFARE Classic frame-trace files as a user might hand them to `tapwallet trace`
 * (src/mifare/frame-trace.test.ts runs them in CI, bench/fuzz.ts for longer): documents of the right shape
 * whose frames are made of real and broken tokens (hidden bytes, parity marks, short frames), and any JSON.
 */
import fc from "fast-check";
import { toHex } from "../../core/bytes.js";
import { FRAME_TRACE_KIND } from "../frame-trace.js";

const token = fc.oneof(
  fc.constantFrom("??", "!", "(7)", "(4)", "26(7)", "0A(4)", "93", "20!", "", " "),
  fc.integer({ min: 0, max: 255 }).map((b) => toHex(Uint8Array.of(b))),
  fc.string({ maxLength: 4 }),
);
const frameText = fc.array(token, { maxLength: 20 }).map((t) => t.join(" "));
const entry = fc.oneof(
  fc.record({ from: fc.constantFrom("reader", "card"), frame: frameText }),
  fc.anything(),
);

export const frameTraceDocArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    kind: fc.constantFrom(FRAME_TRACE_KIND, undefined),
    frames: fc.array(entry, { maxLength: 12 }),
  }),
  fc.anything(),
);
