/**
 * Notifications: events stored per account with a cursor. Services publish inside their own
 * transactions (an event exists exactly when the change it reports committed); readers ask for events
 * after a cursor, from any server instance.
 */
import { sql } from "kysely";
import type { CloudContext } from "../context.js";
import { transaction, type Executor } from "../db/tx.js";

export interface NotificationEvent {
  /** Position in the account's stream: 1, 2, 3… */
  seq: number;
  /** Dotted name, e.g. `device.lost`. */
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

export const MAX_PAGE = 100;

export class Notifications {
  constructor(private readonly ctx: CloudContext) {}

  /** Appends an event to the account's stream (in `exec`'s transaction if it is one); returns its number. */
  async publish(
    accountId: string,
    type: string,
    payload: Record<string, unknown>,
    exec: Executor = this.ctx.db.db,
  ): Promise<number> {
    return transaction(exec, async (trx) => {
      // The upsert takes the counter row's lock (PostgreSQL) until commit: events of one account commit
      // in number order. SQLite's single writer gives the same.
      const { last_seq: seq } = await trx
        .insertInto("notification_counters")
        .values({ account_id: accountId, last_seq: 1 })
        .onConflict((oc) =>
          oc.column("account_id").doUpdateSet({ last_seq: sql<number>`notification_counters.last_seq + 1` }),
        )
        .returning("last_seq")
        .executeTakeFirstOrThrow();
      await trx
        .insertInto("notifications")
        .values({
          account_id: accountId,
          seq,
          type,
          payload: JSON.stringify(payload),
          created_at: this.ctx.clock.now().getTime(),
        })
        .execute();
      return seq;
    });
  }

  /** Events after `after` (0 = from the start), oldest first, at most `limit`. */
  async list(accountId: string, after: number, limit = MAX_PAGE): Promise<NotificationEvent[]> {
    const rows = await this.ctx.db.db
      .selectFrom("notifications")
      .select(["seq", "type", "payload", "created_at"])
      .where("account_id", "=", accountId)
      .where("seq", ">", after)
      .orderBy("seq")
      .limit(Math.min(Math.max(1, limit), MAX_PAGE))
      .execute();
    return rows.map((r) => ({
      seq: r.seq,
      type: r.type,
      payload: JSON.parse(r.payload) as Record<string, unknown>,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** The account's latest event number (0 if none): a new stream can start from here. */
  async latest(accountId: string): Promise<number> {
    const row = await this.ctx.db.db
      .selectFrom("notification_counters")
      .select("last_seq")
      .where("account_id", "=", accountId)
      .executeTakeFirst();
    return row?.last_seq ?? 0;
  }
}
