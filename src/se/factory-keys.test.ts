/** The SE key ceremony: each SE's static SCP03 keys diversified from the factory master. */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  DEV_SE_MASTER_KEY,
  diversificationData,
  diversifySeKeys,
  seMasterKeyFromEnv,
} from "./factory-keys.js";
import { installCommands, runSecureScript } from "./scp03-host.js";
import { SecureElement } from "./secure-element.js";
import { samplePackage } from "./testing/sample-applets.js";

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
  });
});
