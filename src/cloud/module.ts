/**
 * A service module: its migrations and, if it faces the network, one Fastify plugin of routes. The
 * service class itself is built in `services.ts` (so modules can depend on one another's services).
 *
 * Adding a module (tsm, tsp, issuer, transit, access) means: a folder with `tables.ts`, `migrations.ts`
 * (later timestamps), `service.ts` (a class over CloudContext), `routes.ts` (a plugin whose every route
 * has a schema) and `index.ts` (its CloudModule); then one line each in `db/schema.ts`, `services.ts`
 * and `modules.ts`.
 */
import type { FastifyPluginAsync } from "fastify";
import type { Migration } from "kysely";
import type { Auth } from "./http/auth.js";
import type { Services } from "./services.js";

export interface RouteDeps {
  services: Services;
  auth: Auth;
}

export interface CloudModule {
  readonly name: string;
  readonly migrations: Readonly<Record<string, Migration>>;
  /** Registered under `/api/v1` as its own encapsulated plugin. */
  readonly routes?: FastifyPluginAsync<RouteDeps>;
}
