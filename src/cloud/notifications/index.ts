import type { CloudModule } from "../module.js";
import { notificationsMigrations } from "./migrations.js";
import { notificationRoutes } from "./routes.js";

export const notificationsModule: CloudModule = {
  name: "notifications",
  migrations: notificationsMigrations,
  routes: notificationRoutes,
};
