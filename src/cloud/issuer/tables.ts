/**
 * The issuer host's tables: the funding accounts it keeps (test cards seeded from fixtures), the tokens it
 * issued with their ATC window and velocity counters, every authorisation it decided, the answers it gave
 * per request key (so a retried authorisation is answered the same way and never charged twice), the
 * offline approvals it cleared, and the API keys of the acquirers and issuers that call it. Money is fen, times epoch ms.
 *
 * No column ever holds a PAN in the clear: funding accounts are keyed by the vault's keyed fingerprint of
 * the PAN, tokens keep the PAN AES-256-GCM sealed (iv, data, tag; the token is the associated data).
 */
export interface IssuerFundingAccountsTable {
  /** Keyed fingerprint of the funding PAN (TokenVault.fingerprint). */
  ref: string;
  /** Issuing bank (BIN table code, e.g. ICBC). */
  bank_code: string;
  kind: "debit" | "credit";
  holder: string;
  funding_last4: string;
  /** The card's expiry as the bank knows it, YYMM. */
  expiry: string;
  /** The mobile number the bank has on file for this card (its one-time codes go there). */
  reserved_phone: string;
  /** ISO 4217 numeric, 4 digits ("0156"). */
  currency: string;
  /** Available balance (debit) or open-to-buy (credit), fen. */
  available: number;
  status: "open" | "closed";
  created_at: number;
}

export interface IssuerTokensTable {
  token: string;
  /** The funding account (null only between the host's insert and our update in the same transaction). */
  funding_ref: string | null;
  /** Payment Account Reference: the same for every token of one funding account. */
  par: string | null;
  psn: string;
  /** YYMMDD */
  expiry: string;
  status: "active" | "suspended" | "deleted";
  pan_iv: string;
  pan_data: string;
  pan_tag: string;
  funding_last4: string;
  dki: number;
  algorithm: string;
  device_id: string | null;
  created_at: number;
  limit_per_transaction: number;
  limit_daily_amount: number;
  limit_daily_count: number;
  limit_no_cvm: number;
  atc_highest: number;
  /** JSON array of the ATCs seen within the replay window. */
  atc_recent: string;
  /** China-time day (YYYYMMDD) of the velocity counters. */
  day_date: string;
  day_amount: number;
  day_count: number;
}

export interface IssuerAuthorisationsTable {
  /** token:ATC */
  id: string;
  token: string;
  atc: number;
  amount: number;
  response_code: string;
  reason: string;
  authorisation_code: string | null;
  at: number;
  terminal_id: string;
  stan: number;
}

/** An offline approval cleared (src/emv's `ClearingEntry`): one row per (token, ATC), the primary key. */
export interface IssuerClearingsTable {
  /** token:ATC */
  id: string;
  /** clr_…: the reference postings and the owner's card transaction name. */
  clearing_id: string;
  token: string;
  atc: number;
  amount: number;
  currency: string;
  /** The TC (9F26), hex. */
  cryptogram: string;
  terminal_id: string;
  merchant_id: string;
  stan: number;
  captured_at: number;
  cleared_at: number;
  /** What the funding account lacked, fen (0: covered). */
  shortfall: number;
  token_status: "active" | "suspended" | "deleted";
  /** The ledger posting (set by the issuer service in the same transaction). */
  posting_id: string | null;
}

export interface IssuerRequestsTable {
  /**
   * `<api key id>:k:<explicit key>` or `<api key id>:t:<terminal>:<STAN>:<YYMMDD>`; a reversal of it is
   * answered under the same key followed by `:reversal`.
   */
  request_key: string;
  /** SHA-256 of the request's content (all but its transmission time). */
  request_hash: string;
  /** The answer given, JSON (AuthorisationResponse). */
  response: string;
  /** The ledger posting of an approval. */
  posting_id: string | null;
  token_last4: string | null;
  /** The token and amount of the request (for a reversal of it); null when the request named none. */
  token: string | null;
  amount: number | null;
  created_at: number;
}

export interface IssuerApiKeysTable {
  id: string;
  role: "acquirer" | "issuer";
  name: string;
  /** For role issuer: the bank whose tokens the key may manage. */
  bank_code: string | null;
  /** SHA-256 (hex) of the key; the key itself is shown once, at creation. */
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface IssuerTables {
  issuer_funding_accounts: IssuerFundingAccountsTable;
  issuer_tokens: IssuerTokensTable;
  issuer_authorisations: IssuerAuthorisationsTable;
  issuer_requests: IssuerRequestsTable;
  issuer_api_keys: IssuerApiKeysTable;
  issuer_clearings: IssuerClearingsTable;
}
