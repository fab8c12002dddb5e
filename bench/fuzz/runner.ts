/**
 * Runs fuzz targets with fast-check and reports, per target, the generated cases, the inputs they carried
 * (commands, frames, files…; a case is often a sequence), the failures and, for a failure, the shrunk
 * counterexample with the seed and path that replay it. Used by `npm run fuzz` (bench/fuzz.ts) and, with few
 * runs, by test/fuzz-short.test.ts in CI.
 */
import { performance } from "node:perf_hooks";
import fc from "fast-check";

/** A property ready to run and a count of the inputs it has fed its target so far. */
export interface Armed {
  // fast-check's property type is generic in the generated values; targets differ in them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  property: fc.IRawProperty<any, boolean>;
  inputs(): number;
  /** A last check over the whole run (e.g. the balance equals loads − purchases); throws if it fails. */
  finally?(): void;
}

export interface FuzzTarget {
  name: string;
  /** What one input is, for the report ("APDUs", "frames", "files"…). */
  unit: string;
  /** Builds the target's state and its property (fresh for each run). */
  arm(): Armed | Promise<Armed>;
}

export interface TargetReport {
  name: string;
  unit: string;
  cases: number;
  inputs: number;
  failures: number;
  ms: number;
  seed: number;
  /** Shrunk counterexample and how to replay it, when the target failed. */
  counterexample?: string;
  error?: string;
  path?: string;
}

export interface RunOptions {
  /** Cases per target (an upper bound when `timeLimitMs` is set). */
  numRuns: number;
  /** Wall-clock budget per target. */
  timeLimitMs?: number;
  seed?: number;
}

export async function runTarget(target: FuzzTarget, o: RunOptions): Promise<TargetReport> {
  const seed = o.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const start = performance.now();
  let armed: Armed;
  try {
    armed = await target.arm();
  } catch (e) {
    return {
      name: target.name,
      unit: target.unit,
      cases: 0,
      inputs: 0,
      failures: 1,
      ms: performance.now() - start,
      seed,
      error: `setting up the target failed: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  const details = await fc.check(armed.property, {
    numRuns: o.numRuns,
    seed,
    ...(o.timeLimitMs !== undefined ? { interruptAfterTimeLimit: o.timeLimitMs } : {}),
    markInterruptAsFailure: false,
  });
  const report: TargetReport = {
    name: target.name,
    unit: target.unit,
    cases: details.numRuns,
    inputs: armed.inputs(),
    failures: details.failed ? 1 : 0,
    ms: performance.now() - start,
    seed,
  };
  if (details.failed) {
    report.counterexample = fc.stringify(details.counterexample);
    report.path = details.counterexamplePath ?? undefined;
    report.error = details.errorInstance instanceof Error ? details.errorInstance.message : "property false";
  } else if (armed.finally) {
    try {
      armed.finally();
    } catch (e) {
      report.failures = 1;
      report.error = `after the run: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return report;
}

/** Throws with `what` unless `condition` holds (a plain check: targets run it millions of times). */
export function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(what);
}
