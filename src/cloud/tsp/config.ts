/**
 * The token service's configuration, from the environment:
 *
 *   TSP_VAULT_KEY     32 bytes hex: the token vault's master key (funding PANs sealed with AES-256-GCM under a
 *                     key derived from it; accounts found by an HMAC fingerprint under another). Outside
 *                     production a DEVELOPMENT ONLY default (published below) is used; production refuses to
 *                     start without it. Every instance on one database needs the same key.
 *   BANK_OTP_SENDER   `log` prints the banks' one-time codes to the server log (development; the default
 *                     outside production). No bank SMS channel is wired in yet, so production refuses to
 *                     start unless it is set knowingly.
 */
import { hkdfSync } from "node:crypto";
import { type Bytes, ascii, fromHex, isHex, toHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import type { CloudLog } from "../context.js";
import { type BankOtpSender, LogBankOtpSender } from "./bank-otp.js";
import type { TspPolicy } from "./policy.js";

export interface TspOptions {
  vaultKey: Bytes;
  /** A sender, or a function given the server's logger (the development log sender). */
  bankOtpSender: BankOtpSender | ((log: CloudLog) => BankOtpSender);
  policy?: Partial<TspPolicy>;
}

/** The HMAC key of the banks' one-time codes at rest, derived from the vault key (the same on every instance). */
export function bankOtpKey(vaultKey: Bytes): string {
  return toHex(
    new Uint8Array(hkdfSync("sha256", vaultKey, new Uint8Array(0), ascii("tapwallet tsp bank-otp v1"), 32)),
  );
}

/** DEVELOPMENT ONLY — 开发专用: the vault key of a development server. Never use it for real cards. */
export const DEV_VAULT_KEY: Bytes = ascii("TAPWALLET-DEV-VAULT-KEY-ONLY-32B");

export function tspOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TspOptions {
  const production = env["NODE_ENV"] === "production";
  const raw = env["TSP_VAULT_KEY"]?.trim();
  let vaultKey = DEV_VAULT_KEY;
  if (raw) {
    if (!isHex(raw) || raw.length !== 64)
      throw new TapwalletError(
        "bad_config",
        "TSP_VAULT_KEY 须为 32 字节的十六进制密钥",
        "TSP_VAULT_KEY must be a 32-byte key in hex",
      );
    vaultKey = fromHex(raw);
  } else if (production) {
    throw new TapwalletError(
      "bad_config",
      "生产环境须设置 TSP_VAULT_KEY",
      "TSP_VAULT_KEY must be set in production",
    );
  }
  const sender = env["BANK_OTP_SENDER"] ?? (production ? undefined : "log");
  if (sender !== "log")
    throw new TapwalletError(
      "bad_config",
      "未配置银行验证码发送渠道（BANK_OTP_SENDER=log 将验证码打印到日志，仅供开发）",
      "No bank one-time-code channel is configured (BANK_OTP_SENDER=log prints codes to the log, development only)",
    );
  return { vaultKey, bankOtpSender: (log) => new LogBankOtpSender(log) };
}
