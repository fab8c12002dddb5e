/**
 * Opening a card (开卡) and the card's life on the phone's SE.
 *
 * `open`: the product must be open for new cards (a closed one names its successor), the phone's model must
 * carry it, and the phone may hold one T-Union card (the rule of src/transit, counting cards being issued or
 * moved in). The issuer draws the next number of the product, diversifies the card's keys from the master keys
 * (configuration, never the database) and builds the personalisation with the first top-up as the card's
 * initial balance; in the same transaction the user pays (fee + first top-up: channel → funding → fees or
 * deposits, and float) and the TSM queues the install and the activation. The card is on the phone when the
 * install script lands (`scriptFinished`); if it fails, everything paid goes back.
 */
import { fromHex } from "../../core/bytes.js";
import { chinaIso } from "../../transit/records.js";
import {
  EPURSE_PACKAGE_ID,
  LAYOUTS,
  type CardIdentity,
  type TransitProduct,
  buildPersonalisation,
  canAddTransitCard,
  checkCanOpen,
} from "../../transit/index.js";
import type { DevicePrincipal } from "../devices/service.js";
import { findModel } from "../../protocol/phone-models.js";
import { isUniqueViolation, transaction, type Executor } from "../db/tx.js";
import type { InstanceEvent, ScriptEvent } from "../tsm/service.js";
import { type FundingChannel, isFundingChannel, paymentAccounts, transitAccounts } from "./channels.js";
import { type CardRow, TRANSIT_OWNER, type TransitCore, type Trx } from "./core.js";
import { transitErrors } from "./errors.js";
import type { Loads } from "./loads.js";
import { amountInRange, chinaMonthStart, modelSupports } from "./rules.js";
import { type CardView, cardView } from "./views.js";

export interface OpenRequest {
  requestId: string;
  productId: string;
  firstTopUp: number;
  channel: string;
}

/** Card states that hold (or are about to hold) a place on the phone's SE. */
const ON_SE_STATES = ["issuing", "active", "moving", "refunding"] as const;

const CARD_VALIDITY_YEARS = 10;

/** A new card number's counters and what the cloud has seen of the card: nothing yet, it has never run. */
export const UNUSED_CARD = {
  online_atc: 0,
  offline_atc: 0,
  load_seq: 0,
  inflight_load_id: null,
  seen_balance: null,
  seen_online_atc: null,
  seen_at: null,
  activated_at: null,
  closed_at: null,
} as const satisfies Partial<CardRow>;

export class Cards {
  constructor(
    private readonly core: TransitCore,
    private readonly loads: Loads,
  ) {}

  // ---- views ---------------------------------------------------------------------------------------

  /** Purchases cleared this month (China time), since the card's history starts, per card. */
  async monthSpend(exec: Executor, cards: readonly CardRow[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (cards.length === 0) return out;
    const monthStart = chinaMonthStart(this.core.now());
    const rows = await exec
      .selectFrom("transit_clearings as c")
      .innerJoin("transit_cards as t", "t.id", "c.card_id")
      .select((eb) => ["c.card_id as id", eb.fn.sum<number>("c.amount").as("total")])
      .where(
        "c.card_id",
        "in",
        cards.map((c) => c.id),
      )
      .where("c.occurred_at", ">=", monthStart)
      .whereRef("c.occurred_at", ">=", "t.history_since")
      .groupBy("c.card_id")
      .execute();
    for (const r of rows) out.set(r.id, Number(r.total));
    return out;
  }

  /** Per card: what its cleared rides took beyond what the cloud still held for it (the issuer's shortfall). */
  async shortfalls(exec: Executor, cards: readonly CardRow[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (cards.length === 0) return out;
    const rows = await exec
      .selectFrom("transit_clearings")
      .select((eb) => ["card_id as id", eb.fn.sum<number>("shortfall").as("total")])
      .where(
        "card_id",
        "in",
        cards.map((c) => c.id),
      )
      .where("shortfall", ">", 0)
      .groupBy("card_id")
      .execute();
    for (const r of rows) out.set(r.id, Number(r.total));
    return out;
  }

  async views(exec: Executor, cards: readonly CardRow[]): Promise<CardView[]> {
    const spend = await this.monthSpend(exec, cards);
    const short = await this.shortfalls(exec, cards);
    return cards.map((c) => cardView(this.core, c, spend.get(c.id) ?? 0, short.get(c.id) ?? 0));
  }

  async view(exec: Executor, card: CardRow): Promise<CardView> {
    return (await this.views(exec, [card]))[0]!;
  }

  async list(accountId: string): Promise<CardView[]> {
    const db = this.core.ctx.db.db;
    const rows = await db
      .selectFrom("transit_cards")
      .selectAll()
      .where("account_id", "=", accountId)
      .orderBy("created_at")
      .execute();
    return this.views(db, rows);
  }

  async get(accountId: string, cardId: string): Promise<CardView> {
    const db = this.core.ctx.db.db;
    return this.view(db, await this.core.ownCard(db, accountId, cardId));
  }

  /** Products on (or on their way to) the phone's SE. */
  async productsOn(trx: Trx, deviceId: string): Promise<string[]> {
    const cards = await trx
      .selectFrom("transit_cards")
      .select("product_id")
      .where("device_id", "=", deviceId)
      .where("state", "in", [...ON_SE_STATES])
      .execute();
    const incoming = await trx
      .selectFrom("transit_workflows as w")
      .innerJoin("transit_cards as c", "c.id", "w.card_id")
      .select("c.product_id")
      .where("w.target_device_id", "=", deviceId)
      .where("w.open_card_id", "is not", null)
      .execute();
    return [...cards, ...incoming].map((r) => r.product_id);
  }

  /** The phone's rules for a card of `product` arriving on `deviceId` (open, or moved in). */
  async checkRoom(
    trx: Trx,
    accountId: string,
    deviceId: string,
    product: TransitProduct,
    transfer: boolean,
  ): Promise<void> {
    const device = await this.core.ownDevice(trx, accountId, deviceId);
    if (device.lost_at !== null) throw transitErrors.deviceUnavailable();
    if (!modelSupports(device.model_code, product)) {
      const m = findModel(device.model_code);
      throw transitErrors.modelNotSupported(product, m ?? { zh: device.model_code, en: device.model_code });
    }
    const allowed = canAddTransitCard(await this.productsOn(trx, deviceId), product.id, transfer);
    if (!allowed.ok) throw transitErrors.cannotAdd(allowed.error);
  }

  // ---- issuing -------------------------------------------------------------------------------------

  /** The product's next card number, under the counter row's lock. */
  async nextIdentity(trx: Trx, product: TransitProduct): Promise<CardIdentity & { sequence: number }> {
    const { next_sequence } = await trx
      .insertInto("transit_product_counters")
      .values({ product_id: product.id, next_sequence: 2 })
      .onConflict((oc) =>
        oc.column("product_id").doUpdateSet((eb) => ({
          next_sequence: eb("transit_product_counters.next_sequence", "+", 1),
        })),
      )
      .returning("next_sequence")
      .executeTakeFirstOrThrow();
    const sequence = next_sequence - 1;
    const validFrom = chinaIso(new Date(this.core.now())).slice(0, 10);
    const validTo = `${Number(validFrom.slice(0, 4)) + CARD_VALIDITY_YEARS}${validFrom.slice(4)}`;
    return {
      sequence,
      cardNumber: LAYOUTS[product.system].cardNumberFor(product, sequence),
      validFrom,
      validTo,
      cardType: 1,
    };
  }

  /**
   * Queues the install (with `state` in the personalisation) and the activation of a card on `deviceId`.
   * Returns the install script's id.
   */
  async queueInstall(
    trx: Trx,
    card: CardRow,
    deviceId: string,
    state: Parameters<typeof buildPersonalisation>[4],
  ): Promise<string> {
    const product = this.core.product(card);
    const identity: CardIdentity = {
      cardNumber: card.card_number,
      validFrom: card.valid_from,
      validTo: card.valid_to,
      cardType: 1,
    };
    const perso = buildPersonalisation(product, identity, this.core.masters(card), undefined, state);
    const aid = fromHex(product.aids.instance);
    const owner = { owner: TRANSIT_OWNER, ref: card.id };
    const script = await this.core.deps.tsm.enqueueInstall(
      deviceId,
      {
        ...owner,
        packageId: EPURSE_PACKAGE_ID,
        aid,
        params: { system: product.system, product: product.id },
        personalization: perso.dgis,
        label: { zh: product.name.zh, en: product.name.en },
      },
      trx,
    );
    for (const d of perso.dgis) d.data.fill(0);
    await this.core.deps.tsm.enqueueRegistry(deviceId, { ...owner, aid, action: "activate" }, trx);
    return script.id;
  }

  async open(p: DevicePrincipal, req: OpenRequest): Promise<CardView> {
    if (!isFundingChannel(req.channel)) throw transitErrors.unknownChannel();
    const can = checkCanOpen(req.productId);
    if (!can.ok) throw transitErrors.cannotOpen(can.error);
    const product = can.value;
    if (!amountInRange(product, req.firstTopUp) || req.firstTopUp > product.maxBalance)
      throw transitErrors.amountOutOfRange(product);
    const ch = req.channel;
    await this.core.openAccounts(paymentAccounts(p.accountId, ch, product.id));
    try {
      return await transaction(this.core.ctx.db.db, (trx) => this.openIn(trx, p, req, product, ch));
    } catch (e) {
      // The same request raced in on another connection and won: answer what it made.
      if (!isUniqueViolation(e)) throw e;
      return this.existingOpen(p.accountId, req);
    }
  }

  private async existingOpen(accountId: string, req: OpenRequest): Promise<CardView> {
    const db = this.core.ctx.db.db;
    const row = await db
      .selectFrom("transit_cards")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("open_request_id", "=", req.requestId)
      .executeTakeFirstOrThrow();
    if (row.product_id !== req.productId) throw transitErrors.idempotencyConflict();
    return this.view(db, row);
  }

  private async openIn(
    trx: Trx,
    p: DevicePrincipal,
    req: OpenRequest,
    product: TransitProduct,
    ch: FundingChannel,
  ): Promise<CardView> {
    const existing = await trx
      .selectFrom("transit_cards")
      .selectAll()
      .where("account_id", "=", p.accountId)
      .where("open_request_id", "=", req.requestId)
      .executeTakeFirst();
    if (existing) {
      if (existing.product_id !== req.productId || existing.initial_balance !== req.firstTopUp)
        throw transitErrors.idempotencyConflict();
      return this.view(trx, existing);
    }
    await this.checkRoom(trx, p.accountId, p.deviceId, product, false);
    const identity = await this.nextIdentity(trx, product);
    const now = this.core.now();
    const fee = product.fees.open;
    const feeAccount = product.fees.openRefundable ? transitAccounts.deposits() : transitAccounts.fees();
    const id = this.core.newId("tcd");
    const asn = LAYOUTS[product.system].identityFiles(product, identity).asn;
    const card: CardRow = {
      id,
      account_id: p.accountId,
      device_id: p.deviceId,
      product_id: product.id,
      card_number: identity.cardNumber,
      asn: Buffer.from(asn).toString("hex").toUpperCase(),
      sequence: identity.sequence,
      algorithm: "3des",
      valid_from: identity.validFrom,
      valid_to: identity.validTo,
      state: "issuing",
      balance: req.firstTopUp,
      initial_balance: req.firstTopUp,
      ...UNUSED_CARD,
      open_fee: fee,
      fee_refundable: product.fees.openRefundable ? 1 : 0,
      fee_account: feeAccount,
      channel: ch,
      origin_device_id: p.deviceId,
      predecessor_id: null,
      lineage_id: id,
      history_since: now,
      open_request_id: req.requestId,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto("transit_cards").values(card).execute();
    // The TSM's rows before the ledger's, the order a sync takes them in (it may pay back through the ledger).
    await this.queueInstall(trx, card, p.deviceId, {
      balance: req.firstTopUp,
      onlineAtc: 0,
      offlineAtc: 0,
    });
    const funding = transitAccounts.funding(p.accountId, ch);
    const total = fee + req.firstTopUp;
    const meta = { card: id, product: product.id };
    await this.core.post(
      trx,
      `transit.open:${id}:payin`,
      "transit.payment",
      [
        [transitAccounts.channel(ch), total],
        [funding, -total],
      ],
      meta,
    );
    await this.core.post(
      trx,
      `transit.open:${id}:fund`,
      "transit.open",
      [
        [funding, total],
        [feeAccount, -fee],
        [transitAccounts.float(product.id), -req.firstTopUp],
      ],
      meta,
    );
    await this.core.publish(trx, p.accountId, "transit.card.issuing", {
      cardId: id,
      productId: product.id,
      deviceId: p.deviceId,
    });
    return this.view(trx, card);
  }

  /**
   * An install that could not land (refused by the SE, or cancelled because the phone was lost or removed):
   * everything paid for the card goes back to where it came from.
   */
  async failed(trx: Trx, card: CardRow, error: string): Promise<void> {
    const now = this.core.now();
    const refund = card.balance;
    const fee = card.open_fee;
    const meta = { card: card.id };
    await this.core.post(
      trx,
      `transit.open:${card.id}:unwind`,
      "transit.refund",
      [
        [transitAccounts.float(card.product_id), refund],
        [card.fee_account, fee],
        [transitAccounts.refundsPayable(), -(refund + fee)],
      ],
      meta,
    );
    await this.core.post(
      trx,
      `transit.open:${card.id}:payout`,
      "transit.refund_payout",
      [
        [transitAccounts.refundsPayable(), refund + fee],
        [transitAccounts.channel(card.channel as FundingChannel), -(refund + fee)],
      ],
      meta,
    );
    await this.core.updateCard(trx, card.id, {
      state: "failed",
      balance: 0,
      device_id: null,
      closed_at: now,
    });
    await this.core.publish(trx, card.account_id, "transit.card.failed", {
      cardId: card.id,
      refunded: refund + fee,
      error,
    });
  }

  /**
   * The phone was reported lost: its cards come off it at its next contact (the TSM's delete), their balances
   * kept in the cloud (parked: refund them). A card in the middle of a refund or transfer is left to it.
   */
  async deviceLost(trx: Trx, deviceId: string): Promise<void> {
    const cards = await trx
      .selectFrom("transit_cards")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("state", "=", "active")
      .execute();
    for (const card of cards) {
      await this.core.deps.tsm.enqueueDelete(
        deviceId,
        { owner: TRANSIT_OWNER, ref: card.id, aid: fromHex(this.core.product(card).aids.instance) },
        trx,
      );
      await this.core.updateCard(trx, card.id, { state: "wiping" });
      await this.core.publish(trx, card.account_id, "transit.card.wiping", { cardId: card.id, deviceId });
    }
  }

  /**
   * The card's phone can no longer hold or prove it: the lost phone's card is off its SE, or the phone was
   * removed from the account. Parked in the cloud with its balance (refund it). A load still in flight can
   * never be proven now; it counts as loaded, so its money goes back with the balance whether it landed or not.
   */
  async park(trx: Trx, card: CardRow, deviceId: string): Promise<void> {
    const load = card.inflight_load_id
      ? await trx
          .selectFrom("transit_loads")
          .selectAll()
          .where("id", "=", card.inflight_load_id)
          .executeTakeFirst()
      : undefined;
    if (load && load.state === "authorised") await this.loads.complete(trx, card, load, "wiped");
    await this.core.updateCard(trx, card.id, { state: "parked", device_id: null });
    await this.core.publish(trx, card.account_id, "transit.card.parked", { cardId: card.id, deviceId });
  }

  /** A card-level script finished (its own install and activation; a workflow's scripts go to workflows). */
  async scriptFinished(event: ScriptEvent, trx: Trx, card: CardRow): Promise<void> {
    if (event.kind === "delete" && card.state === "wiping") {
      if (event.state === "done") await this.park(trx, card, event.deviceId);
      else await this.core.updateCard(trx, card.id, { state: "active" });
      return;
    }
    if (event.kind !== "install" || card.state !== "issuing") return;
    if (event.state === "done") {
      const now = this.core.now();
      await this.core.updateCard(trx, card.id, { state: "active", activated_at: now });
      await this.core.publish(trx, card.account_id, "transit.card.opened", {
        cardId: card.id,
        productId: card.product_id,
        deviceId: event.deviceId,
        balance: card.balance,
      });
      return;
    }
    await this.failed(trx, card, event.error?.code ?? event.state);
  }

  /**
   * The SE no longer has the card (the phone was wiped): the card is parked in the cloud with its balance,
   * to be refunded or put on a phone again.
   */
  async instanceLost(event: InstanceEvent, trx: Trx, card: CardRow): Promise<void> {
    if (card.state !== "active") return;
    await this.core.updateCard(trx, card.id, { state: "parked", device_id: null });
    await this.core.publish(trx, card.account_id, "transit.card.parked", {
      cardId: card.id,
      deviceId: event.deviceId,
    });
  }
}
