/** The ledger has no routes of its own: services post to it; money-moving endpoints live in those services. */
import type { CloudModule } from "../module.js";
import { ledgerMigrations } from "./migrations.js";

export const ledgerModule: CloudModule = { name: "ledger", migrations: ledgerMigrations };
