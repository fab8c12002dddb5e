/** The one rule every command that takes a phone follows: --phone [NAME] | --state DIR (and pos's SE file). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualPhone, resolveModel } from "../device/index.js";
import { phoneGiven, seFileOption, terminalPhone } from "./phone-select.js";

const home = mkdtempSync(join(tmpdir(), "tw-select-"));
const elsewhere = mkdtempSync(join(tmpdir(), "tw-select-state-"));
const before = process.env["TAPWALLET_HOME"];

const make = (dir: string, name: string) =>
  VirtualPhone.create(dir, { name, model: resolveModel("小米9"), region: "CN" });

beforeAll(() => {
  process.env["TAPWALLET_HOME"] = home;
  make(join(home, "phones", "default"), "default");
  make(join(home, "phones", "mi9"), "mi9");
  make(elsewhere, "elsewhere");
});
afterAll(() => {
  if (before === undefined) delete process.env["TAPWALLET_HOME"];
  else process.env["TAPWALLET_HOME"] = before;
  for (const d of [home, elsewhere]) rmSync(d, { recursive: true, force: true });
});

describe("the phone a terminal command means", () => {
  it("is the named phone, the default one for a bare --phone, or the --state directory (which wins)", () => {
    expect(terminalPhone({ phone: "mi9" }).name).toBe("mi9");
    expect(terminalPhone({ phone: true }).name).toBe("default");
    expect(terminalPhone({}).name).toBe("default");
    expect(terminalPhone({ state: elsewhere }).name).toBe("elsewhere");
    expect(terminalPhone({ phone: "mi9", state: elsewhere }).name).toBe("elsewhere");
    expect([phoneGiven({}), phoneGiven({ phone: true }), phoneGiven({ state: elsewhere })]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it("says which phone is missing or which name is not one, in both languages", () => {
    expect(() => terminalPhone({ phone: "nokia" })).toThrow(
      expect.objectContaining({
        code: "no_phone",
        en: expect.stringContaining(join(home, "phones", "nokia")),
      }),
    );
    expect(() => terminalPhone({ phone: "../x" })).toThrow(
      expect.objectContaining({ code: "bad_phone_name" }),
    );
  });

  it("takes pos's --phone FILE for a value with a slash or a .json ending, and names a file that is not there", () => {
    const se = join(elsewhere, "se.json");
    expect(seFileOption({ phone: se })).toBe(se);
    expect(seFileOption({ phone: "mi9" })).toBeNull();
    expect(seFileOption({ phone: true })).toBeNull();
    expect(seFileOption({ phone: se, state: elsewhere })).toBeNull();
    const missing = join(elsewhere, "gone.json");
    expect(() => seFileOption({ phone: missing })).toThrow(
      expect.objectContaining({ code: "pos_usage", en: `no phone SE file at ${missing}` }),
    );
    writeFileSync(join(home, "x.json"), "{}");
    expect(seFileOption({ phone: join(home, "x.json") })).toBe(join(home, "x.json"));
  });
});
