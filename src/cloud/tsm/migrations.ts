import { type Kysely, type Migration, sql } from "kysely";

export const tsmMigrations: Record<string, Migration> = {
  "202602010100_tsm_init": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("tsm_secure_elements")
        .addColumn("se_id", "text", (c) => c.primaryKey())
        .addColumn("key_version", "integer", (c) => c.notNull())
        .addColumn("keys_sealed", "text", (c) => c.notNull())
        .addColumn("next_seq", "integer", (c) => c.notNull())
        .addColumn("enrolled_at", "bigint", (c) => c.notNull())
        .addColumn("last_status_at", "bigint")
        .addColumn("registry_report", "text")
        .addColumn("registry_reported_at", "bigint")
        .execute();
      await db.schema
        .createTable("tsm_instances")
        .addColumn("se_id", "text", (c) => c.notNull().references("tsm_secure_elements.se_id"))
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("package_id", "text")
        .addColumn("lifecycle", "integer")
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("owner", "text")
        .addColumn("ref", "text")
        .addColumn("label", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("tsm_instances_pk", ["se_id", "aid"])
        .execute();
      await db.schema
        .createTable("tsm_scripts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("se_id", "text", (c) => c.notNull().references("tsm_secure_elements.se_id"))
        .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
        .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id"))
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("owner", "text", (c) => c.notNull())
        .addColumn("ref", "text", (c) => c.notNull())
        .addColumn("spec_sealed", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("session_id", "text")
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("error", "text")
        .addColumn("result", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("finished_at", "bigint")
        .addUniqueConstraint("tsm_scripts_se_seq", ["se_id", "seq"])
        .execute();
      await db.schema
        .createIndex("tsm_scripts_state")
        .on("tsm_scripts")
        .columns(["se_id", "state"])
        .execute();
      await db.schema.createIndex("tsm_scripts_owner").on("tsm_scripts").columns(["owner", "ref"]).execute();
      await db.schema
        .createTable("tsm_sessions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("se_id", "text", (c) => c.notNull().references("tsm_secure_elements.se_id"))
        .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
        .addColumn("phase", "text", (c) => c.notNull())
        .addColumn("step", "integer", (c) => c.notNull())
        .addColumn("host_challenge", "text", (c) => c.notNull())
        .addColumn("iu_answer", "text")
        .addColumn("state_sealed", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("outcome", "text")
        .addColumn("closed_at", "bigint")
        .execute();
      await db.schema
        .createIndex("tsm_sessions_se")
        .on("tsm_sessions")
        .columns(["se_id", "closed_at"])
        .execute();
    },
  },
  "202605010200_tsm_instance_binding": {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable("tsm_instances").addColumn("device_id", "text").execute();
      // Each instance belongs to the binding whose install put it there (unknown ones: to no one yet).
      await sql`
        UPDATE tsm_instances SET device_id = (
          SELECT s.device_id FROM tsm_scripts s
          WHERE s.se_id = tsm_instances.se_id AND s.aid = tsm_instances.aid
            AND s.kind = 'install' AND s.state = 'done'
          ORDER BY s.seq DESC LIMIT 1
        )`.execute(db);
    },
  },
};
