/**
 * Records on Chinese e-purse cards, encoded and decoded (reference transit.md §1.5, §2.1, §2.2):
 * - the 23-byte transaction record of EF18 (PBOC / CJ/T 166 / JT/T 978);
 * - the 48-byte T-Union trip record of EF1E;
 * - BCD dates and times as cards store them (China time).
 * Decoders take untrusted bytes and return `Result`s; they never throw.
 */
import { type Bytes, bcd, concat, fromHex, readBcd, readUintBE, toHex, uintBE } from "../core/bytes.js";
import { chinaDateDigits } from "../core/clock.js";
import { type Result, err, ok } from "../core/result.js";

/** `YYYYMMDD` → `YYYY-MM-DD`, or null if not a valid BCD calendar date. */
export function isoDate(bytes4: Bytes): string | null {
  const d = readBcd(bytes4);
  if (!d || d.length !== 8) return null;
  const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
  return validDate(iso) ? iso : null;
}

function validDate(iso: string): boolean {
  const t = Date.parse(`${iso}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === iso;
}

/** BCD date ‖ time (4 + 3 bytes) → `YYYY-MM-DDTHH:MM:SS`, or null. */
export function isoDateTime(date4: Bytes, time3: Bytes): string | null {
  const d = isoDate(date4);
  const t = readBcd(time3);
  if (!d || !t || t.length !== 6) return null;
  const [h, m, s] = [Number(t.slice(0, 2)), Number(t.slice(2, 4)), Number(t.slice(4, 6))];
  if (h > 23 || m > 59 || s > 59) return null;
  return `${d}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}`;
}

/** `YYYY-MM-DD` → 4 BCD bytes. */
export function bcdDate(iso: string): Bytes {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso) || !validDate(iso)) throw new RangeError(`not a date: ${iso}`);
  return bcd(iso.replace(/-/g, ""), 4);
}

/** `YYYY-MM-DDTHH:MM:SS` of an instant in China time (no zone suffix, as cards record it). */
export function chinaIso(at: Date): string {
  const { date, time } = chinaDateDigits(at);
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}`;
}

/** The BCD date (4 bytes) and time (3 bytes) of an instant, in China time. */
export function bcdNow(at: Date): { date4: Bytes; time3: Bytes } {
  const { date, time } = chinaDateDigits(at);
  return { date4: bcd(date, 4), time3: bcd(time, 3) };
}

// ── EF18: 23-byte transaction records ─────────────────────────────────────────────────────────────

export const TRANSACTION_RECORD_LENGTH = 23;

export interface TransactionRecord {
  /** The transaction's counter value (online ATC for loads, offline ATC for purchases), after the increment. */
  atc: number;
  /** Overdraft amount (透支金额) in fen, 3 bytes. */
  overdraft: number;
  amount: number;
  type: number;
  /** 6-byte terminal number, hex. */
  terminal: string;
  /** BCD date and time as stored. */
  date: string;
  time: string;
}

export function encodeTransactionRecord(r: TransactionRecord): Bytes {
  return concat(
    uintBE(r.atc, 2),
    uintBE(r.overdraft, 3),
    uintBE(r.amount, 4),
    Uint8Array.of(r.type),
    hexBytes(r.terminal, 6),
    bcd(r.date, 4),
    bcd(r.time, 3),
  );
}

export function decodeTransactionRecord(b: Bytes): Result<TransactionRecord> {
  if (b.length < TRANSACTION_RECORD_LENGTH)
    return err(`transaction record of ${b.length} bytes, expected 23`);
  return ok({
    atc: readUintBE(b, 0, 2),
    overdraft: readUintBE(b, 2, 3),
    amount: readUintBE(b, 5, 4),
    type: b[9]!,
    terminal: toHex(b.subarray(10, 16)),
    date: toHex(b.subarray(16, 20)),
    time: toHex(b.subarray(20, 23)),
  });
}

/** Loads are credits; everything else on EF18 (05, 06, 09 and issuer-specific purchase types) is a debit. */
export const isLoadType = (type: number): boolean => type === 0x01 || type === 0x02;

/** A name for the JSON `type` field. */
export function transactionTypeName(type: number): string {
  switch (type) {
    case 0x01:
    case 0x02:
      return "load";
    case 0x05:
    case 0x06:
      return "purchase";
    case 0x09:
      return "compound-purchase";
    default:
      return `type-${type.toString(16).toUpperCase().padStart(2, "0")}`;
  }
}

// ── EF1E: T-Union 48-byte trip records ────────────────────────────────────────────────────────────

export const TRIP_RECORD_LENGTH = 48;

export const TripKind = { SINGLE: 0x02, ENTRY: 0x03, EXIT: 0x04, SINGLE_06: 0x06 } as const;
export const TripMode = { OTHER: 0x00, METRO: 0x01, BUS: 0x02 } as const;

export interface TripRecord {
  /** 02 single, 03 entry (进站), 04 exit (出站), 06 single. */
  kind: number;
  /** 8-byte terminal / POS id, hex. */
  terminal: string;
  /** 00 other, 01 metro, 02 bus. */
  mode: number;
  /** 7 bytes of line and station, hex (city-specific meaning). */
  lineStation: string;
  amount: number;
  balanceAfter: number;
  /** `YYYY-MM-DDTHH:MM:SS`. */
  time: string;
  /** GB/T 13497 city code, 4 hex digits. */
  city: string;
  /** 8-byte institution (same shape as EF15[0..7]), hex. */
  institution: string;
}

export function encodeTripRecord(t: TripRecord): Bytes {
  const out = new Uint8Array(TRIP_RECORD_LENGTH);
  out[0] = t.kind;
  out.set(hexBytes(t.terminal, 8), 1);
  out[9] = t.mode;
  out.set(hexBytes(t.lineStation, 7), 10);
  out.set(uintBE(t.amount, 4), 17);
  out.set(uintBE(Math.max(0, t.balanceAfter), 4), 21);
  out.set(bcd(t.time.replace(/[-T:]/g, ""), 7), 25);
  out.set(hexBytes(t.city, 2), 32);
  out.set(hexBytes(t.institution, 8), 34);
  return out;
}

export function decodeTripRecord(b: Bytes): Result<TripRecord> {
  if (b.length < TRIP_RECORD_LENGTH) return err(`trip record of ${b.length} bytes, expected 48`);
  const time = isoDateTime(b.subarray(25, 29), b.subarray(29, 32));
  if (!time) return err("trip record has no valid BCD date and time");
  return ok({
    kind: b[0]!,
    terminal: toHex(b.subarray(1, 9)),
    mode: b[9]!,
    lineStation: toHex(b.subarray(10, 17)),
    amount: readUintBE(b, 17, 4),
    balanceAfter: readUintBE(b, 21, 4),
    time,
    city: toHex(b.subarray(32, 34)),
    institution: toHex(b.subarray(34, 42)),
  });
}

/** Hex of exactly `len` bytes (our own data: a wrong length is a programming error). */
export function hexBytes(hex: string, len: number): Bytes {
  const b = fromHex(hex);
  if (b.length !== len) throw new RangeError(`expected ${len} bytes of hex, got ${b.length}`);
  return b;
}

/** True for an all-zero (never written) record. */
export const isBlank = (b: Bytes): boolean => b.every((x) => x === 0);
