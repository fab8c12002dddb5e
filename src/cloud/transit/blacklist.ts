/**
 * The blacklist transit operators load into their gates (`GET /api/v1/transit/blacklist`).
 *
 * A card number goes on its product's list, once, in the commit that makes the cloud stop standing behind
 * the card's balance: parked (its phone was removed, or lost and wiped, or a transfer's install failed —
 * the balance is refundable from the cloud, while a removed phone's SE still holds the card), refunded,
 * replaced (a Shenzhen Tong card moved to a new number) or retired (an install that failed or was cancelled:
 * everything paid back, though the SE may hold what landed). `TransitCore.updateCard` calls `listRetired` for
 * each such change, so no path can forget it. Entries are numbered 1, 2, 3… within the product under the
 * product's version row, locked to the commit: they commit in number order, so a gate asking for what came
 * after the version it holds never misses one. Nothing comes off the list (a retired card never goes back on
 * a phone: a transfer needs an active card). A ride a gate takes before it loads the list still clears, paid
 * to the operator by the issuer's shortfall account where the card's money went back (clearing.ts).
 */
import {
  BLACKLIST_PAGE_FORMAT,
  type BlacklistPage,
  type BlacklistReason,
  PRODUCTS,
  type TransitSystem,
  getProduct,
} from "../../transit/index.js";
import { type Executor, forUpdate } from "../db/tx.js";
import { CloudError } from "../errors.js";
import type { CloudContext } from "../context.js";
import type { Trx } from "./core.js";
import type { TransitCardState } from "./tables.js";

/** The card states that put a card on the list, and the reason each gives. */
const RETIRING: Partial<Record<TransitCardState, BlacklistReason>> = {
  parked: "parked",
  refunded: "refunded",
  replaced: "replaced",
  failed: "retired",
};

export const BLACKLIST_LIMITS = { defaultPage: 1000, maxPage: 5000 } as const;

export interface ProductVersion {
  product: string;
  system: TransitSystem;
  version: number;
}

export const blacklistErrors = {
  unknownProduct: () =>
    new CloudError("not_found", "product_not_found", "没有这种交通卡", "No such transit card product"),
  ahead: (version: number) =>
    new CloudError(
      "conflict",
      "blacklist_version_ahead",
      `闸机所持黑名单版本高于云端（当前 ${version}），请从 0 重新下载`,
      `The gate's blacklist is ahead of the cloud's (now ${version}); fetch it again from 0`,
      { version },
    ),
};

export class TransitBlacklist {
  constructor(private readonly ctx: CloudContext) {}

  /** Puts the card on its product's list if `state` retires it and it is not there yet (in the caller's commit). */
  async listRetired(trx: Trx, cardId: string, state: TransitCardState | undefined): Promise<void> {
    const reason = state && RETIRING[state];
    if (!reason) return;
    const card = await trx
      .selectFrom("transit_cards")
      .select(["id", "product_id", "card_number"])
      .where("id", "=", cardId)
      .executeTakeFirstOrThrow();
    // The version row's lock orders the entries of one product; the check under it makes "once" race-free.
    await trx
      .insertInto("transit_blacklist_versions")
      .values({ product_id: card.product_id, version: 0 })
      .onConflict((oc) => oc.column("product_id").doNothing())
      .execute();
    const { version } = await trx
      .selectFrom("transit_blacklist_versions")
      .select("version")
      .where("product_id", "=", card.product_id)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
    const listed = await trx
      .selectFrom("transit_blacklist")
      .select("seq")
      .where("product_id", "=", card.product_id)
      .where("card_number", "=", card.card_number)
      .executeTakeFirst();
    if (listed) return;
    const seq = version + 1;
    await trx
      .insertInto("transit_blacklist")
      .values({
        product_id: card.product_id,
        seq,
        card_number: card.card_number,
        card_id: card.id,
        reason,
        listed_at: this.ctx.clock.now().getTime(),
      })
      .execute();
    await trx
      .updateTable("transit_blacklist_versions")
      .set({ version: seq })
      .where("product_id", "=", card.product_id)
      .execute();
  }

  /** Every catalogue product's version (0 for a product with an empty list). */
  async versions(exec: Executor = this.ctx.db.db): Promise<ProductVersion[]> {
    const rows = await exec.selectFrom("transit_blacklist_versions").selectAll().execute();
    const held = new Map(rows.map((r) => [r.product_id, Number(r.version)]));
    return PRODUCTS.map((p) => ({ product: p.id, system: p.system, version: held.get(p.id) ?? 0 }));
  }

  /** The entries of `productId` after `since`, at most `limit`, in order. */
  async page(
    productId: string,
    since: number,
    limit: number = BLACKLIST_LIMITS.defaultPage,
  ): Promise<BlacklistPage> {
    const product = getProduct(productId);
    if (!product) throw blacklistErrors.unknownProduct();
    const db = this.ctx.db.db;
    const row = await db
      .selectFrom("transit_blacklist_versions")
      .select("version")
      .where("product_id", "=", productId)
      .executeTakeFirst();
    const version = Number(row?.version ?? 0);
    if (since > version) throw blacklistErrors.ahead(version);
    // Read up to the version read above: an entry committed meanwhile waits for the next fetch.
    const rows = await db
      .selectFrom("transit_blacklist")
      .select(["seq", "card_number", "reason", "listed_at"])
      .where("product_id", "=", productId)
      .where("seq", ">", since)
      .where("seq", "<=", version)
      .orderBy("seq")
      .limit(Math.min(Math.max(limit, 1), BLACKLIST_LIMITS.maxPage))
      .execute();
    const next = rows.length > 0 ? Number(rows[rows.length - 1]!.seq) : since;
    return {
      format: BLACKLIST_PAGE_FORMAT,
      product: product.id,
      system: product.system,
      version,
      since,
      next,
      more: next < version,
      entries: rows.map((r) => ({
        seq: Number(r.seq),
        cardNumber: r.card_number,
        reason: r.reason as BlacklistReason,
        listedAt: new Date(Number(r.listed_at)).toISOString(),
      })),
    };
  }
}
