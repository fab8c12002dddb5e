/**
 * The token service (TSP) for bank cards on phones — the lifecycle half; adding a card is `enrolment.ts`:
 *
 * - The TSM tells us when a card's install landed (card active, token active) or failed; later deletes too.
 * - The user and the issuer suspend, resume and delete; whoever suspended resumes (Thales TSH, emv.md §3);
 *   the wallet suspends every card of a phone reported lost, and the phone wipes them at its next contact
 *   (TSM delete scripts), after which their tokens are deleted for good.
 * - Every authorisation of one of our tokens (and its reversal) is recorded for the card's owner and pushed
 *   to the phone.
 *
 * The funding PAN lives only in the vault (sealed); views show the bank, the kind, the funding card's and the
 * token's last four digits. Every query is scoped by the caller's account (and phone, for a phone's own
 * requests): another account's card answers 404 exactly as an unknown one does.
 */
import type { Transaction } from "kysely";
import { fromHex } from "../../core/bytes.js";
import type { TokenStatus } from "../../emv/issuer/store.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { forUpdate, transaction, type Executor } from "../db/tx.js";
import type { DeviceView } from "../devices/service.js";
import { CloudError } from "../errors.js";
import type { AuthorisationEvent } from "../issuer/service.js";
import { randomId } from "../random.js";
import type { InstanceEvent, ScriptEvent } from "../tsm/service.js";
import { CardEnrolments, type EnrolmentDeps } from "./enrolment.js";
import { cardNotFound, deviceLost } from "./errors.js";
import { TSP_OWNER, type TspPolicy } from "./policy.js";
import type {
  BankCardsTable,
  BankCardTransactionsTable,
  CardStatus,
  SeState,
  SuspendedBy,
} from "./tables.js";
import {
  type BankCardView,
  type CardCaller,
  type CardTransactionView,
  type EnrolmentInput,
  type EnrolmentView,
  type IssuerTokenView,
  type LifecycleAction,
  cardView,
  eventOf,
  issuerTokenView,
  transactionView,
} from "./views.js";

export type {
  BankCardView,
  BankView,
  CardCaller,
  CardTransactionView,
  EnrolmentInput,
  EnrolmentView,
  IssuerTokenView,
  LifecycleAction,
} from "./views.js";

type Trx = Transaction<Database>;

/** The EMVCo token status the issuer enforces for a card state. */
const tokenStatusOf = (s: CardStatus): TokenStatus =>
  s === "active" ? "active" : s === "deleted" ? "deleted" : "suspended";

export class TspService {
  /** Adding cards (enrolment.ts). */
  readonly enrolments: CardEnrolments;

  constructor(
    private readonly ctx: CloudContext,
    private readonly deps: EnrolmentDeps,
  ) {
    this.enrolments = new CardEnrolments(ctx, deps);
    deps.issuer.onAuthorisation((trx, e) => this.recordAuthorisation(trx, e));
    deps.tsm.subscribe(TSP_OWNER, {
      scriptFinished: (event, trx) => this.scriptFinished(event, trx),
      instanceLost: (event, trx) => this.instanceLost(event, trx),
    });
    deps.devices.onLost((trx, device) => this.deviceLost(trx, device));
    deps.devices.onRemoved((trx, device) => this.deviceRemoved(trx, device));
  }

  startEnrolment(caller: CardCaller, input: EnrolmentInput): Promise<EnrolmentView> {
    return this.enrolments.start(caller, input);
  }

  verifyEnrolment(caller: CardCaller, enrolmentId: string, code: string): Promise<BankCardView> {
    return this.enrolments.verify(caller, enrolmentId, code);
  }

  resendCode(caller: CardCaller, enrolmentId: string): Promise<EnrolmentView> {
    return this.enrolments.resendCode(caller, enrolmentId);
  }

  purgeExpired(): Promise<number> {
    return this.enrolments.purgeExpired();
  }

  get policy(): TspPolicy {
    return this.deps.policy;
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  // ---- reading ----------------------------------------------------------------------------------------

  private ownCard(exec: Executor, caller: CardCaller, cardId: string, lock = false) {
    return exec
      .selectFrom("bank_cards")
      .selectAll()
      .where("id", "=", cardId)
      .where("account_id", "=", caller.accountId)
      .$if(caller.deviceId !== undefined, (qb) => qb.where("device_id", "=", caller.deviceId!))
      .$if(lock, (qb) => qb.$call(forUpdate(this.ctx.db.dialect)))
      .executeTakeFirst();
  }

  async list(caller: CardCaller, filter: { deviceId?: string; includeDeleted?: boolean } = {}) {
    const rows = await this.ctx.db.db
      .selectFrom("bank_cards")
      .selectAll()
      .where("account_id", "=", caller.accountId)
      .$if(caller.deviceId !== undefined, (qb) => qb.where("device_id", "=", caller.deviceId!))
      .$if(filter.deviceId !== undefined, (qb) => qb.where("device_id", "=", filter.deviceId!))
      .$if(!filter.includeDeleted, (qb) => qb.where("status", "<>", "deleted"))
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => cardView(r));
  }

  async get(caller: CardCaller, cardId: string, exec: Executor = this.ctx.db.db): Promise<BankCardView> {
    const row = await this.ownCard(exec, caller, cardId);
    if (!row) throw cardNotFound();
    return cardView(row);
  }

  async transactions(caller: CardCaller, cardId: string, limit = 50): Promise<CardTransactionView[]> {
    const card = await this.ownCard(this.ctx.db.db, caller, cardId);
    if (!card) throw cardNotFound();
    const rows = await this.ctx.db.db
      .selectFrom("bank_card_transactions")
      .selectAll()
      .where("card_id", "=", card.id)
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(Math.min(Math.max(1, limit), 100))
      .execute();
    return rows.map((r) => transactionView(r));
  }

  // ---- the user's lifecycle actions ------------------------------------------------------------------

  /** Suspends, resumes or deletes one of the caller's cards (see the file comment for who may resume). */
  async userAction(caller: CardCaller, cardId: string, action: LifecycleAction): Promise<BankCardView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownCard(trx, caller, cardId, true);
      if (!row || row.status === "deleted") throw cardNotFound();
      return this.applyAction(trx, row, action, "user");
    });
  }

  /** Makes a card the phone's default payment card (on the phone at its next sync). */
  async setDefault(caller: CardCaller, cardId: string): Promise<BankCardView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownCard(trx, caller, cardId, true);
      if (!row || row.status === "deleted") throw cardNotFound();
      if (row.status !== "active")
        throw new CloudError(
          "conflict",
          "card_not_active",
          "只有可用的银行卡能设为默认卡",
          "Only an active card can be the default card",
          { status: row.status },
        );
      if (row.is_default === 1) return cardView(row);
      await this.makeDefault(trx, row);
      const view = cardView({ ...row, is_default: 1 });
      await this.deps.notifications.publish(row.account_id, "bank_card.default", eventOf(view), trx);
      return view;
    });
  }

  private async makeDefault(trx: Trx, row: BankCardsTable): Promise<void> {
    await trx
      .updateTable("bank_cards")
      .set({ is_default: 0, updated_at: this.now() })
      .where("device_id", "=", row.device_id)
      .where("id", "<>", row.id)
      .execute();
    await trx
      .updateTable("bank_cards")
      .set({ is_default: 1, updated_at: this.now() })
      .where("id", "=", row.id)
      .execute();
    await this.deps.tsm.enqueueRegistry(
      row.device_id,
      { owner: TSP_OWNER, ref: row.id, aid: fromHex(row.aid), action: "default-payment" },
      trx,
    );
  }

  // ---- the issuer's side -----------------------------------------------------------------------------

  /** The bank's tokens (optionally of one PAR), newest first. */
  async issuerTokens(bankCode: string, par?: string): Promise<IssuerTokenView[]> {
    const rows = await this.ctx.db.db
      .selectFrom("bank_cards")
      .selectAll()
      .where("bank_code", "=", bankCode)
      .$if(par !== undefined, (qb) => qb.where("par", "=", par!))
      .orderBy("created_at", "desc")
      .limit(500)
      .execute();
    return rows.map((r) => issuerTokenView(r));
  }

  /** The issuer suspends, resumes or deletes one of its tokens; another bank's token is 404. */
  async issuerAction(bankCode: string, cardId: string, action: LifecycleAction): Promise<IssuerTokenView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await trx
        .selectFrom("bank_cards")
        .selectAll()
        .where("id", "=", cardId)
        .where("bank_code", "=", bankCode)
        .$call(forUpdate(this.ctx.db.dialect))
        .executeTakeFirst();
      if (!row || row.status === "deleted") throw cardNotFound();
      await this.applyAction(trx, row, action, "issuer");
      const after = await trx
        .selectFrom("bank_cards")
        .selectAll()
        .where("id", "=", row.id)
        .executeTakeFirstOrThrow();
      return issuerTokenView(after);
    });
  }

  /**
   * The lifecycle rules, for `by` = user or issuer:
   *   suspend: active → suspended (by whoever asked); already suspended stays as it is, except that the
   *            issuer's suspension replaces the user's (the user may then no longer resume);
   *   resume:  only the party that suspended; never while the phone is reported lost;
   *   delete:  any state → deleted (final): token deleted, the instance removed from the SE.
   */
  private async applyAction(
    trx: Trx,
    row: BankCardsTable,
    action: LifecycleAction,
    by: "user" | "issuer",
  ): Promise<BankCardView> {
    switch (action) {
      case "suspend": {
        if (row.status === "pending")
          throw new CloudError(
            "conflict",
            "card_not_active",
            "银行卡尚未添加完成",
            "The card is not on the phone yet",
            { status: row.status },
          );
        if (row.status === "suspended" && !(by === "issuer" && row.suspended_by === "user"))
          return cardView(row);
        return this.setStatus(trx, row, "suspended", by, "bank_card.suspended");
      }
      case "resume": {
        if (row.status === "active") return cardView(row);
        if (row.status !== "suspended")
          throw new CloudError(
            "conflict",
            "card_not_suspended",
            "银行卡未被暂停",
            "The card is not suspended",
            {
              status: row.status,
            },
          );
        if (row.suspended_by === "wallet") throw deviceLost();
        if (row.suspended_by !== by)
          throw by === "user"
            ? new CloudError(
                "refused",
                "suspended_by_issuer",
                "该卡已被发卡行暂停，请联系发卡行恢复",
                "The bank suspended this card; only the bank can resume it",
              )
            : new CloudError(
                "refused",
                "suspended_by_user",
                "该卡由持卡人暂停，只能由持卡人恢复",
                "The cardholder suspended this card; only the cardholder can resume it",
              );
        return this.setStatus(trx, row, "active", null, "bank_card.resumed");
      }
      case "delete":
        return this.deleteCard(trx, row, by);
    }
  }

  private async setStatus(
    trx: Trx,
    row: BankCardsTable,
    status: "active" | "suspended",
    by: SuspendedBy | null,
    event: string,
  ): Promise<BankCardView> {
    const now = this.now();
    await trx
      .updateTable("bank_cards")
      .set({ status, suspended_by: by, updated_at: now })
      .where("id", "=", row.id)
      .execute();
    await this.deps.issuer.setTokenStatus(trx, row.token, tokenStatusOf(status));
    const view = cardView({ ...row, status, suspended_by: by, updated_at: now });
    await this.deps.notifications.publish(row.account_id, event, eventOf(view), trx);
    return view;
  }

  /** Deletes a card for good: token deleted at once, the instance removed at the phone's next sync. */
  private async deleteCard(trx: Trx, row: BankCardsTable, by: SuspendedBy): Promise<BankCardView> {
    const now = this.now();
    const onSe = row.se_state === "installing" || row.se_state === "installed";
    const seState: SeState = onSe ? "removing" : row.se_state;
    if (onSe)
      await this.deps.tsm.enqueueDelete(
        row.device_id,
        { owner: TSP_OWNER, ref: row.id, aid: fromHex(row.aid) },
        trx,
      );
    await this.retire(trx, row, seState, now);
    const view = cardView({ ...row, status: "deleted", se_state: seState, is_default: 0, deleted_at: now });
    await this.deps.notifications.publish(row.account_id, "bank_card.deleted", { ...eventOf(view), by }, trx);
    return view;
  }

  /**
   * The card is deleted for good (with `seState` for what is on the SE): no longer the default, its token
   * deleted, and the phone's oldest active card takes the default role it held. A card already deleted
   * keeps its deletion time, and its token and the default were dealt with then.
   */
  private async retire(trx: Trx, row: BankCardsTable, seState: SeState, now: number): Promise<void> {
    await trx
      .updateTable("bank_cards")
      .set({
        status: "deleted",
        se_state: seState,
        is_default: 0,
        deleted_at: row.deleted_at ?? now,
        updated_at: now,
      })
      .where("id", "=", row.id)
      .execute();
    if (row.status === "deleted") return;
    await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
    if (row.is_default === 1) await this.promoteDefault(trx, row.device_id);
  }

  /** After the default card goes, the oldest active card of the phone takes the role. */
  private async promoteDefault(trx: Trx, deviceId: string): Promise<void> {
    const next = await trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("status", "=", "active")
      .orderBy("created_at")
      .orderBy("id")
      .executeTakeFirst();
    if (next) await this.makeDefault(trx, next);
  }

  // ---- hooks: the TSM, the devices, the issuer ------------------------------------------------------

  /** The phone's cards not deleted, locked, in id order. */
  private async liveCardsOn(trx: Trx, deviceId: string): Promise<BankCardsTable[]> {
    return trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("status", "<>", "deleted")
      .orderBy("id")
      .$call(forUpdate(this.ctx.db.dialect))
      .execute();
  }

  private async cardByRef(trx: Trx, ref: string) {
    return trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("id", "=", ref)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
  }

  private async scriptFinished(event: ScriptEvent, trx: Trx): Promise<void> {
    const row = await this.cardByRef(trx, event.ref);
    if (!row) return;
    const now = this.now();
    if (event.kind === "install") {
      if (event.state === "done") {
        if (row.status === "deleted") return; // deleted while installing: its delete script follows
        await trx
          .updateTable("bank_cards")
          .set({ se_state: "installed", status: "active", activated_at: now, updated_at: now })
          .where("id", "=", row.id)
          .execute();
        await this.deps.issuer.setTokenStatus(trx, row.token, "active");
        const view = cardView({ ...row, se_state: "installed", status: "active", activated_at: now });
        await this.deps.notifications.publish(row.account_id, "bank_card.added", eventOf(view), trx);
        return;
      }
      // Failed or cancelled (the phone was reported lost or removed first): nothing is on the SE.
      await this.retire(trx, row, "failed", now);
      await this.deps.notifications.publish(
        row.account_id,
        "bank_card.failed",
        {
          ...eventOf(cardView({ ...row, se_state: "failed", status: "deleted" })),
          error: event.error?.code ?? event.state,
        },
        trx,
      );
      return;
    }
    if (event.kind === "delete") {
      const seState: SeState = event.state === "done" ? "removed" : "failed";
      await trx
        .updateTable("bank_cards")
        .set({ se_state: seState, status: "deleted", deleted_at: row.deleted_at ?? now, updated_at: now })
        .where("id", "=", row.id)
        .execute();
      // A lost phone's cards are suspended until its wipe lands; then their tokens are gone for good.
      if (row.status !== "deleted") await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
      await this.deps.notifications.publish(
        row.account_id,
        event.state === "done" ? "bank_card.removed" : "bank_card.remove_failed",
        eventOf(cardView({ ...row, se_state: seState, status: "deleted" })),
        trx,
      );
    }
  }

  /** The SE no longer has a card we installed (the phone was reset): the token goes too. */
  private async instanceLost(event: InstanceEvent, trx: Trx): Promise<void> {
    const row = await this.cardByRef(trx, event.ref);
    if (!row || row.se_state === "removed") return;
    await this.retire(trx, row, "removed", this.now());
    await this.deps.notifications.publish(
      row.account_id,
      "bank_card.removed",
      eventOf(cardView({ ...row, se_state: "removed", status: "deleted" })),
      trx,
    );
  }

  /** A phone reported lost: every card suspended now, and wiped from its SE at its next contact. */
  private async deviceLost(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    const rows = await this.liveCardsOn(trx, device.id);
    const now = this.now();
    for (const row of rows) {
      await trx
        .updateTable("bank_cards")
        .set({ status: "suspended", suspended_by: "wallet", se_state: "removing", updated_at: now })
        .where("id", "=", row.id)
        .execute();
      await this.deps.issuer.setTokenStatus(trx, row.token, "suspended");
      await this.deps.tsm.enqueueDelete(
        device.id,
        { owner: TSP_OWNER, ref: row.id, aid: fromHex(row.aid) },
        trx,
      );
    }
    if (rows.length > 0)
      await this.deps.notifications.publish(
        device.accountId,
        "bank_cards.suspended",
        { deviceId: device.id, reason: "device_lost", cardIds: rows.map((r) => r.id) },
        trx,
      );
  }

  /** A removed phone cannot sync again: its tokens are deleted (nothing can reach its SE any more). */
  private async deviceRemoved(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    const rows = await this.liveCardsOn(trx, device.id);
    const now = this.now();
    for (const row of rows) {
      await trx
        .updateTable("bank_cards")
        .set({ status: "deleted", se_state: "removed", is_default: 0, deleted_at: now, updated_at: now })
        .where("id", "=", row.id)
        .execute();
      await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
    }
  }

  /** Records an authorisation of one of our tokens (or its reversal) for the card's owner and tells the phone. */
  private async recordAuthorisation(trx: Trx, e: AuthorisationEvent): Promise<void> {
    const card = await trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("token", "=", e.token)
      .executeTakeFirst();
    if (!card) return;
    if (e.kind === "reversal") return this.recordReversal(trx, card, e);
    const row: BankCardTransactionsTable = {
      id: randomId(this.ctx.rng, "btx"),
      card_id: card.id,
      account_id: card.account_id,
      device_id: card.device_id,
      amount: e.request.amount,
      currency: e.request.currency,
      merchant_id: e.request.merchantId,
      merchant_name: e.request.merchantName ?? null,
      terminal_id: e.request.terminalId,
      stan: e.request.stan,
      response_code: e.response.responseCode,
      approved: e.response.approved ? 1 : 0,
      reason: e.response.reason,
      authorisation_code: e.response.authorisationCode ?? null,
      request_key: e.requestKey,
      posting_id: e.postingId,
      at: e.paidAt ? Date.parse(e.paidAt) : this.now(),
      cleared_at: e.clearedAt ? Date.parse(e.clearedAt) : null,
    };
    await trx.insertInto("bank_card_transactions").values(row).execute();
    const t = transactionView(row);
    await this.deps.notifications.publish(
      card.account_id,
      e.response.approved ? "bank_card.payment" : "bank_card.payment_declined",
      {
        cardId: card.id,
        deviceId: card.device_id,
        tokenLast4: card.token_last4,
        transactionId: t.id,
        amount: t.amount,
        currency: t.currency,
        merchantName: t.merchantName,
        approved: t.approved,
        responseCode: t.responseCode,
        reason: t.reason,
        message: e.response.message,
        at: t.at,
        ...(t.clearedAt ? { clearedAt: t.clearedAt } : {}),
      },
      trx,
    );
  }

  /** A reversal shows on the card as the original payment given back (a negative amount). */
  private async recordReversal(trx: Trx, card: BankCardsTable, e: AuthorisationEvent): Promise<void> {
    const original = await trx
      .selectFrom("bank_card_transactions")
      .selectAll()
      .where("request_key", "=", e.requestKey)
      .executeTakeFirst();
    if (!original) return;
    const row: BankCardTransactionsTable = {
      ...original,
      id: randomId(this.ctx.rng, "btx"),
      amount: -original.amount,
      reason: "reversal",
      request_key: `${e.requestKey}:reversal`,
      posting_id: e.postingId,
      at: this.now(),
      cleared_at: null,
    };
    await trx.insertInto("bank_card_transactions").values(row).execute();
    await this.deps.notifications.publish(
      card.account_id,
      "bank_card.payment_reversed",
      {
        cardId: card.id,
        deviceId: card.device_id,
        tokenLast4: card.token_last4,
        transactionId: row.id,
        reverses: original.id,
        amount: original.amount,
        currency: original.currency,
        merchantName: original.merchant_name,
      },
      trx,
    );
  }
}
