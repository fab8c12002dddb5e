/**
 * Migrations run at start. Each module brings its own, named `YYYYMMDDhhmm_<module>_<what>`; Kysely's
 * Migrator runs them in name order and refuses to run one older than the last applied (so a module
 * added later takes a later timestamp). On PostgreSQL the Migrator holds an advisory lock, so several
 * instances starting together migrate once.
 */
import { Migrator, type Migration, type MigrationResultSet } from "kysely";
import type { CloudModule } from "../module.js";
import type { CloudDb } from "./open.js";

export function collectMigrations(modules: readonly CloudModule[]): Record<string, Migration> {
  const all: Record<string, Migration> = {};
  for (const m of modules) {
    for (const [name, migration] of Object.entries(m.migrations)) {
      if (Object.hasOwn(all, name)) throw new Error(`migration name used twice: ${name}`);
      if (!/^\d{12}_[a-z0-9]+_[a-z0-9_]+$/.test(name))
        throw new Error(`migration name not YYYYMMDDhhmm_<module>_<what>: ${name}`);
      all[name] = migration;
    }
  }
  // In time order whatever the modules' order (Kysely sorts too; this keeps listings and checks honest).
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function migrateToLatest(cloud: CloudDb, modules: readonly CloudModule[]): Promise<string[]> {
  const migrations = collectMigrations(modules);
  const migrator = new Migrator({
    db: cloud.db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: cloud.schema,
  });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
