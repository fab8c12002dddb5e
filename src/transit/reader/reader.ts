/**
 * The transit card reader (what Metrodroid does for Chinese cards): over any `Link`, find which system
 * answers, read its identity, balance and records, and say what they mean. Works on our emulated cards, on
 * card images and transcripts (src/nfc/replay) and on real cards through PC/SC.
 */
import { type Bytes, readUintBE } from "../../core/bytes.js";
import type { Fen } from "../../core/money.js";
import { type Result, err, ok } from "../../core/result.js";
import { SW } from "../../core/sw.js";
import type { Link } from "../../nfc/link.js";
import type { TransitSystem } from "../catalogue.js";
import {
  type TripRecord,
  decodeTransactionRecord,
  decodeTripRecord,
  isBlank,
  isLoadType,
  isoDateTime,
  transactionTypeName,
} from "../records.js";
import { type OpenFailure, READER_ORDER, openCard, readBalance } from "../terminal/access.js";
import { CardChannel } from "../terminal/channel.js";

export interface ReadTransaction {
  /** `YYYY-MM-DDTHH:MM:SS`, China time as the card stores it. */
  time: string;
  /** Fen: negative for a purchase, positive for a load. */
  amount: Fen;
  type: string;
  /** 6-byte terminal number, hex. */
  terminal: string;
  /** The record's counter (ATC) value. */
  atc: number;
}

export interface TransitCardReading {
  system: TransitSystem;
  product?: string;
  cardNumber: string;
  balance: Fen;
  validFrom: string;
  validTo: string;
  city?: { code: string; name: string };
  /** EF18, most recent first. */
  transactions: ReadTransaction[];
  /** T-Union EF1E trips, most recent first (empty for other systems). */
  trips: TripRecord[];
}

export type ReadFailure = OpenFailure | { reason: "no_balance"; system: TransitSystem; detail: string };

const MAX_LOG_RECORDS = 10;
const MAX_TRIP_RECORDS = 30;

/** Reads a transit card that is already in the field (the caller switched the field on). */
export async function readTransitCard(
  link: Link,
  systems: readonly TransitSystem[] = READER_ORDER,
): Promise<Result<TransitCardReading, ReadFailure>> {
  const ch = new CardChannel(link);
  const opened = await openCard(ch, systems);
  if (!opened.ok) return opened;
  const { access, identity, files } = opened.value;
  const balance = await readBalance(ch, access);
  if (!balance.ok) return err({ reason: "no_balance", system: access.system, detail: balance.error });
  let net = balance.value;
  // Beijing keeps the overdraft used in MF EF05 bytes 5..8 (Huami PayCityBeijin).
  const ef05 = access.system === "beijing" ? files.get(0x05) : undefined;
  if (ef05 && ef05.length >= 9) net -= readUintBE(ef05, 5, 4);

  const transactions: ReadTransaction[] = [];
  for (const rec of await readRecords(ch, 0x18, MAX_LOG_RECORDS)) {
    if (isBlank(rec)) continue;
    const t = decodeTransactionRecord(rec);
    if (!t.ok) continue;
    const time = isoDateTime(rec.subarray(16, 20), rec.subarray(20, 23));
    if (!time) continue;
    const amount = t.value.amount === 0 ? 0 : isLoadType(t.value.type) ? t.value.amount : -t.value.amount;
    transactions.push({
      time,
      amount,
      type: transactionTypeName(t.value.type),
      terminal: t.value.terminal,
      atc: t.value.atc,
    });
  }
  const trips: TripRecord[] = [];
  if (access.tripSfi !== undefined)
    for (const rec of await readRecords(ch, access.tripSfi, MAX_TRIP_RECORDS)) {
      if (isBlank(rec)) continue;
      const t = decodeTripRecord(rec);
      if (t.ok) trips.push(t.value);
    }
  return ok({
    system: access.system,
    ...(identity.productId ? { product: identity.productId } : {}),
    cardNumber: identity.cardNumber,
    balance: net,
    validFrom: identity.validFrom,
    validTo: identity.validTo,
    ...(identity.city ? { city: identity.city } : {}),
    transactions,
    trips,
  });
}

/** READ RECORD 1, 2, … of an SFI until the card says there is no more (6A83) or errs. */
async function readRecords(ch: CardChannel, sfi: number, max: number): Promise<Bytes[]> {
  const out: Bytes[] = [];
  for (let n = 1; n <= max; n++) {
    const r = await ch.readRecord(sfi, n);
    if (r.sw !== SW.OK) break;
    out.push(r.data);
  }
  return out;
}

/** The documented `--json` shape, keys in order, nothing else. */
export function readingJson(r: TransitCardReading): Record<string, unknown> {
  return {
    system: r.system,
    ...(r.product !== undefined ? { product: r.product } : {}),
    cardNumber: r.cardNumber,
    balance: r.balance,
    validFrom: r.validFrom,
    validTo: r.validTo,
    ...(r.city ? { city: { code: r.city.code, name: r.city.name } } : {}),
    transactions: r.transactions.map((t) => ({
      time: t.time,
      amount: t.amount,
      type: t.type,
      terminal: t.terminal,
    })),
  };
}
