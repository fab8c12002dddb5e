/** The TSM's secrets and sealing at rest (the SE key ceremony itself: src/se/factory-keys.test.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SealedBox } from "./sealed-box.js";
import { DEV_TSM_KEK, tsmSecretsFromEnv } from "./secrets.js";

describe("the TSM's secrets from the environment", () => {
  it("uses the development key encryption key when unset and refuses production without the master or the KEK", () => {
    const hex = "000102030405060708090A0B0C0D0E0F1011121314151617";
    expect(tsmSecretsFromEnv({}).keyEncryptionKey).toEqual(DEV_TSM_KEK);
    expect(() => tsmSecretsFromEnv({ NODE_ENV: "production" })).toThrow(/TAPWALLET_SE_MASTER_KEY/);
    expect(() =>
      tsmSecretsFromEnv({ NODE_ENV: "production", TAPWALLET_SE_MASTER_KEY: hex.slice(0, 32) }),
    ).toThrow(/TSM_KEY_ENCRYPTION_KEY/);
  });
});

describe("sealed values (AES-256-GCM bound to their row)", () => {
  const box = new SealedBox(DEV_TSM_KEK);

  it("opens only with the same key and the same associated data", () => {
    const sealed = box.seal("secret", "tsm.se-keys:A");
    expect(sealed).not.toContain("secret");
    expect(box.open(sealed, "tsm.se-keys:A")).toMatchObject({ ok: true });
    expect(box.open(sealed, "tsm.se-keys:B").ok).toBe(false);
    expect(new SealedBox(new Uint8Array(32)).open(sealed, "tsm.se-keys:A").ok).toBe(false);
    expect(box.seal("secret", "x")).not.toBe(box.seal("secret", "x")); // a fresh IV each time
  });

  it("never throws on malformed or tampered values (property)", () => {
    const good = box.seal("value", "aad");
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.nat({ max: good.length - 1 }), (junk, at) => {
        expect(box.open(junk, "aad").ok).toBe(false);
        const flipped = good.slice(0, at) + (good[at] === "A" ? "B" : "A") + good.slice(at + 1);
        if (flipped !== good) expect(box.open(flipped, "aad").ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
