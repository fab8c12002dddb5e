/**
 * Test support: what a POS's clearing upload may carry instead of its genuine offline approval (the issuer's
 * property test in src/emv/issuer/clearing.test.ts runs it in CI, bench/fuzz.ts for longer): any JSON value,
 * the genuine record with one field replaced, or its field 55 with one hex digit changed.
 */
import fc from "fast-check";
import { toHex } from "../../core/bytes.js";
import type { ClearingRecord } from "../clearing.js";

export function damagedClearingRecordArb(genuine: ClearingRecord): fc.Arbitrary<unknown> {
  const hex = fc.uint8Array({ maxLength: 120 }).map(toHex);
  // One field replaced (some, like the terminal id, the TC does not cover: those may still clear, once).
  const replaced = fc
    .record({
      key: fc.constantFrom(...(Object.keys(genuine) as (keyof ClearingRecord)[])),
      value: fc.oneof(fc.anything(), hex, fc.integer(), fc.string()),
    })
    .map(({ key, value }) => ({ ...genuine, [key]: value }));
  const flipped = fc.integer({ min: 0, max: genuine.field55.length - 1 }).map((i) => ({
    ...genuine,
    field55:
      genuine.field55.slice(0, i) + (genuine.field55[i] === "0" ? "1" : "0") + genuine.field55.slice(i + 1),
  }));
  return fc.oneof(fc.anything(), replaced, flipped);
}
