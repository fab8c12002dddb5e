/** The TSM module: keys of each SE, its view of each SE, the script queue and the phone's sync sessions. */
import type { CloudModule } from "../module.js";
import { tsmMigrations } from "./migrations.js";
import { tsmRoutes } from "./routes.js";

export const tsmModule: CloudModule = { name: "tsm", migrations: tsmMigrations, routes: tsmRoutes };

export type { RelayHandler } from "./service.js";
