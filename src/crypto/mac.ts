/**
 * CBC-MACs of ISO/IEC 9797-1: MAC algorithm 1 (plain CBC-MAC), MAC algorithm 3 (the "retail MAC" of ANSI
 * X9.19, which EMV and PBOC use for application cryptograms), and the PBOC e-purse MAC (JR/T 0025: single-DES
 * or SM4 CBC-MAC, padding method 2, leftmost 4 bytes).
 */
import { type Bytes, xor } from "../core/bytes.js";
import { BLOCK_SIZE, type CipherName, cbcEncrypt, ecbEncrypt } from "./cipher.js";
import { padIso9797M1, padIso9797M2 } from "./padding.js";

/** ISO/IEC 9797-1 padding method 1 (zeros, none if aligned) or 2 (80 then zeros, always). */
export type MacPadding = "m1" | "m2";

function pad(data: Bytes, blockSize: number, padding: MacPadding): Bytes {
  return padding === "m1" ? padIso9797M1(data, blockSize) : padIso9797M2(data, blockSize);
}

function lastBlock(data: Bytes, blockSize: number): Bytes {
  return data.slice(data.length - blockSize);
}

/** MAC algorithm 1: CBC-encrypt the padded data (IV zero unless given) and return the whole last block. */
export function macAlg1(name: CipherName, key: Bytes, data: Bytes, padding: MacPadding, iv?: Bytes): Bytes {
  const bs = BLOCK_SIZE[name];
  return lastBlock(cbcEncrypt(name, key, iv ?? new Uint8Array(bs), pad(data, bs, padding)), bs);
}

/**
 * MAC algorithm 3 (retail MAC) with a 16-byte key K_L‖K_R: single-DES CBC under K_L over every block, then
 * the last result is decrypted under K_R and encrypted again under K_L. The last block's three DES steps are
 * exactly one 2-key 3DES encryption, so this is a DES-CBC over all but the last block and one 3DES block.
 * 8-byte result. `iv` defaults to zero (PBOC secure messaging passes a challenge here).
 */
export function retailMac(key16: Bytes, data: Bytes, padding: MacPadding, iv?: Bytes): Bytes {
  if (key16.length !== 16) throw new RangeError(`retail MAC key must be 16 bytes, got ${key16.length}`);
  if (iv !== undefined && iv.length !== 8)
    throw new RangeError(`retail MAC IV must be 8 bytes, got ${iv.length}`);
  const p = pad(data, 8, padding);
  let chain = iv ?? new Uint8Array(8);
  if (p.length > 8) {
    const c = cbcEncrypt("des", key16.subarray(0, 8), chain, p.subarray(0, p.length - 8));
    chain = c.subarray(c.length - 8);
  }
  return ecbEncrypt("3des", key16, xor(chain, p.subarray(p.length - 8)));
}

/**
 * PBOC e-purse MAC (load/purchase MAC1/MAC2, TAC): CBC-MAC with a single-DES key (8 bytes) or an SM4 key
 * (16 bytes), padding method 2, IV zero unless given; the leftmost 4 bytes. The SM4 form is our reading of
 * PBOC 3.0 (unverified, see docs/DECISIONS.md "SM4 in PBOC").
 */
export function pbocMac(name: "des" | "sm4", key: Bytes, data: Bytes, iv?: Bytes): Bytes {
  return macAlg1(name, key, data, "m2", iv).slice(0, 4);
}
