/** The issuer's settings from the environment: offline-capable tokens are opt-in and never in production. */
import { describe, expect, it } from "vitest";
import { issuerOptionsFromEnv } from "./config.js";

describe("ISSUER_OFFLINE_BALANCE", () => {
  it("is off by default (online-only tokens), yuan when set, refused when malformed or in production", () => {
    expect(issuerOptionsFromEnv({}).offline).toBeUndefined();
    expect(issuerOptionsFromEnv({ ISSUER_OFFLINE_BALANCE: "0" }).offline).toBeUndefined();
    expect(issuerOptionsFromEnv({ ISSUER_OFFLINE_BALANCE: "500" }).offline).toEqual({ balance: 500_00 });
    expect(issuerOptionsFromEnv({ ISSUER_OFFLINE_BALANCE: "12.34" }).offline).toEqual({ balance: 12_34 });
    for (const bad of ["-1", "abc", "1e3", "100000", "1.234"])
      expect(() => issuerOptionsFromEnv({ ISSUER_OFFLINE_BALANCE: bad })).toThrow(/ISSUER_OFFLINE_BALANCE/);
    const production = {
      NODE_ENV: "production",
      ISSUER_IMK_3DES: "00112233445566778899AABBCCDDEEFF",
      ISSUER_IMK_SM4: "00112233445566778899AABBCCDDEEFF",
      ISSUER_CVK: "00112233445566778899AABBCCDDEEFF",
    };
    expect(issuerOptionsFromEnv(production).offline).toBeUndefined();
    expect(() => issuerOptionsFromEnv({ ...production, ISSUER_OFFLINE_BALANCE: "100" })).toThrow(/test CA/);
  });
});
