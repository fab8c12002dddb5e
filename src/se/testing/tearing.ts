/**
 * Tearing tests, enumerated rather than sampled: run a command with the power cut after 0, 1, 2, … physical
 * NVM writes until it completes uninterrupted, rebooting the SE from its NVM after each cut, and report the
 * state each time. A tearing-safe command leaves every cut point in exactly the state before or exactly the
 * state after it. Other teams' tearing tests use this with their own applets.
 *
 *   const report = enumerateTearing({
 *     create: () => newSeWithCard(),             // deterministic: called once per cut point
 *     prepare: (se) => tap(se, SELECT, INIT_FOR_PURCHASE),
 *     command: (se) => se.process(DEBIT),
 *   });
 *   expect(atomicityViolations(report)).toEqual([]);
 */
import type { Bytes } from "../../core/bytes.js";
import type { SecureElement } from "../secure-element.js";
import type { NvmSnapshot } from "../store.js";

export interface TearingCut {
  /** Physical writes that landed before the power failed (0: none). */
  writes: number;
  /** What the terminal got (empty: no answer, the card left). */
  response: Bytes;
  /** The NVM after the reboot. */
  state: NvmSnapshot;
  outcome: "before" | "after" | "neither";
}

export interface TearingReport {
  before: NvmSnapshot;
  after: NvmSnapshot;
  /** The answer when the power holds. */
  response: Bytes;
  /** Physical writes of the uninterrupted command. */
  writes: number;
  cuts: TearingCut[];
}

export interface TearingScenario {
  /** A new SE in the state before the command; called once per cut point, so it must be deterministic. */
  create(): SecureElement;
  /** Brings the SE up to the command under test (never cut). */
  prepare?(se: SecureElement): void;
  /** Sends the command (or commands) under test; returns the (last) answer. */
  command(se: SecureElement): Bytes;
  /** Runs after each reboot, e.g. to check the card recovers (GET TRANSACTION PROVE…). */
  afterReboot?(se: SecureElement, cut: TearingCut): void;
  /** Guard against a command that never completes (default 10 000 cut points). */
  maxCuts?: number;
}

/** Stable text of a snapshot (key order does not matter). */
function canonical(s: NvmSnapshot): string {
  return JSON.stringify(
    Object.keys(s)
      .sort()
      .map((ns) => [ns, Object.entries(s[ns]!).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]),
  );
}

export function enumerateTearing(scenario: TearingScenario): TearingReport {
  const ref = scenario.create();
  scenario.prepare?.(ref);
  const before = ref.nvm.snapshot();
  const w0 = ref.nvm.writes;
  const response = scenario.command(ref);
  const writes = ref.nvm.writes - w0;
  const after = ref.nvm.snapshot();
  const [b, a] = [canonical(before), canonical(after)];

  const cuts: TearingCut[] = [];
  const max = scenario.maxCuts ?? 10_000;
  for (let k = 0; k <= max; k++) {
    const se = scenario.create();
    scenario.prepare?.(se);
    se.nvm.cutPowerAfterWrites(k);
    const answer = scenario.command(se);
    if (se.nvm.powerCutArmed) {
      se.nvm.cancelPowerCut();
      return { before, after, response, writes, cuts };
    }
    se.reboot();
    const state = se.nvm.snapshot();
    const c = canonical(state);
    const cut: TearingCut = {
      writes: k,
      response: answer,
      state,
      outcome: c === b ? "before" : c === a ? "after" : "neither",
    };
    cuts.push(cut);
    scenario.afterReboot?.(se, cut);
  }
  throw new RangeError(`the command still wrote after ${max} cut points`);
}

/** Cut points whose state is neither the before- nor the after-state (empty for an atomic command). */
export function atomicityViolations(report: TearingReport): TearingCut[] {
  return report.cuts.filter((c) => c.outcome === "neither");
}
