/**
 * The phone and terminal simulator (docs/SIMULATOR.md): virtual phones a signed-in user makes and drives
 * from the web app, and the terminals they are held to. It is the phones' and terminals' side of the world —
 * its state is theirs, on the simulator's disk under DATA_DIR (phones/, terminals/) — and it reaches the
 * cloud only as phones and terminals do, over HTTP. The cloud still holds no state outside its database.
 */
import type { FastifyInstance } from "fastify";
import type { Bytes } from "../core/bytes.js";
import { type Clock, systemClock } from "../core/clock.js";
import type { Fetch } from "../device/index.js";
import { IssuerKeyStore } from "../transit/index.js";
import { PhoneSimulator } from "./phones.js";
import { SIM_PREFIX, simRoutes } from "./routes.js";

export { PhoneSimulator } from "./phones.js";
export { SimStore } from "./store.js";
export { injectFetch } from "./transport.js";

export interface SimulatorOptions {
  /** The phones' and terminals' state: DATA_DIR/phones/<id>/, DATA_DIR/terminals/. */
  dataDir: string;
  /** The cloud's base URL as the phones and terminals address it (with `fetch`). */
  cloudUrl: string;
  fetch: Fetch;
  clock?: Clock;
  /** The acquirer API key the simulated POS authorises with. */
  acquirerKey: string;
  /** The example operator's upload key for clearing, asked for at the first upload; null keeps gate records on the gates. */
  operatorKey: () => Promise<string | null>;
  /** The factory master of the phones' SEs (the TSM holds the same). */
  factoryMasterKey?: Bytes;
  /** The transit issuer's seed the gates' PSAMs derive their purchase keys from. */
  transitKeySeed: string;
}

/** Serves the simulator under /sim/v1 on `app` (before it listens); returns it. */
export async function registerSimulator(app: FastifyInstance, o: SimulatorOptions): Promise<PhoneSimulator> {
  const simulator = new PhoneSimulator({
    dataDir: o.dataDir,
    cloudUrl: o.cloudUrl,
    fetch: o.fetch,
    clock: o.clock ?? systemClock,
    ...(o.factoryMasterKey ? { factoryMasterKey: o.factoryMasterKey } : {}),
    terminals: {
      acquirerKey: o.acquirerKey,
      operatorKey: o.operatorKey,
      transitKeys: new IssuerKeyStore(o.transitKeySeed),
    },
  });
  await app.register(simRoutes, { prefix: SIM_PREFIX, simulator, cloudUrl: o.cloudUrl, fetch: o.fetch });
  return simulator;
}
