import type { Kysely, Migration } from "kysely";

export const rateLimitMigrations: Record<string, Migration> = {
  "202601010000_ratelimit_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("rate_limit_windows")
        .addColumn("bucket", "text", (c) => c.notNull())
        .addColumn("window_start", "bigint", (c) => c.notNull())
        .addColumn("hits", "integer", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("rate_limit_windows_pk", ["bucket", "window_start"])
        .execute();
      await db.schema
        .createIndex("rate_limit_windows_expiry")
        .on("rate_limit_windows")
        .column("expires_at")
        .execute();
    },
  },
};
