/**
 * The issuer host's keys and seed data, from the environment:
 *
 *   ISSUER_IMK_3DES   IMK-AC for 3DES tokens (32 hex)        ISSUER_IMK_SM4  IMK-AC for SM4 tokens (32 hex)
 *   ISSUER_DKI        derivation key index of new tokens (default 1)
 *   ISSUER_CVK        CVK A ‖ CVK B of the funding cards' CVN2 (32 hex)
 *   ISSUER_TEST_CARDS `on` opens the test cards of test-cards.ts at start (default on outside production)
 *   ISSUER_DEV_KEY    `on` creates the development acquirer key below (default on outside production)
 *   ISSUER_OFFLINE_BALANCE  yuan: new tokens pay offline (fDDA under the test CA) up to this balance;
 *                     unset or 0: online-only tokens. Development only (the test CA is public).
 *
 * Outside production every key has a development default — fixed, public, and marked DEVELOPMENT ONLY —
 * so `npm start` works and tokens survive a restart. NODE_ENV=production refuses to start without the
 * real keys. In production these belong in an HSM; here they are process memory.
 */
import { createHash } from "node:crypto";
import { type Bytes, fromHex, isHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import { DEMO_TOKEN_BIN } from "../../emv/issuer/local.js";
import { TEST_CARDS, type TestCard } from "./test-cards.js";

export interface IssuerOptions {
  dki: number;
  imk3des: Bytes;
  imkSm4: Bytes;
  cvk: Bytes;
  /** Token BIN (docs/DECISIONS.md "QuickPass: card layout…": 629977, not a real UnionPay BIN). */
  tokenBin: string;
  /** Funding cards opened at start (idempotent). */
  testCards: readonly TestCard[];
  /** Create DEV_ACQUIRER_KEY at start (development only). */
  devAcquirerKey: boolean;
  /**
   * Issue tokens able to pay offline: fDDA (an ICC key certified under the test CA's demo issuer key) and
   * this offline spending balance (fen). Absent: online-only tokens (docs/DECISIONS.md). Development only.
   */
  offline?: { balance: number };
}

/** DEVELOPMENT ONLY: public, fixed values; production must set its own (and refuses to start without). */
const devKey = (what: string, bytes: number): Bytes =>
  new Uint8Array(createHash("sha256").update(`tapwallet DEVELOPMENT ONLY ${what}`).digest()).slice(0, bytes);

/**
 * DEVELOPMENT ONLY acquirer key, created at start outside production so that `tapwallet pos
 * --issuer-url` works against `npm start` without set-up. Never accepted in production.
 */
export const DEV_ACQUIRER_KEY = "twk_DEVELOPMENT_ONLY_acquirer_key_of_tapwallet_pos_000";

function keyFromEnv(env: NodeJS.ProcessEnv, name: string, production: boolean, fallback: Bytes): Bytes {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    if (production)
      throw new TapwalletError("bad_config", `生产环境须设置 ${name}`, `${name} must be set in production`);
    return fallback;
  }
  if (!isHex(raw) || raw.length !== 32)
    throw new TapwalletError("bad_config", `${name} 须为 16 字节十六进制`, `${name} must be 16 bytes of hex`);
  return fromHex(raw);
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on" || raw === "true" || raw === "1") return true;
  if (raw === "off" || raw === "false" || raw === "0") return false;
  throw new TapwalletError("bad_config", `${name} 须为 on 或 off`, `${name} must be on or off`);
}

export function issuerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): IssuerOptions {
  const production = env["NODE_ENV"] === "production";
  const dkiText = env["ISSUER_DKI"] ?? "1";
  const dki = Number(dkiText);
  if (!Number.isInteger(dki) || dki < 0 || dki > 255)
    throw new TapwalletError("bad_config", "ISSUER_DKI 须为 0–255", "ISSUER_DKI must be 0–255");
  const devKeysOn = flag(env, "ISSUER_DEV_KEY", !production);
  if (production && devKeysOn)
    throw new TapwalletError(
      "bad_config",
      "生产环境不能启用开发用收单密钥",
      "The development acquirer key cannot be enabled in production",
    );
  const offlineText = env["ISSUER_OFFLINE_BALANCE"] ?? "";
  const offlineYuan = offlineText === "" ? 0 : Number(offlineText);
  if (!/^\d{1,5}(\.\d{1,2})?$/.test(offlineText || "0"))
    throw new TapwalletError(
      "bad_config",
      "ISSUER_OFFLINE_BALANCE 须为 0–99999 元",
      "ISSUER_OFFLINE_BALANCE must be 0–99999 yuan",
    );
  if (production && offlineYuan > 0)
    throw new TapwalletError(
      "bad_config",
      "生产环境不能用测试 CA 签发脱机令牌",
      "Offline tokens are certified under the test CA: not in production",
    );
  return {
    ...(offlineYuan > 0 ? { offline: { balance: Math.round(offlineYuan * 100) } } : {}),
    dki,
    imk3des: keyFromEnv(env, "ISSUER_IMK_3DES", production, devKey("issuer imk-ac 3des", 16)),
    imkSm4: keyFromEnv(env, "ISSUER_IMK_SM4", production, devKey("issuer imk-ac sm4", 16)),
    cvk: keyFromEnv(env, "ISSUER_CVK", production, devKey("issuer cvk", 16)),
    tokenBin: DEMO_TOKEN_BIN,
    testCards: flag(env, "ISSUER_TEST_CARDS", !production) ? TEST_CARDS : [],
    devAcquirerKey: devKeysOn,
  };
}
