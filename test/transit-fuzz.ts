/**
 * The e-purse fuzz test, run per card profile by test/transit-fuzz-*.test.ts (two files, so the profiles run
 * in parallel): FUZZ_RUNS (100,000) random and mutated commands through the SE as a reader sends them
 * (src/transit/testing/fuzz.ts). Every answer carries an ISO 7816 status word, none is 6F00 (an applet that
 * threw), and the balance always equals the loads minus the purchases the card accepted.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FuzzModel, fuzzStep } from "../src/transit/testing/fuzz.js";
import { textbookCard } from "../src/transit/testing/textbook-card.js";

const RUNS = Number(process.env["FUZZ_RUNS"] ?? 100_000);

export function fuzzEpurses(productIds: readonly string[]): void {
  describe("e-purse fuzzing: no exception, a status word, balance = loads − purchases", () => {
    for (const productId of productIds) {
      it(`${productId}: ${RUNS.toLocaleString("en")} random and mutated commands`, () => {
        const card = textbookCard({ productId, overdraftLimit: productId === "tu-jingjinji" ? 500 : 0 });
        const model = new FuzzModel(card);
        let n = 0;
        fc.assert(
          fc.property(fuzzStep, (s) => {
            model.run(s);
            if (++n % 2000 === 0) expect(model.balance()).toBe(model.loads - model.purchases);
          }),
          { numRuns: RUNS, seed: 20260302 },
        );
        expect(model.balance()).toBe(model.loads - model.purchases);
        expect(model.fuzzed).toBeGreaterThanOrEqual(RUNS);
        // The genuine flows did move money both ways.
        expect(model.loads).toBeGreaterThan(0);
        expect(model.purchases).toBeGreaterThan(0);
      });
    }
  });
}
