/**
 * The ISO 8583 response codes (field 39) the issuer host answers with, each with the cause in zh-CN and
 * English. The ARC inside the ARPC is the code's two ASCII characters ("00" → 3030).
 */
export interface ResponseCodeInfo {
  zh: string;
  en: string;
}

export const RC = {
  approved: "00",
  doNotHonour: "05",
  invalidAmount: "13",
  invalidCard: "14",
  formatError: "30",
  insufficientFunds: "51",
  expiredCard: "54",
  pinRequired: "55",
  notPermitted: "57",
  exceedsAmountLimit: "61",
  restrictedCard: "62",
  exceedsFrequencyLimit: "65",
  duplicate: "94",
  systemError: "96",
} as const;

export type ResponseCode = (typeof RC)[keyof typeof RC];

export const RESPONSE_CODES: Readonly<Record<ResponseCode, ResponseCodeInfo>> = {
  "00": { zh: "交易成功", en: "approved" },
  "05": { zh: "不予承兑", en: "do not honour" },
  "13": { zh: "交易金额无效", en: "invalid amount" },
  "14": { zh: "无效卡号", en: "invalid card number" },
  "30": { zh: "报文格式错误", en: "format error" },
  "51": { zh: "余额不足", en: "insufficient funds" },
  "54": { zh: "卡片已过期", en: "expired card" },
  "55": { zh: "需要密码或密码错误", en: "PIN required or incorrect" },
  "57": { zh: "不允许持卡人进行此交易", en: "transaction not permitted to cardholder" },
  "61": { zh: "超出金额限制", en: "exceeds amount limit" },
  "62": { zh: "受限制的卡", en: "restricted card" },
  "65": { zh: "超出交易次数限制", en: "exceeds frequency limit" },
  "94": { zh: "重复交易", en: "duplicate transmission" },
  "96": { zh: "系统故障", en: "system malfunction" },
};

/** Why a request got its code: finer than the response code, for tests, logs and support (never a PAN). */
export type DeclineReason =
  | "approved"
  | "malformed-request"
  | "amount-mismatch"
  | "unknown-token"
  | "token-deleted"
  | "token-suspended"
  | "token-expired"
  | "cryptogram-profile"
  | "cryptogram-invalid"
  | "card-declined"
  | "atc-replay"
  | "atc-too-old"
  | "atc-jump"
  | "cvm-required"
  | "pin-not-supported"
  | "currency"
  | "per-transaction-limit"
  | "daily-amount-limit"
  | "daily-count-limit"
  | "insufficient-funds"
  | "no-account"
  | "key-missing";
