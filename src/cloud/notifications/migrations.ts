import type { Kysely, Migration } from "kysely";

export const notificationsMigrations: Record<string, Migration> = {
  "202601010050_notifications_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("notification_counters")
        .addColumn("account_id", "text", (c) => c.primaryKey())
        .addColumn("last_seq", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("notifications")
        .addColumn("account_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("notifications_pk", ["account_id", "seq"])
        .execute();
    },
  },
};
