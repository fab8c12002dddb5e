/**
 * Server configuration from the environment:
 *
 *   PORT             listen port (default 8080)
 *   HOST             listen address (default 127.0.0.1; 0.0.0.0 in a container)
 *   DATA_DIR         SQLite directory (default ./data), used when DATABASE_URL is absent
 *   SQLITE_SYNCHRONOUS  `full` (default: every commit synced) or `normal` (faster; may lose the last
 *                    commits on power loss, not on a process crash)
 *   DATABASE_URL     postgres://… to use PostgreSQL instead of SQLite
 *   DATABASE_SCHEMA  PostgreSQL schema (default public; created if missing)
 *   DATABASE_POOL_MAX  PostgreSQL connections per instance (default 10)
 *   NODE_ENV         `production` requires OTP_PEPPER and a real OTP sender
 *   OTP_PEPPER       key of the one-time codes' HMAC (same on every instance)
 *   OTP_SENDER       `log` prints codes to the server log (development; the default outside production;
 *                    production has no SMS gateway yet and refuses to start without it set)
 *   BODY_LIMIT       largest request body in bytes (default 65536)
 *   TRUST_PROXY      `true`, or a proxy address list, to take client IPs from X-Forwarded-For
 *   LOG_LEVEL        pino level (default info)
 */
import { TapwalletError } from "../core/errors.js";
import { DEFAULT_BODY_LIMIT } from "./http/server.js";

export interface CloudConfig {
  port: number;
  host: string;
  dataDir: string;
  sqliteSynchronous: "full" | "normal";
  databaseUrl?: string;
  databaseSchema?: string;
  poolMax: number;
  production: boolean;
  otpPepper: string;
  otpSender: "log";
  bodyLimit: number;
  trustProxy: boolean | string;
  logLevel: string;
}

/** Used only outside production, where codes are printed anyway. */
const DEV_OTP_PEPPER = "tapwallet-development-otp-pepper";

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TapwalletError("bad_config", `环境变量 ${name} 无效：${raw}`, `Invalid ${name}: ${raw}`);
  }
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const production = env["NODE_ENV"] === "production";
  const pepper = env["OTP_PEPPER"];
  if (production && !pepper) {
    throw new TapwalletError(
      "bad_config",
      "生产环境须设置 OTP_PEPPER",
      "OTP_PEPPER must be set in production",
    );
  }
  // No SMS gateway is wired in yet: the only sender prints codes to the log, which production refuses by default.
  const sender = env["OTP_SENDER"] ?? (production ? undefined : "log");
  if (sender !== "log") {
    throw new TapwalletError(
      "bad_config",
      "未配置短信验证码发送渠道（OTP_SENDER=log 将验证码打印到日志，仅供开发）",
      "No SMS sender for one-time codes is configured (OTP_SENDER=log prints codes to the log, development only)",
    );
  }
  const synchronous = env["SQLITE_SYNCHRONOUS"] || "full";
  if (synchronous !== "full" && synchronous !== "normal") {
    throw new TapwalletError(
      "bad_config",
      `SQLITE_SYNCHRONOUS 须为 full 或 normal：${synchronous}`,
      `SQLITE_SYNCHRONOUS must be full or normal: ${synchronous}`,
    );
  }
  const trust = env["TRUST_PROXY"];
  return {
    port: integer(env, "PORT", 8080, 0, 65535),
    host: env["HOST"] || "127.0.0.1",
    dataDir: env["DATA_DIR"] || "./data",
    sqliteSynchronous: synchronous,
    databaseUrl: env["DATABASE_URL"] || undefined,
    databaseSchema: env["DATABASE_SCHEMA"] || undefined,
    poolMax: integer(env, "DATABASE_POOL_MAX", 10, 1, 1000),
    production,
    otpPepper: pepper || DEV_OTP_PEPPER,
    otpSender: sender,
    bodyLimit: integer(env, "BODY_LIMIT", DEFAULT_BODY_LIMIT, 1024, 16 * 1024 * 1024),
    trustProxy:
      trust === undefined || trust === "" || trust === "false" ? false : trust === "true" ? true : trust,
    logLevel: env["LOG_LEVEL"] || "info",
  };
}
