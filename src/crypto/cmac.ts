/**
 * CMAC (NIST SP 800-38B, RFC 4493 for AES; ISO/IEC 9797-1 MAC algorithm 5) over AES, SM4 or 3DES.
 * Subkeys: L = E_K(0), K1 = L·x, K2 = K1·x in GF(2^b), with R_128 = 0x87 and R_64 = 0x1B.
 * Returns the full block; callers truncate (GlobalPlatform SCP03 keeps 8 bytes).
 */
import type { Bytes } from "../core/bytes.js";
import { BLOCK_SIZE, cbcEncrypt, ecbEncrypt } from "./cipher.js";

export type CmacCipher = "aes" | "sm4" | "3des";

/** Doubling in GF(2^b): shift left one bit, fold the carry back with R_b (in place into `out`). */
function double(input: Bytes, out: Bytes): void {
  const n = input.length;
  const carry = input[0]! >> 7;
  for (let i = 0; i < n - 1; i++) out[i] = ((input[i]! << 1) | (input[i + 1]! >> 7)) & 0xff;
  out[n - 1] = ((input[n - 1]! << 1) & 0xff) ^ (carry * (n === 16 ? 0x87 : 0x1b));
}

/** The two subkeys K1, K2 (exported for tests against the published subkeys). */
export function cmacSubkeys(name: CmacCipher, key: Bytes): { k1: Bytes; k2: Bytes } {
  const bs = BLOCK_SIZE[name];
  const l = ecbEncrypt(name, key, new Uint8Array(bs));
  const k1 = new Uint8Array(bs);
  const k2 = new Uint8Array(bs);
  double(l, k1);
  double(k1, k2);
  l.fill(0);
  return { k1, k2 };
}

export function cmac(name: CmacCipher, key: Bytes, data: Bytes): Bytes {
  const bs = BLOCK_SIZE[name];
  const { k1, k2 } = cmacSubkeys(name, key);
  const complete = data.length > 0 && data.length % bs === 0;
  const blocks = complete ? data.length / bs : Math.floor(data.length / bs) + 1;
  const m = new Uint8Array(blocks * bs);
  m.set(data);
  if (!complete) m[data.length] = 0x80;
  const k = complete ? k1 : k2;
  const last = (blocks - 1) * bs;
  for (let i = 0; i < bs; i++) m[last + i]! ^= k[i]!;
  k1.fill(0);
  k2.fill(0);
  const c = cbcEncrypt(name, key, new Uint8Array(bs), m);
  m.fill(0);
  return c.slice(c.length - bs);
}
