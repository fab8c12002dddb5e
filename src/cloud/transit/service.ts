/**
 * The transit service (小米公交 in the cloud): opens cards, tops them up with the online load, refunds them,
 * moves them to another phone, clears the gates' uploads, and answers for the products' floats in the
 * ledger's invariant. The parts live in their own files (cards, topups, loads, workflows, clearing); this
 * class builds them over one context, registers with the ledger and the TSM, and runs the phone's transit
 * sync (the proofs that settle loads in flight and let refunds and transfers go on).
 */
import type { CloudContext } from "../context.js";
import { forUpdate, transaction } from "../db/tx.js";
import type { DevicePrincipal } from "../devices/service.js";
import type { InstanceEvent, ScriptEvent } from "../tsm/service.js";
import type { OperationResult } from "../../protocol/tsm-wire.js";
import { Cards } from "./cards.js";
import { Clearing } from "./clearing.js";
import { type CardRow, TRANSIT_OWNER, TransitCore, type TransitDeps, type Trx } from "./core.js";
import { transitErrors } from "./errors.js";
import { transitFloatSource } from "./float.js";
import { type Challenge, Loads } from "./loads.js";
import { TopUps } from "./topups.js";
import { type CardView } from "./views.js";
import { Workflows } from "./workflows.js";

export interface TransitSync {
  cards: CardView[];
  /** Checks to run on the cards (loads in flight, refunds and transfers waiting for the card's proof). */
  checks: Challenge[];
}

export interface CheckResult {
  card: CardView;
  /** Loads the answers settled. */
  completed: string[];
  reversed: string[];
  /** Whether the card's balance was proven (MAC1). */
  proven: boolean;
}

export interface TransitTransaction {
  time: string;
  kind: "open" | "load" | "purchase" | "entry";
  /** Fen: positive for money onto the card, negative for a purchase. */
  amount: number;
  operator?: string;
  location?: string;
}

export class TransitService {
  readonly core: TransitCore;
  readonly loads: Loads;
  readonly cards: Cards;
  readonly topups: TopUps;
  readonly workflows: Workflows;
  readonly clearing: Clearing;

  constructor(ctx: CloudContext, deps: TransitDeps) {
    this.core = new TransitCore(ctx, deps);
    this.loads = new Loads(this.core);
    this.cards = new Cards(this.core, this.loads);
    this.topups = new TopUps(this.core, this.loads);
    this.workflows = new Workflows(this.core, this.cards);
    this.clearing = new Clearing(this.core);
    deps.ledger.addFloatProofSource(transitFloatSource);
    deps.devices.onLost((trx, device) => this.cards.deviceLost(trx, device.id));
    deps.devices.onRemoved((trx, device) => this.deviceRemoved(trx, device.id));
    deps.tsm.subscribe(TRANSIT_OWNER, {
      scriptFinished: (e, trx) => this.scriptFinished(e, trx),
      instanceLost: (e, trx) => this.instanceLost(e, trx),
    });
  }

  private async scriptFinished(event: ScriptEvent, trx: Trx): Promise<void> {
    const card = await this.core.cardRow(trx, event.ref, true);
    if (!card) return;
    // A workflow's own step (its card, or the new card a Shenzhen Tong transfer installs).
    const wf =
      (await this.workflows.openFor(trx, card.id)) ??
      (await trx
        .selectFrom("transit_workflows")
        .selectAll()
        .where("new_card_id", "=", card.id)
        .where("open_card_id", "is not", null)
        .executeTakeFirst());
    if (wf && wf.script_id === event.scriptId) {
      const subject = wf.card_id === card.id ? card : await this.core.cardRow(trx, wf.card_id, true);
      if (subject) await this.workflows.scriptFinished(event, trx, subject, wf);
      return;
    }
    await this.cards.scriptFinished(event, trx, card);
  }

  /**
   * The phone was removed from its account: it can never sync again, so nothing can take its cards off its SE
   * or have them prove anything. As for a lost phone, each card is parked in the cloud with its balance (a load
   * in flight counted as loaded), to be refunded; a refund or transfer waiting for the phone ends (failed,
   * `device_removed`). The TSM's own hook ran first: what was queued for the phone is cancelled — an install
   * not landed paid back, a lost phone's pending delete undone (the card is active again here).
   */
  private async deviceRemoved(trx: Trx, deviceId: string): Promise<void> {
    const cards = await trx
      .selectFrom("transit_cards")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("state", "in", ["active", "wiping", "refunding", "moving"])
      .orderBy("id")
      .$call(forUpdate(this.core.ctx.db.dialect))
      .execute();
    for (const card of cards) {
      const wf = await this.workflows.openFor(trx, card.id);
      if (wf) await this.workflows.deviceRemoved(trx, wf);
      await this.cards.park(trx, card, deviceId);
    }
  }

  private async instanceLost(event: InstanceEvent, trx: Trx): Promise<void> {
    const card = await this.core.cardRow(trx, event.ref, true);
    if (card) await this.cards.instanceLost(event, trx, card);
  }

  // ---- the phone's transit sync --------------------------------------------------------------------

  /** The phone's cards, and a check for each that has something to prove. */
  async sync(p: DevicePrincipal): Promise<TransitSync> {
    return transaction(this.core.ctx.db.db, async (trx) => {
      const cards = await trx
        .selectFrom("transit_cards")
        .selectAll()
        .where("account_id", "=", p.accountId)
        .where("device_id", "=", p.deviceId)
        .where("state", "in", ["active", "refunding", "moving"])
        .orderBy("created_at")
        .execute();
      const checks: Challenge[] = [];
      for (const card of cards) {
        const wf = await this.workflows.openFor(trx, card.id);
        const waiting = wf?.state === "locked" && wf.source_device_id === p.deviceId;
        if (!card.inflight_load_id && !waiting) continue;
        checks.push(await this.loads.issueChallenge(trx, card, "probe", { amount: 1, full: waiting }));
      }
      return { cards: await this.cards.views(trx, cards), checks };
    });
  }

  /** The card's answers to a check: settles what they prove. */
  async answerCheck(
    p: DevicePrincipal,
    challengeId: string,
    results: readonly OperationResult[],
  ): Promise<CheckResult> {
    return transaction(this.core.ctx.db.db, async (trx) => {
      const ch = await this.loads.challengeRow(trx, challengeId);
      if (!ch || ch.purpose !== "probe") throw transitErrors.challengeNotFound();
      const card: CardRow = await this.core.ownCard(trx, p.accountId, ch.card_id, true);
      if (card.device_id !== p.deviceId) throw transitErrors.notOnThisPhone();
      if (ch.answered_at !== null) throw transitErrors.staleAnswer();
      const outcome = await this.loads.applyChallenge(trx, card, ch, results);
      if (ch.full === 1) await this.workflows.onProof(trx, card, outcome);
      const fresh = (await this.core.cardRow(trx, card.id))!;
      return {
        card: await this.cards.view(trx, fresh),
        completed: outcome.completed,
        reversed: outcome.reversed,
        proven: outcome.observed !== undefined,
      };
    });
  }

  /** The card's history since it starts (a Shanghai transfer starts it over), newest first. */
  async transactions(accountId: string, cardId: string, limit = 100): Promise<TransitTransaction[]> {
    const db = this.core.ctx.db.db;
    const card = await this.core.ownCard(db, accountId, cardId);
    const since = card.history_since;
    const loads = await db
      .selectFrom("transit_loads")
      .select(["amount", "resolved_at"])
      .where("card_id", "=", card.id)
      .where("state", "=", "completed")
      .where("resolved_at", ">=", since)
      .execute();
    const rides = await db
      .selectFrom("transit_clearings")
      .select(["amount", "occurred_at", "operator_id", "location"])
      .where("card_id", "=", card.id)
      .where("occurred_at", ">=", since)
      .execute();
    const out: (TransitTransaction & { at: number })[] = [
      ...loads.map((l) => ({
        at: l.resolved_at!,
        time: new Date(l.resolved_at!).toISOString(),
        kind: "load" as const,
        amount: l.amount,
      })),
      ...rides.map((r) => ({
        at: r.occurred_at,
        time: new Date(r.occurred_at).toISOString(),
        kind: r.amount > 0 ? ("purchase" as const) : ("entry" as const),
        amount: r.amount > 0 ? -r.amount : 0,
        operator: r.operator_id,
        location: r.location,
      })),
    ];
    if (card.initial_balance > 0 && card.created_at >= since)
      out.push({
        at: card.created_at,
        time: new Date(card.created_at).toISOString(),
        kind: "open",
        amount: card.initial_balance,
      });
    return out
      .sort((a, b) => b.at - a.at)
      .slice(0, limit)
      .map(({ at: _at, ...t }) => t);
  }
}
