import type { Kysely, Migration } from "kysely";

export const issuerMigrations: Record<string, Migration> = {
  "202603010100_issuer_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("issuer_funding_accounts")
        .addColumn("ref", "text", (c) => c.primaryKey())
        .addColumn("bank_code", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("holder", "text", (c) => c.notNull())
        .addColumn("funding_last4", "text", (c) => c.notNull())
        .addColumn("expiry", "text", (c) => c.notNull())
        .addColumn("reserved_phone", "text", (c) => c.notNull())
        .addColumn("currency", "text", (c) => c.notNull())
        .addColumn("available", "bigint", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("issuer_tokens")
        .addColumn("token", "text", (c) => c.primaryKey())
        .addColumn("funding_ref", "text", (c) => c.references("issuer_funding_accounts.ref"))
        .addColumn("par", "text")
        .addColumn("psn", "text", (c) => c.notNull())
        .addColumn("expiry", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("pan_iv", "text", (c) => c.notNull())
        .addColumn("pan_data", "text", (c) => c.notNull())
        .addColumn("pan_tag", "text", (c) => c.notNull())
        .addColumn("funding_last4", "text", (c) => c.notNull())
        .addColumn("dki", "integer", (c) => c.notNull())
        .addColumn("algorithm", "text", (c) => c.notNull())
        .addColumn("device_id", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("limit_per_transaction", "bigint", (c) => c.notNull())
        .addColumn("limit_daily_amount", "bigint", (c) => c.notNull())
        .addColumn("limit_daily_count", "integer", (c) => c.notNull())
        .addColumn("limit_no_cvm", "bigint", (c) => c.notNull())
        .addColumn("atc_highest", "integer", (c) => c.notNull())
        .addColumn("atc_recent", "text", (c) => c.notNull())
        .addColumn("day_date", "text", (c) => c.notNull())
        .addColumn("day_amount", "bigint", (c) => c.notNull())
        .addColumn("day_count", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("issuer_tokens_par").on("issuer_tokens").column("par").execute();
      await db.schema
        .createTable("issuer_authorisations")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("token", "text", (c) => c.notNull().references("issuer_tokens.token"))
        .addColumn("atc", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("response_code", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("authorisation_code", "text")
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("terminal_id", "text", (c) => c.notNull())
        .addColumn("stan", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("issuer_authorisations_token")
        .on("issuer_authorisations")
        .columns(["token", "at"])
        .execute();
      await db.schema
        .createTable("issuer_requests")
        .addColumn("request_key", "text", (c) => c.primaryKey())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("response", "text", (c) => c.notNull())
        .addColumn("posting_id", "text")
        .addColumn("token_last4", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("issuer_api_keys")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("bank_code", "text")
        .addColumn("key_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .execute();
    },
  },
  "202603010300_issuer_reversals": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // What a reversal needs of the original: whose token, how much (SQLite adds one column per statement).
      await db.schema.alterTable("issuer_requests").addColumn("token", "text").execute();
      await db.schema.alterTable("issuer_requests").addColumn("amount", "bigint").execute();
    },
  },
  "202605020100_issuer_offline_clearing": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // Offline approvals cleared: the primary key (token:ATC) makes each clear once, even between racing uploads.
      await db.schema
        .createTable("issuer_clearings")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("clearing_id", "text", (c) => c.notNull().unique())
        .addColumn("token", "text", (c) => c.notNull().references("issuer_tokens.token"))
        .addColumn("atc", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("currency", "text", (c) => c.notNull())
        .addColumn("cryptogram", "text", (c) => c.notNull())
        .addColumn("terminal_id", "text", (c) => c.notNull())
        .addColumn("merchant_id", "text", (c) => c.notNull())
        .addColumn("stan", "integer", (c) => c.notNull())
        .addColumn("captured_at", "bigint", (c) => c.notNull())
        .addColumn("cleared_at", "bigint", (c) => c.notNull())
        .addColumn("shortfall", "bigint", (c) => c.notNull())
        .addColumn("token_status", "text", (c) => c.notNull())
        .addColumn("posting_id", "text")
        .execute();
    },
  },
};
