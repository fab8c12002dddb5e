/**
 * What the entry point and the C-7 kernel hand back (EMV Book A "Outcomes"): online request, approved
 * (offline), declined, try another interface, try again — each with its reason in zh-CN and English, and,
 * when the card got that far, the data the authorisation or the clearing record needs.
 */
import type { Bytes } from "../../core/bytes.js";
import type { CvmPerformed } from "../authorisation.js";
import type { CryptogramType } from "../iad.js";

export type OutcomeKind = "online-request" | "approved" | "declined" | "try-another-interface" | "try-again";

export interface Reason {
  code: string;
  zh: string;
  en: string;
}

/** The card data of one transaction, as the kernel read it. */
export interface CardTransaction {
  /** DF name of the selected application (84). */
  aid: Bytes;
  label?: string;
  /** Track 2 equivalent data (57). */
  track2: Bytes;
  /** Digits of the PAN from track 2 (for a phone, the token). */
  pan: string;
  /** YYMM from track 2. */
  expiry: string;
  psn: string;
  atc: Bytes;
  cryptogramType: CryptogramType;
  cryptogram: Bytes;
  iad: Bytes;
  aip: Bytes;
  ctq?: Bytes;
  /** Available offline spending amount after this transaction (9F5D), fen. */
  offlineBalance?: number;
  /** fDDA: not performed (online path), passed, or failed. */
  fdda: "not-performed" | "passed" | "failed";
}

export interface KernelOutcome {
  kind: OutcomeKind;
  reason: Reason;
  cvm: CvmPerformed;
  /** Present once GPO succeeded. */
  card?: CardTransaction;
  /** Field 55 (ICC data) for an online request or the clearing record of an offline approval. */
  field55?: Bytes;
  /** The TTQ sent to the card. */
  ttq?: Bytes;
  /** The terminal data of the transaction (amount BCD, date, UN …) by tag. */
  terminalData?: Map<number, Bytes>;
  /** UI message for the cardholder (Book A "UI Request"), when one applies. */
  message?: Reason;
}

export const R = {
  approvedOnline: { code: "online-request", zh: "请求联机授权", en: "online authorisation requested" },
  approvedOffline: { code: "offline-approved", zh: "脱机批准", en: "approved offline" },
  contactlessNotAllowed: {
    code: "contactless-not-allowed",
    zh: "金额超过非接限额，请插卡",
    en: "amount above the contactless limit, insert the card",
  },
  zeroAmountOffline: {
    code: "zero-amount",
    zh: "零金额交易需联机",
    en: "zero amount needs an online reader",
  },
  noPpse: { code: "no-ppse", zh: "卡片不支持闪付目录", en: "the card has no PPSE" },
  noCandidate: { code: "no-application", zh: "无匹配的闪付应用", en: "no matching contactless application" },
  cardGone: { code: "card-gone", zh: "读卡中断，请重新挥卡", en: "card read interrupted, tap again" },
  noPdol: { code: "no-pdol", zh: "卡片不支持 qPBOC", en: "the card does not support qPBOC" },
  gpoRefused: { code: "gpo-refused", zh: "卡片要求使用其他界面", en: "the card asks for another interface" },
  gpoError: { code: "gpo-error", zh: "卡片处理失败", en: "the card failed to process the transaction" },
  badCardData: { code: "bad-card-data", zh: "卡片数据格式错误", en: "the card's data is malformed" },
  missingCardData: { code: "missing-card-data", zh: "卡片数据缺失", en: "the card's data is incomplete" },
  declinedByCard: { code: "card-declined", zh: "卡片拒绝交易", en: "the card declined" },
  seePhone: { code: "see-phone", zh: "请在手机上验证身份后重试", en: "verify on your phone, then tap again" },
  cvmFailed: {
    code: "cvm-failed",
    zh: "持卡人验证方式不可用",
    en: "no cardholder verification method available",
  },
  recordError: { code: "record-error", zh: "读记录失败", en: "reading a record failed" },
  expired: { code: "expired", zh: "卡片已过期", en: "the card has expired" },
  notYetEffective: { code: "not-effective", zh: "卡片尚未生效", en: "the card is not yet effective" },
  fddaFailed: { code: "fdda-failed", zh: "脱机数据认证失败", en: "offline data authentication failed" },
  fddaFailedOnline: {
    code: "fdda-failed-online",
    zh: "脱机数据认证失败，转联机",
    en: "offline data authentication failed, going online",
  },
  fddaFailedSwitch: {
    code: "fdda-failed-switch",
    zh: "脱机数据认证失败，请插卡",
    en: "offline data authentication failed, insert the card",
  },
  offlineNotPossible: {
    code: "offline-only",
    zh: "终端仅支持脱机，卡片要求联机",
    en: "the card wants online, the reader is offline-only",
  },
} as const satisfies Record<string, Reason>;
