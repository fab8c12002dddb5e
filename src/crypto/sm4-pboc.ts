/**
 * Our SM4 forms of the PBOC key hierarchy. PBOC 3.0 / JT/T 978 allow SM4 in place of 3DES, but no public text or
 * vector was found for the exact inputs (reference transit.md §3.5, emv.md §2.6), so these are choices, made by
 * analogy with the 3DES forms and recorded in docs/DECISIONS.md "SM4 in PBOC". Every SM4 path in this folder
 * goes through the three functions below: to follow a different reading, change them here.
 */
import type { Bytes } from "../core/bytes.js";
import { padIso9797M2 } from "./padding.js";

/** Diversification: the 3DES form encrypts F and ~F as two 8-byte blocks; SM4 encrypts F‖~F as one block. */
export function sm4DiversificationBlock(factor8: Bytes): Bytes {
  const block = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    block[i] = factor8[i]!;
    block[8 + i] = ~factor8[i]! & 0xff;
  }
  return block;
}

/**
 * Session (process) key input: the data the 3DES form uses before its own padding (random ‖ ATC for load,
 * random ‖ ATC ‖ low half of the terminal sequence for purchase), then 80 00… to one 16-byte block.
 */
export function sm4SessionKeyInput(core: Bytes): Bytes {
  if (core.length >= 16)
    throw new RangeError(`SM4 session key input must be under 16 bytes, got ${core.length}`);
  return padIso9797M2(core, 16);
}

/** TAC key: 3DES folds DTK to one 8-byte DES key (left ⊕ right); an SM4 MAC takes the 16-byte DTK as it is. */
export function sm4TacKey(dtk16: Bytes): Bytes {
  return dtk16.slice();
}
