/**
 * `npm run fuzz`: every fuzz target (bench/fuzz/targets.ts) for far longer than CI runs them.
 *
 *   npm run fuzz                         10 minutes in all, shared equally between the targets
 *   npm run fuzz -- --minutes 60         a longer budget
 *   npm run fuzz -- --runs 200000        a fixed number of cases per target instead of a time budget
 *   npm run fuzz -- --only transit,tlv   the targets whose names contain one of these words
 *   npm run fuzz -- --seed 42            a fixed seed (each target's seed is printed, to replay a failure)
 *
 * Prints, per target, the cases generated, the inputs they carried and the failures; a failure prints its
 * shrunk counterexample and the seed/path that replays it, and the run exits 1.
 */
import { cpus } from "node:os";
import { renderTable } from "./report.js";
import { type TargetReport, runTarget } from "./fuzz/runner.js";
import { FUZZ_TARGETS } from "./fuzz/targets.js";

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[i + 1];
}

function number(name: string): number | undefined {
  const v = option(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} 需要正数 / needs a positive number, got ${v}`);
    process.exit(2);
  }
  return n;
}

const runs = number("runs");
const minutes = number("minutes") ?? (runs === undefined ? 10 : undefined);
const seed = number("seed");
const only = option("only")
  ?.split(",")
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);
const targets = FUZZ_TARGETS.filter((t) => !only || only.some((w) => t.name.toLowerCase().includes(w)));
if (targets.length === 0) {
  console.error(`没有匹配的目标 / no target matches ${only?.join(",")}`);
  process.exit(2);
}

const perTargetMs = minutes === undefined ? undefined : (minutes * 60_000) / targets.length;
console.log(
  `fuzzing ${targets.length} targets, ` +
    (perTargetMs !== undefined
      ? `${(perTargetMs / 1000).toFixed(0)} s each (${minutes} min in all)`
      : `${runs!.toLocaleString("en-US")} cases each`) +
    ` — node ${process.version}, ${cpus()[0]?.model.trim() ?? "cpu"}`,
);

const reports: TargetReport[] = [];
for (const t of targets) {
  const r = await runTarget(t, {
    numRuns: runs ?? 2 ** 31 - 1,
    ...(perTargetMs !== undefined ? { timeLimitMs: perTargetMs } : {}),
    ...(seed !== undefined ? { seed } : {}),
  });
  reports.push(r);
  const rate = (r.cases / (r.ms / 1000)).toFixed(0);
  console.log(
    `${r.failures ? "FAIL" : "ok  "} ${r.name}: ${r.cases.toLocaleString("en-US")} cases, ` +
      `${r.inputs.toLocaleString("en-US")} ${r.unit} (${rate} cases/s), seed ${r.seed}`,
  );
  if (r.failures) {
    console.log(`     ${r.error}`);
    if (r.counterexample) console.log(`     shrunk counterexample: ${r.counterexample}`);
    if (r.path) console.log(`     replay: --seed ${r.seed} (fast-check path ${r.path})`);
  }
}

const total = (k: "cases" | "inputs" | "failures") => reports.reduce((n, r) => n + r[k], 0);
console.log(
  "\n" +
    renderTable(
      ["target", "cases", "inputs", "unit", "failures", "seconds"],
      [
        ...reports.map((r) => [
          r.name,
          r.cases.toLocaleString("en-US"),
          r.inputs.toLocaleString("en-US"),
          r.unit,
          String(r.failures),
          (r.ms / 1000).toFixed(1),
        ]),
        [
          "total",
          total("cases").toLocaleString("en-US"),
          total("inputs").toLocaleString("en-US"),
          "",
          String(total("failures")),
          (reports.reduce((n, r) => n + r.ms, 0) / 1000).toFixed(1),
        ],
      ],
    ),
);
if (total("failures") > 0) process.exitCode = 1;
