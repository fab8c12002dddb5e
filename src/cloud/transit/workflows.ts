/**
 * Refund (退卡) and transfer to another phone (移卡), one workflow each, the states visible to the user:
 *
 *   requested → locked      the TSM turned the card off for the field on its phone (no gate can charge it)
 *             → verified    the card proved its balance and counters (a fresh MAC1, see loads.ts) at the
 *                           phone's next transit sync; its records and offline counter were read alongside
 *             → deleted     the TSM deleted the applet from the SE
 *   refund:     → done      balance (+ the open-card fee when the product refunds it) paid back to the channel
 *                           that paid for the card: float (and deposits) → refunds payable → channel
 *   transfer:   → installing → done   the card installed on the new phone by the TSM, with its number, balance,
 *                           counters and history (standard); Shanghai: number and balance, history and the
 *                           month's spend start over; Shenzhen Tong: a new number with no balance, the old
 *                           balance refunded (MIW-10) — once per calendar year, never back to a phone it was on.
 *   failed:     a transfer's install on the new phone failed: the card is parked in the cloud (refund it).
 *
 * Every step commits with the event that caused it (the TSM's script finishing, the card's proof).
 */
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { LAYOUTS } from "../../transit/index.js";
import { isUniqueViolation, transaction } from "../db/tx.js";
import type { ScriptEvent } from "../tsm/service.js";
import { type Cards, UNUSED_CARD } from "./cards.js";
import { type FundingChannel, transitAccounts } from "./channels.js";
import { type CardRow, TRANSIT_OWNER, type TransitCore, type Trx } from "./core.js";
import { transitErrors } from "./errors.js";
import type { ProofOutcome } from "./loads.js";
import { chinaYearStart } from "./rules.js";
import type { TransitWorkflowsTable, WorkflowKind, WorkflowState } from "./tables.js";
import { type WorkflowView, failureJson, workflowView } from "./views.js";

export type WorkflowRow = TransitWorkflowsTable;

export class Workflows {
  constructor(
    private readonly core: TransitCore,
    private readonly cards: Cards,
  ) {}

  async openFor(trx: Trx, cardId: string): Promise<WorkflowRow | undefined> {
    return trx
      .selectFrom("transit_workflows")
      .selectAll()
      .where("open_card_id", "=", cardId)
      .executeTakeFirst();
  }

  private async update(trx: Trx, wf: WorkflowRow, set: Partial<WorkflowRow>): Promise<WorkflowRow> {
    const now = this.core.now();
    const closing = set.state === "done" || set.state === "failed";
    const next = {
      ...set,
      updated_at: now,
      ...(closing ? { open_card_id: null, done_at: now } : {}),
    };
    await trx.updateTable("transit_workflows").set(next).where("id", "=", wf.id).execute();
    const row = { ...wf, ...next };
    await this.core.publish(trx, wf.account_id, `transit.${wf.kind}.${row.state}`, {
      id: wf.id,
      cardId: wf.card_id,
      state: row.state,
    });
    return row;
  }

  private async insert(trx: Trx, row: WorkflowRow): Promise<void> {
    try {
      await trx.insertInto("transit_workflows").values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw transitErrors.workflowInProgress();
      throw e;
    }
  }

  private newRow(kind: WorkflowKind, card: CardRow, state: WorkflowState): WorkflowRow {
    const now = this.core.now();
    return {
      id: this.core.newId("twf"),
      kind,
      account_id: card.account_id,
      card_id: card.id,
      open_card_id: card.id,
      state,
      source_device_id: card.device_id,
      target_device_id: null,
      new_card_id: null,
      proven_balance: null,
      proven_online_atc: null,
      proven_offline_atc: null,
      records: null,
      refund_balance: 0,
      refund_fee: 0,
      channel: card.channel,
      script_id: null,
      failure: null,
      created_at: now,
      updated_at: now,
      done_at: null,
    };
  }

  /** Turns the card off for the field on its phone: the first step of both workflows. */
  private async lock(trx: Trx, card: CardRow): Promise<string> {
    const script = await this.core.deps.tsm.enqueueRegistry(
      card.device_id!,
      {
        owner: TRANSIT_OWNER,
        ref: card.id,
        aid: fromHex(this.core.product(card).aids.instance),
        action: "deactivate",
      },
      trx,
    );
    return script.id;
  }

  // ---- requests ------------------------------------------------------------------------------------

  async requestRefund(accountId: string, cardId: string): Promise<WorkflowView> {
    return transaction(this.core.ctx.db.db, async (trx) => {
      const card = await this.core.ownCard(trx, accountId, cardId, true);
      if (await this.openFor(trx, card.id)) throw transitErrors.workflowInProgress();
      if (card.state === "parked") {
        // On no SE: its balance is what the card last proved (never more than the cloud's own figure).
        const row = this.newRow("refund", card, "deleted");
        row.proven_balance = Math.min(card.seen_balance ?? card.balance, card.balance);
        await this.insert(trx, row);
        return workflowView(await this.pay(trx, card, row));
      }
      if (card.state !== "active") throw transitErrors.cardNotActive(card.state);
      const row = this.newRow("refund", card, "requested");
      row.script_id = await this.lock(trx, card);
      await this.insert(trx, row);
      await this.core.updateCard(trx, card.id, { state: "refunding" });
      await this.core.publish(trx, accountId, "transit.refund.requested", { id: row.id, cardId: card.id });
      return workflowView(row);
    });
  }

  async requestTransfer(accountId: string, cardId: string, targetDeviceId: string): Promise<WorkflowView> {
    return transaction(this.core.ctx.db.db, async (trx) => {
      const card = await this.core.ownCard(trx, accountId, cardId, true);
      if (await this.openFor(trx, card.id)) throw transitErrors.workflowInProgress();
      if (card.state !== "active") throw transitErrors.cardNotActive(card.state);
      if (card.device_id === targetDeviceId) throw transitErrors.sameDevice();
      const product = this.core.product(card);
      await this.cards.checkRoom(trx, accountId, targetDeviceId, product, true);
      if (product.transfer === "shenzhen-tong") await this.sztRules(trx, card, targetDeviceId);
      const row = this.newRow("transfer", card, "requested");
      row.target_device_id = targetDeviceId;
      row.script_id = await this.lock(trx, card);
      await this.insert(trx, row);
      await this.core.updateCard(trx, card.id, { state: "moving" });
      await this.core.publish(trx, accountId, "transit.transfer.requested", {
        id: row.id,
        cardId: card.id,
        targetDeviceId,
      });
      return workflowView(row);
    });
  }

  /** MIW-10: once per calendar year (China time), never back onto a phone the card (or its line) was on. */
  private async sztRules(trx: Trx, card: CardRow, target: string): Promise<void> {
    const since = chinaYearStart(this.core.now());
    const moves = await trx
      .selectFrom("transit_workflows as w")
      .innerJoin("transit_cards as c", "c.id", "w.card_id")
      .select(["w.source_device_id", "w.created_at", "w.state"])
      .where("c.lineage_id", "=", card.lineage_id)
      .where("w.kind", "=", "transfer")
      .execute();
    if (target === card.origin_device_id || moves.some((m) => m.source_device_id === target))
      throw transitErrors.sztNoMoveBack();
    if (moves.some((m) => m.state !== "failed" && m.created_at >= since))
      throw transitErrors.sztOncePerYear();
  }

  // ---- events --------------------------------------------------------------------------------------

  /** The card proved its balance at the phone's sync: a workflow waiting for it goes on to deletion. */
  async onProof(trx: Trx, card: CardRow, outcome: ProofOutcome): Promise<WorkflowRow | undefined> {
    const wf = await this.openFor(trx, card.id);
    if (!wf || wf.state !== "locked" || card.inflight_load_id) return wf;
    const product = this.core.product(card);
    let balance: number;
    let onlineAtc: number;
    if (outcome.observed) {
      balance = outcome.observed.balance;
      onlineAtc = outcome.observed.onlineAtc;
    } else if (outcome.atMaximum) {
      balance = Math.min(product.maxBalance, card.balance);
      onlineAtc = card.online_atc;
    } else return wf;
    const offlineAtc = Math.max(outcome.offlineAtc ?? 0, card.offline_atc);
    await this.core.updateCard(trx, card.id, { offline_atc: offlineAtc });
    const script = await this.core.deps.tsm.enqueueDelete(
      card.device_id!,
      { owner: TRANSIT_OWNER, ref: card.id, aid: fromHex(product.aids.instance) },
      trx,
    );
    return this.update(trx, wf, {
      state: "verified",
      proven_balance: balance,
      proven_online_atc: onlineAtc,
      proven_offline_atc: offlineAtc,
      records: JSON.stringify(outcome.records.map(toHex)),
      script_id: script.id,
    });
  }

  /** A script a workflow queued finished. */
  async scriptFinished(event: ScriptEvent, trx: Trx, card: CardRow, wf: WorkflowRow): Promise<void> {
    if (event.kind === "registry" && wf.state === "requested") {
      // Off for the field (or not on the SE at all, which the proof will show): ready for the proof.
      await this.update(trx, wf, { state: "locked", script_id: null });
      return;
    }
    if (event.kind === "delete" && wf.state === "verified") {
      if (event.state !== "done") {
        // Still on the phone: back in service.
        await this.core.updateCard(trx, card.id, { state: "active" });
        if (!(await this.core.deviceBound(trx, card.device_id!))) {
          // The phone was removed (the TSM cancelled its scripts): the transit service parks the card next.
          await this.deviceRemoved(trx, wf);
          return;
        }
        await this.core.deps.tsm.enqueueRegistry(
          card.device_id!,
          {
            owner: TRANSIT_OWNER,
            ref: card.id,
            aid: fromHex(this.core.product(card).aids.instance),
            action: "activate",
          },
          trx,
        );
        await this.update(trx, wf, {
          state: "failed",
          failure: failureJson(
            event.error?.code ?? "delete_failed",
            "无法从手机上删除卡片，申请已取消",
            "The card could not be taken off the phone; the request was cancelled",
          ),
        });
        return;
      }
      const deleted = await this.update(trx, wf, { state: "deleted", script_id: null });
      if (wf.kind === "refund") await this.pay(trx, card, deleted);
      else await this.moveIn(trx, card, deleted);
      return;
    }
    if (event.kind === "install" && wf.state === "installing") await this.installed(event, trx, card, wf);
  }

  /** Pays back the proven balance (and a refundable fee) to the card's channel; the card is gone. */
  private async pay(trx: Trx, card: CardRow, wf: WorkflowRow): Promise<WorkflowRow> {
    const balance = wf.proven_balance ?? 0;
    const fee = wf.kind === "refund" && card.fee_refundable === 1 ? card.open_fee : 0;
    const total = balance + fee;
    const meta = { card: card.id, request: wf.id };
    await this.core.post(
      trx,
      `transit.refund:${wf.id}:approve`,
      "transit.refund",
      [
        [transitAccounts.float(card.product_id), balance],
        [card.fee_account, fee],
        [transitAccounts.refundsPayable(), -total],
      ],
      meta,
    );
    await this.core.post(
      trx,
      `transit.refund:${wf.id}:payout`,
      "transit.refund_payout",
      [
        [transitAccounts.refundsPayable(), total],
        [transitAccounts.channel(card.channel as FundingChannel), -total],
      ],
      meta,
    );
    const now = this.core.now();
    card.balance -= balance;
    await this.core.updateCard(trx, card.id, {
      balance: card.balance,
      state: wf.kind === "refund" ? "refunded" : "replaced",
      device_id: null,
      closed_at: now,
    });
    return this.update(trx, wf, {
      refund_balance: balance,
      refund_fee: fee,
      ...(wf.kind === "refund" ? { state: "done" as const } : {}),
    });
  }

  /** The phone the card was on (or a transfer's source) was removed: the workflow cannot go on. */
  async deviceRemoved(trx: Trx, wf: WorkflowRow): Promise<void> {
    await this.update(trx, wf, {
      state: "failed",
      script_id: null,
      failure: failureJson(
        "device_removed",
        "手机已从账户移除，卡片余额保留在云端，可申请退卡",
        "The phone was removed from the account; the card's balance is kept in the cloud (refund it)",
      ),
    });
  }

  /** The card left its old phone: put it on the new one. */
  private async moveIn(trx: Trx, card: CardRow, wf: WorkflowRow): Promise<void> {
    const target = wf.target_device_id!;
    const product = this.core.product(card);
    if (!(await this.core.deviceBound(trx, target))) {
      // The new phone was removed meanwhile: off the old phone, on none — the balance waits in the cloud.
      await this.core.updateCard(trx, card.id, {
        state: "parked",
        device_id: null,
        seen_balance: wf.proven_balance,
        seen_online_atc: wf.proven_online_atc,
        seen_at: this.core.now(),
      });
      await this.update(trx, wf, {
        state: "failed",
        script_id: null,
        failure: failureJson(
          "device_removed",
          "目标手机已从账户移除，卡片余额保留在云端，可申请退卡",
          "The new phone was removed from the account; the card's balance is kept in the cloud (refund it)",
        ),
      });
      return;
    }
    if (product.transfer === "shenzhen-tong") {
      // A new number on the new phone, with nothing on it; the old balance goes back to the user.
      await this.pay(trx, card, wf);
      const identity = await this.cards.nextIdentity(trx, product);
      const now = this.core.now();
      const fresh: CardRow = {
        ...card,
        id: this.core.newId("tcd"),
        device_id: target,
        card_number: identity.cardNumber,
        sequence: identity.sequence,
        asn: "",
        valid_from: identity.validFrom,
        valid_to: identity.validTo,
        state: "issuing",
        balance: 0,
        initial_balance: 0,
        ...UNUSED_CARD,
        open_fee: 0,
        fee_refundable: 0,
        predecessor_id: card.id,
        history_since: now,
        open_request_id: `transfer:${wf.id}`,
        created_at: now,
        updated_at: now,
      };
      fresh.asn = toHex(LAYOUTS[product.system].identityFiles(product, { ...identity }).asn);
      await trx.insertInto("transit_cards").values(fresh).execute();
      const script = await this.cards.queueInstall(trx, fresh, target, undefined);
      await this.update(trx, wf, { state: "installing", new_card_id: fresh.id, script_id: script });
      return;
    }
    const records =
      product.transfer === "standard" && wf.records
        ? (JSON.parse(wf.records) as string[]).map((h) => fromHex(h) as Bytes)
        : [];
    await this.core.updateCard(trx, card.id, { device_id: target });
    const script = await this.cards.queueInstall(trx, { ...card, device_id: target }, target, {
      balance: wf.proven_balance ?? 0,
      onlineAtc: wf.proven_online_atc ?? card.online_atc,
      offlineAtc: wf.proven_offline_atc ?? card.offline_atc,
      records,
    });
    await this.update(trx, wf, { state: "installing", script_id: script });
  }

  private async installed(event: ScriptEvent, trx: Trx, card: CardRow, wf: WorkflowRow): Promise<void> {
    const now = this.core.now();
    const product = this.core.product(card);
    if (event.state === "done") {
      if (wf.new_card_id) {
        await this.core.updateCard(trx, wf.new_card_id, { state: "active", activated_at: now });
      } else {
        await this.core.updateCard(trx, card.id, {
          state: "active",
          activated_at: now,
          // Shanghai: the history and the month's accumulated spend start over on the new phone (MIW-11).
          ...(product.transfer === "shanghai" ? { history_since: now } : {}),
        });
      }
      await this.update(trx, wf, { state: "done", script_id: null });
      return;
    }
    const failure = failureJson(
      event.error?.code ?? event.state,
      "卡片未能装到新手机上",
      "The card could not be installed on the new phone",
    );
    if (wf.new_card_id) {
      await this.core.updateCard(trx, wf.new_card_id, { state: "failed", device_id: null, closed_at: now });
    } else {
      // Off the old phone, not on the new one: its balance waits in the cloud (refund it).
      await this.core.updateCard(trx, card.id, {
        state: "parked",
        device_id: null,
        seen_balance: wf.proven_balance,
        seen_online_atc: wf.proven_online_atc,
        seen_at: now,
      });
    }
    await this.update(trx, wf, { state: "failed", failure });
  }

  // ---- views ---------------------------------------------------------------------------------------

  async get(accountId: string, id: string): Promise<WorkflowView> {
    const row = await this.core.ctx.db.db
      .selectFrom("transit_workflows")
      .selectAll()
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .executeTakeFirst();
    if (!row) throw transitErrors.workflowNotFound();
    return workflowView(row);
  }

  async list(accountId: string, kind: WorkflowKind): Promise<WorkflowView[]> {
    const rows = await this.core.ctx.db.db
      .selectFrom("transit_workflows")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("kind", "=", kind)
      .orderBy("created_at", "desc")
      .limit(100)
      .execute();
    return rows.map(workflowView);
  }
}
