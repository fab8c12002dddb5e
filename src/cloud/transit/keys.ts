/**
 * The transit issuer's master keys, from configuration — never from the database:
 *
 *   TRANSIT_ISSUER_KEY_SEED   the secret every product's master keys (load, purchase, TAC) are derived from
 *                             (src/transit/keys.ts). At least 32 characters.
 *
 * Outside production it defaults to the **development seed** (开发专用, public in src/transit/keys.ts, so its
 * keys protect nothing — the demo, the tests and the gates in test/ use the same one). `NODE_ENV=production`
 * without it stops the server at start. A card's own keys (DPK, DLK, DTK) are diversified from these by its
 * ASN whenever the service needs them, and wiped after use; only the TSM's sealed install script carries
 * them to the SE.
 */
import { TapwalletError } from "../../core/errors.js";
import {
  DEVELOPMENT_KEY_SEED,
  type EpurseAlgorithm,
  IssuerKeyStore,
  type MasterKeys,
  type TransitProduct,
  groupFactorOf,
  keyDomainOf,
} from "../../transit/index.js";

export const TRANSIT_KEY_SEED_ENV = "TRANSIT_ISSUER_KEY_SEED";
const MIN_SEED_LENGTH = 32;

export interface TransitKeySource {
  /** True when running on the public development seed. */
  readonly development: boolean;
  masterKeys(product: TransitProduct, algorithm: EpurseAlgorithm): MasterKeys;
  /** The TAC master key of the product's purchase domain, and its group factor (clearing). */
  tacKey(product: TransitProduct, algorithm: EpurseAlgorithm): { mtk: Uint8Array; groupFactor?: Uint8Array };
}

/** Master keys derived from one seed, memoised per product and algorithm (they never change in a process). */
function transitKeys(seed: string, development = false): TransitKeySource {
  const store = new IssuerKeyStore(seed);
  const masters = new Map<string, MasterKeys>();
  const tacs = new Map<string, Uint8Array>();
  return {
    development,
    masterKeys(product, algorithm) {
      const k = `${product.id}/${algorithm}`;
      let m = masters.get(k);
      if (!m) masters.set(k, (m = store.masterKeys(product, algorithm)));
      return m;
    },
    tacKey(product, algorithm) {
      const k = `${keyDomainOf(product)}/${algorithm}`;
      let mtk = tacs.get(k);
      if (!mtk) tacs.set(k, (mtk = store.tacKey(keyDomainOf(product), algorithm)));
      const groupFactor = groupFactorOf(product);
      return groupFactor ? { mtk, groupFactor } : { mtk };
    },
  };
}

export function transitKeysFromEnv(env: NodeJS.ProcessEnv = process.env): TransitKeySource {
  const seed = env[TRANSIT_KEY_SEED_ENV]?.trim();
  if (!seed) {
    if (env["NODE_ENV"] === "production")
      throw new TapwalletError(
        "bad_config",
        `生产环境须设置 ${TRANSIT_KEY_SEED_ENV}`,
        `${TRANSIT_KEY_SEED_ENV} must be set in production`,
      );
    // DEVELOPMENT ONLY — 开发专用: the public seed of src/transit/keys.ts.
    return transitKeys(DEVELOPMENT_KEY_SEED, true);
  }
  if (seed.length < MIN_SEED_LENGTH)
    throw new TapwalletError(
      "bad_config",
      `${TRANSIT_KEY_SEED_ENV} 至少 ${MIN_SEED_LENGTH} 个字符`,
      `${TRANSIT_KEY_SEED_ENV} must be at least ${MIN_SEED_LENGTH} characters`,
    );
  return transitKeys(seed);
}
