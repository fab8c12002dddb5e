/**
 * EMV / PBOC application cryptograms (EMV 4.x Book 2 §8.1): the ARQC/TC/AAC as a retail MAC under the session
 * key, and the ARPC by method 1 or 2 (§8.2). Which key (ICC master key or session key) and which data each
 * scheme uses is the caller's: see reference emv.md §2.3–2.4.
 */
import { type Bytes, equalConstantTime } from "../core/bytes.js";
import { ecbEncrypt } from "./cipher.js";
import { type MacPadding, retailMac } from "./mac.js";

/** Application cryptogram: ISO 9797-1 MAC algorithm 3; EMV and PBOC pad by method 2, Visa CVN 10 by method 1. */
export function arqc(sessionKey: Bytes, data: Bytes, padding: MacPadding = "m2"): Bytes {
  return retailMac(sessionKey, data, padding);
}

/** Checks a received cryptogram in constant time. */
export function arqcMatches(
  sessionKey: Bytes,
  data: Bytes,
  cryptogram: Bytes,
  padding: MacPadding = "m2",
): boolean {
  return equalConstantTime(arqc(sessionKey, data, padding), cryptogram);
}

/**
 * ARPC method 1: 3DES_K(ARQC ⊕ (ARC ‖ 00×6)), 8 bytes. K is the ICC master key for Visa CVN 10 and MasterCard
 * CVN 16/17, the session key for PBOC CVN 01 and the common-session-key schemes.
 */
export function arpcMethod1(key: Bytes, arqc8: Bytes, arc2: Bytes): Bytes {
  if (arqc8.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${arqc8.length}`);
  if (arc2.length !== 2) throw new RangeError(`ARC must be 2 bytes, got ${arc2.length}`);
  const block = arqc8.slice();
  block[0]! ^= arc2[0]!;
  block[1]! ^= arc2[1]!;
  return ecbEncrypt("3des", key, block);
}

/**
 * ARPC method 2: the leftmost 4 bytes of MAC_SK(ARQC ‖ CSU ‖ proprietary authentication data), retail MAC with
 * padding method 2. Issuer authentication data (tag 91) is then ARPC ‖ CSU ‖ proprietary data.
 */
export function arpcMethod2(
  key: Bytes,
  arqc8: Bytes,
  csu4: Bytes,
  propAuthData: Bytes = new Uint8Array(0),
): Bytes {
  if (arqc8.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${arqc8.length}`);
  if (csu4.length !== 4) throw new RangeError(`CSU must be 4 bytes, got ${csu4.length}`);
  if (propAuthData.length > 8) {
    throw new RangeError(`proprietary authentication data is at most 8 bytes, got ${propAuthData.length}`);
  }
  const data = new Uint8Array(12 + propAuthData.length);
  data.set(arqc8);
  data.set(csu4, 8);
  data.set(propAuthData, 12);
  return retailMac(key, data, "m2").slice(0, 4);
}
