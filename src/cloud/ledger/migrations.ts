import { sql, type Kysely, type Migration } from "kysely";

export const ledgerMigrations: Record<string, Migration> = {
  "202601010300_ledger_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("ledger_accounts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("owner_account_id", "text", (c) => c.references("accounts.id"))
        .addColumn("flags", "integer", (c) => c.notNull())
        .addColumn("debits_posted", "bigint", (c) => c.notNull())
        .addColumn("credits_posted", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        // Totals only grow; a balance's sign comes from which total is larger.
        .addCheckConstraint("ledger_accounts_totals", sql`debits_posted >= 0 and credits_posted >= 0`)
        .execute();
      await db.schema
        .createIndex("ledger_accounts_owner")
        .on("ledger_accounts")
        .column("owner_account_id")
        .execute();
      await db.schema
        .createTable("ledger_transfers")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("fingerprint", "text", (c) => c.notNull())
        .addColumn("metadata", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("ledger_entries")
        .addColumn("transfer_id", "text", (c) => c.notNull().references("ledger_transfers.id"))
        .addColumn("account_id", "text", (c) => c.notNull().references("ledger_accounts.id"))
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("ledger_entries_pk", ["transfer_id", "account_id"])
        .addCheckConstraint("ledger_entries_nonzero", sql`amount <> 0`)
        .execute();
      await db.schema
        .createIndex("ledger_entries_account")
        .on("ledger_entries")
        .columns(["account_id", "created_at"])
        .execute();
    },
  },
};
