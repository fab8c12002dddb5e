/**
 * The cloud's HTTP server. `buildServer(deps)` takes everything from outside (database, clock,
 * randomness, OTP sender, limits) so tests drive it with `app.inject` and a ManualClock; it runs the
 * migrations, registers each module's routes as one plugin under `/api/v1`, and serves the OpenAPI
 * document at `/docs/json` with its UI at `/docs`. No state lives in the process: two instances on one
 * database behave as one.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { sql } from "kysely";
import { systemClock, type Clock } from "../../core/clock.js";
import type { OtpSender } from "../accounts/otp-sender.js";
import type { CloudContext, CloudLog } from "../context.js";
import { migrateToLatest } from "../db/migrate.js";
import type { CloudDb } from "../db/open.js";
import type { CloudModule } from "../module.js";
import { cloudModules } from "../modules.js";
import { resolvePolicy, type CloudPolicy } from "../policy.js";
import { systemRng, type Rng } from "../random.js";
import { createServices, purgeExpired, type ServiceOptions, type Services } from "../services.js";
import { Auth } from "./auth.js";
import { installErrorHandling, withErrors } from "./errors.js";
import { webApp } from "./web.js";

const API_PREFIX = "/api/v1";
const API_VERSION = "1.0.0";
/** Default largest request body: the API takes small JSON documents only. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface ServerDeps {
  db: CloudDb;
  /** Delivers one-time codes; a function receives the server's logger (for the dev log sender). */
  otpSender: OtpSender | ((log: CloudLog) => OtpSender);
  /** Key of the one-time codes' HMAC; the same on every instance. */
  otpPepper: string;
  clock?: Clock;
  rng?: Rng;
  policy?: Partial<CloudPolicy>;
  /** Fastify logger options; off unless given. */
  logger?: FastifyServerOptions["logger"];
  bodyLimit?: number;
  /** Trust X-Forwarded-For from this proxy setting (Fastify `trustProxy`), for per-IP limits. */
  trustProxy?: FastifyServerOptions["trustProxy"];
  modules?: readonly CloudModule[];
  /** Run the periodic purge of expired rows; default true. */
  janitor?: boolean;
  /** The built web app to serve at `/` (default `web/dist`, see http/web.ts); `false` serves none. */
  webRoot?: string | false;
  /** Token service and issuer host options (default: from the environment; see tsp/config.ts, issuer/config.ts). */
  tsp?: ServiceOptions["tsp"];
  issuer?: ServiceOptions["issuer"];
}

declare module "fastify" {
  interface FastifyInstance {
    cloud: Services;
  }
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const modules = deps.modules ?? cloudModules;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: deps.trustProxy ?? false,
    // Strict: no silent type coercion (a number is not a phone number) and no silent dropping of unknown
    // fields. Query parameters are therefore declared as digit strings and converted by the route.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const log: CloudLog = app.log;
  const ctx: CloudContext = {
    db: deps.db,
    clock: deps.clock ?? systemClock,
    rng: deps.rng ?? systemRng,
    policy: resolvePolicy(deps.policy),
    log,
  };
  await migrateToLatest(deps.db, modules);
  const otpSender = typeof deps.otpSender === "function" ? deps.otpSender(log) : deps.otpSender;
  const services = createServices(ctx, {
    otpSender,
    otpPepper: deps.otpPepper,
    tsp: deps.tsp,
    issuer: deps.issuer,
  });
  const auth = new Auth(services);
  app.decorate("cloud", services);

  // JSON only (anything else is 415). Bodies are parsed by Fastify's own prototype-poisoning-safe
  // parser; the raw bytes are kept for the device signature's body digest.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    parseJson(request, raw.toString("utf8"), done);
  });

  installErrorHandling(app);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Tapwallet cloud API",
        description:
          "钱包云端 API / the wallet cloud: accounts, devices, notifications (ledger internal). " +
          "Errors: `{error, message: {zh, en}}`. Device requests are signed: see docs/CLOUD.md.",
        version: API_VERSION,
      },
      components: {
        securitySchemes: {
          session: { type: "http", scheme: "bearer", description: "token from POST /api/v1/auth/session" },
          deviceSignature: {
            type: "apiKey",
            in: "header",
            name: "x-tapwallet-signature",
            description:
              "ECDSA P-256 signature of the canonical request, with x-tapwallet-device-id, " +
              "x-tapwallet-timestamp and x-tapwallet-nonce (scheme TW1-ECDSA-P256-SHA256)",
          },
          apiKey: {
            type: "apiKey",
            in: "header",
            name: "x-api-key",
            description: "an acquirer's or issuer's API key (twk_…), for /api/v1/issuer/… (docs/CLOUD.md)",
          },
          operatorKey: {
            type: "apiKey",
            in: "header",
            name: "x-operator-key",
            description:
              "a transit operator's upload key (twop_…), for /api/v1/transit/clearing/… (docs/CLOUD.md)",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  app.get(
    "/healthz",
    {
      schema: {
        tags: ["ops"],
        summary: "健康检查 / liveness and database reachability",
        response: withErrors({
          200: {
            type: "object",
            required: ["status", "database"],
            properties: { status: { type: "string" }, database: { type: "string" } },
          },
        }),
      },
    },
    async () => {
      await sql`select 1`.execute(deps.db.db);
      return { status: "ok", database: deps.db.dialect };
    },
  );

  for (const m of modules) {
    if (m.routes) await app.register(m.routes, { prefix: API_PREFIX, services, auth });
  }
  if (deps.webRoot !== false) await app.register(webApp, { root: deps.webRoot });

  if (deps.janitor ?? true) {
    const timer = setInterval(() => {
      purgeExpired(services).catch((e: unknown) =>
        log.warn({ err: e instanceof Error ? e.message : "unknown" }, "purge of expired rows failed"),
      );
    }, ctx.policy.janitorIntervalMs);
    timer.unref();
    app.addHook("onClose", async () => clearInterval(timer));
  }

  return app;
}
