/**
 * MIFARE Classic three-pass authentication and the encrypted framing after it, both sides, at frame level
 * (protocol as in proxmark3 tools/mfc/protocol/mfc-protocol-demo.c and Garcia et al. 2008):
 *
 *  1. reader → `60|61 block CRC` (in clear, or encrypted when already authenticated: nested);
 *  2. card: state ← key; ks0 = word(cuid ⊕ nT); sends nT in clear, or {nT} = nT ⊕ ks0 when nested;
 *  3. reader: same ks0; sends {nR} (nR shifted in, encrypted) and {aR} = suc64(nT) ⊕ ks2;
 *  4. card: recovers nR (encrypted feed), checks aR; stays silent if wrong; sends {aT} = suc96(nT) ⊕ ks3.
 *
 * After that every byte is XORed with keystream, and the parity bit after a byte is the odd parity of the
 * plain byte XOR the next keystream bit, taken without clocking. 4-bit ACK/NAK are XORed with 4 bits.
 */
import type { Bytes } from "../core/bytes.js";
import { type Frame, oddParity, shortFrame } from "../nfc/frame.js";
import { Crypto1, prngSuccessor } from "./crypto1.js";

export const wordBytes = (w: number): Bytes =>
  Uint8Array.of((w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
export const bytesWord = (b: Bytes, o = 0): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Encrypts a frame of whole bytes with the running keystream, parity included. */
export function encryptFrame(c: Crypto1, plain: Bytes): Frame {
  const data = new Uint8Array(plain.length);
  const parity = new Uint8Array(plain.length);
  for (let i = 0; i < plain.length; i++) {
    data[i] = plain[i]! ^ c.byte();
    parity[i] = oddParity(plain[i]!) ^ c.peek();
  }
  return { data, parity };
}

/** Decrypts a frame of whole bytes; `parityOk` tells whether every encrypted parity bit was right. */
export function decryptFrame(c: Crypto1, frame: Frame): { data: Bytes; parityOk: boolean } {
  const data = new Uint8Array(frame.data.length);
  let parityOk = frame.parity.length === frame.data.length;
  for (let i = 0; i < frame.data.length; i++) {
    data[i] = frame.data[i]! ^ c.byte();
    if (frame.parity[i] !== (oddParity(data[i]!) ^ c.peek())) parityOk = false;
  }
  return { data, parityOk };
}

function keystreamNibble(c: Crypto1): number {
  let ks = 0;
  for (let i = 0; i < 4; i++) ks |= c.bit(0) << i;
  return ks;
}

/** A 4-bit ACK/NAK, encrypted. */
export function encryptNibble(c: Crypto1, value: number): Frame {
  return shortFrame((value ^ keystreamNibble(c)) & 15, 4);
}

export function decryptNibble(c: Crypto1, frame: Frame): number {
  return (frame.data[0]! ^ keystreamNibble(c)) & 15;
}

// ---- card side ----

/**
 * Step 2, card: loads the key and answers the AUTH command with the nonce. Nested (the card is already
 * authenticated) sends {nT} with encrypted parity; otherwise nT in clear.
 */
export function cardNonce(
  key: Bytes,
  cuid: number,
  nT: number,
  nested: boolean,
): { cipher: Crypto1; frame: Frame } {
  const c = Crypto1.fromKey(key);
  const nt = wordBytes(nT);
  const u = wordBytes(cuid);
  const data = new Uint8Array(4);
  const parity = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const ks = c.byte(u[i]! ^ nt[i]!);
    data[i] = nested ? nt[i]! ^ ks : nt[i]!;
    parity[i] = oddParity(nt[i]!) ^ (nested ? c.peek() : 0);
  }
  return { cipher: c, frame: { data, parity } };
}

/**
 * Step 4, card: checks the reader's {nR}{aR} (8 bytes, parity included) and returns {aT}, or null when the
 * reader does not hold the key (the card then stays silent).
 */
export function cardVerifyReader(c: Crypto1, nT: number, frame: Frame): Frame | null {
  if (frame.bits !== undefined || frame.data.length !== 8 || frame.parity.length !== 8) return null;
  let parityOk = true;
  for (let i = 0; i < 4; i++) {
    const e = frame.data[i]!;
    const plain = e ^ c.byte(e, true);
    if (frame.parity[i] !== (oddParity(plain) ^ c.peek())) parityOk = false;
  }
  const aR = decryptFrame(c, { data: frame.data.subarray(4), parity: frame.parity.subarray(4) });
  if (!parityOk || !aR.parityOk || bytesWord(aR.data) !== prngSuccessor(nT, 64)) return null;
  return encryptFrame(c, wordBytes(prngSuccessor(nT, 96)));
}

// ---- reader side ----

/**
 * Step 3, reader: from the card's nonce frame, loads the key and builds {nR}{aR}. Nested: the nonce arrived
 * encrypted and is recovered (its parity checked). Returns null when a nested nonce's parity is wrong (a
 * different key on the card side).
 */
export function readerAnswer(
  key: Bytes,
  cuid: number,
  nonce: Frame,
  nested: boolean,
  nR: number,
): { cipher: Crypto1; nT: number; frame: Frame } | null {
  if (nonce.bits !== undefined || nonce.data.length !== 4 || nonce.parity.length !== 4) return null;
  const c = Crypto1.fromKey(key);
  const u = wordBytes(cuid);
  const nt = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const e = nonce.data[i]!;
    if (nested) {
      nt[i] = e ^ c.byte(u[i]! ^ e, true);
      if (nonce.parity[i] !== (oddParity(nt[i]!) ^ c.peek())) return null;
    } else {
      nt[i] = e;
      c.byte(u[i]! ^ e);
    }
  }
  const nT = bytesWord(nt);
  const nr = wordBytes(nR);
  const data = new Uint8Array(8);
  const parity = new Uint8Array(8);
  for (let i = 0; i < 4; i++) {
    data[i] = nr[i]! ^ c.byte(nr[i]!);
    parity[i] = oddParity(nr[i]!) ^ c.peek();
  }
  const aR = encryptFrame(c, wordBytes(prngSuccessor(nT, 64)));
  data.set(aR.data, 4);
  parity.set(aR.parity, 4);
  return { cipher: c, nT, frame: { data, parity } };
}

/** Step 5, reader: true when the card's {aT} proves it holds the key too. */
export function readerVerifyCard(c: Crypto1, nT: number, frame: Frame | null): boolean {
  if (!frame || frame.bits !== undefined || frame.data.length !== 4) return false;
  const aT = decryptFrame(c, frame);
  return aT.parityOk && bytesWord(aT.data) === prngSuccessor(nT, 96);
}
