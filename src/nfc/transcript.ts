/**
 * The transcript format shared by the trace recorder and the replay card: what a terminal sent, what the
 * card answered, optionally the card's activation and each exchange's duration.
 *
 *   {"activation"?: {"uid": HEX, "atqa": HEX, "sak": HEX, "ats"?: HEX},
 *    "apdus": [{"command": HEX, "response": HEX with SW, "us"?: N}]}
 *
 * Loading untrusted JSON returns a `Result` whose error names the field that is wrong.
 */
import { type Bytes, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { hexField, isObject, parseJsonText } from "./json.js";
import type { Activation } from "./link.js";

export interface TranscriptEntry {
  command: Bytes;
  /** Response data and status word. */
  response: Bytes;
  /** How long the exchange took, µs, when it was recorded. */
  us?: number;
}

export interface Transcript {
  activation?: Activation;
  apdus: TranscriptEntry[];
}

export interface TranscriptJson {
  activation?: { uid: string; atqa: string; sak: string; ats?: string };
  apdus: { command: string; response: string; us?: number }[];
}

/** Validates and converts transcript JSON (already parsed). */
export function parseTranscript(json: unknown): Result<Transcript> {
  if (!isObject(json)) return err('a transcript is a JSON object with an "apdus" array');
  if (!Array.isArray(json.apdus)) return err('"apdus" must be an array');
  const apdus: TranscriptEntry[] = [];
  for (const [i, e] of json.apdus.entries()) {
    const where = `apdus[${i}]`;
    if (!isObject(e)) return err(`${where} must be an object with "command" and "response"`);
    const command = hexField(e.command, `${where}.command`, { min: 1 });
    if (!command.ok) return command;
    const response = hexField(e.response, `${where}.response`, { min: 2 });
    if (!response.ok) return err(`${response.error} (the status word)`);
    const entry: TranscriptEntry = { command: command.value, response: response.value };
    if (e.us !== undefined) {
      if (typeof e.us !== "number" || !Number.isFinite(e.us) || e.us < 0)
        return err(`${where}.us must be a non-negative number of microseconds`);
      entry.us = e.us;
    }
    apdus.push(entry);
  }
  const out: Transcript = { apdus };
  if (json.activation !== undefined) {
    const a = json.activation;
    if (!isObject(a)) return err('"activation" must be an object {uid, atqa, sak, ats?}');
    const uid = hexField(a.uid, "activation.uid");
    if (!uid.ok) return uid;
    if (![4, 7, 10].includes(uid.value.length))
      return err(`activation.uid has ${uid.value.length} bytes, not 4, 7 or 10`);
    const atqa = hexField(a.atqa, "activation.atqa", { exact: 2 });
    if (!atqa.ok) return atqa;
    const sak =
      typeof a.sak === "number"
        ? ok(Uint8Array.of(a.sak & 0xff))
        : hexField(a.sak, "activation.sak", { min: 1 });
    if (!sak.ok) return sak;
    if (
      sak.value.length !== 1 ||
      (typeof a.sak === "number" && !(Number.isInteger(a.sak) && a.sak >= 0 && a.sak <= 255))
    )
      return err("activation.sak must be one byte");
    const activation: Activation = { uid: uid.value, atqa: atqa.value, sak: sak.value[0]! };
    if (a.ats !== undefined) {
      const ats = hexField(a.ats, "activation.ats", { min: 1 });
      if (!ats.ok) return ats;
      activation.ats = ats.value;
    }
    out.activation = activation;
  }
  return ok(out);
}

/** Parses transcript JSON text. */
export const parseTranscriptText = (text: string): Result<Transcript> => parseJsonText(text, parseTranscript);

export function transcriptToJson(t: Transcript): TranscriptJson {
  const out: TranscriptJson = {
    apdus: t.apdus.map((e) => ({
      command: toHex(e.command),
      response: toHex(e.response),
      ...(e.us !== undefined ? { us: Math.round(e.us) } : {}),
    })),
  };
  if (t.activation) {
    const a = t.activation;
    out.activation = {
      uid: toHex(a.uid),
      atqa: toHex(a.atqa),
      sak: toHex(Uint8Array.of(a.sak)),
      ...(a.ats ? { ats: toHex(a.ats) } : {}),
    };
  }
  return out;
}
