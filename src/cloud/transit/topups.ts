/**
 * Top-ups (圈存) as the phone drives them:
 *
 *   1. `start` (request id, amount, channel): the top-up is recorded once per request id; the answer is a
 *      challenge — SELECT, GET TRANSACTION PROVE of a load still in flight, INITIALIZE FOR LOAD of the amount
 *      with a random terminal field.
 *   2. `authorise` (the card's answers): settles the load in flight if the answers prove it either way, checks
 *      MAC1, then in one transaction records the load for (card, online counter), posts the payment (channel →
 *      funding → float) and answers CREDIT FOR LOAD with MAC2.
 *   3. `confirm` (the card's answer to CREDIT): a TAC that checks completes the top-up.
 *
 * Every step can be sent again: the same request id gives the same top-up, the same answers the same MAC2, a
 * completed top-up stays completed. A phone that lost track (no reply, phone restarted, card session gone)
 * calls `start` again with the same request id: the new challenge proves what became of the load in flight
 * and, when it never reached the card, a new load is tried — the money is never taken twice.
 */
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { SW } from "../../core/sw.js";
import { authoriseLoadMac } from "../../transit/index.js";
import { bcdNow } from "../../transit/records.js";
import type { DevicePrincipal } from "../devices/service.js";
import { transaction } from "../db/tx.js";
import type { CloudError } from "../errors.js";
import type { OperationResult } from "../../protocol/tsm-wire.js";
import { type CardOperation, cardOps, parseAnswers } from "./card-commands.js";
import { type FundingChannel, isFundingChannel, paymentAccounts, transitAccounts } from "./channels.js";
import type { CardRow, TransitCore, Trx } from "./core.js";
import { transitErrors } from "./errors.js";
import type { Challenge, LoadRow, Loads } from "./loads.js";
import { MAX_LOAD_ATTEMPTS, amountInRange } from "./rules.js";
import type { TransitTopUpsTable } from "./tables.js";
import { type TopUpView, failureJson, topUpView } from "./views.js";

export interface TopUpRequest {
  requestId: string;
  amount: number;
  channel: string;
}

export interface TopUpStep {
  topup: TopUpView;
  /** What to run on the card next (null once the top-up is completed or failed). */
  challenge: Challenge | null;
}

export interface TopUpCredit {
  topup: TopUpView;
  /** CREDIT FOR LOAD to run on the card (null when there is nothing to credit). */
  operations: CardOperation[] | null;
}

export interface TopUpConfirmation {
  topup: TopUpView;
  /** The card's answer did not prove the load: start again with the same request id to settle it. */
  retry: boolean;
}

type Outcome<T> = { value: T } | { error: CloudError };

/** Runs `fn` in a transaction that commits even when it ends in a refusal (proofs already settled stay so). */
async function committed<T>(core: TransitCore, fn: (trx: Trx) => Promise<Outcome<T>>): Promise<T> {
  const r = await transaction(core.ctx.db.db, fn);
  if ("error" in r) throw r.error;
  return r.value;
}

export class TopUps {
  constructor(
    private readonly core: TransitCore,
    private readonly loads: Loads,
  ) {}

  private async topupRow(trx: Trx, accountId: string, id: string): Promise<TransitTopUpsTable> {
    const row = await trx
      .selectFrom("transit_topups")
      .selectAll()
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .executeTakeFirst();
    if (!row) throw transitErrors.topUpNotFound();
    return row;
  }

  private onThisPhone(card: CardRow, p: DevicePrincipal): void {
    if (card.state !== "active") throw transitErrors.cardNotActive(card.state);
    if (card.device_id !== p.deviceId) throw transitErrors.notOnThisPhone();
  }

  async start(p: DevicePrincipal, cardId: string, req: TopUpRequest): Promise<TopUpStep> {
    if (!isFundingChannel(req.channel)) throw transitErrors.unknownChannel();
    if (!this.core.known(transitAccounts.funding(p.accountId, req.channel))) {
      // The first top-up through this channel (in this process): make sure its ledger accounts exist. A
      // card's float exists from its opening on.
      const first = await this.core.ownCard(this.core.ctx.db.db, p.accountId, cardId);
      await this.core.openAccounts(paymentAccounts(p.accountId, req.channel, first.product_id));
    }
    return transaction(this.core.ctx.db.db, async (trx) => {
      const card = await this.core.ownCard(trx, p.accountId, cardId);
      const product = this.core.product(card);
      if (!amountInRange(product, req.amount)) throw transitErrors.amountOutOfRange(product);
      let topup = await trx
        .selectFrom("transit_topups")
        .selectAll()
        .where("account_id", "=", p.accountId)
        .where("request_id", "=", req.requestId)
        .executeTakeFirst();
      if (!topup) {
        this.onThisPhone(card, p);
        const now = this.core.now();
        const row: TransitTopUpsTable = {
          id: this.core.newId("tup"),
          account_id: p.accountId,
          card_id: card.id,
          request_id: req.requestId,
          amount: req.amount,
          channel: req.channel,
          state: "pending",
          attempts: 0,
          failure: null,
          created_at: now,
          updated_at: now,
          completed_at: null,
        };
        // A racing request with the same id that got in first wins; we then read its row.
        const inserted = await trx
          .insertInto("transit_topups")
          .values(row)
          .onConflict((oc) => oc.columns(["account_id", "request_id"]).doNothing())
          .returning("id")
          .executeTakeFirst();
        topup = inserted
          ? row
          : await trx
              .selectFrom("transit_topups")
              .selectAll()
              .where("account_id", "=", p.accountId)
              .where("request_id", "=", req.requestId)
              .executeTakeFirstOrThrow();
      }
      if (topup.card_id !== card.id || topup.amount !== req.amount || topup.channel !== req.channel)
        throw transitErrors.idempotencyConflict();
      if (topup.state === "completed" || topup.state === "failed")
        return { topup: topUpView(topup), challenge: null };
      this.onThisPhone(card, p);
      const challenge = await this.loads.issueChallenge(trx, card, "topup", {
        topupId: topup.id,
        amount: topup.amount,
      });
      return { topup: topUpView(topup), challenge };
    });
  }

  async authorise(
    p: DevicePrincipal,
    topupId: string,
    challengeId: string,
    results: readonly OperationResult[],
  ): Promise<TopUpCredit> {
    return committed(this.core, async (trx) => {
      let topup = await this.topupRow(trx, p.accountId, topupId);
      const card = await this.core.ownCard(trx, p.accountId, topup.card_id, true);
      if (card.device_id !== p.deviceId) return { error: transitErrors.notOnThisPhone() };
      if (topup.state === "completed" || topup.state === "failed")
        return { value: { topup: topUpView(topup), operations: null } };
      const ch = await this.loads.challengeRow(trx, challengeId);
      if (!ch || ch.card_id !== card.id || ch.topup_id !== topup.id)
        return { error: transitErrors.challengeNotFound() };
      if (ch.answered_at !== null) return this.replay(trx, topup, ch.id, results);
      if (card.state !== "active") return { error: transitErrors.cardNotActive(card.state) };

      const proof = await this.loads.applyChallenge(trx, card, ch, results);
      // A load the proof settled may have been this top-up's own.
      if (proof.completed.length + proof.reversed.length > 0)
        topup = await this.topupRow(trx, p.accountId, topupId);
      if (topup.state === "completed" || topup.state === "failed")
        return { value: { topup: topUpView(topup), operations: null } };
      if (!proof.selected) return { error: transitErrors.cardAnswerInvalid("applet_not_selected") };
      if (card.inflight_load_id) return { error: transitErrors.loadInProgress() };
      const product = this.core.product(card);
      const o = proof.observed;
      if (!o) {
        const answers = parseAnswers(results);
        if (answers[answers.length - 1]?.sw === SW.WRONG_DATA) {
          // The card refuses to go over its maximum balance: nothing was taken; the top-up ends here.
          const refusal = transitErrors.overMaxBalance(product, card.seen_balance);
          return { value: await this.fail(trx, topup, refusal.code, refusal.zh, refusal.en) };
        }
        return { error: transitErrors.cardAnswerInvalid("mac1") };
      }
      if (o.onlineAtc !== card.online_atc) return { error: transitErrors.staleAnswer() };
      if (o.balance + topup.amount > product.maxBalance) {
        const refusal = transitErrors.overMaxBalance(product, o.balance);
        return { value: await this.fail(trx, topup, refusal.code, refusal.zh, refusal.en) };
      }
      if (topup.attempts >= MAX_LOAD_ATTEMPTS)
        return {
          value: await this.fail(
            trx,
            topup,
            "too_many_attempts",
            "多次未能写入卡片，充值已取消，款项已原路退回",
            "The card could not be loaded after several tries; the top-up was cancelled and refunded",
          ),
        };

      const now = this.core.now();
      const { date4, time3 } = bcdNow(new Date(now));
      const mac2 = authoriseLoadMac(
        {
          master: this.core.masters(card),
          asn: this.core.asn(card),
          amount: topup.amount,
          terminal: fromHex(ch.terminal),
          init: o.init,
        },
        date4,
        time3,
      );
      if (!mac2.ok) return { error: transitErrors.cardAnswerInvalid(mac2.error) };
      const load: LoadRow = {
        id: this.core.newId("lod"),
        topup_id: topup.id,
        card_id: card.id,
        seq: card.load_seq + 1,
        atc: o.onlineAtc,
        atc_slot: o.onlineAtc,
        amount: topup.amount,
        terminal: ch.terminal,
        balance_before: o.balance,
        key_version: o.init.keyVersion,
        algorithm_id: o.init.algorithmId,
        random: toHex(o.init.random),
        mac1: toHex(o.init.mac1),
        date4: toHex(date4),
        time3: toHex(time3),
        mac2: toHex(mac2.value),
        challenge_id: ch.id,
        state: "authorised",
        proof: null,
        tac: null,
        created_at: now,
        resolved_at: null,
      };
      await trx.insertInto("transit_loads").values(load).execute();
      await this.core.updateCard(trx, card.id, { load_seq: load.seq, inflight_load_id: load.id });
      await trx
        .updateTable("transit_topups")
        .set({ state: "authorised", attempts: topup.attempts + 1, updated_at: now })
        .where("id", "=", topup.id)
        .execute();
      await this.payIn(trx, card, load, topup.channel as FundingChannel);
      return {
        value: {
          topup: topUpView({ ...topup, state: "authorised", attempts: topup.attempts + 1, updated_at: now }),
          operations: [cardOps.credit(date4, time3, mac2.value)],
        },
      };
    });
  }

  /** The user's payment arrives in their funding source and goes onto the product's float. */
  private async payIn(trx: Trx, card: CardRow, load: LoadRow, ch: FundingChannel): Promise<void> {
    const funding = transitAccounts.funding(card.account_id, ch);
    const meta = { load: load.id, card: card.id, topup: load.topup_id };
    await this.core.post(
      trx,
      `transit.load:${load.id}:payin`,
      "transit.payment",
      [
        [transitAccounts.channel(ch), load.amount],
        [funding, -load.amount],
      ],
      meta,
    );
    await this.core.post(
      trx,
      `transit.load:${load.id}:fund`,
      "transit.load",
      [
        [funding, load.amount],
        [transitAccounts.float(card.product_id), -load.amount],
      ],
      meta,
    );
  }

  /** A challenge answered before: the same INITIALIZE answer gets the same CREDIT FOR LOAD again. */
  private async replay(
    trx: Trx,
    topup: TransitTopUpsTable,
    challengeId: string,
    results: readonly OperationResult[],
  ): Promise<Outcome<TopUpCredit>> {
    const load = await trx
      .selectFrom("transit_loads")
      .selectAll()
      .where("challenge_id", "=", challengeId)
      .executeTakeFirst();
    const answers = parseAnswers(results);
    const last = answers[answers.length - 1];
    if (load && load.state === "authorised" && last?.sw === SW.OK && this.loads.sameInit(load, last.data))
      return {
        value: {
          topup: topUpView(topup),
          operations: [cardOps.credit(fromHex(load.date4), fromHex(load.time3), fromHex(load.mac2))],
        },
      };
    return { error: transitErrors.staleAnswer() };
  }

  private async fail(
    trx: Trx,
    topup: TransitTopUpsTable,
    code: string,
    zh: string,
    en: string,
  ): Promise<TopUpCredit> {
    const now = this.core.now();
    const failure = failureJson(code, zh, en);
    await trx
      .updateTable("transit_topups")
      .set({ state: "failed", failure, updated_at: now })
      .where("id", "=", topup.id)
      .execute();
    return { topup: topUpView({ ...topup, state: "failed", failure, updated_at: now }), operations: null };
  }

  async confirm(
    p: DevicePrincipal,
    topupId: string,
    results: readonly OperationResult[],
  ): Promise<TopUpConfirmation> {
    return transaction(this.core.ctx.db.db, async (trx) => {
      const topup = await this.topupRow(trx, p.accountId, topupId);
      if (topup.state === "completed" || topup.state === "failed")
        return { topup: topUpView(topup), retry: false };
      const card = await this.core.ownCard(trx, p.accountId, topup.card_id, true);
      if (card.device_id !== p.deviceId) throw transitErrors.notOnThisPhone();
      const load = card.inflight_load_id ? await this.loads.loadRow(trx, card.inflight_load_id) : undefined;
      const answer = parseAnswers(results)[0];
      if (load && load.topup_id === topup.id && answer?.sw === SW.OK && answer.data.length === 4) {
        const tac: Bytes = answer.data;
        if (this.loads.tacChecks(card, load, tac)) {
          await this.loads.complete(trx, card, load, "tac", tac);
          const now = this.core.now();
          return {
            topup: topUpView({
              ...topup,
              state: "completed",
              completed_at: now,
              updated_at: now,
              failure: null,
            }),
            retry: false,
          };
        }
      }
      return { topup: topUpView(topup), retry: true };
    });
  }

  async get(accountId: string, topupId: string): Promise<TopUpView> {
    return transaction(this.core.ctx.db.db, async (trx) =>
      topUpView(await this.topupRow(trx, accountId, topupId)),
    );
  }

  async list(accountId: string, cardId: string, limit = 50): Promise<TopUpView[]> {
    await this.core.ownCard(this.core.ctx.db.db, accountId, cardId);
    const rows = await this.core.ctx.db.db
      .selectFrom("transit_topups")
      .selectAll()
      .where("card_id", "=", cardId)
      .where("account_id", "=", accountId)
      .orderBy("created_at", "desc")
      .limit(limit)
      .execute();
    return rows.map(topUpView);
  }
}
