/**
 * The TSM's keys, from the environment:
 *
 *   TAPWALLET_SE_MASTER_KEY   factory master the SEs' keys derive from (hex AES key; see src/se/factory-keys.ts)
 *   TSM_KEY_ENCRYPTION_KEY    32 bytes hex: seals each SE's keys, scripts and session transcripts at rest
 *
 * Outside production each has a **development default** (开发专用, published in this file); with
 * `NODE_ENV=production` a missing one stops the server at start.
 */
import { type Bytes, ascii, fromHex, isHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import { SE_MASTER_KEY_ENV, seMasterKeyFromEnv } from "../../se/factory-keys.js";

export interface TsmSecrets {
  seMasterKey: Bytes;
  keyEncryptionKey: Bytes;
}

const TSM_KEK_ENV = "TSM_KEY_ENCRYPTION_KEY";

/** DEVELOPMENT ONLY — 开发专用: the sealing key of a development TSM. */
export const DEV_TSM_KEK: Bytes = ascii("TAPWALLET-DEV-TSM-KEK-ONLY-32-BY");

/** A 32-byte key from `name` (hex), the development default when unset outside production. */
export function sealingKeyFromEnv(env: NodeJS.ProcessEnv, name: string, development: Bytes): Bytes {
  const raw = env[name]?.trim();
  if (!raw) {
    if (env["NODE_ENV"] === "production")
      throw new TapwalletError("bad_config", `生产环境须设置 ${name}`, `${name} must be set in production`);
    return development;
  }
  if (!isHex(raw) || raw.length !== 64)
    throw new TapwalletError(
      "bad_config",
      `${name} 须为 32 字节的十六进制密钥`,
      `${name} must be a 32-byte key in hex`,
    );
  return fromHex(raw);
}

export function tsmSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): TsmSecrets {
  const master = seMasterKeyFromEnv(env);
  if (master.development && env["NODE_ENV"] === "production")
    throw new TapwalletError(
      "bad_config",
      `生产环境须设置 ${SE_MASTER_KEY_ENV}`,
      `${SE_MASTER_KEY_ENV} must be set in production`,
    );
  return { seMasterKey: master.key, keyEncryptionKey: sealingKeyFromEnv(env, TSM_KEK_ENV, DEV_TSM_KEK) };
}
