/** Validation helpers for the JSON files the nfc layer reads (transcripts, card images). */
import { type Bytes, fromHex, isHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A hex string field as bytes, with its length checked; errors name the field (`where`). */
export function hexField(
  v: unknown,
  where: string,
  len: { min?: number; max?: number; exact?: number } = {},
): Result<Bytes> {
  if (typeof v !== "string") return err(`${where} must be a hex string`);
  if (!isHex(v)) return err(`${where} is not hex: "${v.slice(0, 24)}${v.length > 24 ? "…" : ""}"`);
  const b = fromHex(v);
  if (len.exact !== undefined && b.length !== len.exact)
    return err(`${where} must be ${len.exact} bytes, not ${b.length}`);
  if (len.min !== undefined && b.length < len.min)
    return err(`${where} must have at least ${len.min} byte${len.min === 1 ? "" : "s"}`);
  if (len.max !== undefined && b.length > len.max) return err(`${where} must be at most ${len.max} bytes`);
  return ok(b);
}

/** Parses JSON text, then validates it with `load`. */
export function parseJsonText<T>(text: string, load: (json: unknown) => Result<T>): Result<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return load(json);
}
