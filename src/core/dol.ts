/**
 * Data Object Lists (PDOL, CDOL1/2, DDOL): a list of (tag, length) that a card asks the terminal to fill
 * (EMV Book 3 §5.4).
 */
import { type Bytes, concat } from "./bytes.js";
import { type Result, err, ok } from "./result.js";
import { tagFormat } from "./tags.js";
import { encodeTag } from "./tlv.js";

export interface DolEntry {
  tag: number;
  length: number;
}

export function parseDol(bytes: Bytes): Result<DolEntry[]> {
  const out: DolEntry[] = [];
  let i = 0;
  while (i < bytes.length) {
    const start = i;
    let tag = bytes[i++]!;
    if ((tag & 0x1f) === 0x1f) {
      do {
        const b = bytes[i++];
        if (b === undefined) return err(`truncated tag in DOL at offset ${start}`);
        tag = tag * 256 + b;
        if ((b & 0x80) === 0) break;
        if (i - start >= 3) return err(`DOL tag longer than 3 bytes at offset ${start}`);
      } while (true);
    }
    const len = bytes[i++];
    if (len === undefined) return err(`DOL entry at offset ${start} has no length`);
    if (len >= 0x80) return err(`DOL length ${len} at offset ${start} is not a one-byte length`);
    out.push({ tag, length: len });
  }
  return ok(out);
}

export function encodeDol(entries: DolEntry[]): Bytes {
  return concat(...entries.map((e) => concat(encodeTag(e.tag), Uint8Array.of(e.length))));
}

export const dolDataLength = (entries: DolEntry[]): number => entries.reduce((n, e) => n + e.length, 0);

/**
 * Builds the data a DOL asks for. Values longer than asked are truncated, shorter ones padded, per the
 * tag's format: numeric (n) keeps the rightmost digits and pads on the left with zeros; compressed
 * numeric (cn) pads on the right with FF; everything else keeps the leftmost bytes and pads with zeros.
 * A tag the terminal does not know is filled with zeros.
 */
export function buildDolData(entries: DolEntry[], values: ReadonlyMap<number, Bytes>): Bytes {
  return concat(
    ...entries.map(({ tag, length }) => {
      const v = values.get(tag);
      const out = new Uint8Array(length);
      if (!v) return out;
      const fmt = tagFormat(tag);
      if (fmt === "n") {
        if (v.length >= length) out.set(v.subarray(v.length - length));
        else out.set(v, length - v.length);
      } else {
        if (fmt === "cn") out.fill(0xff);
        out.set(v.subarray(0, Math.min(length, v.length)));
      }
      return out;
    }),
  );
}

/** Splits DOL data back into values by tag (what a card does with the PDOL data of a GPO). */
export function splitDolData(entries: DolEntry[], data: Bytes): Result<Map<number, Bytes>> {
  const need = dolDataLength(entries);
  if (data.length !== need) return err(`DOL data is ${data.length} bytes, the DOL asks for ${need}`);
  const out = new Map<number, Bytes>();
  let o = 0;
  for (const e of entries) {
    out.set(e.tag, data.slice(o, o + e.length));
    o += e.length;
  }
  return ok(out);
}
