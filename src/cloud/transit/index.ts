import type { CloudModule } from "../module.js";
import { transitMigrations } from "./migrations.js";
import { transitRoutes } from "./routes.js";

export const transitModule: CloudModule = {
  name: "transit",
  migrations: transitMigrations,
  routes: transitRoutes,
};
