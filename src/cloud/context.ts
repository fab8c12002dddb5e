/** What every cloud service is built over: the database, the clock, randomness, limits and a logger. */
import type { Clock } from "../core/clock.js";
import type { CloudDb } from "./db/open.js";
import type { CloudPolicy } from "./policy.js";
import type { Rng } from "./random.js";

/** The subset of Fastify's (pino) logger the services use. */
export interface CloudLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CloudContext {
  readonly db: CloudDb;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly policy: CloudPolicy;
  readonly log: CloudLog;
}

export const silentLog: CloudLog = { info: () => {}, warn: () => {}, error: () => {} };
