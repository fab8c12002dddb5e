/**
 * The MIFARE Classic frame trace file: what `tapwallet door open --trace-out FILE` writes and `tapwallet trace`
 * reads. Each frame is written as proxmark3 prints it (`formatFrame`: hex bytes, `!` after an encrypted parity
 * bit that differs from odd parity, `26(7)` for a short frame), so the file keeps every data and parity bit:
 *
 *   {"kind": "mifare-classic-frames",
 *    "frames": [{"from": "reader", "frame": "52(7)"}, {"from": "card", "frame": "04 00"}, …]}
 *
 * The three frames of each authentication (nT, {nR}{aR}, {aT}) are written as `?? ?? ?? ??`: with them,
 * mfkey64 computes the sector key from the trace in seconds. Their lengths stay, so the decoder still names
 * them and the air time still counts them. Loading untrusted JSON returns a `Result` naming the wrong field.
 */
import { writeFile } from "node:fs/promises";
import { type Result, err, ok } from "../core/result.js";
import { type Frame, type FrameTraceEntry, isWellFormed, oddParity } from "../nfc/frame.js";
import { isObject } from "../nfc/json.js";
import { frameAirTime } from "./airtime.js";
import {
  HIDDEN_BYTE,
  type ShownFrame,
  decodeFrames,
  hideFrame,
  redactAuthenticationNonces,
} from "./frame-names.js";

export const FRAME_TRACE_KIND = "mifare-classic-frames";

export interface FrameTraceFileEntry extends FrameTraceEntry {
  /** The frame's bytes were not written (an authentication nonce): `frame` holds zeros of its length. */
  hidden?: true;
}

export interface FrameTraceJson {
  kind: typeof FRAME_TRACE_KIND;
  frames: { from: "reader" | "card"; frame: string }[];
}

/** Frames longer than this are not MIFARE Classic (the longest, a WRITE's data, is 18 bytes). */
const MAX_FRAME_BYTES = 64;

/** The trace as written to a file, with the authentication nonces hidden. */
export function frameTraceToJson(trace: readonly FrameTraceEntry[]): FrameTraceJson {
  return {
    kind: FRAME_TRACE_KIND,
    frames: redactAuthenticationNonces(decodeFrames(trace)).map(({ from, hex }) => ({ from, frame: hex })),
  };
}

/** Writes the trace (owner-only, as the APDU recorder does). */
export async function saveFrameTrace(path: string, trace: readonly FrameTraceEntry[]): Promise<void> {
  await writeFile(path, `${JSON.stringify(frameTraceToJson(trace), null, 2)}\n`, { mode: 0o600 });
}

/** True when parsed JSON is meant as a frame trace (a transcript has "apdus" instead). */
export const looksLikeFrameTrace = (json: unknown): boolean =>
  isObject(json) &&
  (json.kind === FRAME_TRACE_KIND || (json.frames !== undefined && json.apdus === undefined));

/** Reads one frame in proxmark3 form. */
function parseFrame(text: string, where: string): Result<{ frame: Frame; hidden: boolean }> {
  const short = /^([0-9A-Fa-f]{1,2})\(([1-7])\)$/.exec(text.trim());
  if (short) {
    const bits = Number(short[2]);
    const value = parseInt(short[1]!, 16);
    if (value >> bits !== 0) return err(`${where}: ${short[1]} does not fit in ${bits} bits`);
    return ok({ frame: { data: Uint8Array.of(value), bits, parity: new Uint8Array(0) }, hidden: false });
  }
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return err(`${where} is empty`);
  if (tokens.length > MAX_FRAME_BYTES) return err(`${where} has more than ${MAX_FRAME_BYTES} bytes`);
  const hidden = tokens.filter((t) => t === HIDDEN_BYTE).length;
  if (hidden === tokens.length) {
    // Unknown bytes: zeros with parity 1, so that the air time stays a lower bound (a final 1 ends soonest).
    const n = tokens.length;
    return ok({ frame: { data: new Uint8Array(n), parity: new Uint8Array(n).fill(1) }, hidden: true });
  }
  if (hidden > 0) return err(`${where} mixes hidden (??) and known bytes`);
  const data = new Uint8Array(tokens.length);
  const parity = new Uint8Array(tokens.length);
  for (const [i, t] of tokens.entries()) {
    const m = /^([0-9A-Fa-f]{2})(!?)$/.exec(t);
    if (!m)
      return err(
        `${where}: "${t.slice(0, 8)}" is not a byte (two hex digits, "!" after a flipped parity bit)`,
      );
    data[i] = parseInt(m[1]!, 16);
    parity[i] = m[2] ? oddParity(data[i]!) ^ 1 : oddParity(data[i]!);
  }
  return ok({ frame: { data, parity }, hidden: false });
}

/** Validates and converts a frame trace (already parsed JSON). */
export function parseFrameTrace(json: unknown): Result<FrameTraceFileEntry[]> {
  if (!isObject(json)) return err(`a frame trace is a JSON object with a "frames" array`);
  if (json.kind !== undefined && json.kind !== FRAME_TRACE_KIND)
    return err(`"kind" must be "${FRAME_TRACE_KIND}"`);
  if (!Array.isArray(json.frames)) return err('"frames" must be an array');
  const out: FrameTraceFileEntry[] = [];
  for (const [i, e] of json.frames.entries()) {
    const where = `frames[${i}]`;
    if (!isObject(e)) return err(`${where} must be an object with "from" and "frame"`);
    if (e.from !== "reader" && e.from !== "card") return err(`${where}.from must be "reader" or "card"`);
    if (typeof e.frame !== "string") return err(`${where}.frame must be a string such as "93 20" or "26(7)"`);
    const f = parseFrame(e.frame, `${where}.frame`);
    if (!f.ok) return f;
    if (!isWellFormed(f.value.frame)) return err(`${where}.frame is not a well-formed frame`);
    out.push({ from: e.from, frame: f.value.frame, ...(f.value.hidden ? { hidden: true as const } : {}) });
  }
  return ok(out);
}

export interface FrameTraceRow extends ShownFrame {
  /** When the frame starts on the air (µs from the first frame) and how long it lasts, at 106 kbit/s. */
  startUs: number;
  airUs: number;
}

export interface DecodedFrameTrace {
  frames: FrameTraceRow[];
  /** The air-time lower bound of the whole trace (MIFARE Classic runs at 106 kbit/s only), µs. */
  airTime: { bitRate: 106; totalUs: number; frames: number };
}

/**
 * Names every frame and gives its air time; frames hidden in the file, and authentication nonces a file from
 * elsewhere may hold, show as `??` bytes.
 */
export function decodeFrameTrace(trace: readonly FrameTraceFileEntry[]): DecodedFrameTrace {
  const air = frameAirTime(trace);
  const frames = redactAuthenticationNonces(decodeFrames(trace)).map((f, i): FrameTraceRow => ({
    ...(trace[i]!.hidden ? hideFrame(f) : f),
    startUs: air.perFrame[i]!.startUs,
    airUs: air.perFrame[i]!.airUs,
  }));
  return { frames, airTime: { bitRate: 106, totalUs: air.totalUs, frames: air.frames } };
}

/** The decoded trace as text, one line per frame, zh-CN (English beside) or English. */
export function formatFrameTrace(t: DecodedFrameTrace, lang: "zh" | "en"): string {
  const zh = lang === "zh";
  const head = zh
    ? `MIFARE Classic 帧跟踪，${t.frames.length} 帧（起始与空中时间：微秒，106 kbit/s）`
    : `MIFARE Classic frame trace, ${t.frames.length} frames (start and air time: µs, 106 kbit/s)`;
  const width = Math.max(0, ...t.frames.map((f) => f.hex.length));
  const lines = t.frames.map((f) => {
    const who = f.from === "reader" ? (zh ? "读卡器" : "reader") : zh ? "卡片  " : "card  ";
    const name = zh ? `${f.name.zh} (${f.name.en})` : f.name.en;
    const marks = [
      f.encrypted ? (zh ? "加密" : "encrypted") : "",
      f.hidden ? (zh ? "已隐藏" : "hidden") : "",
    ].filter(Boolean);
    return (
      `[${String(f.index + 1).padStart(3)}] ${f.startUs.toFixed(1).padStart(9)} ${f.airUs.toFixed(1).padStart(7)}  ` +
      `${who} ${f.hex.padEnd(width)} ${name}${marks.length ? ` · ${marks.join(" · ")}` : ""}`
    );
  });
  const total = (t.airTime.totalUs / 1000).toFixed(2);
  const foot = zh
    ? `空中时间下限 (ISO 14443-A 106 kbit/s，${t.airTime.frames} 帧): ${total} ms`
    : `Air-time lower bound (ISO 14443-A 106 kbit/s, ${t.airTime.frames} frames): ${total} ms`;
  const note = t.frames.some((f) => f.hidden)
    ? [
        zh
          ? "认证随机数（nT、{nR}{aR}、{aT}）未写入跟踪文件：由它们可算出扇区密钥"
          : "authentication nonces (nT, {nR}{aR}, {aT}) are not in the trace file: they give the sector key away",
      ]
    : [];
  return [head, ...lines, "", foot, ...note].join("\n");
}
