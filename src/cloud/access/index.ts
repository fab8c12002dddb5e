/** Door cards in the cloud: kept per account (sealed), installed on phones through the TSM. */
import type { CloudModule } from "../module.js";
import { accessMigrations } from "./migrations.js";
import { accessRoutes } from "./routes.js";

export const accessModule: CloudModule = {
  name: "access",
  migrations: accessMigrations,
  routes: accessRoutes,
};
