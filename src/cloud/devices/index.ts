import type { CloudModule } from "../module.js";
import { devicesMigrations } from "./migrations.js";
import { deviceRoutes } from "./routes.js";

export const devicesModule: CloudModule = {
  name: "devices",
  migrations: devicesMigrations,
  routes: deviceRoutes,
};
