/**
 * Random TSM sync material for property tests and the fuzzer (bench/fuzz): operations the phone relays to its
 * SE (APDUs and registry actions, some on `aids` the SE holds) and step messages as a cloud might send them.
 */
import fc from "fast-check";
import { toHex } from "../src/core/bytes.js";
import type { Operation } from "../src/protocol/tsm-wire.js";

const hex = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map(toHex);

/** An APDU operation and a registry operation; registry actions name one of `aids` (hex) or a random AID. */
export function operationArbs(aids: readonly string[]): [fc.Arbitrary<Operation>, fc.Arbitrary<Operation>] {
  const apdu: fc.Arbitrary<Operation> = fc
    .tuple(
      hex(4, 4),
      fc.option(hex(1, 40), { nil: undefined }),
      fc.option(fc.array(hex(2, 2), { maxLength: 3 }), { nil: undefined }),
    )
    .map(([header, data, expect]) => ({
      type: "apdu" as const,
      apdu: header + (data ? toHex(Uint8Array.of(data.length / 2)) + data : ""),
      ...(expect ? { expect } : {}),
    }));
  const registry: fc.Arbitrary<Operation> = fc.record({
    type: fc.constant("registry" as const),
    action: fc.constantFrom(
      "activate" as const,
      "deactivate" as const,
      "default-payment" as const,
      "express-transit" as const,
    ),
    aid: fc.oneof(hex(5, 16), fc.constantFrom(...aids)),
  });
  return [apdu, registry];
}

/** Something shaped like a sync step (any field may be missing or of the wrong type), with `operationArbs`. */
export function syncStepArb(aids: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      session: fc.oneof(fc.string({ maxLength: 70 }), fc.constant("tss_1")),
      step: fc.oneof(fc.integer(), fc.double(), fc.constant(2)),
      done: fc.oneof(fc.boolean(), fc.anything()),
      operations: fc.oneof(
        fc.array(fc.oneof(...operationArbs(aids), fc.anything()), { maxLength: 5 }),
        fc.anything(),
      ),
      summary: fc.anything(),
    },
    { requiredKeys: [] },
  );
}
