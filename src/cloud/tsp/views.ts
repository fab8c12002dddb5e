/**
 * What the token service shows of bank cards: the bank, the kind, the funding card's and the token's last four
 * digits, states and dates — never a card number — and how rows become those views.
 */
import type { BankCardTransactionView } from "../../protocol/wallet-views.js";
import { BANKS, type Bank, type BankCode, type CardKind } from "./bins.js";
import type {
  BankCardsTable,
  BankCardTransactionsTable,
  CardStatus,
  SeState,
  SuspendedBy,
} from "./tables.js";

/** Who asks: a signed-in user (any of their phones) or a phone for itself. */
export interface CardCaller {
  accountId: string;
  /** Set when the phone itself calls: it sees and changes only its own cards. */
  deviceId?: string;
}

export interface BankView {
  code: string;
  zh: string;
  en: string;
}

export interface BankCardView {
  id: string;
  deviceId: string;
  bank: BankView;
  kind: CardKind;
  tokenLast4: string;
  fundingLast4: string;
  /** pending (being put on the phone), active, suspended, deleted. */
  status: CardStatus;
  suspendedBy: SuspendedBy | null;
  /** The card on the phone's SE: installing, installed, failed, removing, removed. */
  seState: SeState;
  default: boolean;
  createdAt: string;
  activatedAt: string | null;
}

export interface EnrolmentView {
  id: string;
  deviceId: string;
  bank: BankView;
  kind: CardKind;
  fundingLast4: string;
  /** Where the bank sent its code, masked. */
  codeSentTo: string;
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

export interface EnrolmentInput {
  deviceId?: string;
  cardNumber: string;
  /** MM/YY */
  expiry: string;
  cvn2?: string;
  termsVersion: string;
}

/** One payment with a card: the shape is shared with the phone and the web app. */
export type CardTransactionView = BankCardTransactionView;

export interface IssuerTokenView {
  tokenReferenceId: string;
  par: string;
  tokenRequestorId: string;
  kind: CardKind;
  tokenLast4: string;
  fundingLast4: string;
  status: CardStatus;
  suspendedBy: SuspendedBy | null;
  createdAt: string;
}

export type LifecycleAction = "suspend" | "resume" | "delete";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const bankOf = (code: string): Bank => BANKS[code as BankCode] ?? { code, zh: code, en: code };

export const KIND_ZH: Record<CardKind, string> = { debit: "借记卡", credit: "信用卡" };

// ---- views ------------------------------------------------------------------------------------------

/** A card row as its owner sees it. */
export function cardView(r: BankCardsTable): BankCardView {
  const bank = bankOf(r.bank_code);
  return {
    id: r.id,
    deviceId: r.device_id,
    bank: { code: bank.code, zh: bank.zh, en: bank.en },
    kind: r.kind,
    tokenLast4: r.token_last4,
    fundingLast4: r.funding_last4,
    status: r.status,
    suspendedBy: r.suspended_by,
    seState: r.se_state,
    default: r.is_default === 1,
    createdAt: new Date(r.created_at).toISOString(),
    activatedAt: iso(r.activated_at),
  };
}

/** What a card event says of the card (no number but the last four digits). */
export function eventOf(v: BankCardView): Record<string, unknown> {
  return {
    cardId: v.id,
    deviceId: v.deviceId,
    bank: v.bank.code,
    kind: v.kind,
    tokenLast4: v.tokenLast4,
    fundingLast4: v.fundingLast4,
    status: v.status,
    suspendedBy: v.suspendedBy,
    seState: v.seState,
    default: v.default,
  };
}

export function transactionView(r: BankCardTransactionsTable): CardTransactionView {
  return {
    id: r.id,
    cardId: r.card_id,
    amount: r.amount,
    currency: r.currency,
    merchantId: r.merchant_id,
    merchantName: r.merchant_name,
    terminalId: r.terminal_id,
    approved: r.approved === 1,
    responseCode: r.response_code,
    reason: r.reason,
    authorisationCode: r.authorisation_code,
    at: new Date(r.at).toISOString(),
    clearedAt: r.cleared_at === null ? null : new Date(r.cleared_at).toISOString(),
  };
}

export function issuerTokenView(r: BankCardsTable): IssuerTokenView {
  return {
    tokenReferenceId: r.id,
    par: r.par,
    tokenRequestorId: r.token_requestor_id,
    kind: r.kind,
    tokenLast4: r.token_last4,
    fundingLast4: r.funding_last4,
    status: r.status,
    suspendedBy: r.suspended_by,
    createdAt: new Date(r.created_at).toISOString(),
  };
}
