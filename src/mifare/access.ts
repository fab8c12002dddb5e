/**
 * Sector trailer access bits (NXP MF1S50 datasheet §8.7; proxmark3 mifare4.c mfValidateAccessConditions):
 *
 *   byte 6 = ~C2[3..0] << 4 | ~C1[3..0]
 *   byte 7 =  C1[3..0] << 4 | ~C3[3..0]
 *   byte 8 =  C3[3..0] << 4 |  C2[3..0]        (bit g = group g; group 3 is the trailer)
 *
 * A group's condition is the 3-bit number C1C2C3. In 16-block sectors (4K sectors 32–39) groups 0, 1 and 2
 * cover blocks 0–4, 5–9 and 10–14.
 *
 * When key B is readable (trailer conditions 000, 001, 010) it is data, not a key: a card authenticated with
 * it refuses every access (datasheet §8.7.1).
 */
import type { Bytes } from "../core/bytes.js";
import { firstBlockOfSector, isTrailer, sectorOfBlock } from "./geometry.js";

/** Conditions of groups 0, 1, 2 (data blocks) and 3 (trailer), each C1C2C3 in 0..7. */
export type AccessConditions = readonly [number, number, number, number];

export type KeyType = "A" | "B";

/** The factory (transport) access bytes FF 07 80: data 000, trailer 001. */
export const TRANSPORT_ACCESS = Uint8Array.of(0xff, 0x07, 0x80);

/** Decodes the three access bytes (trailer bytes 6–8); null when the inverted copies disagree. */
export function decodeAccessBits(b: Bytes): AccessConditions | null {
  if (b.length < 3) return null;
  const b6 = b[0]!;
  const b7 = b[1]!;
  const b8 = b[2]!;
  const c1 = b7 >> 4;
  const c2 = b8 & 15;
  const c3 = b8 >> 4;
  if ((~b6 & 15) !== c1 || ((~b6 >> 4) & 15) !== c2 || (~b7 & 15) !== c3) return null;
  const cond = (g: number) => (((c1 >> g) & 1) << 2) | (((c2 >> g) & 1) << 1) | ((c3 >> g) & 1);
  return [cond(0), cond(1), cond(2), cond(3)];
}

export function encodeAccessBits(conditions: AccessConditions): Bytes {
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  for (let g = 0; g < 4; g++) {
    const c = conditions[g]! & 7;
    c1 |= (c >> 2) << g;
    c2 |= ((c >> 1) & 1) << g;
    c3 |= (c & 1) << g;
  }
  return Uint8Array.of(((~c2 & 15) << 4) | (~c1 & 15), (c1 << 4) | (~c3 & 15), (c3 << 4) | c2);
}

export function accessBitsValid(b: Bytes): boolean {
  return decodeAccessBits(b) !== null;
}

/** The access group (0–3) of a block within its sector. */
export function groupOfBlock(block: number): number {
  if (isTrailer(block)) return 3;
  const offset = block - firstBlockOfSector(sectorOfBlock(block));
  return block < 128 ? offset : Math.floor(offset / 5);
}

/** Key B is readable (so unusable as a key) under trailer conditions 000, 001 and 010. */
export function keyBReadable(trailerCondition: number): boolean {
  return trailerCondition === 0b000 || trailerCondition === 0b001 || trailerCondition === 0b010;
}

export type DataOperation = "read" | "write" | "increment" | "decrement";

// Who may do what on a data block, per condition C1C2C3 (datasheet table 8). "decrement" covers decrement,
// transfer and restore. Each entry: [key A allowed, key B allowed].
type Who = readonly [boolean, boolean];
const AB: Who = [true, true];
const B_: Who = [false, true];
const NO: Who = [false, false];
const DATA_TABLE: Record<number, Record<DataOperation, Who>> = {
  0b000: { read: AB, write: AB, increment: AB, decrement: AB },
  0b010: { read: AB, write: NO, increment: NO, decrement: NO },
  0b100: { read: AB, write: B_, increment: NO, decrement: NO },
  0b110: { read: AB, write: B_, increment: B_, decrement: AB },
  0b001: { read: AB, write: NO, increment: NO, decrement: AB },
  0b011: { read: B_, write: B_, increment: NO, decrement: NO },
  0b101: { read: B_, write: NO, increment: NO, decrement: NO },
  0b111: { read: NO, write: NO, increment: NO, decrement: NO },
};

/** Whether `key` may perform `op` on a data block of `group`, given the sector's conditions. */
export function dataAllowed(
  conditions: AccessConditions,
  group: number,
  op: DataOperation,
  key: KeyType,
): boolean {
  if (key === "B" && keyBReadable(conditions[3])) return false;
  const who = DATA_TABLE[conditions[group]!]![op];
  return key === "A" ? who[0] : who[1];
}

export type TrailerField = "keyA" | "access" | "keyB";

// Trailer rights per condition (datasheet table 7): [read, write] for each field, each [key A, key B].
// Key A is never readable. Where key B is readable (000, 001, 010) only key A has rights.
const A_: Who = [true, false];
const TRAILER_TABLE: Record<number, Record<TrailerField, { read: Who; write: Who }>> = {
  0b000: { keyA: { read: NO, write: A_ }, access: { read: A_, write: NO }, keyB: { read: A_, write: A_ } },
  0b010: { keyA: { read: NO, write: NO }, access: { read: A_, write: NO }, keyB: { read: A_, write: NO } },
  0b100: { keyA: { read: NO, write: B_ }, access: { read: AB, write: NO }, keyB: { read: NO, write: B_ } },
  0b110: { keyA: { read: NO, write: NO }, access: { read: AB, write: NO }, keyB: { read: NO, write: NO } },
  0b001: { keyA: { read: NO, write: A_ }, access: { read: A_, write: A_ }, keyB: { read: A_, write: A_ } },
  0b011: { keyA: { read: NO, write: B_ }, access: { read: AB, write: B_ }, keyB: { read: NO, write: B_ } },
  0b101: { keyA: { read: NO, write: NO }, access: { read: AB, write: B_ }, keyB: { read: NO, write: NO } },
  0b111: { keyA: { read: NO, write: NO }, access: { read: AB, write: NO }, keyB: { read: NO, write: NO } },
};

export function trailerAllowed(
  conditions: AccessConditions,
  field: TrailerField,
  op: "read" | "write",
  key: KeyType,
): boolean {
  if (key === "B" && keyBReadable(conditions[3])) return false;
  const who = TRAILER_TABLE[conditions[3]]![field][op];
  return key === "A" ? who[0] : who[1];
}

const DATA_TEXT: Record<number, string> = {
  0b000: "read AB; write AB; increment AB; decrement transfer restore AB",
  0b010: "read AB",
  0b100: "read AB; write B",
  0b110: "read AB; write B; increment B; decrement transfer restore AB",
  0b001: "read AB; decrement transfer restore AB",
  0b011: "read B; write B",
  0b101: "read B",
  0b111: "none",
};
const TRAILER_TEXT: Record<number, string> = {
  0b000: "write A by A; read ACCESS by A; read/write B by A",
  0b010: "read ACCESS by A; read B by A",
  0b100: "write A by B; read ACCESS by AB; write B by B",
  0b110: "read ACCESS by AB",
  0b001: "write A by A; read/write ACCESS by A; read/write B by A",
  0b011: "write A by B; read ACCESS by AB; write ACCESS by B; write B by B",
  0b101: "read ACCESS by AB; write ACCESS by B",
  0b111: "read ACCESS by AB",
};

/** English text of a group's condition, as dump files describe it. */
export function describeCondition(group: number, condition: number): string {
  return (group === 3 ? TRAILER_TEXT : DATA_TEXT)[condition & 7]!;
}
