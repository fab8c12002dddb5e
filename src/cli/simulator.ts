/**
 * `npm start` serves the phone and terminal simulator (src/sim) beside the API; this wires it to the cloud it
 * runs next to. The simulator reaches the cloud as phones and terminals do, over HTTP (dispatched in memory
 * through the server's router), and gets what a phone factory, a POS acquirer and a transit operator would
 * each hold:
 *
 *   TAPWALLET_SIMULATOR      `on` / `off` (default on outside production, off in production)
 *   TAPWALLET_SE_MASTER_KEY  the factory master of the phones' SEs (the TSM's; development default)
 *   TAPWALLET_ACQUIRER_KEY   the simulated POS's acquirer API key (default: the development acquirer key)
 *   TAPWALLET_OPERATOR_KEY   the example operator's clearing upload key. Outside production, when unset, the
 *                            development operator (bj-subway) is registered at the first gate upload and its
 *                            key kept with the simulator's terminals (DATA_DIR/terminals/operator.json, 0600)
 *   TRANSIT_ISSUER_KEY_SEED  the seed the gates' PSAM purchase keys come from (the cloud's; development default)
 */
import type { FastifyInstance } from "fastify";
import type { Clock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import { DEV_ACQUIRER_KEY } from "../cloud/issuer/config.js";
import { TRANSIT_KEY_SEED_ENV } from "../cloud/transit/keys.js";
import { seMasterKeyFromEnv } from "../se/factory-keys.js";
import { type PhoneSimulator, SimStore, injectFetch, registerSimulator } from "../sim/index.js";
import { DEVELOPMENT_KEY_SEED } from "../transit/index.js";
import { EXAMPLE_OPERATOR } from "../transit/sandbox.js";

const OPERATOR_FILE = "operator.json";

/** The development operator's upload key: the one kept with the terminals, or a new registration. */
async function developmentOperatorKey(app: FastifyInstance, dataDir: string): Promise<string | null> {
  const store = new SimStore(dataDir);
  const clearing = app.cloud.transit.clearing;
  const saved = store.readTerminalFile<{ operator?: string; key?: string }>(OPERATOR_FILE, {});
  if (saved.key) {
    try {
      await clearing.authenticate(saved.key);
      return saved.key;
    } catch {
      // A key of another database: register again below.
    }
  }
  try {
    const op = await clearing.registerOperator(
      EXAMPLE_OPERATOR.id,
      `${EXAMPLE_OPERATOR.name.zh} ${EXAMPLE_OPERATOR.name.en}`,
    );
    store.writeTerminalFile(OPERATOR_FILE, { operator: op.id, key: op.token });
    return op.token;
  } catch {
    app.log.warn(
      `模拟闸机不上传清分：运营方 ${EXAMPLE_OPERATOR.id} 已注册但本机没有其密钥（设置 TAPWALLET_OPERATOR_KEY）/ ` +
        `simulated gates will not upload: operator ${EXAMPLE_OPERATOR.id} exists but its key is not here (set TAPWALLET_OPERATOR_KEY)`,
    );
    return null;
  }
}

/** Serves the simulator on `app` unless it is off; returns it (null when off). */
export async function attachSimulator(
  app: FastifyInstance,
  o: { dataDir: string; cloudUrl: string; env?: NodeJS.ProcessEnv; clock?: Clock },
): Promise<PhoneSimulator | null> {
  const env = o.env ?? process.env;
  const production = env["NODE_ENV"] === "production";
  const flag = env["TAPWALLET_SIMULATOR"];
  if (flag !== undefined && flag !== "" && flag !== "on" && flag !== "off")
    throw new TapwalletError(
      "bad_config",
      "TAPWALLET_SIMULATOR 须为 on 或 off",
      "TAPWALLET_SIMULATOR must be on or off",
    );
  if (flag === "off" || (production && flag !== "on")) return null;
  const acquirerKey = env["TAPWALLET_ACQUIRER_KEY"] || (production ? undefined : DEV_ACQUIRER_KEY);
  if (!acquirerKey)
    throw new TapwalletError(
      "bad_config",
      "生产环境运行模拟器须设置 TAPWALLET_ACQUIRER_KEY",
      "TAPWALLET_ACQUIRER_KEY must be set to run the simulator in production",
    );
  const given = env["TAPWALLET_OPERATOR_KEY"] || (production ? null : undefined);
  // The development operator is registered when a gate first uploads (nothing happens at start).
  let provisioned: Promise<string | null> | undefined;
  const operatorKey = () =>
    given !== undefined ? Promise.resolve(given) : (provisioned ??= developmentOperatorKey(app, o.dataDir));
  return registerSimulator(app, {
    dataDir: o.dataDir,
    cloudUrl: o.cloudUrl,
    fetch: injectFetch(app),
    ...(o.clock ? { clock: o.clock } : {}),
    acquirerKey,
    operatorKey,
    factoryMasterKey: seMasterKeyFromEnv(env).key,
    transitKeySeed: env[TRANSIT_KEY_SEED_ENV]?.trim() || DEVELOPMENT_KEY_SEED,
  });
}
