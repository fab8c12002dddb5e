/**
 * Offline clearing between a POS and an issuer: the record a POS keeps for each payment the card approved
 * offline (a TC after fDDA: the kernel's "approved" outcome), the batch it uploads, and the issuer's answer
 * per record. What an acquirer's clearing file carries for a chip transaction — field 2 (here the token, never
 * a funding PAN), 23, 4, 49, 11, 41, 42 and field 55 with the TC — as JSON-ready objects; binary fields are
 * upper-case hex. The issuer host (issuer/host.ts `clear`) and the cloud's `POST /api/v1/issuer/clearing`
 * take these shapes; `parseClearingRecord` is the one parser of untrusted records: anything it cannot read
 * is a refusal with a reason, never an exception.
 */
import { type Bytes, fromHex, readBcd, readUintBE, toHex } from "../core/bytes.js";
import { chinaDateDigits } from "../core/clock.js";
import type { Fen } from "../core/money.js";
import { parseTlv } from "../core/tlv.js";

export const CLEARING_BATCH_FORMAT = "tapwallet.emv.clearing-batch/1";

export interface ClearingRecord {
  terminalId: string;
  merchantId: string;
  merchantName?: string;
  /** The POS's system trace audit number of the payment (its 9F41), 1–999999. */
  stan: number;
  /** Fen; equals 9F02 in field 55. */
  amount: Fen;
  /** ISO 4217 numeric, 4 digits, as 5F2A ("0156"). */
  currency: string;
  /** Field 2: for a phone, the token. */
  pan: string;
  panSequenceNumber: string;
  /** Field 55 as the kernel built it: 9F26 holds the TC, 9F27 = 40. */
  field55: string;
  /** When the card approved it (terminal clock, ISO 8601). */
  capturedAt: string;
}

export interface ClearingBatch {
  format: typeof CLEARING_BATCH_FORMAT;
  records: ClearingRecord[];
}

export type ClearingStatus = "cleared" | "duplicate" | "refused";

export const CLEARING_REASONS = {
  cleared: { zh: "已清算", en: "cleared" },
  "already-cleared": { zh: "该笔已清算过，未重复扣款", en: "already cleared; nothing moved again" },
  "malformed-record": { zh: "清算记录格式错误", en: "the clearing record is malformed" },
  "amount-mismatch": { zh: "金额与 55 域不符", en: "the amount differs from field 55" },
  "not-offline-approved": {
    zh: "不是脱机批准的交易（需 TC）",
    en: "not an offline approval (a TC is needed)",
  },
  "unknown-token": { zh: "令牌不存在", en: "unknown token" },
  "token-deleted": { zh: "令牌已删除", en: "the token is deleted" },
  "cryptogram-profile": { zh: "密文版本或密钥索引不符", en: "cryptogram version or key index mismatch" },
  "cryptogram-invalid": { zh: "交易证书（TC）校验失败", en: "the transaction certificate does not verify" },
  "atc-already-cleared": {
    zh: "该交易计数器已清算另一笔交易",
    en: "another transaction was cleared under this ATC",
  },
  "atc-used-online": { zh: "该交易计数器已用于联机授权", en: "this ATC was used by an online authorisation" },
  "no-account": { zh: "找不到扣款账户", en: "no funding account" },
  "key-missing": { zh: "发卡行主密钥缺失", en: "the issuer master key is missing" },
} as const satisfies Record<string, { zh: string; en: string }>;

export type ClearingReason = keyof typeof CLEARING_REASONS;

export interface ClearingResult {
  status: ClearingStatus;
  reason: ClearingReason;
  message: { zh: string; en: string };
  /** The token's last four digits and the record's ATC, when the record named them. */
  tokenLast4?: string;
  atc?: number;
  /** Of a cleared or duplicate record: the amount taken (once). */
  amount?: Fen;
  /**
   * Of a cleared record: what the funding account lacked (fen; 0 when its funds covered the payment). An
   * offline approval is honoured anyway: the account goes negative by this much.
   */
  shortfall?: Fen;
  /** The issuer's reference of the clearing (cleared and duplicate). */
  clearingId?: string;
  /** When the payment was made, from the record (`paymentTimeOf`): the date the user sees (cleared and duplicate). */
  paidAt?: string;
  /** When the issuer cleared it, ISO 8601 (cleared; a duplicate: the first clearing). */
  clearedAt?: string;
}

export function clearingResult(
  status: ClearingStatus,
  reason: ClearingReason,
  extra: Omit<ClearingResult, "status" | "reason" | "message"> = {},
): ClearingResult {
  return { status, reason, message: { ...CLEARING_REASONS[reason] }, ...extra };
}

/** A record the issuer can check: field 55 by tag, and the values it names. */
export interface ParsedClearing {
  record: ClearingRecord;
  token: string;
  atc: number;
  amount: Fen;
  cryptogram: Bytes;
  /** Cryptogram information data (9F27). */
  cid: number;
  f55: Map<number, Bytes>;
}

/** Field 55 tags a TC check needs (those of the ARQC check, and 9F27). */
const NEEDED = [
  0x9f26, 0x9f27, 0x9f10, 0x9f37, 0x9f36, 0x95, 0x9a, 0x9c, 0x9f02, 0x5f2a, 0x82, 0x9f1a, 0x9f03,
];

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;
const ID = /^[!-~]{1,32}$/;

type Parsed = { ok: true; value: ParsedClearing } | { ok: false; reason: ClearingReason; atc?: number };

/** Untrusted input: any shape or encoding problem is a refusal reason (`malformed-record`, `amount-mismatch`). */
export function parseClearingRecord(v: unknown): Parsed {
  const malformed: Parsed = { ok: false, reason: "malformed-record" };
  if (typeof v !== "object" || v === null || Array.isArray(v)) return malformed;
  const r = v as Record<string, unknown>;
  const text = (k: string, re: RegExp) => typeof r[k] === "string" && re.test(r[k]);
  if (!text("terminalId", ID) || !text("merchantId", ID) || !text("pan", /^\d{12,19}$/)) return malformed;
  if (!text("currency", /^\d{4}$/) || !text("panSequenceNumber", /^\d{2}$/)) return malformed;
  if (
    r["merchantName"] !== undefined &&
    !(typeof r["merchantName"] === "string" && r["merchantName"].length <= 64)
  )
    return malformed;
  const stan = r["stan"];
  const amount = r["amount"];
  if (!Number.isSafeInteger(stan) || (stan as number) < 1 || (stan as number) > 999_999) return malformed;
  if (!Number.isSafeInteger(amount) || (amount as number) <= 0) return malformed;
  const captured = r["capturedAt"];
  if (typeof captured !== "string" || captured.length > 40 || Number.isNaN(Date.parse(captured)))
    return malformed;
  const field55 = r["field55"];
  if (typeof field55 !== "string" || field55.length > 1024 || !HEX.test(field55)) return malformed;
  const tlvs = parseTlv(fromHex(field55), { recurse: false });
  if (!tlvs.ok) return malformed;
  const f55 = new Map<number, Bytes>();
  for (const t of tlvs.value) {
    if (f55.has(t.tag)) return malformed;
    f55.set(t.tag, t.value);
  }
  if (NEEDED.some((tag) => !f55.has(tag))) return malformed;
  const atcBytes = f55.get(0x9f36)!;
  const cid = f55.get(0x9f27)!;
  if (atcBytes.length !== 2 || f55.get(0x9f26)!.length !== 8 || cid.length !== 1) return malformed;
  const atc = readUintBE(atcBytes);
  const amountDigits = readBcd(f55.get(0x9f02)!);
  if (amountDigits === null || toHex(f55.get(0x5f2a)!) !== r["currency"]) return { ...malformed, atc };
  if (Number(amountDigits) !== amount) return { ok: false, reason: "amount-mismatch", atc };
  const record: ClearingRecord = {
    terminalId: r["terminalId"] as string,
    merchantId: r["merchantId"] as string,
    stan: stan as number,
    amount: amount as number,
    currency: r["currency"] as string,
    pan: r["pan"] as string,
    panSequenceNumber: r["panSequenceNumber"] as string,
    field55: field55.toUpperCase(),
    capturedAt: captured,
  };
  if (typeof r["merchantName"] === "string") record.merchantName = r["merchantName"];
  return {
    ok: true,
    value: {
      record,
      token: record.pan,
      atc,
      amount: record.amount,
      cryptogram: f55.get(0x9f26)!,
      cid: cid[0]!,
      f55,
    },
  };
}

/** When an offline payment was made, as its clearing record tells it. */
export interface PaymentTime {
  /**
   * ISO 8601. The transaction date 9A (which the TC covers, China date) at the POS's capture time when that
   * falls on the same date; otherwise the start of that date in China time (the POS clock disagrees with the
   * date the card signed). A record whose 9A is not a date takes the POS's capture time.
   */
  at: string;
  /** The payment's China date, YYYY-MM-DD. */
  date: string;
  /** True when `at` carries the POS's time of day; false when only the date is known. */
  timeOfDay: boolean;
}

export function paymentTimeOf(p: ParsedClearing): PaymentTime {
  const captured = new Date(p.record.capturedAt);
  const capturedDate = chinaDateDigits(captured).date;
  const yymmdd = readBcd(p.f55.get(0x9a) ?? new Uint8Array(0));
  const signed = yymmdd && yymmdd.length === 6 && isCalendarDate(`20${yymmdd}`) ? `20${yymmdd}` : null;
  const dashed = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
  if (signed === null || signed === capturedDate)
    return { at: captured.toISOString(), date: dashed(capturedDate), timeOfDay: true };
  return {
    at: new Date(`${dashed(signed)}T00:00:00+08:00`).toISOString(),
    date: dashed(signed),
    timeOfDay: false,
  };
}

/** YYYYMMDD names a day of the calendar (not 20261340). */
function isCalendarDate(d: string): boolean {
  const [y, m, day] = [Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8))];
  const t = new Date(Date.UTC(y, m - 1, day));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === day;
}
