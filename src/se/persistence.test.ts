import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import type { TapwalletError } from "../core/errors.js";
import { MemoryStorage, loadSecureElement, openSecureElement, parseSeImage } from "./persistence.js";
import type { SecureElement } from "./secure-element.js";
import { TEST_KEYS, createTestSecureElement, installForTest, tap } from "./testing/provision.js";
import { seededRandom } from "./testing/random.js";
import { fileSamplePackage, samplePackage } from "./testing/sample-applets.js";

const CARD = "A0000006320101051001";
const BANK = "A000000333010101";
const FILES = "A00000000386980701";
const packages = [samplePackage, fileSamplePackage];
const options = () => ({ packages, keys: TEST_KEYS, random: seededRandom(5), clock: new ManualClock() });
const dir = () => mkdtempSync(join(tmpdir(), "tapwallet-se-"));

/** What a terminal and the wallet see: PPSE, two cards' answers, the registry. */
function observe(se: SecureElement) {
  se.activate();
  const field = tap(
    se,
    "00A404000E325041592E5359532E444446303100",
    `00A404000A${CARD}00`,
    "8012000004",
    `00A4040009${FILES}00`,
    "00B0950000",
    "00B201C400",
  );
  se.deactivate();
  return { field, registry: se.registry.list().map((e) => ({ ...e, aid: toHex(e.aid) })) };
}

function provision(se: SecureElement): void {
  installForTest(se, { packageId: "test.applet", aid: fromHex(CARD), params: { category: "transit" } });
  installForTest(se, {
    packageId: "test.applet",
    aid: fromHex(BANK),
    params: { category: "payment", label: "DEBIT" },
  });
  installForTest(se, { packageId: "test.files", aid: fromHex(FILES) });
  se.registry.setDefaultPayment(fromHex(BANK));
  se.registry.setExpressTransit(fromHex(CARD));
  se.activate();
  tap(se, `00A404000A${CARD}00`, "8010000004", "8010000004", `00A4040009${FILES}00`, "00D6950003010203");
  tap(se, `00E200C017${"AB".repeat(23)}`);
  se.deactivate();
}

describe("SE file", () => {
  it("saves after each committed transaction and loads back with the same answers", () => {
    const path = join(dir(), "phone.se.json");
    const se = openSecureElement(path, options());
    expect(existsSync(path)).toBe(true);
    provision(se);
    const seen = observe(se);
    expect(seen.field[2]).toBe("000000029000");
    const again = openSecureElement(path, options());
    expect(toHex(again.serial)).toBe(toHex(se.serial));
    expect(observe(again)).toEqual(seen);
    // the card manager's keys and counter came back too: a new session with the same keys works
    installForTest(again, { packageId: "test.applet", aid: fromHex("A0000000099999"), params: {} });
    const image = JSON.parse(readFileSync(path, "utf8"));
    expect(image.nvm.cells.cm["scp03.sequence"]).toBe(4);
    expect(image.nvm.cells.sys[`inst:${BANK}`]).toMatchObject({
      package: "test.applet",
      lifecycle: 7,
      seq: 2,
    });
    expect(image.nvm.cells.sys["crs.defaultPayment"]).toBe(BANK);
    expect(image.nvm.journal).toBeNull();
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("names the missing package when an instance's code is not available", () => {
    const path = join(dir(), "phone.se.json");
    provision(openSecureElement(path, options()));
    let error: TapwalletError | undefined;
    try {
      openSecureElement(path, { ...options(), packages: [fileSamplePackage] });
    } catch (e) {
      error = e as TapwalletError;
    }
    expect(error?.code).toBe("se_unknown_package");
    expect(error?.details).toMatchObject({ packageId: "test.applet" });
    expect(error?.en).toContain("test.applet");
  });

  it("refuses a malformed file with a clear error", () => {
    const d = dir();
    const cases: [string, string][] = [
      ["not json", "{"],
      ["wrong format", JSON.stringify({ format: "other" })],
      ["bad serial", JSON.stringify({ format: "tapwallet.se/1", serial: "XX" })],
      [
        "bad keys",
        JSON.stringify({
          format: "tapwallet.se/1",
          serial: "0000000000000001",
          cardManager: { keyVersion: 48, enc: "00" },
        }),
      ],
    ];
    for (const [name, text] of cases) {
      const path = join(d, `${name}.json`);
      writeFileSync(path, text);
      expect(() => openSecureElement(path, options()), name).toThrow(/invalid SE file/);
    }
  });

  it("keeps a torn transaction's journal in the file and recovers it when loaded", () => {
    const path = join(dir(), "phone.se.json");
    const se = openSecureElement(path, options());
    provision(se);
    se.activate();
    tap(se, `00A404000A${CARD}00`);
    // 3 journal records + commit record: durable but not applied when the power fails
    se.nvm.cutPowerAfterWrites(4);
    expect(se.process(fromHex("8010000004"))).toHaveLength(0);
    expect(se.poweredOn).toBe(false);
    const torn = JSON.parse(readFileSync(path, "utf8"));
    expect(torn.nvm.journal).toMatchObject({ committed: true });
    expect(torn.nvm.cells[`app:${CARD}`].count).toBe(2);
    const back = openSecureElement(path, options());
    back.activate();
    expect(tap(back, `00A404000A${CARD}00`, "8012000004")[1]).toBe("000000039000");
    expect(JSON.parse(readFileSync(path, "utf8")).nvm.journal).toBeNull();
  });

  it("round-trips an in-memory image (MemoryStorage)", () => {
    const storage = new MemoryStorage();
    const se = createTestSecureElement({ packages, storage });
    provision(se);
    expect(storage.saves).toBeGreaterThan(5);
    const seen = observe(se);
    const byId = new Map(packages.map((p) => [p.id, p]));
    const back = loadSecureElement(storage.image!, { packages: byId, random: seededRandom(5) });
    expect(observe(back)).toEqual(seen);
    expect(parseSeImage(JSON.parse(JSON.stringify(storage.image)))).toEqual(storage.image);
  });
});
