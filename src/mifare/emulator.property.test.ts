/**
 * Property tests of the emulated card's frame handler: 100,000 cases in all (30,000 sequences of up to 16
 * reader steps that reach every state, authenticated ones included, and 70,000 single arbitrary frames sent
 * in a state reached first). Whatever arrives, the card never throws, only answers well-formed frames, keeps
 * block 0 and keeps every sector's access bits decodable.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EmulatedClassic } from "./emulator.js";
import type { MifareCard } from "./card.js";
import {
  Driver,
  STATE_PREFIXES,
  cardArb,
  driveChecked,
  frameArb,
  invariants,
  stepArb,
} from "./testing/fuzz.js";

describe("the emulated card's frame handler never fails, whatever the reader sends", () => {
  it("sequences of reader steps across every state (30,000 cases)", () => {
    fc.assert(
      fc.property(
        cardArb,
        fc.array(stepArb, { minLength: 2, maxLength: 16, size: "max" }),
        fc.integer(),
        (card, steps, seed) => driveChecked(card, steps, seed),
      ),
      { numRuns: 30_000 },
    );
    // The sequences really reach the encrypted states, not only the easy ones.
    expect(Driver.authenticated).toBeGreaterThan(10_000);
    expect(Driver.reads).toBeGreaterThan(500);
    expect(Driver.acks).toBeGreaterThan(1_000);
  });

  it("one arbitrary frame in a state reached first: idle, ready, active, authenticated, writing (70,000 cases)", () => {
    // A fixed set of cards keeps the cases about frames rather than about building 4K images.
    const cards = fc.sample(cardArb, { numRuns: 24, seed: 5 });
    fc.assert(
      fc.property(
        fc.constantFrom(...cards),
        fc.nat(STATE_PREFIXES.length - 1),
        frameArb,
        (card, p, frame) => {
          const changes: MifareCard[] = [];
          const e = new EmulatedClassic(card, { nonce: () => 0x01200145, onChange: (c) => changes.push(c) });
          e.fieldOn();
          const d = new Driver(e, card);
          for (const s of STATE_PREFIXES[p]!) d.step(s);
          d.send(frame);
          for (const c of changes) invariants(card, c);
        },
      ),
      { numRuns: 70_000 },
    );
  });
});
