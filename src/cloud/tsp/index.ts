/** The token service module: adding UnionPay cards to phones as tokens, and their lifecycle. */
import type { CloudModule } from "../module.js";
import { tspMigrations } from "./migrations.js";
import { tspRoutes } from "./routes.js";

export const tspModule: CloudModule = { name: "tsp", migrations: tspMigrations, routes: tspRoutes };
