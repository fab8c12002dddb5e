/** Byte-string helpers. All binary data in Tapwallet is a `Uint8Array`; hex is upper-case on output. */

export type Bytes = Uint8Array;

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses hex; spaces, colons and newlines are ignored. Throws `RangeError` on anything else. */
export function fromHex(hex: string): Bytes {
  const clean = hex.replace(/[\s:]/g, "");
  if (!HEX_RE.test(clean)) throw new RangeError(`not a hex byte string: "${hex.slice(0, 40)}"`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** True when `hex` (ignoring spaces/colons) is a whole number of hex bytes. */
export function isHex(hex: string): boolean {
  return HEX_RE.test(hex.replace(/[\s:]/g, ""));
}

const HEX_DIGITS = "0123456789ABCDEF";
export function toHex(bytes: Bytes): string {
  let s = "";
  for (const b of bytes) s += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  return s;
}

export function concat(...parts: Bytes[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Constant-time comparison for MACs and cryptograms. */
export function equalConstantTime(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function xor(a: Bytes, b: Bytes): Bytes {
  if (a.length !== b.length) throw new RangeError(`xor of ${a.length} and ${b.length} bytes`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function not(a: Bytes): Bytes {
  return a.map((b) => ~b & 0xff);
}

export function startsWith(a: Bytes, prefix: Bytes): boolean {
  return a.length >= prefix.length && equal(a.subarray(0, prefix.length), prefix);
}

/** Big-endian unsigned integer of `len` bytes (len ≤ 6 keeps it exact in a JS number). */
export function uintBE(value: number, len: number): Bytes {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * len))
    throw new RangeError(`${value} does not fit in ${len} unsigned bytes`);
  const out = new Uint8Array(len);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export function readUintBE(bytes: Bytes, offset = 0, len = bytes.length - offset): number {
  if (len > 6 || offset + len > bytes.length) throw new RangeError("readUintBE out of range");
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + bytes[offset + i]!;
  return v;
}

export function readUintLE(bytes: Bytes, offset = 0, len = bytes.length - offset): number {
  if (len > 6 || offset + len > bytes.length) throw new RangeError("readUintLE out of range");
  let v = 0;
  for (let i = len - 1; i >= 0; i--) v = v * 256 + bytes[offset + i]!;
  return v;
}

/** Decimal digits packed two per byte (BCD), left-padded with zeros to `len` bytes. */
export function bcd(digits: string | number, len: number): Bytes {
  const s = String(digits);
  if (!/^\d*$/.test(s) || s.length > len * 2) throw new RangeError(`"${s}" is not ${len * 2} BCD digits`);
  return fromHex(s.padStart(len * 2, "0"));
}

/** Reads BCD as a digit string; returns null if a nibble is not 0–9. */
export function readBcd(bytes: Bytes): string | null {
  const h = toHex(bytes);
  return /^\d*$/.test(h) ? h : null;
}

/** Left-pads (or checks) to an exact length. */
export function padLeft(bytes: Bytes, len: number, fill = 0): Bytes {
  if (bytes.length > len) throw new RangeError(`${bytes.length} bytes do not fit in ${len}`);
  const out = new Uint8Array(len).fill(fill);
  out.set(bytes, len - bytes.length);
  return out;
}

export function ascii(text: string): Bytes {
  return new TextEncoder().encode(text);
}

export function readAscii(bytes: Bytes): string {
  return new TextDecoder("latin1").decode(bytes);
}
