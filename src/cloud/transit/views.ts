/**
 * What the transit API shows of cards, top-ups and refund/transfer requests (never a key or a MAC): the shapes
 * live in src/protocol/wallet-views.ts (the phone and the web app read them), the rows become them here.
 */
import type {
  FailureView,
  TransitCardView,
  TransitTopUpView,
  TransitWorkflowView,
} from "../../protocol/wallet-views.js";
import type { CardRow, TransitCore } from "./core.js";
import type { TransitTopUpsTable, TransitWorkflowsTable } from "./tables.js";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export type Failure = FailureView;

function parseFailure(text: string | null): Failure | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Failure;
  } catch {
    return null;
  }
}

export const failureJson = (code: string, zh: string, en: string): string => JSON.stringify({ code, zh, en });

export type CardView = TransitCardView;

export function cardView(core: TransitCore, c: CardRow, monthSpend: number, shortfall: number): CardView {
  const p = core.product(c);
  return {
    id: c.id,
    product: { id: p.id, name: p.name, standard: p.standard },
    cardNumber: c.card_number,
    aid: p.aids.instance,
    state: c.state,
    deviceId: c.device_id,
    balance: c.balance,
    shortfall,
    cardBalance: c.seen_balance,
    cardBalanceAt: iso(c.seen_at),
    validFrom: c.valid_from,
    validTo: c.valid_to,
    openFee: { amount: c.open_fee, refundable: c.fee_refundable === 1 },
    channel: c.channel,
    monthSpend,
    historySince: new Date(c.history_since).toISOString(),
    predecessorId: c.predecessor_id,
    createdAt: new Date(c.created_at).toISOString(),
    activatedAt: iso(c.activated_at),
    closedAt: iso(c.closed_at),
  };
}

export type TopUpView = TransitTopUpView;

export function topUpView(t: TransitTopUpsTable): TopUpView {
  return {
    id: t.id,
    requestId: t.request_id,
    cardId: t.card_id,
    amount: t.amount,
    channel: t.channel,
    state: t.state,
    attempts: t.attempts,
    failure: parseFailure(t.failure),
    createdAt: new Date(t.created_at).toISOString(),
    completedAt: iso(t.completed_at),
  };
}

export type WorkflowView = TransitWorkflowView;

export function workflowView(w: TransitWorkflowsTable): WorkflowView {
  return {
    id: w.id,
    kind: w.kind,
    cardId: w.card_id,
    state: w.state,
    sourceDeviceId: w.source_device_id,
    targetDeviceId: w.target_device_id,
    newCardId: w.new_card_id,
    provenBalance: w.proven_balance,
    refund: {
      balance: w.refund_balance,
      fee: w.refund_fee,
      total: w.refund_balance + w.refund_fee,
      channel: w.channel,
    },
    failure: parseFailure(w.failure),
    createdAt: new Date(w.created_at).toISOString(),
    updatedAt: new Date(w.updated_at).toISOString(),
    doneAt: iso(w.done_at),
  };
}
