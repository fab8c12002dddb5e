import type { Kysely, Migration } from "kysely";

export const accountsMigrations: Record<string, Migration> = {
  "202601010100_accounts_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("accounts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("phone", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("otp_codes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("phone", "text", (c) => c.notNull())
        .addColumn("code_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("consumed_at", "bigint")
        .execute();
      await db.schema
        .createIndex("otp_codes_phone")
        .on("otp_codes")
        .columns(["phone", "created_at"])
        .execute();
      await db.schema.createIndex("otp_codes_expiry").on("otp_codes").column("expires_at").execute();
      await db.schema
        .createTable("otp_guards")
        .addColumn("phone", "text", (c) => c.primaryKey())
        .addColumn("failures", "integer", (c) => c.notNull())
        .addColumn("last_failure_at", "bigint")
        .addColumn("locked_until", "bigint")
        .addColumn("last_sent_at", "bigint")
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .execute();
      await db.schema.createIndex("sessions_account").on("sessions").column("account_id").execute();
      await db.schema.createIndex("sessions_expiry").on("sessions").column("expires_at").execute();
    },
  },
};
