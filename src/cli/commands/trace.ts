/**
 * `tapwallet trace FILE [--json] [--lang zh|en]`: decodes a recorded APDU trace (transcript JSON, as the
 * trace recorder saves it) and prints the ISO 14443-A air-time lower bound of its exchanges per bit rate; or
 * a MIFARE Classic frame trace (`door open --trace-out`, src/mifare/frame-trace.ts), each frame named with
 * its start and air time at 106 kbit/s.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { TapwalletError } from "../../core/errors.js";
import { BIT_RATES, airTime } from "../../nfc/airtime.js";
import { type DecodedExchange, type Lang, decodeTranscript, formatDecoded } from "../../nfc/decode.js";
import { parseJsonText } from "../../nfc/json.js";
import { type Transcript, parseTranscript, transcriptToJson } from "../../nfc/transcript.js";
import { ok } from "../../core/result.js";
import { fileError } from "../errors.js";
import {
  FRAME_TRACE_KIND,
  decodeFrameTrace,
  formatFrameTrace,
  looksLikeFrameTrace,
  parseFrameTrace,
} from "../../mifare/frame-trace.js";

export interface TraceOptions {
  json?: boolean;
  lang?: string;
}

export interface AirTimeRow {
  bitRate: number;
  /** APDU exchanges only, µs. */
  exchangesUs: number;
  /** With REQA, anticollision, RATS/ATS (and PPS above 106 kbit/s), µs. */
  withActivationUs: number;
}

function airTimeTable(t: Transcript): AirTimeRow[] {
  const common = t.activation ? { activation: t.activation } : {};
  return BIT_RATES.map((bitRate) => ({
    bitRate,
    exchangesUs: airTime(t.apdus, { bitRate, ...common }).totalUs,
    withActivationUs: airTime(t.apdus, { bitRate, includeActivation: true, ...common }).totalUs,
  }));
}

async function readTrace(file: string): Promise<unknown> {
  const text = await fileError(
    () => readFile(file, "utf8"),
    "trace_unreadable",
    (why) => ({ zh: `无法读取跟踪文件 ${file}（${why}）`, en: `cannot read trace file ${file} (${why})` }),
  );
  const json = parseJsonText(text, ok);
  if (!json.ok) throw invalid(file, json.error);
  return json.value;
}

const invalid = (file: string, error: string) =>
  new TapwalletError(
    "trace_invalid",
    `跟踪文件 ${file} 格式不对：${error}`,
    `trace file ${file} is not a valid trace: ${error}`,
  );

/** A MIFARE Classic frame trace (`door open --trace-out`): each frame named, with its air time. */
function frameTraceOutput(json: unknown, file: string, options: TraceOptions, lang: Lang): string {
  const frames = parseFrameTrace(json);
  if (!frames.ok) throw invalid(file, frames.error);
  const decoded = decodeFrameTrace(frames.value);
  if (options.json) return `${JSON.stringify({ kind: FRAME_TRACE_KIND, ...decoded }, null, 2)}\n`;
  return `${formatFrameTrace(decoded, lang)}\n`;
}

const ms = (us: number) => (us / 1000).toFixed(2);

function airTimeText(rows: AirTimeRow[], t: Transcript, lang: Lang): string {
  const bytes = t.apdus.reduce((n, e) => n + e.command.length + e.response.length, 0);
  const head =
    lang === "zh"
      ? `空中时间下限 (ISO 14443-A，${t.apdus.length} 条 APDU，${bytes} 字节，不含卡片与终端处理时间):`
      : `Air-time lower bound (ISO 14443-A, ${t.apdus.length} APDUs, ${bytes} bytes, no card or terminal processing):`;
  const lines = rows.map(
    (r) =>
      `  ${String(r.bitRate).padStart(3)} kbit/s: ${ms(r.exchangesUs).padStart(8)} ms` +
      (lang === "zh"
        ? `，含激活 ${ms(r.withActivationUs)} ms`
        : `, with activation ${ms(r.withActivationUs)} ms`),
  );
  const recorded = t.apdus.every((e) => e.us !== undefined)
    ? [`  ${lang === "zh" ? "记录的耗时" : "recorded"}: ${ms(t.apdus.reduce((n, e) => n + e.us!, 0))} ms`]
    : [];
  return [head, ...lines, ...recorded].join("\n");
}

/** The command's output for a trace file; throws `TapwalletError` for a bad file or option. */
export async function traceCommand(file: string, options: TraceOptions = {}): Promise<string> {
  const lang = options.lang ?? "zh";
  if (lang !== "zh" && lang !== "en")
    throw new TapwalletError(
      "bad_option",
      `--lang 只能是 zh 或 en，而不是 "${lang}"`,
      `--lang must be zh or en, not "${lang}"`,
    );
  const json = await readTrace(file);
  if (looksLikeFrameTrace(json)) return frameTraceOutput(json, file, options, lang);
  const parsed = parseTranscript(json);
  if (!parsed.ok) throw invalid(file, parsed.error);
  const t = parsed.value;
  const exchanges: DecodedExchange[] = decodeTranscript(t.apdus);
  const rows = airTimeTable(t);
  const a = transcriptToJson(t).activation;
  if (options.json)
    return `${JSON.stringify({ ...(a ? { activation: a } : {}), exchanges, airTime: rows }, null, 2)}\n`;
  const act = a ? `UID ${a.uid} · ATQA ${a.atqa} · SAK ${a.sak}${a.ats ? ` · ATS ${a.ats}` : ""}\n` : "";
  return `${act}${formatDecoded(exchanges, lang)}\n\n${airTimeText(rows, t, lang)}\n`;
}

export function register(program: Command): void {
  program
    .command("trace")
    .description(
      "解码 APDU 或 MIFARE 帧跟踪文件并给出空中时间下限 / decode an APDU or MIFARE frame trace and its air-time lower bound",
    )
    .argument("<file>", "跟踪文件 (JSON) / trace file (transcript or frame trace JSON)")
    .option("--json", "输出 JSON / structured JSON output")
    .option("--lang <lang>", "语言 zh|en / language zh|en", "zh")
    .action(async (file: string, options: TraceOptions) => {
      process.stdout.write(await traceCommand(file, options));
    });
}
