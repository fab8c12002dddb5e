/**
 * The figures a benchmark hands to the harness (`run()` resolves to `Figure[]`), and the one summary table
 * `npm run bench` ends with (text, or JSON with `--json`). Each area keeps its own printout; these records are
 * what the table and docs/PERFORMANCE.md are made of.
 */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";

/** The taps of the summary, in its order ("purchase" is the plain e-purse purchase of a bus validator). */
const TAPS = [
  ["transit-gate", "transit gate"],
  ["compound-purchase", "compound purchase"],
  ["purchase", "plain purchase"],
  ["qpboc-online", "qPBOC online"],
  ["qpboc-fdda", "qPBOC fDDA"],
  ["door-open", "door open"],
] as const;
export type TapKind = (typeof TAPS)[number][0];

/** The transactions bench/pcsc.bench.ts runs through pcscd + vpcd (their keys), so a missing stack shows. */
const PCSC_KEYS = ["t-union-entry", "t-union-exit", "issuer-arpc", "fdda", "door-sector"];

/** One tap type measured end to end (terminal + card software), in process or through pcscd + vpcd. */
export interface TapFigure {
  kind: "tap";
  tap: TapKind;
  /** Pairs the in-process and PC/SC figures of the same transaction, e.g. "t-union-entry". */
  key: string;
  /** What was tapped, e.g. "metro entry gate, T-Union card". */
  label: string;
  transport: "memory" | "pcsc";
  n: number;
  p50Us: number;
  p99Us: number;
  /** APDUs (or frames, for MIFARE Classic) of one transaction. */
  exchanges?: number;
  unit?: "APDUs" | "frames";
  /** ISO 14443-A lower bound of the same exchanges; null where the bit rate does not exist for the card. */
  air106Us?: number;
  air848Us?: number | null;
}

/** Operations per second through the service beside the raw database writing the same rows. */
export interface RateFigure {
  kind: "rate";
  op: "top-up" | "authorisation" | "ledger posting";
  database: "sqlite" | "postgres";
  /** How the service was driven, e.g. "tapwallet serve over HTTP, 32 phones". */
  via: string;
  clients: number;
  n: number;
  perSecond: number;
  p50Us: number;
  p99Us: number;
  raw: { perSecond: number; p50Us: number; p99Us: number };
  /** The service's own consistency check after the run (ledger invariants). */
  invariantsOk?: boolean;
}

/** Resident memory of a `tapwallet serve` child process under load. */
export interface MemoryFigure {
  kind: "memory";
  database: "sqlite" | "postgres";
  via: string;
  clients: number;
  requests: number;
  seconds: number;
  idleRssBytes: number;
  peakRssBytes: number;
  /** How the peak was read: the kernel's high-water mark (VmHWM) and the largest sample. */
  sampledPeakRssBytes: number;
}

/** A figure that could not be taken here, with why (no pcscd, PostgreSQL unreachable…). */
export interface UnavailableFigure {
  kind: "unavailable";
  /** What it stands for: "pcsc", or "rate:top-up:postgres", "memory:postgres"… */
  scope: string;
  reason: string;
}

export type Figure = TapFigure | RateFigure | MemoryFigure | UnavailableFigure;

export interface BenchResult {
  bench: string;
  seconds: number;
  figures: Figure[];
  error?: string;
}

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  commit: string;
}

export function machine(): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  const c = cpus();
  return {
    date: new Date().toISOString(),
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit,
  };
}

const ms = (us: number, digits = 2) => (us / 1000).toFixed(digits);
const pct = (x: number) =>
  x < 0.1 ? `${x.toFixed(3)} %` : x < 10 ? `${x.toFixed(2)} %` : `${x.toFixed(1)} %`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const rate = (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`;
const DB_NAME = { sqlite: "SQLite", postgres: "PostgreSQL" } as const;
const OPS: RateFigure["op"][] = ["top-up", "authorisation", "ledger posting"];
const OP_PLURAL = {
  "top-up": "top-ups",
  authorisation: "authorisations",
  "ledger posting": "ledger postings",
};

export const SUMMARY_HEADER = ["figure", "n", "p50", "p99", "rate / size", "against", "ratio"];

/**
 * The summary rows: every tap type (in process, then through PC/SC, or a "not available" row), the cloud's
 * rates on each database beside the raw database, the server's peak memory. Missing figures say so.
 */
export function summaryRows(results: BenchResult[], partial = false): string[][] {
  const figures = results.flatMap((r) => r.figures);
  const unavailable = (scope: string) =>
    figures.find((f): f is UnavailableFigure => f.kind === "unavailable" && f.scope === scope);
  const rows: string[][] = [];
  const taps = figures.filter((f): f is TapFigure => f.kind === "tap");
  const pcscAbsent = unavailable("pcsc");

  for (const [tap, name] of TAPS) {
    const memory = taps.filter((f) => f.tap === tap && f.transport === "memory");
    for (const m of memory) {
      const air = m.air106Us ?? 0;
      const air848 = m.air848Us;
      const exchanges = m.exchanges === undefined ? "" : `, ${m.exchanges} ${m.unit ?? "APDUs"}`;
      rows.push([
        `${name}: ${m.label}${exchanges}, in process`,
        String(m.n),
        `${ms(m.p50Us, 3)} ms`,
        `${ms(m.p99Us, 3)} ms`,
        "",
        `air ${ms(air)} ms @106k, ${air848 == null ? "— (106k only)" : `${ms(air848)} ms @848k`}`,
        `${pct((100 * m.p50Us) / air)} @106k, ${air848 == null ? "—" : `${pct((100 * m.p50Us) / air848)} @848k`}`,
      ]);
      const stack = taps.find((f) => f.key === m.key && f.transport === "pcsc");
      if (stack)
        rows.push([
          `  … through pcscd + vpcd`,
          String(stack.n),
          `${ms(stack.p50Us, 3)} ms`,
          `${ms(stack.p99Us, 3)} ms`,
          "",
          "same air time",
          `${pct((100 * stack.p50Us) / air)} @106k, ${air848 == null ? "—" : `${pct((100 * stack.p50Us) / air848)} @848k`}`,
        ]);
      else if (PCSC_KEYS.includes(m.key))
        rows.push([
          "  … through pcscd + vpcd",
          "",
          "",
          "",
          "",
          pcscAbsent ? `not available: ${pcscAbsent.reason}` : "not measured",
          "",
        ]);
    }
    if (memory.length === 0) rows.push([`${name}`, "", "", "", "", "not measured in this run", ""]);
  }

  const rates = figures.filter((f): f is RateFigure => f.kind === "rate");
  for (const op of OPS) {
    for (const database of ["sqlite", "postgres"] as const) {
      const r = rates.find((f) => f.op === op && f.database === database);
      const label = `cloud ${OP_PLURAL[op]}, ${DB_NAME[database]}`;
      if (r) {
        rows.push([
          `${label} (${r.via}, ${r.clients} clients)`,
          String(r.n),
          `${ms(r.p50Us, 1)} ms`,
          `${ms(r.p99Us, 1)} ms`,
          rate(r.perSecond),
          `raw database, same writes: ${rate(r.raw.perSecond)}`,
          `${pct((100 * r.perSecond) / r.raw.perSecond)} of raw (1 : ${(r.raw.perSecond / r.perSecond).toFixed(1)})${r.invariantsOk === false ? ", INVARIANTS VIOLATED" : ""}`,
        ]);
      } else {
        const u =
          unavailable(`rate:${op}:${database}`) ??
          (database === "postgres" ? unavailable("postgres") : undefined);
        if (u || op !== "ledger posting")
          rows.push([
            label,
            "",
            "",
            "",
            "",
            u ? `not available: ${u.reason}` : "not measured in this run",
            "",
          ]);
      }
    }
  }

  const memories = figures.filter((f): f is MemoryFigure => f.kind === "memory");
  for (const database of ["sqlite", "postgres"] as const) {
    const m = memories.find((f) => f.database === database);
    const label = `server peak RSS, ${DB_NAME[database]}`;
    if (m)
      rows.push([
        `${label} (${m.via}, ${m.clients} clients, ${m.seconds.toFixed(0)} s)`,
        String(m.requests),
        "",
        "",
        mb(m.peakRssBytes),
        `idle after start: ${mb(m.idleRssBytes)}`,
        `× ${(m.peakRssBytes / m.idleRssBytes).toFixed(2)}`,
      ]);
    else {
      const u =
        unavailable(`memory:${database}`) ?? (database === "postgres" ? unavailable("postgres") : undefined);
      rows.push([label, "", "", "", "", u ? `not available: ${u.reason}` : "not measured in this run", ""]);
    }
  }
  // A run of a few areas shows only what they measured.
  if (partial) rows.splice(0, rows.length, ...rows.filter((r) => r[5] !== "not measured in this run"));
  for (const r of results)
    if (r.error)
      rows.push([`bench ${r.bench} FAILED`, "", "", "", "", r.error.split("\n")[0]!.slice(0, 120), ""]);
  return rows;
}

/** Aligned text of a table (the same layout as bench/stats.ts `table`, returned rather than printed). */
export function renderTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const lines = cells.map((r) =>
    r
      .map((c, i) => c.padEnd(w[i]!))
      .join("  ")
      .trimEnd(),
  );
  lines.splice(1, 0, w.map((n) => "-".repeat(n)).join("  "));
  return lines.join("\n");
}

export function renderSummary(results: BenchResult[], m: Machine, partial = false): string {
  const rows = summaryRows(results, partial);
  const body =
    rows.length > 0
      ? renderTable(SUMMARY_HEADER, rows)
      : "(these areas have no row in the summary table: their figures are printed above)";
  return [
    `Tapwallet benchmark summary — ${m.date}`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; node ${m.node} (${m.platform}); commit ${m.commit}`,
    `benches: ${results.map((r) => `${r.bench} ${r.seconds.toFixed(0)} s${r.error ? " (failed)" : ""}`).join(", ")}`,
    "",
    body,
    "",
    "Software = terminal + card code in one process (or through pcscd + vpcd); air = ISO 14443-A lower bound of",
    "the same exchanges (docs/AIRTIME.md); ratio = software p50 ÷ air. Cloud: p50/p99 per operation; raw = the",
    "same rows with the bare driver in the same run. RSS: VmHWM of the tapwallet serve process. docs/PERFORMANCE.md.",
  ].join("\n");
}
