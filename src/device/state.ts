/**
 * A virtual phone's state directory (`~/.tapwallet/phones/<name>/`, or any directory given with `--state`):
 *
 *   phone.json       the phone: model, region, settings (locked, last user verification), its cloud binding
 *                    (server, device id, account, session token) and the cards the TSM last reported
 *   device-key.pem   the device's ECDSA P-256 private key (PKCS#8), made when the phone registers, deleted
 *                    when the cloud says the phone was removed from its account
 *   se.json          its secure element (src/se/persistence.ts: one file per SE, its own trust domain)
 *
 * The directory is 0700 and every file 0600; each file is written whole to a temporary file, flushed and
 * renamed over the old one, so a crash leaves the old or the new version, never half of one.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { TapwalletError } from "../core/errors.js";
import type { PhoneModelInfo } from "./models.js";
import { type PhoneSettings, VERIFICATION_METHODS } from "./signals.js";

export const PHONE_FORMAT = "tapwallet.phone/1";
const PHONE_FILE = "phone.json";
const KEY_FILE = "device-key.pem";
export const SE_FILE = "se.json";

/** A card on the phone as the TSM named it at the last sync. */
export interface CardRecord {
  aid: string;
  packageId: string | null;
  owner: string | null;
  ref: string | null;
  label: { zh: string; en: string } | null;
}

export interface CloudBinding {
  server: string;
  accountId: string | null;
  /** Masked (138****0000): enough to recognise the account, not to use it. */
  mobile: string | null;
  session: { token: string; expiresAt: string } | null;
  deviceId: string | null;
}

export interface PhoneFile {
  format: typeof PHONE_FORMAT;
  name: string;
  model: PhoneModelInfo;
  region: string;
  /** The SE serial (hex), the phone's SE id. */
  seId: string;
  createdAt: string;
  settings: PhoneSettings;
  cloud: CloudBinding | null;
  cards: CardRecord[];
}

/** Where phones live: `$TAPWALLET_HOME/phones` (default `~/.tapwallet/phones`). */
function phonesRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env["TAPWALLET_HOME"] || join(homedir(), ".tapwallet"), "phones");
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The state directory of a phone: `--state DIR` wins, else the named phone under the phones root. */
export function phoneDir(
  options: { state?: string; name?: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (options.state) return resolve(options.state);
  const name = options.name ?? "default";
  if (!NAME.test(name))
    throw new TapwalletError(
      "bad_phone_name",
      `手机名称只能由字母、数字、点、下划线和连字符组成：${name}`,
      `a phone name is letters, digits, dots, underscores and dashes: ${name}`,
    );
  return join(phonesRoot(env), name);
}

/** Writes `data` to `path` atomically with mode 0600. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flush: true });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export const hasPhone = (dir: string): boolean => existsSync(join(dir, PHONE_FILE));

function invalid(dir: string, detail: string): TapwalletError {
  return new TapwalletError(
    "phone_state_invalid",
    `手机状态文件无效（${join(dir, PHONE_FILE)}）：${detail}`,
    `invalid phone state (${join(dir, PHONE_FILE)}): ${detail}`,
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === "string";
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

/** Reads and checks phone.json (a file the user may have edited: every field is checked). */
export function readPhoneFile(dir: string): PhoneFile {
  const path = join(dir, PHONE_FILE);
  if (!existsSync(path))
    throw new TapwalletError(
      "no_phone",
      `这里没有虚拟手机：${dir}（先运行 tapwallet phone init）`,
      `no virtual phone in ${dir} (run tapwallet phone init first)`,
    );
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw invalid(dir, (e as Error).message);
  }
  if (!isObject(j) || j["format"] !== PHONE_FORMAT) throw invalid(dir, `format is not ${PHONE_FORMAT}`);
  const { name, model, region, seId, createdAt, settings, cloud, cards } = j;
  if (!str(name) || !str(region) || !str(createdAt)) throw invalid(dir, "name, region or createdAt");
  if (!str(seId) || !/^[0-9A-F]{16}$/.test(seId)) throw invalid(dir, "seId");
  if (
    !isObject(model) ||
    !str(model["code"]) ||
    !str(model["zh"]) ||
    !str(model["en"]) ||
    typeof model["supported"] !== "boolean"
  )
    throw invalid(dir, "model");
  if (!isObject(settings) || typeof settings["locked"] !== "boolean") throw invalid(dir, "settings");
  const v = settings["verification"];
  if (v !== null && !(isObject(v) && str(v["at"]) && VERIFICATION_METHODS.includes(v["method"] as never)))
    throw invalid(dir, "settings.verification");
  if (cloud !== null) {
    if (
      !isObject(cloud) ||
      !str(cloud["server"]) ||
      !strOrNull(cloud["accountId"]) ||
      !strOrNull(cloud["mobile"]) ||
      !strOrNull(cloud["deviceId"])
    )
      throw invalid(dir, "cloud");
    const s = cloud["session"];
    if (s !== null && !(isObject(s) && str(s["token"]) && str(s["expiresAt"])))
      throw invalid(dir, "cloud.session");
  }
  if (!Array.isArray(cards) || !cards.every((c) => isObject(c) && str(c["aid"]))) throw invalid(dir, "cards");
  return j as unknown as PhoneFile;
}

export function writePhoneFile(dir: string, phone: PhoneFile): void {
  writeFileAtomic(join(dir, PHONE_FILE), JSON.stringify(phone, null, 1) + "\n");
}

export function readDeviceKey(dir: string): KeyObject | null {
  const path = join(dir, KEY_FILE);
  if (!existsSync(path)) return null;
  try {
    return createPrivateKey({ key: readFileSync(path, "utf8"), format: "pem" });
  } catch {
    throw new TapwalletError(
      "device_key_invalid",
      `设备密钥文件无效：${path}`,
      `the device key file is invalid: ${path}`,
    );
  }
}

export function writeDeviceKey(dir: string, key: KeyObject): void {
  writeFileAtomic(join(dir, KEY_FILE), key.export({ type: "pkcs8", format: "pem" }).toString());
}

/** Deletes the device key (a binding the cloud removed: the key can never sign for it again). */
export function deleteDeviceKey(dir: string): void {
  rmSync(join(dir, KEY_FILE), { force: true });
}
