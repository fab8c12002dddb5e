import { sql, type Kysely, type Migration } from "kysely";

export const tspMigrations: Record<string, Migration> = {
  "202603010200_tsp_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("bank_card_enrolments")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
        .addColumn("bank_code", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("funding_ref", "text", (c) => c.notNull())
        .addColumn("funding_last4", "text", (c) => c.notNull())
        .addColumn("pan_iv", "text", (c) => c.notNull())
        .addColumn("pan_data", "text", (c) => c.notNull())
        .addColumn("pan_tag", "text", (c) => c.notNull())
        .addColumn("expiry", "text", (c) => c.notNull())
        .addColumn("phone_masked", "text", (c) => c.notNull())
        .addColumn("terms_version", "text", (c) => c.notNull())
        .addColumn("code_hmac", "text", (c) => c.notNull())
        .addColumn("code_expires_at", "bigint", (c) => c.notNull())
        .addColumn("last_sent_at", "bigint", (c) => c.notNull())
        .addColumn("failures", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("card_id", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("bank_card_enrolments_account")
        .on("bank_card_enrolments")
        .column("account_id")
        .execute();
      await db.schema
        .createTable("bank_card_otp_guards")
        .addColumn("funding_ref", "text", (c) => c.primaryKey())
        .addColumn("failures", "integer", (c) => c.notNull())
        .addColumn("locked_until", "bigint")
        .execute();
      await db.schema
        .createTable("bank_cards")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
        .addColumn("token", "text", (c) => c.notNull().unique())
        .addColumn("token_last4", "text", (c) => c.notNull())
        .addColumn("par", "text", (c) => c.notNull())
        .addColumn("token_requestor_id", "text", (c) => c.notNull())
        .addColumn("bank_code", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("funding_ref", "text", (c) => c.notNull())
        .addColumn("funding_last4", "text", (c) => c.notNull())
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("suspended_by", "text")
        .addColumn("se_state", "text", (c) => c.notNull())
        .addColumn("is_default", "integer", (c) => c.notNull())
        .addColumn("terms_version", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("activated_at", "bigint")
        .addColumn("deleted_at", "bigint")
        .execute();
      await db.schema.createIndex("bank_cards_account").on("bank_cards").column("account_id").execute();
      await db.schema
        .createIndex("bank_cards_device")
        .on("bank_cards")
        .columns(["device_id", "status"])
        .execute();
      await db.schema.createIndex("bank_cards_par").on("bank_cards").column("par").execute();
      // One live card per funding card per phone.
      await db.schema
        .createIndex("bank_cards_live_funding")
        .on("bank_cards")
        .columns(["device_id", "funding_ref"])
        .unique()
        .where(sql.ref("status"), "<>", "deleted")
        .execute();
      await db.schema
        .createTable("bank_card_transactions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("card_id", "text", (c) => c.notNull().references("bank_cards.id"))
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("device_id", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("currency", "text", (c) => c.notNull())
        .addColumn("merchant_id", "text", (c) => c.notNull())
        .addColumn("merchant_name", "text")
        .addColumn("terminal_id", "text", (c) => c.notNull())
        .addColumn("stan", "integer", (c) => c.notNull())
        .addColumn("response_code", "text", (c) => c.notNull())
        .addColumn("approved", "integer", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("authorisation_code", "text")
        .addColumn("request_key", "text", (c) => c.notNull().unique())
        .addColumn("posting_id", "text")
        .addColumn("at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("bank_card_transactions_card")
        .on("bank_card_transactions")
        .columns(["card_id", "at"])
        .execute();
    },
  },
  "202605030200_tsp_transaction_cleared_at": {
    // An offline payment shows at the time it was made; when it was cleared is kept beside. Rows cleared
    // before this column existed were dated by their clearing: that is what `at` holds for them.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable("bank_card_transactions").addColumn("cleared_at", "bigint").execute();
      await db
        .updateTable("bank_card_transactions")
        .set((eb) => ({ cleared_at: eb.ref("at") }))
        .where("request_key", "like", "clear:%")
        .execute();
    },
  },
};
