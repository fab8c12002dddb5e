/**
 * The token service's tables. Times are epoch ms, money fen. The funding PAN appears only sealed
 * (AES-256-GCM by the token vault; iv, data and tag in hex) and only while an enrolment waits for its
 * code; a card keeps the vault's keyed fingerprint (`funding_ref`) and the last four digits.
 */
export type EnrolmentState = "pending" | "completed" | "locked" | "expired";

export interface BankCardEnrolmentsTable {
  id: string;
  account_id: string;
  device_id: string;
  bank_code: string;
  kind: "debit" | "credit";
  funding_ref: string;
  funding_last4: string;
  /** The typed PAN sealed with AAD `enrolment:<id>`; emptied once the enrolment ends. */
  pan_iv: string;
  pan_data: string;
  pan_tag: string;
  /** YYMM */
  expiry: string;
  /** The bank's reserved number, masked (138****8000): what the user is shown. */
  phone_masked: string;
  terms_version: string;
  /** HMAC of the one-time code (keyed, salted with the enrolment id). */
  code_hmac: string;
  code_expires_at: number;
  last_sent_at: number;
  failures: number;
  state: EnrolmentState;
  card_id: string | null;
  created_at: number;
  updated_at: number;
}

/** Wrong codes per funding card across enrolments: five in a row lock the card's enrolment for a while. */
export interface BankCardOtpGuardsTable {
  funding_ref: string;
  failures: number;
  locked_until: number | null;
}

export type CardStatus = "pending" | "active" | "suspended" | "deleted";
export type SuspendedBy = "user" | "issuer" | "wallet";
export type SeState = "installing" | "installed" | "failed" | "removing" | "removed";

export interface BankCardsTable {
  id: string;
  account_id: string;
  device_id: string;
  /** The token (device PAN). Never shown whole: APIs give its last four digits. */
  token: string;
  token_last4: string;
  /** Payment Account Reference: the same for every token of one funding account. */
  par: string;
  token_requestor_id: string;
  bank_code: string;
  kind: "debit" | "credit";
  funding_ref: string;
  funding_last4: string;
  /** The instance AID on the SE (hex). */
  aid: string;
  /** pending: being installed (token inactive); deleted is final. */
  status: CardStatus;
  /** Who suspended it; only that party may resume it (the wallet suspends for a lost phone). */
  suspended_by: SuspendedBy | null;
  se_state: SeState;
  /** 1 for the device's default payment card. */
  is_default: number;
  terms_version: string;
  created_at: number;
  updated_at: number;
  activated_at: number | null;
  deleted_at: number | null;
}

export interface BankCardTransactionsTable {
  id: string;
  card_id: string;
  account_id: string;
  device_id: string;
  amount: number;
  currency: string;
  merchant_id: string;
  merchant_name: string | null;
  terminal_id: string;
  stan: number;
  response_code: string;
  /** 1 approved, 0 declined. */
  approved: number;
  reason: string;
  authorisation_code: string | null;
  /** The issuer's request key (one row per answered request). */
  request_key: string;
  posting_id: string | null;
  /** When the payment was made (an offline one: the date its record carries, not when it was cleared). */
  at: number;
  /** When an offline payment was cleared; null for an online authorisation. */
  cleared_at: number | null;
}

export interface TspTables {
  bank_card_enrolments: BankCardEnrolmentsTable;
  bank_card_otp_guards: BankCardOtpGuardsTable;
  bank_cards: BankCardsTable;
  bank_card_transactions: BankCardTransactionsTable;
}
