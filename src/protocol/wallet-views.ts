/**
 * The JSON shapes the cloud and the simulator answer, declared once: the cloud's views and the simulator build
 * them, the virtual phone (src/device), the CLI and the web app (web/src/api/types.ts) read them.
 *
 * Pure types with no imports: the web app compiles this file too, so nothing here may reach Node's types.
 */

/** Text a user reads: zh-CN first, English beside it (the same shape as core/text.ts `Bilingual`). */
interface ZhEn {
  zh: string;
  en: string;
}

/** Why a request failed, as the cloud keeps it beside the request. */
export interface FailureView extends ZhEn {
  code: string;
}

// ── bank cards (token service) ──────────────────────────────────────────────────────────────────

/** One payment (or reversal) with a bank card's token, online or cleared offline. */
export interface BankCardTransactionView {
  id: string;
  cardId: string;
  /** Fen; negative for a reversal. */
  amount: number;
  currency: string;
  merchantId: string;
  merchantName: string | null;
  terminalId: string;
  approved: boolean;
  responseCode: string;
  reason: string;
  authorisationCode: string | null;
  /** When the payment was made (an offline one: the date its clearing record carries). */
  at: string;
  /** When an offline payment was cleared; null for an online one. */
  clearedAt: string | null;
}

// ── transit ─────────────────────────────────────────────────────────────────────────────────────

/** What each state means: src/cloud/transit/tables.ts, which keeps these in its rows. */
export type TransitCardState =
  "issuing" | "active" | "moving" | "parked" | "refunding" | "refunded" | "failed" | "replaced" | "wiping";

export interface TransitCardView {
  id: string;
  product: { id: string; name: ZhEn; standard: string };
  cardNumber: string;
  /** The applet instance on the phone's SE (hex). */
  aid: string;
  state: TransitCardState;
  deviceId: string | null;
  /** Fen, as the cloud can prove it (see docs/CLOUD.md "Transit"). */
  balance: number;
  /**
   * Fen its rides took after the cloud no longer held its money (refunded before the gate loaded the
   * blacklist): paid to the operators by the issuer's shortfall account, not the float.
   */
  shortfall: number;
  /** What the card itself last said under its MAC, and when. */
  cardBalance: number | null;
  cardBalanceAt: string | null;
  validFrom: string;
  validTo: string;
  openFee: { amount: number; refundable: boolean };
  channel: string;
  /** Purchases cleared this calendar month (China time) since `historySince`. */
  monthSpend: number;
  historySince: string;
  predecessorId: string | null;
  createdAt: string;
  activatedAt: string | null;
  closedAt: string | null;
}

export type TransitTopUpState = "pending" | "authorised" | "completed" | "failed";
export type TransitWorkflowKind = "refund" | "transfer";
export type TransitWorkflowState =
  "requested" | "locked" | "verified" | "deleted" | "installing" | "done" | "failed";

export interface TransitTopUpView {
  id: string;
  requestId: string;
  cardId: string;
  amount: number;
  channel: string;
  state: TransitTopUpState;
  attempts: number;
  failure: FailureView | null;
  createdAt: string;
  completedAt: string | null;
}

/** A refund (退卡) or a transfer to another phone (移卡). */
export interface TransitWorkflowView {
  id: string;
  kind: TransitWorkflowKind;
  cardId: string;
  state: TransitWorkflowState;
  sourceDeviceId: string | null;
  targetDeviceId: string | null;
  /** Shenzhen Tong: the card with its new number. */
  newCardId: string | null;
  /** The balance the card proved before it left its SE. */
  provenBalance: number | null;
  refund: { balance: number; fee: number; total: number; channel: string };
  failure: FailureView | null;
  createdAt: string;
  updatedAt: string;
  doneAt: string | null;
}

// ── door cards ──────────────────────────────────────────────────────────────────────────────────

/** The phone's check of a MIFARE dump before upload: what the card is and every reason it may not be copied. */
export interface DoorInspection {
  format: string;
  type: "mini" | "1k" | "4k";
  uid: string;
  sak: string;
  atqa: string;
  /** What the phone would emulate: the whole card, or only its UID. */
  kind: "classic" | "uid-only";
  emulatable: boolean;
  reasons: { code: string; sector: number | null; zh: string; en: string }[];
  warnings: { code: string; zh: string; en: string }[];
  /** Whether a default key opened each sector — never the keys themselves. */
  sectors: { index: number; defaultKeys: boolean; accessBitsValid: boolean }[];
}
