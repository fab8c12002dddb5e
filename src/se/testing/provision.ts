/**
 * Test SEs and installing instances on them. There is no back door: `installForTest` drives the card
 * manager through a real SCP03 session with the test keys, exactly as a TSM script would.
 */
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { ManualClock } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import type { AppletPackage } from "../applet.js";
import { registryError } from "../crs.js";
import { type Scp03Keys } from "../scp03.js";
import { type InstallScript, installCommands, runSecureScript } from "../scp03-host.js";
import { type ManufactureOptions, SecureElement } from "../secure-element.js";
import { seededRandom } from "./random.js";

const GP_TEST_KEY = "404142434445464748494A4B4C4D4E4F";

/** The GlobalPlatform test key (40…4F) as ENC, MAC and DEK, key version 30. */
export const TEST_KEYS: Scp03Keys = Object.freeze({
  enc: fromHex(GP_TEST_KEY),
  mac: fromHex(GP_TEST_KEY),
  dek: fromHex(GP_TEST_KEY),
  version: 0x30,
});

export interface TestSeOptions extends Partial<ManufactureOptions> {
  packages: Iterable<AppletPackage>;
  /** Seeds the SE's random bytes (default 1). */
  seed?: number;
}

/** An in-memory SE with the test keys, a seeded RNG, a manual clock and serial 00…01. */
export function createTestSecureElement(options: TestSeOptions): SecureElement {
  const { seed = 1, ...rest } = options;
  return SecureElement.manufacture({
    keys: TEST_KEYS,
    serial: fromHex("0000000000000001"),
    clock: new ManualClock(),
    random: seededRandom(seed),
    ...rest,
  });
}

export interface TestInstall extends InstallScript {
  /** Activate the instance for contactless afterwards (default true for contactless packages). */
  activate?: boolean;
}

let challenge = 0;

/**
 * Installs (and personalises) an instance through SCP03 on the host interface, then activates it for the
 * field. Throws `TapwalletError` with the refusing step and status word.
 */
export function installForTest(se: SecureElement, spec: TestInstall, keys: Scp03Keys = TEST_KEYS): void {
  const hostChallenge = fromHex(`7E57${(++challenge).toString(16).padStart(12, "0")}`);
  const r = runSecureScript(se.host.transmit, keys, installCommands(spec), { hostChallenge });
  se.host.reset();
  if (!r.ok)
    throw new TapwalletError(
      "se_test_install_failed",
      `测试安装 ${toHex(spec.aid)} 失败：${r.error.step} ${r.error.reason}`,
      `test install of ${toHex(spec.aid)} failed: ${r.error.step} ${r.error.reason}`,
      { sw: r.error.sw },
    );
  const entry = se.registry.list().find((e) => toHex(e.aid) === toHex(spec.aid));
  if ((spec.activate ?? entry?.state === "deactivated") && entry) {
    const a = se.registry.activate(spec.aid);
    if (!a.ok) throw registryError(a.error, spec.aid);
  }
}

/** Sends APDUs over the field (call `se.activate()` first) and returns the answers as hex. */
export function tap(se: SecureElement, ...apdus: (string | Bytes)[]): string[] {
  return apdus.map((a) => toHex(se.process(typeof a === "string" ? fromHex(a) : a)));
}
