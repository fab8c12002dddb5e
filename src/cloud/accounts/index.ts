import type { CloudModule } from "../module.js";
import { accountsMigrations } from "./migrations.js";
import { accountRoutes } from "./routes.js";

export const accountsModule: CloudModule = {
  name: "accounts",
  migrations: accountsMigrations,
  routes: accountRoutes,
};
