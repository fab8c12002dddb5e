/**
 * The transit service's tables. Times are epoch ms, money is fen, hex is upper case. Nothing here is a key:
 * card keys are derived from the issuer's master keys (config, never the database) whenever they are needed.
 */
import type {
  TransitCardState,
  TransitTopUpState,
  TransitWorkflowKind,
  TransitWorkflowState,
} from "../../protocol/wallet-views.js";

/**
 * issuing: paid for, install queued on the phone's SE · active: on the SE · moving: leaving its SE for
 * another phone (移卡) · parked: on no SE, balance kept in the cloud (an install on the new phone failed) ·
 * refunding: a refund is under way · refunded: balance paid back, card gone · failed: the install failed,
 * everything paid was returned · replaced: a Shenzhen Tong card moved to a new number (old balance refunded) ·
 * wiping: its phone was reported lost, the TSM takes it off at the phone's next contact (then parked).
 */
export type { TransitCardState };

export interface TransitCardsTable {
  id: string;
  account_id: string;
  /** The phone whose SE holds the card (or is about to); null when it is on none. */
  device_id: string | null;
  product_id: string;
  card_number: string;
  /** Key diversification factor (8 bytes hex): finds the card's keys and, at clearing, the card. */
  asn: string;
  /** The issuer's sequence number of this card within its product. */
  sequence: number;
  algorithm: string;
  valid_from: string;
  valid_to: string;
  state: TransitCardState;
  /**
   * The card's balance as the cloud can prove it: first top-up, plus loads proven by TAC (or by the card's
   * counter), minus purchases cleared with a valid TAC, minus what was paid back. The product's float
   * equals the sum of these plus the loads in flight (ledger invariant).
   */
  balance: number;
  /** What the card was personalised with (the first top-up; a moved card's balance). */
  initial_balance: number;
  /** The card's online counter as last proven (loads). */
  online_atc: number;
  /** Highest offline counter seen (cleared purchases, or the card's report): a moved card never goes below. */
  offline_atc: number;
  /** Authorisations made on the card so far; a proof resolves only loads authorised before it was asked. */
  load_seq: number;
  /** The authorised load not yet proven (at most one per card). */
  inflight_load_id: string | null;
  /** What the card itself said last, under a MAC the cloud checked (MAC1 or TAC). */
  seen_balance: number | null;
  seen_online_atc: number | null;
  seen_at: number | null;
  /** Open-card fee paid, whether it is refunded on 退卡, and the ledger account holding it. */
  open_fee: number;
  fee_refundable: number;
  fee_account: string;
  /** The funding channel that paid for the card (refunds go back there). */
  channel: string;
  /** The phone the card (or its predecessor) was first opened on. */
  origin_device_id: string;
  /** The card this one replaced (Shenzhen Tong's transfer issues a new number). */
  predecessor_id: string | null;
  /** The first card of the chain of replacements (itself for a card opened new). */
  lineage_id: string;
  /** History and the month's spend count from here (reset by a Shanghai transfer). */
  history_since: number;
  open_request_id: string;
  created_at: number;
  updated_at: number;
  activated_at: number | null;
  closed_at: number | null;
}

/** Next card sequence number per product (card numbers are allocated under this row's lock). */
export interface TransitProductCountersTable {
  product_id: string;
  next_sequence: number;
}

export type TopUpState = TransitTopUpState;

export interface TransitTopUpsTable {
  id: string;
  account_id: string;
  card_id: string;
  /** The phone's id for this top-up: retries with the same id never credit twice. */
  request_id: string;
  amount: number;
  channel: string;
  state: TopUpState;
  /** Loads authorised for it (a torn one that proved not to have landed is reversed, and tried again). */
  attempts: number;
  /** JSON `{code, zh, en}` when failed. */
  failure: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export type LoadState = "authorised" | "completed" | "reversed";
/**
 * tac: the card's TAC checked · counter: a later MAC1 showed the online counter past this load · wiped: the
 * card was deleted from a lost phone before it proved the load; counted as loaded, so that its money goes
 * back with the card's balance whether it landed or not.
 */
export type LoadProof = "tac" | "counter" | "wiped";

/** One authorised online load (圈存): MAC1 checked, ledger posted, MAC2 given. One per (card, counter). */
export interface TransitLoadsTable {
  id: string;
  topup_id: string;
  card_id: string;
  /** The card's load_seq at authorisation. */
  seq: number;
  /** The online counter the card reported in INITIALIZE FOR LOAD (the load makes it atc + 1). */
  atc: number;
  /** = atc while authorised or completed, null once reversed: unique per card. */
  atc_slot: number | null;
  amount: number;
  terminal: string;
  balance_before: number;
  key_version: number;
  algorithm_id: number;
  random: string;
  mac1: string;
  date4: string;
  time3: string;
  mac2: string;
  challenge_id: string;
  state: LoadState;
  proof: LoadProof | null;
  tac: string | null;
  created_at: number;
  resolved_at: number | null;
}

export type ChallengePurpose = "topup" | "probe";

/**
 * A fresh INITIALIZE FOR LOAD the cloud asks the card for: its terminal field is random, so the card's
 * MAC1 over it proves the balance and online counter *now* (nothing older can be replayed).
 */
export interface TransitChallengesTable {
  id: string;
  card_id: string;
  purpose: ChallengePurpose;
  topup_id: string | null;
  terminal: string;
  amount: number;
  /** The card's load_seq when issued: the proof settles loads authorised up to here. */
  card_seq: number;
  /** Loads the challenge asks GET TRANSACTION PROVE for, JSON array of load ids. */
  prove_loads: string;
  /** Whether it also reads the offline counter and the transaction records (moving a card out). */
  full: number;
  created_at: number;
  answered_at: number | null;
}

export type WorkflowKind = TransitWorkflowKind;
/**
 * requested → locked (the field no longer reaches the card) → verified (balance proven by the card) →
 * deleted (the TSM took the applet off the SE) → [transfer: installing → ] done. failed: a transfer whose
 * install on the new phone failed (the card is parked in the cloud).
 */
export type WorkflowState = TransitWorkflowState;

/** A refund (退卡) or a transfer to another phone (移卡). */
export interface TransitWorkflowsTable {
  id: string;
  kind: WorkflowKind;
  account_id: string;
  card_id: string;
  /** = card_id while the workflow is open: one open workflow per card. */
  open_card_id: string | null;
  state: WorkflowState;
  source_device_id: string | null;
  target_device_id: string | null;
  /** Shenzhen Tong: the card issued with a new number on the new phone. */
  new_card_id: string | null;
  proven_balance: number | null;
  proven_online_atc: number | null;
  proven_offline_atc: number | null;
  /** The card's transaction records (EF18, hex, newest first) as read before deletion, JSON. */
  records: string | null;
  /** Paid back: proven balance (refund, Shenzhen Tong) and the fee (refund of a refundable fee). */
  refund_balance: number;
  refund_fee: number;
  channel: string;
  script_id: string | null;
  /** JSON `{code, zh, en}` when failed. */
  failure: string | null;
  created_at: number;
  updated_at: number;
  done_at: number | null;
}

export interface TransitOperatorsTable {
  id: string;
  name: string;
  /** SHA-256 of the operator's upload token. */
  token_hash: string;
  created_at: number;
}

export type ClearingOutcome = "cleared" | "recorded";

/** One gate record accepted at clearing: unique by (product, card number, offline counter, PSAM terminal). */
export interface TransitClearingsTable {
  id: string;
  operator_id: string;
  card_id: string;
  product_id: string;
  card_number: string;
  card_atc: number;
  psam_terminal: string;
  psam_seq: string;
  terminal_id: string;
  kind: string;
  location: string;
  tx_type: number;
  amount: number;
  /**
   * Of `amount`, what the cloud no longer held for the card (refunded before the gate loaded the blacklist):
   * paid to the operator from `issuer:transit.<product>:shortfall` instead of the float.
   */
  shortfall: number;
  /** When the gate says it happened (China time, from the record's BCD date and time). */
  occurred_at: number;
  tac: string;
  outcome: ClearingOutcome;
  upload_id: string;
  created_at: number;
}

export interface TransitUploadsTable {
  id: string;
  operator_id: string;
  terminal_id: string;
  records: number;
  cleared: number;
  duplicates: number;
  rejected: number;
  amount: number;
  /** Of `amount`, what went to the issuers' shortfall accounts. */
  shortfall: number;
  created_at: number;
}

/**
 * The blacklist operators load into their gates: a card number goes on once, when the cloud stops standing
 * behind what is on the card (parked, refunded, replaced, retired), numbered within its product.
 */
export interface TransitBlacklistTable {
  product_id: string;
  /** 1, 2, 3… within the product: the product's version once this entry is in. */
  seq: number;
  card_number: string;
  card_id: string;
  /** parked · refunded · replaced · retired (blacklist-delta.ts). */
  reason: string;
  listed_at: number;
}

/** Per product: its latest entry's number (entries are numbered under this row's lock, so commit in order). */
export interface TransitBlacklistVersionsTable {
  product_id: string;
  version: number;
}

export interface TransitTables {
  transit_cards: TransitCardsTable;
  transit_product_counters: TransitProductCountersTable;
  transit_topups: TransitTopUpsTable;
  transit_loads: TransitLoadsTable;
  transit_challenges: TransitChallengesTable;
  transit_workflows: TransitWorkflowsTable;
  transit_operators: TransitOperatorsTable;
  transit_clearings: TransitClearingsTable;
  transit_uploads: TransitUploadsTable;
  transit_blacklist: TransitBlacklistTable;
  transit_blacklist_versions: TransitBlacklistVersionsTable;
}
