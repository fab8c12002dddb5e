/**
 * The double-entry ledger. Amounts are integer fen. An entry's amount is signed: positive debits its
 * account, negative credits it; a transfer's entries sum to zero. Each account keeps running totals of
 * its debits and credits (TigerBeetle's `debits_posted` / `credits_posted`), updated in the transfer's
 * transaction and always derivable from the entries (the invariants check compares them).
 */
export interface LedgerAccountsTable {
  /** Readable stable code, e.g. `float:transit:sztong`, `funding:acc_…:wechat`. */
  id: string;
  kind: string;
  /** The user account it belongs to, for per-user accounts (funding sources). */
  owner_account_id: string | null;
  /** Bit set of LedgerFlags. */
  flags: number;
  debits_posted: number;
  credits_posted: number;
  created_at: number;
}

export interface LedgerTransfersTable {
  id: string;
  /** Unique: a retried posting with the same key returns the first result and moves no money. */
  idempotency_key: string;
  /** What moved the money, e.g. `transit.topup`. */
  kind: string;
  /** SHA-256 over kind and entries: a retry must ask for exactly the same posting. */
  fingerprint: string;
  /** JSON object of strings and numbers (order ids, card numbers masked by the caller). */
  metadata: string;
  created_at: number;
}

export interface LedgerEntriesTable {
  transfer_id: string;
  account_id: string;
  /** Signed fen: + debit, − credit. */
  amount: number;
  created_at: number;
}

export interface LedgerTables {
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  ledger_entries: LedgerEntriesTable;
}
