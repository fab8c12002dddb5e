/**
 * Rate limits kept in the database, so every server instance counts the same requests: one row per
 * (bucket, fixed window), incremented atomically with an upsert (`INSERT … ON CONFLICT DO UPDATE …
 * RETURNING`), which both SQLite and PostgreSQL execute as a single atomic statement.
 */
import { sql } from "kysely";
import type { CloudContext } from "../context.js";
import type { Executor } from "../db/tx.js";
import { CloudError } from "../errors.js";
import type { RateLimit } from "../policy.js";

export class RateLimits {
  constructor(private readonly ctx: CloudContext) {}

  /**
   * Counts one hit on `bucket`; throws `rate_limited` (with `retryAfterSeconds`) once the window's limit is
   * passed. The refused hit is counted too, so hammering does not help.
   */
  async hit(bucket: string, rule: RateLimit, exec: Executor = this.ctx.db.db): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    const windowStart = now - (now % rule.windowMs);
    const row = await exec
      .insertInto("rate_limit_windows")
      .values({ bucket, window_start: windowStart, hits: 1, expires_at: windowStart + rule.windowMs })
      .onConflict((oc) =>
        oc
          .columns(["bucket", "window_start"])
          .doUpdateSet({ hits: sql<number>`rate_limit_windows.hits + 1` }),
      )
      .returning("hits")
      .executeTakeFirstOrThrow();
    if (row.hits > rule.limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + rule.windowMs - now) / 1000));
      throw new CloudError(
        "rate_limited",
        "rate_limited",
        "请求过于频繁，请稍后再试",
        "Too many requests; try again later",
        { retryAfterSeconds },
      );
    }
  }

  /** Deletes windows that have ended. */
  async purgeExpired(): Promise<number> {
    const now = this.ctx.clock.now().getTime();
    const r = await this.ctx.db.db
      .deleteFrom("rate_limit_windows")
      .where("expires_at", "<=", now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
