/** Door cards in the cloud: kept per account (sealed), installed on phones through the TSM. */
import type { CloudModule } from "../module.js";
import { accessMigrations } from "./migrations.js";
import { accessRoutes } from "./routes.js";

export const accessModule: CloudModule = {
  name: "access",
  migrations: accessMigrations,
  routes: accessRoutes,
};
export {
  ACCESS_OWNER,
  AccessService,
  MAX_DOOR_CARDS_PER_ACCOUNT,
  type DoorCardView,
  type PlacementView,
} from "./service.js";
