/** The issuer host module: funding accounts, tokens, authorisations from POS terminals, API keys. */
import type { CloudModule } from "../module.js";
import { issuerMigrations } from "./migrations.js";
import { issuerRoutes } from "./routes.js";

export const issuerModule: CloudModule = {
  name: "issuer",
  migrations: issuerMigrations,
  routes: issuerRoutes,
};
