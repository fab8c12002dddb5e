/**
 * Crypto1, the stream cipher of MIFARE Classic, written from its published description (Garcia, de Koning
 * Gans, Muijrers, van Rossum, Verdult, Wichers Schreur, Jacobs: "Dismantling MIFARE Classic", ESORICS 2008).
 *
 * State: a 48-bit LFSR x0..x47, held here as two 24-bit numbers (`lo` = x0..x23, `hi` = x24..x47, bit i of
 * each half = x_i of that half). Each clock shifts x1..x47 down and feeds
 *   L = x0⊕x5⊕x9⊕x10⊕x12⊕x14⊕x15⊕x17⊕x19⊕x24⊕x25⊕x27⊕x29⊕x35⊕x39⊕x41⊕x42⊕x43 ⊕ input
 * into x47. The keystream bit is the filter f over x9, x11, …, x47 (two-level: fa, fb, fc).
 *
 * Bit order (as traces print it): a 32-bit word goes byte 0 (most significant) first, each byte LSB first.
 * The key is loaded x_p = bit (p mod 8) of key byte ⌊p/8⌋.
 */
import type { Bytes } from "../core/bytes.js";

// Feedback taps: x0 x5 x9 x10 x12 x14 x15 x17 x19 in the low half; x24 x25 x27 x29 x35 x39 x41 x42 x43 in the high.
const LO_TAPS = [0, 5, 9, 10, 12, 14, 15, 17, 19].reduce((m, b) => m | (1 << b), 0);
const HI_TAPS = [24, 25, 27, 29, 35, 39, 41, 42, 43].reduce((m, b) => m | (1 << (b - 24)), 0);

// The filter functions as truth tables, built from their boolean formulas; index bit i = argument i.
const bit = (v: number, i: number) => (v >> i) & 1;
const table = (n: number, f: (...a: number[]) => number) =>
  Uint8Array.from({ length: 1 << n }, (_, v) => f(...Array.from({ length: n }, (_, i) => bit(v, i))) & 1);
const FA = table(4, (a, b, c, d) => (a! | b!) ^ (a! & d!) ^ (c! & ((a! ^ b!) | d!)));
const FB = table(4, (a, b, c, d) => ((a! & b!) | c!) ^ ((a! ^ b!) & (c! | d!)));
const FC = table(
  5,
  (a, b, c, d, e) => (a! | ((b! | e!) & (d! ^ e!))) ^ ((a! ^ (b! & d!)) & ((c! ^ d!) | (b! & e!))),
);

/** The four bits x_{o}, x_{o+2}, x_{o+4}, x_{o+6} of a 24-bit half, as a nibble (first = bit 0). */
const nibble = (half: number, o: number) =>
  ((half >> o) & 1) |
  (((half >> (o + 2)) & 1) << 1) |
  (((half >> (o + 4)) & 1) << 2) |
  (((half >> (o + 6)) & 1) << 3);

function parity24(v: number): number {
  v ^= v >> 16;
  v ^= v >> 8;
  v ^= v >> 4;
  v ^= v >> 2;
  v ^= v >> 1;
  return v & 1;
}

export class Crypto1 {
  private constructor(
    private lo: number,
    private hi: number,
  ) {}

  /** A cipher state loaded with a 6-byte key. */
  static fromKey(key: Bytes): Crypto1 {
    if (key.length !== 6) throw new RangeError(`a Crypto1 key has 6 bytes, not ${key.length}`);
    const lo = key[0]! | (key[1]! << 8) | (key[2]! << 16);
    const hi = key[3]! | (key[4]! << 8) | (key[5]! << 16);
    return new Crypto1(lo, hi);
  }

  /** The filter output for the current state, without clocking: the next keystream bit. */
  peek(): number {
    const i =
      FA[nibble(this.lo, 9)]! |
      (FB[nibble(this.lo, 17)]! << 1) |
      (FB[nibble(this.hi, 1)]! << 2) |
      (FA[nibble(this.hi, 9)]! << 3) |
      (FB[nibble(this.hi, 17)]! << 4);
    return FC[i]!;
  }

  /**
   * One clock: returns the keystream bit and shifts `input` in. With `encrypted`, the input is ciphertext
   * and the keystream bit is XORed into the feedback too, so the plaintext is what enters the register.
   */
  bit(input: number, encrypted = false): number {
    const ks = this.peek();
    const fb = parity24(this.lo & LO_TAPS) ^ parity24(this.hi & HI_TAPS) ^ (input & 1) ^ (encrypted ? ks : 0);
    this.lo = (this.lo >>> 1) | ((this.hi & 1) << 23);
    this.hi = (this.hi >>> 1) | (fb << 23);
    return ks;
  }

  /** Eight clocks, `input` LSB first; returns the keystream byte (first bit in the LSB). */
  byte(input = 0, encrypted = false): number {
    let ks = 0;
    for (let i = 0; i < 8; i++) ks |= this.bit(input >> i, encrypted) << i;
    return ks;
  }

  /** 32 clocks over a big-endian word (byte 0 first); returns the keystream arranged the same way. */
  word(input = 0, encrypted = false): number {
    let ks = 0;
    for (let b = 3; b >= 0; b--) ks |= this.byte((input >>> (8 * b)) & 0xff, encrypted) << (8 * b);
    return ks >>> 0;
  }
}

/**
 * The tag nonce PRNG successor (a 16-bit LFSR x^16+x^14+x^13+x^11+1 over the 32-bit nonce, bits in
 * transmission order): aR = prngSuccessor(nT, 64), aT = prngSuccessor(nT, 96).
 */
export function prngSuccessor(x: number, n: number): number {
  let v = swapEndian(x >>> 0);
  for (let i = 0; i < n; i++)
    v = ((v >>> 1) | ((((v >>> 16) ^ (v >>> 18) ^ (v >>> 19) ^ (v >>> 21)) & 1) << 31)) >>> 0;
  return swapEndian(v);
}

function swapEndian(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
