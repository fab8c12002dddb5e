/**
 * The metro compound (复合) record a gate keeps on the card between entry and exit, and the T-Union trip
 * record it adds. Record framing per system (reference transit.md §2.1, §2.2):
 * - CJ/T 166 EF17, 48 B: identifier 02 (metro) ‖ length 2E ‖ 46 data bytes — 80DC P1 = 02, P2 = B8;
 * - JT/T 978 EF1A, 128 B: 27 ‖ record number 01 ‖ length 7D ‖ 125 data bytes — 80DC P1 = 01, P2 = D4.
 * The field meanings inside are not published; ours (docs/TRANSIT.md "Metro compound record"):
 *   status 1 (01 entered, 02 exited) ‖ city 2 ‖ entry station 2 ‖ entry terminal 6 ‖ entry time 7 (BCD) ‖
 *   exit station 2 ‖ exit time 7 (BCD) ‖ fare 4
 */
import { type Bytes, bcd, concat, readUintBE, toHex, uintBE } from "../../core/bytes.js";
import { hexBytes, isoDateTime } from "../records.js";
import type { SystemAccess } from "./access.js";

/** The record identifier (CJ/T 166) or record number (JT/T 978) of the metro record. */
const METRO_RECORD_ID = { identifier: 0x02, number: 0x01 } as const;

export interface MetroState {
  status: "entered" | "exited";
  /** City code of the operator (4 hex digits). */
  city: string;
  entryStation: string;
  entryTerminal: string;
  /** `YYYY-MM-DDTHH:MM:SS`. */
  entryTime: string;
  exitStation?: string;
  exitTime?: string;
  fare?: number;
}

const DATA_LENGTH = 31;
const bcdTime = (iso: string): Bytes => bcd(iso.replace(/[-T:]/g, ""), 7);

function dataOf(s: MetroState): Bytes {
  return concat(
    Uint8Array.of(s.status === "entered" ? 0x01 : 0x02),
    hexBytes(s.city, 2),
    hexBytes(s.entryStation, 2),
    hexBytes(s.entryTerminal, 6),
    bcdTime(s.entryTime),
    s.exitStation ? hexBytes(s.exitStation, 2) : new Uint8Array(2),
    s.exitTime ? bcdTime(s.exitTime) : new Uint8Array(7),
    uintBE(s.fare ?? 0, 4),
  );
}

/** The 80DC P1/P2 and record bytes of the metro record for a system's compound file. */
export function metroRecordUpdate(
  compound: NonNullable<SystemAccess["compound"]>,
  s: MetroState,
): { p1: number; p2: number; data: Bytes } {
  const out = new Uint8Array(compound.recordLength);
  if (compound.addressing === "identifier") {
    out.set([METRO_RECORD_ID.identifier, compound.recordLength - 2]);
    out.set(dataOf(s), 2);
    return { p1: METRO_RECORD_ID.identifier, p2: compound.sfi << 3, data: out };
  }
  out.set([0x27, METRO_RECORD_ID.number, compound.recordLength - 3]);
  out.set(dataOf(s), 3);
  return { p1: METRO_RECORD_ID.number, p2: (compound.sfi << 3) | 0b100, data: out };
}

/** READ RECORD parameters of the metro record. */
export function metroRecordRead(compound: NonNullable<SystemAccess["compound"]>): {
  p1: number;
  mode: number;
} {
  return compound.addressing === "identifier"
    ? { p1: METRO_RECORD_ID.identifier, mode: 0b000 }
    : { p1: METRO_RECORD_ID.number, mode: 0b100 };
}

/** The metro state in a record read from a card, or null when there is none (or it is not ours). */
export function decodeMetroRecord(
  compound: NonNullable<SystemAccess["compound"]>,
  rec: Bytes,
): MetroState | null {
  const start = compound.addressing === "identifier" ? 2 : 3;
  if (rec.length < start + DATA_LENGTH) return null;
  if (compound.addressing === "identifier" ? rec[0] !== METRO_RECORD_ID.identifier : rec[0] !== 0x27)
    return null;
  const d = rec.subarray(start, start + DATA_LENGTH);
  const status = d[0] === 0x01 ? "entered" : d[0] === 0x02 ? "exited" : null;
  const entryTime = isoDateTime(d.subarray(11, 15), d.subarray(15, 18));
  if (!status || !entryTime) return null;
  const exitTime = isoDateTime(d.subarray(20, 24), d.subarray(24, 27));
  return {
    status,
    city: toHex(d.subarray(1, 3)),
    entryStation: toHex(d.subarray(3, 5)),
    entryTerminal: toHex(d.subarray(5, 11)),
    entryTime,
    ...(status === "exited" && exitTime ? { exitStation: toHex(d.subarray(18, 20)), exitTime } : {}),
    ...(status === "exited" ? { fare: readUintBE(d, 27, 4) } : {}),
  };
}
