/**
 * The key door-card images are sealed under: `ACCESS_CARD_KEY` (32 bytes, hex). Outside production a
 * **development default** (开发专用, published here) is used; production refuses to start without it.
 */
import { type Bytes, ascii } from "../../core/bytes.js";
import { sealingKeyFromEnv } from "../tsm/secrets.js";

const ACCESS_KEY_ENV = "ACCESS_CARD_KEY";

/** DEVELOPMENT ONLY — 开发专用. */
const DEV_ACCESS_KEY: Bytes = ascii("TAPWALLET-DEV-DOOR-CARD-KEY-32-B");

export function accessKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Bytes {
  return sealingKeyFromEnv(env, ACCESS_KEY_ENV, DEV_ACCESS_KEY);
}
