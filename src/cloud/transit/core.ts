/**
 * What every part of the transit service shares: the services it stands on, the card row and its lock,
 * the card's keys, ledger postings and events.
 */
import type { Transaction } from "kysely";
import { type Bytes, fromHex } from "../../core/bytes.js";
import {
  type EpurseAlgorithm,
  type MasterKeys,
  type TransitProduct,
  getProduct,
} from "../../transit/index.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import type { DeviceService } from "../devices/service.js";
import { type Executor, forUpdate } from "../db/tx.js";
import type { Ledger } from "../ledger/service.js";
import type { Notifications } from "../notifications/service.js";
import { randomId } from "../random.js";
import type { TsmService } from "../tsm/service.js";
import { TransitBlacklist } from "./blacklist.js";
import type { AccountSpec } from "./channels.js";
import { transitErrors } from "./errors.js";
import type { TransitKeySource } from "./keys.js";
import type { TransitCardsTable } from "./tables.js";
import { CARD_OWNERS } from "../../protocol/tsm-wire.js";

export type Trx = Transaction<Database>;
export type CardRow = TransitCardsTable;

/** The owner name the transit service's TSM scripts carry. */
export const TRANSIT_OWNER = CARD_OWNERS.transit;

export interface TransitDeps {
  ledger: Ledger;
  devices: DeviceService;
  notifications: Notifications;
  tsm: TsmService;
  keys: TransitKeySource;
}

export class TransitCore {
  /** Ledger accounts known to exist (ids never change meaning, so this only saves queries). */
  private readonly opened = new Set<string>();
  readonly blacklist: TransitBlacklist;

  constructor(
    readonly ctx: CloudContext,
    readonly deps: TransitDeps,
  ) {
    this.blacklist = new TransitBlacklist(ctx);
  }

  now(): number {
    return this.ctx.clock.now().getTime();
  }

  newId(prefix: string): string {
    return randomId(this.ctx.rng, prefix);
  }

  product(card: Pick<CardRow, "product_id">): TransitProduct {
    const p = getProduct(card.product_id);
    if (!p) throw new Error(`card of an unknown product ${card.product_id}`);
    return p;
  }

  masters(card: Pick<CardRow, "product_id" | "algorithm">): MasterKeys {
    return this.deps.keys.masterKeys(this.product(card), card.algorithm as EpurseAlgorithm);
  }

  asn(card: Pick<CardRow, "asn">): Bytes {
    return fromHex(card.asn);
  }

  /** Whether this process has seen the ledger account exist (then it still does: accounts are never deleted). */
  known(id: string): boolean {
    return this.opened.has(id);
  }

  /**
   * Opens the ledger accounts a posting will touch. Run before the transaction that posts: opening commits
   * on its own (on SQLite the one connection is the transaction's while it runs).
   */
  async openAccounts(specs: readonly AccountSpec[]): Promise<void> {
    for (const s of specs) {
      if (this.opened.has(s.id)) continue;
      await this.deps.ledger.openAccount(s);
      this.opened.add(s.id);
    }
  }

  /** Posts `entries` (account, signed fen: + debit, − credit), leaving out zeros; nothing when none remain. */
  async post(
    trx: Trx,
    idempotencyKey: string,
    kind: string,
    entries: [string, number][],
    metadata: Record<string, string | number> = {},
  ): Promise<void> {
    const moving = entries.filter(([, amount]) => amount !== 0);
    if (moving.length < 2) return;
    await this.deps.ledger.post(
      {
        idempotencyKey,
        kind,
        entries: moving.map(([account, amount]) => ({ account, amount })),
        metadata,
      },
      trx,
    );
  }

  async cardRow(exec: Executor, id: string, lock = false): Promise<CardRow | undefined> {
    return exec
      .selectFrom("transit_cards")
      .selectAll()
      .where("id", "=", id)
      .$if(lock, (qb) => qb.$call(forUpdate(this.ctx.db.dialect)))
      .executeTakeFirst();
  }

  /** The account's card (locked when asked), or 404 exactly as for an unknown id. */
  async ownCard(exec: Executor, accountId: string, id: string, lock = false): Promise<CardRow> {
    const row = await exec
      .selectFrom("transit_cards")
      .selectAll()
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .$if(lock, (qb) => qb.$call(forUpdate(this.ctx.db.dialect)))
      .executeTakeFirst();
    if (!row) throw transitErrors.cardNotFound();
    return row;
  }

  /** The account's active phone (not removed), locked; 404 for anyone else's. */
  async ownDevice(trx: Trx, accountId: string, deviceId: string) {
    const d = await trx
      .selectFrom("devices")
      .select(["id", "account_id", "model_code", "lost_at", "removed_at"])
      .where("id", "=", deviceId)
      .where("account_id", "=", accountId)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
    if (!d || d.removed_at !== null) throw transitErrors.deviceNotFound();
    return d;
  }

  /** Whether the phone is still bound (a removed phone can never sync again). */
  async deviceBound(trx: Trx, deviceId: string): Promise<boolean> {
    const d = await trx
      .selectFrom("devices")
      .select("removed_at")
      .where("id", "=", deviceId)
      .executeTakeFirst();
    return d !== undefined && d.removed_at === null;
  }

  /** Changes a card; one that leaves every phone for good goes on its product's gate blacklist in the same commit. */
  async updateCard(trx: Trx, id: string, set: Partial<CardRow>): Promise<void> {
    await trx
      .updateTable("transit_cards")
      .set({ ...set, updated_at: this.now() })
      .where("id", "=", id)
      .execute();
    await this.blacklist.listRetired(trx, id, set.state);
  }

  async publish(trx: Trx, accountId: string, type: string, payload: Record<string, unknown>): Promise<void> {
    await this.deps.notifications.publish(accountId, type, payload, trx);
  }
}
