/**
 * `npm run bench`: runs every `bench/*.bench.ts` in name order (or those named on the command line: an exact
 * name runs that one, otherwise every bench whose name contains it), each printing its own figures, then one
 * summary table of what they returned (bench/report.ts). Benchmarks measure; they do not assert.
 *
 *   npm run bench                      every area, then the summary table
 *   npm run bench -- transit pcsc      two areas, and the summary of what they measured
 *   npm run bench -- --json            the summary as JSON on stdout (the areas' printouts go to stderr)
 *   npm run bench -- --out FILE.json   also writes the JSON to a file
 *
 * A bench that throws is reported in the table and makes the run exit 1; the others still run.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  type BenchResult,
  type Figure,
  machine,
  renderSummary,
  summaryRows,
  SUMMARY_HEADER,
} from "./report.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes("--json");
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const wanted = args.filter((a, i) => !a.startsWith("--") && (outAt < 0 || i !== outAt + 1));

const all = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""))
  .sort();
const names =
  wanted.length === 0
    ? all
    : all.filter((n) => wanted.some((w) => (all.includes(w) ? n === w : n.includes(w))));
if (names.length === 0) {
  console.error(`no benchmark matches ${wanted.join(" ")}; there are: ${all.join(", ")}`);
  process.exit(2);
}

// With --json, stdout carries only the JSON: the areas' own printouts go to stderr.
const print = console.log;
if (json) console.log = (...a: unknown[]) => console.error(...a);

const results: BenchResult[] = [];
for (const name of names) {
  console.log(`\n## ${name}`);
  const start = performance.now();
  try {
    const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as {
      run: () => Promise<Figure[] | void>;
    };
    const figures = (await mod.run()) ?? [];
    results.push({ bench: name, seconds: (performance.now() - start) / 1000, figures });
  } catch (e) {
    const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    console.error(`bench ${name} failed: ${error}`);
    results.push({ bench: name, seconds: (performance.now() - start) / 1000, figures: [], error });
  }
}

const m = machine();
const partial = names.length < all.length;
const report = { machine: m, header: SUMMARY_HEADER, rows: summaryRows(results, partial), results };
if (out) writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
if (json) print(JSON.stringify(report, null, 2));
else print(`\n${renderSummary(results, m, partial)}`);
if (results.some((r) => r.error)) process.exitCode = 1;
