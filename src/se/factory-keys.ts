/**
 * The SE key ceremony (pure: node:crypto through src/crypto only). The virtual phone's factory (src/device)
 * and the TSM (src/cloud/tsm) import it alike: one derivation, in the SE's own layer.
 *
 * Every SE leaves the factory with its own static SCP03 keys (ENC, MAC, DEK, key version 30), diversified
 * from the **factory master key** by the SE's diversification data — the 10 bytes its card manager sends in
 * every INITIALIZE UPDATE answer: the 8-byte SE serial and 00 00:
 *
 *   K-ENC = KDF(master, 01, context = serial ‖ 0000)    K-MAC = KDF(…, 02, …)    K-DEK = KDF(…, 03, …)
 *
 * where KDF is GlobalPlatform's SCP03 KDF (NIST SP 800-108 counter mode, AES-CMAC) with the key length of
 * the master (16, 24 or 32 bytes). The TSM holds the same master (a key ceremony between the SE vendor and
 * the TSM operator puts it in both places); when it first meets an SE it derives that SE's keys, checks them
 * against the SE's card cryptogram, and keeps them sealed in its database. The master is only needed at
 * that first meeting. A phone cannot derive another SE's keys: it never holds the master, only its own SE.
 *
 * `TAPWALLET_SE_MASTER_KEY` (hex) sets the master for both the TSM and the virtual phone's factory. Without
 * it, a **development master** is used, marked as such everywhere it appears; production refuses to start
 * without the variable (src/cloud/tsm/secrets.ts).
 */
import { type Bytes, ascii, concat, fromHex, isHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { type Scp03Keys, scp03Kdf } from "./scp03.js";

/** Key version number the factory gives every SE's first key set (GP: 30–3F for SCP03). */
const SE_KEY_VERSION = 0x30;

/** Derivation constants of the three static keys (ours: distinct from Amendment D's session constants). */
const SE_KEY_CONSTANTS = { enc: 0x01, mac: 0x02, dek: 0x03 } as const;

/**
 * DEVELOPMENT ONLY — 开发专用. The factory master every virtual phone and every development TSM share when
 * `TAPWALLET_SE_MASTER_KEY` is not set. Anyone can read it here: never use it for a real secure element.
 */
export const DEV_SE_MASTER_KEY: Bytes = ascii("TAPWALLET-DEV-SE");

export const SE_MASTER_KEY_ENV = "TAPWALLET_SE_MASTER_KEY";

/** The diversification data an SE with this serial announces in INITIALIZE UPDATE. */
export function diversificationData(serial: Bytes): Bytes {
  if (serial.length !== 8) throw new RangeError("the SE serial is 8 bytes");
  return concat(serial, new Uint8Array(2));
}

/** The static SCP03 keys the factory gave the SE with this serial. */
export function diversifySeKeys(master: Bytes, serial: Bytes): Scp03Keys {
  if (![16, 24, 32].includes(master.length)) throw new RangeError("the factory master key is an AES key");
  const context = diversificationData(serial);
  const bits = master.length * 8;
  return {
    enc: scp03Kdf(master, SE_KEY_CONSTANTS.enc, bits, context),
    mac: scp03Kdf(master, SE_KEY_CONSTANTS.mac, bits, context),
    dek: scp03Kdf(master, SE_KEY_CONSTANTS.dek, bits, context),
    version: SE_KEY_VERSION,
  };
}

/** The factory master from the environment: `{key, development}`; a malformed value is an error. */
export function seMasterKeyFromEnv(env: NodeJS.ProcessEnv = process.env): {
  key: Bytes;
  development: boolean;
} {
  const raw = env[SE_MASTER_KEY_ENV]?.trim();
  if (!raw) return { key: DEV_SE_MASTER_KEY, development: true };
  if (!isHex(raw) || ![32, 48, 64].includes(raw.length))
    throw new TapwalletError(
      "bad_config",
      `${SE_MASTER_KEY_ENV} 须为 16、24 或 32 字节的十六进制 AES 密钥`,
      `${SE_MASTER_KEY_ENV} must be a 16, 24 or 32-byte AES key in hex`,
    );
  return { key: fromHex(raw), development: false };
}
