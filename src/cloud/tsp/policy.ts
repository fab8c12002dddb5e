/**
 * The token service's limits and fixed identifiers, each a named value (docs/DECISIONS.md "Bank cards").
 */
import type { RateLimit } from "../policy.js";
import { CARD_OWNERS } from "../../protocol/tsm-wire.js";

export interface TspPolicy {
  /** Live bank cards (not deleted) one phone may hold: Mi Pay's 8 (wallets.md §2.5, MIW-13). */
  maxBankCardsPerDevice: number;
  /** A bank one-time code's lifetime. */
  bankOtpTtlMs: number;
  /** Minimum time between two codes for one enrolment. */
  bankOtpResendMs: number;
  /** Wrong codes in a row for one funding card before it is locked. */
  bankOtpMaxFailures: number;
  /** How long a funding card stays locked after too many wrong codes. */
  bankOtpLockMs: number;
  /** Cards an account may try to add per window (each try asks the bank to check number, expiry, CVN2). */
  enrolmentsPerAccount: RateLimit;
  /** The bank-card terms a user must accept, by version. */
  termsVersion: string;
}

const MINUTE = 60_000;

export const defaultTspPolicy: TspPolicy = {
  maxBankCardsPerDevice: 8,
  bankOtpTtlMs: 5 * MINUTE,
  bankOtpResendMs: MINUTE,
  bankOtpMaxFailures: 5,
  bankOtpLockMs: 30 * MINUTE,
  enrolmentsPerAccount: { limit: 20, windowMs: 60 * MINUTE },
  termsVersion: "2026-03",
};

/**
 * Tapwallet's token requestor id (11 digits, as TSPs assign them; emv.md §3). A placeholder in the 999
 * range, which no TSP assigns: a real deployment gets its own from UnionPay's TSP.
 */
export const TOKEN_REQUESTOR_ID = "99977000001";

/** The owner name of the scripts the token service queues with the TSM. */
export const TSP_OWNER = CARD_OWNERS.bank;

/** BIN controller prefix of our PARs (EMVCo PAR: 4 characters of controller id + 25 of reference). */
export const PAR_PREFIX = "TW01";

/** The terms shown before a card is added (version above). */
export const TERMS = {
  title: { zh: "银行卡闪付服务条款", en: "Bank card QuickPass terms" },
  summary: {
    zh: "添加银行卡即同意：卡号仅以令牌形式保存在手机安全元件中，原卡号加密保存在令牌库；支付需在手机上验证身份；手机丢失可在网页端暂停全部卡片。",
    en: "By adding a card you agree: only a token of the card lives in the phone's secure element, the card number is kept encrypted in the token vault; payments are verified on the phone; a lost phone's cards can be suspended from the web.",
  },
} as const;
