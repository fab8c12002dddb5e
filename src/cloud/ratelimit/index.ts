import type { CloudModule } from "../module.js";
import { rateLimitMigrations } from "./migrations.js";

export const rateLimitModule: CloudModule = { name: "ratelimit", migrations: rateLimitMigrations };
