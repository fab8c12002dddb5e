/**
 * Value blocks (NXP MF1S50 §8.6.2.1): a signed 32-bit value stored three times (plain, inverted, plain,
 * little-endian), then an address byte four times (plain, inverted, plain, inverted).
 */
import type { Bytes } from "../core/bytes.js";

export interface BlockValue {
  /** Signed 32-bit value. */
  value: number;
  /** The address byte (by convention the block's own number, but any byte). */
  address: number;
}

export function decodeValueBlock(block: Bytes): BlockValue | null {
  if (block.length !== 16) return null;
  for (let i = 0; i < 4; i++) {
    if (block[i] !== block[i + 8] || block[i] !== (~block[i + 4]! & 0xff)) return null;
  }
  const a = block[12]!;
  if (block[14] !== a || block[13] !== (~a & 0xff) || block[15] !== (~a & 0xff)) return null;
  const value = block[0]! | (block[1]! << 8) | (block[2]! << 16) | (block[3]! << 24);
  return { value, address: a };
}

export function isValueBlock(block: Bytes): boolean {
  return decodeValueBlock(block) !== null;
}

export function encodeValueBlock(value: number, address: number): Bytes {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const b = (value >>> (8 * i)) & 0xff;
    out[i] = b;
    out[i + 4] = ~b & 0xff;
    out[i + 8] = b;
  }
  const a = address & 0xff;
  out[12] = a;
  out[13] = ~a & 0xff;
  out[14] = a;
  out[15] = ~a & 0xff;
  return out;
}
