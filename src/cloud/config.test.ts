import { describe, expect, it } from "vitest";
import { isTapwalletError } from "../core/errors.js";
import { loadConfig } from "./config.js";

describe("server configuration from the environment", () => {
  it("defaults to SQLite under ./data on 127.0.0.1:8080, printing codes to the log", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      dataDir: "./data",
      databaseUrl: undefined,
      production: false,
      otpSender: "log",
    });
  });

  it("takes PostgreSQL, port and limits from the environment", () => {
    const c = loadConfig({
      PORT: "9000",
      DATABASE_URL: "postgres://u@h/db",
      DATABASE_SCHEMA: "wallet",
      BODY_LIMIT: "2048",
      TRUST_PROXY: "true",
    });
    expect(c).toMatchObject({
      port: 9000,
      databaseUrl: "postgres://u@h/db",
      databaseSchema: "wallet",
      bodyLimit: 2048,
      trustProxy: true,
    });
  });

  it("refuses bad numbers, and production without a pepper or a sender", () => {
    const reason = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return "ok";
      } catch (e) {
        return isTapwalletError(e) ? e.en : "other";
      }
    };
    expect(reason({ PORT: "http" })).toBe("Invalid PORT: http");
    expect(reason({ NODE_ENV: "production" })).toBe("OTP_PEPPER must be set in production");
    expect(reason({ NODE_ENV: "production", OTP_PEPPER: "p" })).toMatch(/No SMS sender/);
    expect(reason({ NODE_ENV: "production", OTP_PEPPER: "p", OTP_SENDER: "log" })).toBe("ok");
    expect(reason({ OTP_SENDER: "carrier-pigeon" })).toMatch(/No SMS sender/);
    expect(reason({ SQLITE_SYNCHRONOUS: "off" })).toBe("SQLITE_SYNCHRONOUS must be full or normal: off");
  });
});
