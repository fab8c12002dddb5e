/**
 * Online loads (圈存) and the proofs that settle them.
 *
 * A load is authorised once its MAC1 checks: the ledger moves the money (funding → float) and the card gets
 * its MAC2. From then on the load is *in flight* (counted in the float invariant) until the card proves what
 * happened:
 *
 *   - completed: the TAC of CREDIT FOR LOAD, or of GET TRANSACTION PROVE for the load's counter value, checks
 *     with the card's TAC key; or a later MAC1 shows the online counter past the load (only our MAC2 moves it);
 *   - reversed: a *fresh* INITIALIZE FOR LOAD — asked for after the load was authorised, with a terminal field
 *     the cloud drew at random — shows the online counter still at the load's value. That INITIALIZE opened a
 *     new session on the card, so the old MAC2 can never be used: the money goes back (float → funding →
 *     channel) and the counter value is free again.
 *
 * A card has at most one load in flight; every load has its own (card, counter) row. Status words and plain
 * data from the phone are never proof of anything that would pay the user.
 */
import { type Bytes, concat, equal, fromHex, toHex } from "../../core/bytes.js";
import { SW } from "../../core/sw.js";
import {
  type LoadInit,
  type LoadRequest,
  authoriseLoadMac,
  parseLoadInit,
  parsePurchaseInit,
  verifyLoadTac,
} from "../../transit/index.js";
import type { OperationResult } from "../../protocol/tsm-wire.js";
import { type CardOperation, RECORD_COUNT, cardOps, parseAnswers } from "./card-commands.js";
import { type FundingChannel, transitAccounts } from "./channels.js";
import type { CardRow, TransitCore, Trx } from "./core.js";
import { MAX_LOAD_ATTEMPTS } from "./rules.js";
import type { ChallengePurpose, LoadProof, TransitChallengesTable, TransitLoadsTable } from "./tables.js";
import { failureJson } from "./views.js";

export type LoadRow = TransitLoadsTable;
export type ChallengeRow = TransitChallengesTable;

/** Our load terminal's number prefix; the last four bytes of each challenge's terminal are random. */
const LOAD_TERMINAL_PREFIX = fromHex("0001");

export interface Challenge {
  id: string;
  cardId: string;
  aid: string;
  operations: CardOperation[];
}

/** What a card's answers to a challenge proved. */
export interface ProofOutcome {
  /** The applet answered its SELECT. */
  selected: boolean;
  /** Balance and online counter under a MAC1 that checked (fresh: asked for with a random terminal). */
  observed?: { balance: number; onlineAtc: number; init: LoadInit; answer: Bytes };
  /** The card said (unauthenticated) that it is at its maximum balance. */
  atMaximum: boolean;
  /** Offline counter as the card reported it (unauthenticated: used only to keep counters from going back). */
  offlineAtc?: number;
  /** Transaction records as the card reported them, newest first. */
  records: Bytes[];
  completed: string[];
  reversed: string[];
}

export class Loads {
  constructor(private readonly core: TransitCore) {}

  /** What the issuer functions need to check a load's MACs and TAC. */
  request(card: CardRow, load: LoadRow): LoadRequest {
    return {
      master: this.core.masters(card),
      asn: this.core.asn(card),
      amount: load.amount,
      terminal: fromHex(load.terminal),
      init: {
        balance: load.balance_before,
        onlineAtc: load.atc,
        keyVersion: load.key_version,
        algorithmId: load.algorithm_id,
        random: fromHex(load.random),
        mac1: fromHex(load.mac1),
      },
    };
  }

  tacChecks(card: CardRow, load: LoadRow, tac: Bytes): boolean {
    return verifyLoadTac(this.request(card, load), fromHex(load.date4), fromHex(load.time3), tac);
  }

  async loadRow(trx: Trx, id: string): Promise<LoadRow | undefined> {
    return trx.selectFrom("transit_loads").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** The load reached the card: the card's balance, counter and the top-up follow. `card` is updated too. */
  async complete(trx: Trx, card: CardRow, load: LoadRow, proof: LoadProof, tac?: Bytes): Promise<void> {
    const now = this.core.now();
    const after = load.balance_before + load.amount;
    await trx
      .updateTable("transit_loads")
      .set({ state: "completed", proof, tac: tac ? toHex(tac) : null, resolved_at: now })
      .where("id", "=", load.id)
      .execute();
    card.balance += load.amount;
    card.online_atc = Math.max(card.online_atc, load.atc + 1);
    if (card.inflight_load_id === load.id) card.inflight_load_id = null;
    if ((card.seen_online_atc ?? -1) <= load.atc + 1) {
      card.seen_balance = after;
      card.seen_online_atc = load.atc + 1;
      card.seen_at = now;
    }
    await this.core.updateCard(trx, card.id, {
      balance: card.balance,
      online_atc: card.online_atc,
      inflight_load_id: card.inflight_load_id,
      seen_balance: card.seen_balance,
      seen_online_atc: card.seen_online_atc,
      seen_at: card.seen_at,
    });
    await trx
      .updateTable("transit_topups")
      .set({ state: "completed", completed_at: now, updated_at: now, failure: null })
      .where("id", "=", load.topup_id)
      .execute();
    await this.core.publish(trx, card.account_id, "transit.topup.completed", {
      topupId: load.topup_id,
      cardId: card.id,
      amount: load.amount,
      balance: after,
    });
  }

  /**
   * The load never reached the card and never can: the money goes back. The top-up may try again with a
   * new load (`retry`), unless it has used its attempts; otherwise it fails.
   */
  async reverse(trx: Trx, card: CardRow, load: LoadRow, retry: boolean): Promise<void> {
    const now = this.core.now();
    await trx
      .updateTable("transit_loads")
      .set({ state: "reversed", atc_slot: null, resolved_at: now })
      .where("id", "=", load.id)
      .execute();
    const topup = await trx
      .selectFrom("transit_topups")
      .selectAll()
      .where("id", "=", load.topup_id)
      .executeTakeFirstOrThrow();
    const ch = topup.channel as FundingChannel;
    const funding = transitAccounts.funding(card.account_id, ch);
    const meta = { load: load.id, card: card.id };
    await this.core.post(
      trx,
      `transit.load:${load.id}:unfund`,
      "transit.load_reversal",
      [
        [transitAccounts.float(card.product_id), load.amount],
        [funding, -load.amount],
      ],
      meta,
    );
    await this.core.post(
      trx,
      `transit.load:${load.id}:payout`,
      "transit.load_reversal",
      [
        [funding, load.amount],
        [transitAccounts.channel(ch), -load.amount],
      ],
      meta,
    );
    if (card.inflight_load_id === load.id) {
      card.inflight_load_id = null;
      await this.core.updateCard(trx, card.id, { inflight_load_id: null });
    }
    const again = retry && topup.attempts < MAX_LOAD_ATTEMPTS;
    await trx
      .updateTable("transit_topups")
      .set(
        again
          ? { state: "pending", updated_at: now }
          : {
              state: "failed",
              updated_at: now,
              failure: failureJson(
                "load_interrupted",
                "充值未能写入卡片，款项已原路退回",
                "The top-up did not reach the card; the payment went back",
              ),
            },
      )
      .where("id", "=", topup.id)
      .execute();
    await this.core.publish(trx, card.account_id, "transit.topup.reversed", {
      topupId: topup.id,
      cardId: card.id,
      amount: load.amount,
      retrying: again,
    });
  }

  /**
   * A challenge for the card: SELECT, GET TRANSACTION PROVE of the load in flight, (moving out: the records and
   * the offline counter,) then INITIALIZE FOR LOAD of `amount` with a random terminal — last, so that a top-up
   * can answer CREDIT FOR LOAD in the same card session.
   */
  async issueChallenge(
    trx: Trx,
    card: CardRow,
    purpose: ChallengePurpose,
    o: { topupId?: string; amount: number; full?: boolean },
  ): Promise<Challenge> {
    const id = this.core.newId("chl");
    const terminal = concat(LOAD_TERMINAL_PREFIX, this.core.ctx.rng.bytes(4));
    const inflight = card.inflight_load_id ? await this.loadRow(trx, card.inflight_load_id) : undefined;
    await trx
      .insertInto("transit_challenges")
      .values({
        id,
        card_id: card.id,
        purpose,
        topup_id: o.topupId ?? null,
        terminal: toHex(terminal),
        amount: o.amount,
        card_seq: card.load_seq,
        prove_loads: JSON.stringify(inflight ? [inflight.id] : []),
        full: o.full ? 1 : 0,
        created_at: this.core.now(),
        answered_at: null,
      })
      .execute();
    const aid = this.core.product(card).aids.instance;
    const operations = [cardOps.select(aid)];
    if (inflight) operations.push(cardOps.proveLoad(inflight.atc + 1));
    if (o.full) {
      for (let n = 1; n <= RECORD_COUNT; n++) operations.push(cardOps.readRecord(n));
      operations.push(cardOps.initPurchase(terminal));
    }
    operations.push(cardOps.initLoad(o.amount, terminal, purpose === "probe"));
    return { id, cardId: card.id, aid, operations };
  }

  async challengeRow(trx: Trx, id: string): Promise<ChallengeRow | undefined> {
    return trx.selectFrom("transit_challenges").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * Settles what a challenge's answers prove (the card row is locked and kept up to date) and marks the
   * challenge answered. Only the load in flight when the challenge was asked for can be settled by it.
   */
  async applyChallenge(
    trx: Trx,
    card: CardRow,
    ch: ChallengeRow,
    results: readonly OperationResult[],
  ): Promise<ProofOutcome> {
    const answers = parseAnswers(results);
    const out: ProofOutcome = { selected: false, atMaximum: false, records: [], completed: [], reversed: [] };
    await trx
      .updateTable("transit_challenges")
      .set({ answered_at: this.core.now() })
      .where("id", "=", ch.id)
      .execute();
    if (answers[0]?.sw !== SW.OK) return out;
    out.selected = true;
    const proveIds = JSON.parse(ch.prove_loads) as string[];
    let i = 1;
    for (const loadId of proveIds) {
      const a = answers[i++];
      const load = await this.loadRow(trx, loadId);
      if (!a || !load || load.state !== "authorised" || a.sw !== SW.OK || a.data.length !== 8) continue;
      const tac = a.data.slice(4, 8);
      if (this.tacChecks(card, load, tac)) {
        await this.complete(trx, card, load, "tac", tac);
        out.completed.push(load.id);
      }
    }
    if (ch.full === 1) {
      for (let n = 0; n < RECORD_COUNT; n++) {
        const a = answers[i++];
        if (a?.sw === SW.OK && a.data.length === 23) out.records.push(a.data);
      }
      const p = answers[i++];
      if (p?.sw === SW.OK) {
        const parsed = parsePurchaseInit(p.data);
        if (parsed.ok) out.offlineAtc = parsed.value.offlineAtc;
      }
    }
    const last = answers[i];
    if (last?.sw === SW.OK) {
      const init = parseLoadInit(last.data);
      if (init.ok) {
        const checked = authoriseLoadMac(
          {
            master: this.core.masters(card),
            asn: this.core.asn(card),
            amount: ch.amount,
            terminal: fromHex(ch.terminal),
            init: init.value,
          },
          new Uint8Array(4),
          new Uint8Array(3),
        );
        if (checked.ok)
          out.observed = {
            balance: init.value.balance,
            onlineAtc: init.value.onlineAtc,
            init: init.value,
            answer: last.data,
          };
      }
    } else if (last?.sw === SW.WRONG_DATA && ch.purpose === "probe") {
      out.atMaximum = true;
    }
    await this.settleInflight(trx, card, ch, out);
    return out;
  }

  private async settleInflight(trx: Trx, card: CardRow, ch: ChallengeRow, out: ProofOutcome): Promise<void> {
    const load = card.inflight_load_id ? await this.loadRow(trx, card.inflight_load_id) : undefined;
    const settles = load && load.state === "authorised" && load.seq <= ch.card_seq;
    const o = out.observed;
    if (o) {
      if (settles && o.onlineAtc === load.atc) {
        // A top-up's own challenge goes on with a new load at once; any other proof ends the top-up.
        await this.reverse(trx, card, load, ch.purpose === "topup" && ch.topup_id === load.topup_id);
        out.reversed.push(load.id);
      } else if (settles && o.onlineAtc > load.atc) {
        await this.complete(trx, card, load, "counter");
        out.completed.push(load.id);
      }
      if (!card.inflight_load_id && o.onlineAtc !== card.online_atc)
        this.core.ctx.log.error(
          { cardId: card.id, proven: card.online_atc, card: o.onlineAtc },
          "transit card's online counter differs from the loads the cloud authorised",
        );
      if ((card.seen_online_atc ?? -1) <= o.onlineAtc) {
        card.seen_balance = o.balance;
        card.seen_online_atc = o.onlineAtc;
        card.seen_at = this.core.now();
        await this.core.updateCard(trx, card.id, {
          seen_balance: card.seen_balance,
          seen_online_atc: card.seen_online_atc,
          seen_at: card.seen_at,
        });
      }
    } else if (out.atMaximum && settles) {
      // Short of the maximum the 1-fen probe would have been accepted: had the load not landed, the card
      // would be below its maximum by at least the load's amount. (Said by the phone, unauthenticated — but
      // a false "landed" could only cost the user, never the float.)
      await this.complete(trx, card, load, "counter");
      out.completed.push(load.id);
    }
  }

  /** The same INITIALIZE answer as the load was authorised on (a retried request after a lost reply). */
  sameInit(load: LoadRow, answer: Bytes): boolean {
    return (
      answer.length === 16 &&
      equal(answer.subarray(8, 12), fromHex(load.random)) &&
      equal(answer.subarray(12, 16), fromHex(load.mac1))
    );
  }
}
