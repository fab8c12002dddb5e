/**
 * Where a user's money comes from and goes back to: the funding channels a top-up is paid with (simulated
 * here: each approves the payment at once, as a sandbox merchant account would), and the ledger accounts the
 * transit service moves money between.
 *
 *   pay in      channel:<ch>  → funding:<account>:<ch>     the user's payment arrives (WeChat Pay, …)
 *   load        funding       → float:<product>            stored value on a card (top-up, first top-up)
 *   fee         funding       → fees | fees:transit.deposits   open-card fee (kept) or deposit (refundable)
 *   reverse     float → funding → channel                  a load proven not to have reached the card
 *   refund      float (+ deposit) → refunds_payable → channel   退卡, and Shenzhen Tong's old balance
 *   clearing    float → merchant:op.<operator>             rides the gates uploaded, TAC checked
 *               (+ issuer:transit.<product>:shortfall)      the part of a ride the cloud no longer held for its
 *                                                          card (refunded before the gate loaded the blacklist)
 */
import type { Bilingual } from "../../transit/index.js";
import { ledgerAccountIds, type LedgerAccountKind } from "../ledger/accounts.js";

export const FUNDING_CHANNELS = ["wechat", "alipay", "unionpay"] as const;
export type FundingChannel = (typeof FUNDING_CHANNELS)[number];

export const CHANNEL_NAMES: Readonly<Record<FundingChannel, Bilingual>> = {
  wechat: { zh: "微信支付", en: "WeChat Pay" },
  alipay: { zh: "支付宝", en: "Alipay" },
  unionpay: { zh: "云闪付", en: "UnionPay" },
};

export const isFundingChannel = (c: string): c is FundingChannel =>
  (FUNDING_CHANNELS as readonly string[]).includes(c);

/** Refundable open-card fees are deposits: held apart from fee revenue until the card is refunded. */
const DEPOSITS_ACCOUNT = "fees:transit.deposits";

export const transitAccounts = {
  channel: (ch: FundingChannel) => ledgerAccountIds.channel(ch),
  funding: (accountId: string, ch: FundingChannel) => ledgerAccountIds.fundingSource(accountId, ch),
  float: (productId: string) => ledgerAccountIds.cardFloat(productId),
  fees: () => ledgerAccountIds.fees(),
  deposits: () => DEPOSITS_ACCOUNT,
  refundsPayable: () => ledgerAccountIds.refundsPayable(),
  operator: (operatorId: string) => ledgerAccountIds.merchant(`op.${operatorId}`),
  /** What the product's issuer paid operators for rides on cards whose money had already gone back. */
  shortfall: (productId: string) => ledgerAccountIds.issuerShortfall(`transit.${productId}`),
};

export interface AccountSpec {
  id: string;
  kind: LedgerAccountKind;
  ownerAccountId?: string;
}

/** The ledger accounts a user's payment through `ch` into `productId` touches. */
export function paymentAccounts(accountId: string, ch: FundingChannel, productId: string): AccountSpec[] {
  return [
    { id: transitAccounts.channel(ch), kind: "channel" },
    { id: transitAccounts.funding(accountId, ch), kind: "funding_source", ownerAccountId: accountId },
    { id: transitAccounts.float(productId), kind: "card_float" },
    { id: transitAccounts.fees(), kind: "fees" },
    { id: transitAccounts.deposits(), kind: "fees" },
    { id: transitAccounts.refundsPayable(), kind: "refunds_payable" },
  ];
}
