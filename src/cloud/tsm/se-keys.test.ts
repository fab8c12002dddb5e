/** The key ceremony and sealing at rest. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../core/bytes.js";
import { SecureElement } from "../../se/secure-element.js";
import { installCommands, runSecureScript } from "../../se/scp03-host.js";
import { samplePackage } from "../../se/testing/sample-applets.js";
import { SealedBox } from "./sealed-box.js";
import { DEV_SE_MASTER_KEY, diversificationData, diversifySeKeys, seMasterKeyFromEnv } from "./se-keys.js";
import { DEV_TSM_KEK, tsmSecretsFromEnv } from "./secrets.js";

const SERIAL = fromHex("0102030405060708");

describe("SE keys diversified from the factory master", () => {
  it("gives each serial its own ENC, MAC and DEK, and the TSM opens a channel with them", () => {
    const keys = diversifySeKeys(DEV_SE_MASTER_KEY, SERIAL);
    const other = diversifySeKeys(DEV_SE_MASTER_KEY, fromHex("0102030405060709"));
    expect(new Set([keys.enc, keys.mac, keys.dek, other.enc].map(toHex)).size).toBe(4);
    expect(keys.version).toBe(0x30);
    expect(toHex(diversificationData(SERIAL))).toBe("01020304050607080000");
    const se = SecureElement.manufacture({ packages: [samplePackage], serial: SERIAL, keys });
    const install = installCommands({ packageId: "test.applet", aid: fromHex("A000000333010101") });
    const hostChallenge = fromHex("0011223344556677");
    expect(runSecureScript(se.host.transmit, keys, install, { hostChallenge }).ok).toBe(true);
    // A TSM with another master cannot open the SE's channel.
    const wrong = diversifySeKeys(fromHex("00112233445566778899AABBCCDDEEFF"), SERIAL);
    const refused = runSecureScript(se.host.transmit, wrong, install, { hostChallenge });
    expect(refused.ok === false && refused.error.reason).toMatch(/cryptogram/);
  });

  it("takes the master from the environment, the development master when unset, and refuses a bad one", () => {
    expect(seMasterKeyFromEnv({})).toEqual({ key: DEV_SE_MASTER_KEY, development: true });
    const hex = "000102030405060708090A0B0C0D0E0F1011121314151617";
    expect(toHex(seMasterKeyFromEnv({ TAPWALLET_SE_MASTER_KEY: hex }).key)).toBe(hex);
    expect(() => seMasterKeyFromEnv({ TAPWALLET_SE_MASTER_KEY: "0011" })).toThrow(/AES key/);
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
