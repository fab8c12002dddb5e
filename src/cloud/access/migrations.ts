import type { Kysely, Migration } from "kysely";

export const accessMigrations: Record<string, Migration> = {
  "202602010200_access_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("access_cards")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("uid", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("sak", "integer", (c) => c.notNull())
        .addColumn("atqa", "text", (c) => c.notNull())
        .addColumn("format", "text", (c) => c.notNull())
        .addColumn("image_sealed", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("deleted_at", "bigint")
        .execute();
      await db.schema.createIndex("access_cards_account").on("access_cards").column("account_id").execute();
      await db.schema
        .createTable("access_placements")
        .addColumn("card_id", "text", (c) => c.notNull().references("access_cards.id"))
        .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("script_id", "text")
        .addColumn("error", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("access_placements_pk", ["card_id", "device_id"])
        .execute();
      await db.schema
        .createIndex("access_placements_device_aid")
        .on("access_placements")
        .columns(["device_id", "aid"])
        .unique()
        .execute();
    },
  },
};
