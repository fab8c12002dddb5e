/** ISO/IEC 9797-1 padding methods 1 and 2 (method 2 = ISO/IEC 7816-4 "80 00…", what EMV and PBOC use). */
import type { Bytes } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";

function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize <= 0) throw new RangeError(`bad block size ${blockSize}`);
}

/**
 * Method 1: zeros up to a whole number of blocks; nothing is added when the data is already aligned, and
 * empty data becomes one block of zeros. Always returns a new array.
 */
export function padIso9797M1(data: Bytes, blockSize: number): Bytes {
  checkBlockSize(blockSize);
  const n = data.length === 0 ? blockSize : Math.ceil(data.length / blockSize) * blockSize;
  const out = new Uint8Array(n);
  out.set(data);
  return out;
}

/** Method 2: one 0x80 byte, then zeros up to a whole number of blocks; always adds at least one byte. */
export function padIso9797M2(data: Bytes, blockSize: number): Bytes {
  checkBlockSize(blockSize);
  const out = new Uint8Array((Math.floor(data.length / blockSize) + 1) * blockSize);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

/**
 * Removes method-2 padding: trailing zeros, then the 0x80 before them. With `blockSize`, the data must be
 * whole blocks and the padding at most one block. Returns a view into `data`.
 */
export function unpadIso9797M2(data: Bytes, blockSize?: number): Result<Bytes> {
  if (blockSize !== undefined) {
    checkBlockSize(blockSize);
    if (data.length === 0 || data.length % blockSize !== 0) {
      return err(`padded data is ${data.length} bytes, not a whole number of ${blockSize}-byte blocks`);
    }
  }
  let i = data.length - 1;
  while (i >= 0 && data[i] === 0x00) i--;
  if (i < 0) return err("no 80 padding marker: the data is empty or all zeros");
  // The offending byte is not quoted: the data may be a decrypted secret.
  if (data[i] !== 0x80) return err("padding must be 80 followed by zeros");
  if (blockSize !== undefined && data.length - i > blockSize) {
    return err(`padding of ${data.length - i} bytes is longer than one ${blockSize}-byte block`);
  }
  return ok(data.subarray(0, i));
}
