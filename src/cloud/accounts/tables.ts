/** Accounts, one-time codes, the per-number guard against guessing, and sessions. Times are epoch ms. */
export interface AccountsTable {
  id: string;
  /** Mainland mobile number, 11 digits. */
  phone: string;
  created_at: number;
}

export interface OtpCodesTable {
  id: string;
  phone: string;
  /** HMAC-SHA256(pepper, id ‖ phone ‖ code), hex: the code itself is never stored. */
  code_hash: string;
  created_at: number;
  expires_at: number;
  /** Set when used, or when a newer code or a lockout replaces it. */
  consumed_at: number | null;
}

/** One row per number that has asked for a code: when it last did, and its run of wrong codes. */
export interface OtpGuardsTable {
  phone: string;
  failures: number;
  last_failure_at: number | null;
  locked_until: number | null;
  last_sent_at: number | null;
}

export interface SessionsTable {
  id: string;
  account_id: string;
  /** SHA-256 of the bearer token, hex. */
  token_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface AccountsTables {
  accounts: AccountsTable;
  otp_codes: OtpCodesTable;
  otp_guards: OtpGuardsTable;
  sessions: SessionsTable;
}
