import type { Kysely, Migration } from "kysely";

export const transitMigrations: Record<string, Migration> = {
  "202604010100_transit_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("transit_cards")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("device_id", "text", (c) => c.references("devices.id"))
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("card_number", "text", (c) => c.notNull())
        .addColumn("asn", "text", (c) => c.notNull())
        .addColumn("sequence", "integer", (c) => c.notNull())
        .addColumn("algorithm", "text", (c) => c.notNull())
        .addColumn("valid_from", "text", (c) => c.notNull())
        .addColumn("valid_to", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("balance", "bigint", (c) => c.notNull())
        .addColumn("initial_balance", "bigint", (c) => c.notNull())
        .addColumn("online_atc", "integer", (c) => c.notNull())
        .addColumn("offline_atc", "integer", (c) => c.notNull())
        .addColumn("load_seq", "integer", (c) => c.notNull())
        .addColumn("inflight_load_id", "text")
        .addColumn("seen_balance", "bigint")
        .addColumn("seen_online_atc", "integer")
        .addColumn("seen_at", "bigint")
        .addColumn("open_fee", "bigint", (c) => c.notNull())
        .addColumn("fee_refundable", "integer", (c) => c.notNull())
        .addColumn("fee_account", "text", (c) => c.notNull())
        .addColumn("channel", "text", (c) => c.notNull())
        .addColumn("origin_device_id", "text", (c) => c.notNull())
        .addColumn("predecessor_id", "text")
        .addColumn("lineage_id", "text", (c) => c.notNull())
        .addColumn("history_since", "bigint", (c) => c.notNull())
        .addColumn("open_request_id", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("activated_at", "bigint")
        .addColumn("closed_at", "bigint")
        .addUniqueConstraint("transit_cards_number", ["product_id", "card_number"])
        .addUniqueConstraint("transit_cards_asn", ["product_id", "asn"])
        .addUniqueConstraint("transit_cards_request", ["account_id", "open_request_id"])
        .execute();
      await db.schema.createIndex("transit_cards_device").on("transit_cards").column("device_id").execute();
      await db.schema
        .createIndex("transit_cards_product_asn")
        .on("transit_cards")
        .columns(["asn", "product_id"])
        .execute();

      await db.schema
        .createTable("transit_product_counters")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("next_sequence", "integer", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("transit_topups")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("card_id", "text", (c) => c.notNull().references("transit_cards.id"))
        .addColumn("request_id", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("channel", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("failure", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("completed_at", "bigint")
        .addUniqueConstraint("transit_topups_request", ["account_id", "request_id"])
        .execute();
      await db.schema
        .createIndex("transit_topups_card")
        .on("transit_topups")
        .columns(["card_id", "created_at"])
        .execute();

      await db.schema
        .createTable("transit_loads")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("topup_id", "text", (c) => c.notNull().references("transit_topups.id"))
        .addColumn("card_id", "text", (c) => c.notNull().references("transit_cards.id"))
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("atc", "integer", (c) => c.notNull())
        .addColumn("atc_slot", "integer")
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("terminal", "text", (c) => c.notNull())
        .addColumn("balance_before", "bigint", (c) => c.notNull())
        .addColumn("key_version", "integer", (c) => c.notNull())
        .addColumn("algorithm_id", "integer", (c) => c.notNull())
        .addColumn("random", "text", (c) => c.notNull())
        .addColumn("mac1", "text", (c) => c.notNull())
        .addColumn("date4", "text", (c) => c.notNull())
        .addColumn("time3", "text", (c) => c.notNull())
        .addColumn("mac2", "text", (c) => c.notNull())
        .addColumn("challenge_id", "text", (c) => c.notNull().unique())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("proof", "text")
        .addColumn("tac", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("resolved_at", "bigint")
        // One load per card and online counter value (a reversed one frees its slot).
        .addUniqueConstraint("transit_loads_card_atc", ["card_id", "atc_slot"])
        .execute();
      await db.schema.createIndex("transit_loads_topup").on("transit_loads").column("topup_id").execute();
      await db.schema.createIndex("transit_loads_state").on("transit_loads").column("state").execute();

      await db.schema
        .createTable("transit_challenges")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("card_id", "text", (c) => c.notNull().references("transit_cards.id"))
        .addColumn("purpose", "text", (c) => c.notNull())
        .addColumn("topup_id", "text")
        .addColumn("terminal", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("card_seq", "integer", (c) => c.notNull())
        .addColumn("prove_loads", "text", (c) => c.notNull())
        .addColumn("full", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("answered_at", "bigint")
        .execute();
      await db.schema
        .createIndex("transit_challenges_card")
        .on("transit_challenges")
        .column("card_id")
        .execute();

      await db.schema
        .createTable("transit_workflows")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("card_id", "text", (c) => c.notNull().references("transit_cards.id"))
        .addColumn("open_card_id", "text", (c) => c.unique())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("source_device_id", "text")
        .addColumn("target_device_id", "text")
        .addColumn("new_card_id", "text")
        .addColumn("proven_balance", "bigint")
        .addColumn("proven_online_atc", "integer")
        .addColumn("proven_offline_atc", "integer")
        .addColumn("records", "text")
        .addColumn("refund_balance", "bigint", (c) => c.notNull())
        .addColumn("refund_fee", "bigint", (c) => c.notNull())
        .addColumn("channel", "text", (c) => c.notNull())
        .addColumn("script_id", "text")
        .addColumn("failure", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("done_at", "bigint")
        .execute();
      await db.schema
        .createIndex("transit_workflows_card")
        .on("transit_workflows")
        .columns(["card_id", "created_at"])
        .execute();
      await db.schema
        .createIndex("transit_workflows_account")
        .on("transit_workflows")
        .columns(["account_id", "kind", "created_at"])
        .execute();

      await db.schema
        .createTable("transit_operators")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("transit_uploads")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("operator_id", "text", (c) => c.notNull().references("transit_operators.id"))
        .addColumn("terminal_id", "text", (c) => c.notNull())
        .addColumn("records", "integer", (c) => c.notNull())
        .addColumn("cleared", "integer", (c) => c.notNull())
        .addColumn("duplicates", "integer", (c) => c.notNull())
        .addColumn("rejected", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("transit_clearings")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("operator_id", "text", (c) => c.notNull().references("transit_operators.id"))
        .addColumn("card_id", "text", (c) => c.notNull().references("transit_cards.id"))
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("card_number", "text", (c) => c.notNull())
        .addColumn("card_atc", "integer", (c) => c.notNull())
        .addColumn("psam_terminal", "text", (c) => c.notNull())
        .addColumn("psam_seq", "text", (c) => c.notNull())
        .addColumn("terminal_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("location", "text", (c) => c.notNull())
        .addColumn("tx_type", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("occurred_at", "bigint", (c) => c.notNull())
        .addColumn("tac", "text", (c) => c.notNull())
        .addColumn("outcome", "text", (c) => c.notNull())
        .addColumn("upload_id", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        // A gate record clears once: by card, offline counter and PSAM terminal.
        .addUniqueConstraint("transit_clearings_once", [
          "product_id",
          "card_number",
          "card_atc",
          "psam_terminal",
        ])
        .execute();
      await db.schema
        .createIndex("transit_clearings_card")
        .on("transit_clearings")
        .columns(["card_id", "occurred_at"])
        .execute();
      await db.schema
        .createIndex("transit_clearings_operator")
        .on("transit_clearings")
        .column("operator_id")
        .execute();
    },
  },
  "202605010100_transit_blacklist": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("transit_blacklist_versions")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("version", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("transit_blacklist")
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("card_number", "text", (c) => c.notNull())
        .addColumn("card_id", "text", (c) => c.notNull().references("transit_cards.id"))
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("listed_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("transit_blacklist_pk", ["product_id", "seq"])
        // A card number goes on its product's list once.
        .addUniqueConstraint("transit_blacklist_once", ["product_id", "card_number"])
        .execute();
      // Cards retired before the list existed go on it first, in the order they were retired.
      const retired: {
        id: string;
        product_id: string;
        card_number: string;
        state: string;
        updated_at: unknown;
      }[] = await db
        .selectFrom("transit_cards")
        .select(["id", "product_id", "card_number", "state", "updated_at"])
        .where("state", "in", ["parked", "refunded", "replaced", "failed"])
        .orderBy("updated_at")
        .orderBy("id")
        .execute();
      const versions = new Map<string, number>();
      const listed = new Set<string>();
      for (const c of retired) {
        if (listed.has(`${c.product_id}:${c.card_number}`)) continue;
        listed.add(`${c.product_id}:${c.card_number}`);
        const seq = (versions.get(c.product_id) ?? 0) + 1;
        versions.set(c.product_id, seq);
        await db
          .insertInto("transit_blacklist")
          .values({
            product_id: c.product_id,
            seq,
            card_number: c.card_number,
            card_id: c.id,
            reason: c.state === "failed" ? "retired" : c.state,
            listed_at: Number(c.updated_at),
          })
          .execute();
      }
      for (const [product_id, version] of versions)
        await db.insertInto("transit_blacklist_versions").values({ product_id, version }).execute();
    },
  },
  "202605030100_transit_clearing_shortfall": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // Rides cleared before this paid everything from the float (a negative card balance): shortfall 0.
      for (const table of ["transit_clearings", "transit_uploads"])
        await db.schema
          .alterTable(table)
          .addColumn("shortfall", "bigint", (c) => c.notNull().defaultTo(0))
          .execute();
    },
  },
};
