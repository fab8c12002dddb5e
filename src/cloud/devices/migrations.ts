import { sql, type Kysely, type Migration } from "kysely";

export const devicesMigrations: Record<string, Migration> = {
  "202601010200_devices_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("devices")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("model_code", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("region", "text", (c) => c.notNull())
        .addColumn("public_key", "text", (c) => c.notNull())
        .addColumn("key_fingerprint", "text", (c) => c.notNull().unique())
        .addColumn("se_id", "text", (c) => c.notNull())
        .addColumn("app_version", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint")
        .addColumn("lost_at", "bigint")
        .addColumn("removed_at", "bigint")
        .execute();
      await db.schema.createIndex("devices_account").on("devices").column("account_id").execute();
      // One live binding per secure element.
      await db.schema
        .createIndex("devices_active_se")
        .on("devices")
        .column("se_id")
        .unique()
        .where(sql.ref("removed_at"), "is", null)
        .execute();
      await db.schema
        .createTable("signature_nonces")
        .addColumn("key_fingerprint", "text", (c) => c.notNull())
        .addColumn("nonce", "text", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("signature_nonces_pk", ["key_fingerprint", "nonce"])
        .execute();
      await db.schema
        .createIndex("signature_nonces_expiry")
        .on("signature_nonces")
        .column("expires_at")
        .execute();
    },
  },
};
