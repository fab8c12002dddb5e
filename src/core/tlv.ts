/**
 * BER-TLV as EMV uses it (ISO/IEC 8825-1 subset): tags of 1–3 bytes, lengths in short form or long form
 * (81–84), constructed tags parsed into children. Parsing untrusted bytes returns a `Result`.
 */
import { type Bytes, concat } from "./bytes.js";
import { type Result, err, ok } from "./result.js";

export interface Tlv {
  /** The tag as an integer: 0x9F02, 0x6F, 0xBF0C… */
  tag: number;
  /** The value bytes (for a constructed tag, the encoding of its children). */
  value: Bytes;
  /** Present for constructed tags whose value parsed as TLV. */
  children?: Tlv[];
}

export const isConstructedTag = (tag: number): boolean => (tagFirstByte(tag) & 0x20) !== 0;

function tagFirstByte(tag: number): number {
  let t = tag;
  while (t > 0xff) t >>>= 8;
  return t;
}

export function encodeTag(tag: number): Bytes {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffff) throw new RangeError(`bad tag ${tag}`);
  if (tag <= 0xff) return Uint8Array.of(tag);
  if (tag <= 0xffff) return Uint8Array.of(tag >> 8, tag & 0xff);
  return Uint8Array.of(tag >> 16, (tag >> 8) & 0xff, tag & 0xff);
}

export function encodeLength(n: number): Bytes {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`bad length ${n}`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  if (n <= 0xffff) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  if (n <= 0xffffff) return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  return Uint8Array.of(0x84, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** Encodes one primitive TLV, or a constructed one from its children. */
export function tlv(tag: number, value: Bytes | Tlv[]): Bytes {
  const v = value instanceof Uint8Array ? value : concat(...value.map(encodeTlv));
  return concat(encodeTag(tag), encodeLength(v.length), v);
}

export function encodeTlv(node: Tlv): Bytes {
  return node.children ? tlv(node.tag, node.children) : tlv(node.tag, node.value);
}

export function encodeTlvs(nodes: Tlv[]): Bytes {
  return concat(...nodes.map(encodeTlv));
}

interface Cursor {
  bytes: Bytes;
  pos: number;
}

function readTag(c: Cursor): Result<number> {
  const first = c.bytes[c.pos++];
  if (first === undefined) return err("truncated tag");
  let tag = first;
  if ((first & 0x1f) === 0x1f) {
    let n = 1;
    for (;;) {
      const b = c.bytes[c.pos++];
      if (b === undefined) return err(`truncated multi-byte tag ${tag.toString(16).toUpperCase()}`);
      tag = tag * 256 + b;
      n++;
      if ((b & 0x80) === 0) break;
      if (n >= 3) return err("tag longer than 3 bytes");
    }
  }
  return ok(tag);
}

function readLength(c: Cursor): Result<number> {
  const first = c.bytes[c.pos++];
  if (first === undefined) return err("truncated length");
  if (first < 0x80) return ok(first);
  const n = first & 0x7f;
  if (n === 0) return err("indefinite length is not allowed");
  if (n > 4) return err(`length field of ${n} bytes`);
  if (c.pos + n > c.bytes.length) return err("truncated long-form length");
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + c.bytes[c.pos++]!;
  return ok(len);
}

export interface ParseOptions {
  /** Parse children of constructed tags (default true). */
  recurse?: boolean;
  /** Skip 00 and FF padding bytes between objects, as EMV Book 3 Annex B allows (default true). */
  skipPadding?: boolean;
  /** Maximum nesting depth (default 16) — a guard against hostile input. */
  maxDepth?: number;
}

/** Parses a sequence of TLVs filling `bytes` exactly. */
export function parseTlv(bytes: Bytes, options: ParseOptions = {}): Result<Tlv[]> {
  return parseLevel(bytes, options, 0);
}

const TOO_DEEP = "TLV nested too deeply";

function parseLevel(bytes: Bytes, o: ParseOptions, depth: number): Result<Tlv[]> {
  if (depth > (o.maxDepth ?? 16)) return err(TOO_DEEP);
  const c: Cursor = { bytes, pos: 0 };
  const out: Tlv[] = [];
  const skip = o.skipPadding ?? true;
  while (c.pos < bytes.length) {
    if (skip && (bytes[c.pos] === 0x00 || bytes[c.pos] === 0xff)) {
      c.pos++;
      continue;
    }
    const start = c.pos;
    const tag = readTag(c);
    if (!tag.ok) return err(`${tag.error} at offset ${start}`);
    const len = readLength(c);
    if (!len.ok) return err(`${len.error} of tag ${tag.value.toString(16).toUpperCase()} at offset ${start}`);
    if (c.pos + len.value > bytes.length)
      return err(
        `tag ${tag.value.toString(16).toUpperCase()} at offset ${start} claims ${len.value} bytes, ${bytes.length - c.pos} remain`,
      );
    const value = bytes.slice(c.pos, c.pos + len.value);
    c.pos += len.value;
    const node: Tlv = { tag: tag.value, value };
    if (isConstructedTag(tag.value) && (o.recurse ?? true)) {
      // A constructed tag whose value is not TLV (proprietary data) stays a leaf; only the depth guard fails.
      const kids = parseLevel(value, o, depth + 1);
      if (kids.ok) node.children = kids.value;
      else if (kids.error === TOO_DEEP) return kids;
    }
    out.push(node);
  }
  return ok(out);
}

/** Depth-first search for the first node with `tag`. */
export function findTag(nodes: Tlv[], tag: number): Tlv | undefined {
  for (const n of nodes) {
    if (n.tag === tag) return n;
    if (n.children) {
      const hit = findTag(n.children, tag);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Every primitive (and constructed) node in depth-first order. */
export function* walkTlv(nodes: Tlv[], depth = 0): Generator<{ node: Tlv; depth: number }> {
  for (const n of nodes) {
    yield { node: n, depth };
    if (n.children) yield* walkTlv(n.children, depth + 1);
  }
}

/**
 * A tag as the hex of its bytes ("9F38"). Any number a parse returned is shown, 00 included (a zero byte read as
 * a tag when padding is not skipped): untrusted input must not make a decoder throw.
 */
export const tagHex = (tag: number): string => {
  const h = tag.toString(16).toUpperCase();
  return h.length % 2 ? `0${h}` : h;
};
