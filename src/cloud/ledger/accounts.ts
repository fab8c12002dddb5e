/**
 * The kinds of ledger account and how their ids are built. Each kind has a normal side (the side its
 * balance grows on) and the limits TigerBeetle would put on it as flags.
 *
 *   funding_source     per user and payment channel: money the user has made available to pay with
 *                      (credit-normal, never negative: a payment beyond it is declined)
 *   card_float         per card product: stored value on all cards of the product, owed to holders
 *   fees               our fee revenue (open-card and service fees)
 *   refunds_payable    refunds approved and not yet paid out
 *   issuer_settlement  per issuer: what we and a card issuer owe each other (either sign)
 *   merchant           per merchant or acquirer: what is owed to it for accepted payments
 *   channel            per external payment channel (WeChat Pay, Alipay, UnionPay, a bank): money entering
 *                      or leaving the platform; debit-normal, either sign
 */
export const LedgerFlags = {
  /** The account may never hold more debits than credits (a credit-normal balance stays ≥ 0). */
  DEBITS_MUST_NOT_EXCEED_CREDITS: 1,
  /** The account may never hold more credits than debits (a debit-normal balance stays ≥ 0). */
  CREDITS_MUST_NOT_EXCEED_DEBITS: 2,
} as const;

export type LedgerAccountKind =
  "funding_source" | "card_float" | "fees" | "refunds_payable" | "issuer_settlement" | "merchant" | "channel";

export interface KindRule {
  normal: "debit" | "credit";
  flags: number;
}

export const KIND_RULES: Record<LedgerAccountKind, KindRule> = {
  funding_source: { normal: "credit", flags: LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS },
  card_float: { normal: "credit", flags: LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS },
  fees: { normal: "credit", flags: LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS },
  refunds_payable: { normal: "credit", flags: LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS },
  issuer_settlement: { normal: "credit", flags: 0 },
  merchant: { normal: "credit", flags: LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS },
  channel: { normal: "debit", flags: 0 },
};

export function isLedgerAccountKind(k: string): k is LedgerAccountKind {
  return Object.hasOwn(KIND_RULES, k);
}

/** Ledger account ids: lower-case kind prefix, then `:`-separated parts. */
export const LEDGER_ACCOUNT_ID = /^[a-z_]{1,32}(:[A-Za-z0-9_.-]{1,64}){0,3}$/;

export const ledgerAccountIds = {
  fundingSource: (accountId: string, channel: string) => `funding:${accountId}:${channel}`,
  cardFloat: (product: string) => `float:${product}`,
  fees: () => "fees",
  refundsPayable: () => "refunds_payable",
  issuerSettlement: (issuer: string) => `issuer:${issuer}`,
  /** The part of what an issuer owes us that its cardholders' accounts did not cover (offline approvals). */
  issuerShortfall: (issuer: string) => `issuer:${issuer}:shortfall`,
  merchant: (merchant: string) => `merchant:${merchant}`,
  channel: (channel: string) => `channel:${channel}`,
};

/** The balance on the account's normal side (what a person would call its balance). */
export function normalBalance(normal: "debit" | "credit", debits: number, credits: number): number {
  return normal === "credit" ? credits - debits : debits - credits;
}
