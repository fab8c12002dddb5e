/**
 * Block 0, the manufacturer block (proxmark3 doc/magic_cards_notes.md "MIFARE Classic block0"; libnfc
 * utils/mifare.h): `UID(4) BCC SAK ATQA(2, LSB first) manufacturer(8)` for a 4-byte UID, or
 * `UID(7) SAK ATQA(2, LSB first) manufacturer(6)` for a 7-byte UID. Some 4-byte cards store SAK | 0x80.
 */
import type { Bytes } from "../core/bytes.js";

export interface Identity {
  /** 4 or 7 bytes. */
  uid: Bytes;
  /** ATQA, most significant byte first (0x0004 → [00, 04]). */
  atqa: Bytes;
  /** The SAK the card answers on air. */
  sak: number;
}

/** BCC: XOR of the bytes (ISO/IEC 14443-3 §6.5.3.3). */
export function bcc(bytes: Bytes): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** SAKs some cards store in block 0 with bit 0x80 set (08 → 88, 18 → 98, 09 → 89) answer without it on air. */
export function onAirSak(stored: number): number {
  return stored === 0x88 || stored === 0x98 || stored === 0x89 ? stored & 0x7f : stored;
}

/**
 * The UID length block 0 holds, by proxmark3's rule (client/src/fileutils.c): 4 when the BCC matches and the
 * stored ATQA's top bits are 00; 7 when the ATQA at offset 8 has the double-size bits 01; otherwise null.
 * When both readings fit (the manufacturer bytes of a 4-byte card can look like a double-size ATQA, and a
 * 7-byte UID can contain its own "BCC"), the one whose SAK and ATQA are those of a MIFARE Classic wins, 4 on a tie.
 */
export function uidLengthOfBlock0(b0: Bytes): 4 | 7 | null {
  const four = bcc(b0.subarray(0, 4)) === b0[4] && (b0[6]! & 0xc0) === 0;
  const seven = (b0[8]! & 0xc0) === 0x40;
  if (four && seven) return plausible(b0[5]!, b0[6]!, b0[7]!) || !plausible(b0[7]!, b0[8]!, b0[9]!) ? 4 : 7;
  return four ? 4 : seven ? 7 : null;
}

/** A stored SAK and ATQA (air order) as a MIFARE Classic has them: SAK 08/09/18 (maybe | 0x80), ATQA xx 00. */
function plausible(sak: number, atqa0: number, atqa1: number): boolean {
  return [0x08, 0x09, 0x18].includes(sak & 0x7f) && atqa1 === 0 && [0x02, 0x04].includes(atqa0 & 0x3f);
}

/** The identity stored in block 0, or null when its layout is not recognised. */
export function identityOfBlock0(b0: Bytes): Identity | null {
  const n = uidLengthOfBlock0(b0);
  if (n === 4) return { uid: b0.slice(0, 4), sak: onAirSak(b0[5]!), atqa: Uint8Array.of(b0[7]!, b0[6]!) };
  if (n === 7) return { uid: b0.slice(0, 7), sak: onAirSak(b0[7]!), atqa: Uint8Array.of(b0[9]!, b0[8]!) };
  return null;
}

/** Builds block 0 for an identity; `manufacturer` fills the rest (8 bytes for 4-byte UIDs, 6 for 7-byte). */
export function buildBlock0(id: Identity, manufacturer: Bytes = new Uint8Array(8)): Bytes {
  const b0 = new Uint8Array(16);
  b0.set(id.uid);
  let o = id.uid.length;
  if (id.uid.length === 4) b0[o++] = bcc(id.uid);
  b0[o++] = id.sak;
  b0[o++] = id.atqa[1]!;
  b0[o++] = id.atqa[0]!;
  b0.set(manufacturer.subarray(0, 16 - o), o);
  return b0;
}

/** The 4 bytes Crypto1 mixes with the nonce: the UID itself, or the last 4 bytes of a longer UID. */
export function cuidOf(uid: Bytes): number {
  const u = uid.subarray(uid.length - 4);
  return ((u[0]! << 24) | (u[1]! << 16) | (u[2]! << 8) | u[3]!) >>> 0;
}
