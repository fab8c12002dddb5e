import { describe, expect, it } from "vitest";
import { cloudModules } from "../modules.js";
import { collectMigrations } from "./migrate.js";

const noop = { up: async () => {} };

describe("migrations", () => {
  it("collects every module's migrations in time order", () => {
    const names = Object.keys(collectMigrations(cloudModules));
    expect(names).toEqual([...names].sort());
    expect(names.length).toBeGreaterThanOrEqual(5);
  });

  it("refuses a name used twice or not in the YYYYMMDDhhmm_<module>_<what> form", () => {
    const m = (migrations: Record<string, typeof noop>) => ({ name: "x", migrations });
    expect(() =>
      collectMigrations([m({ "202601010000_a_b": noop }), m({ "202601010000_a_b": noop })]),
    ).toThrow(/twice/);
    expect(() => collectMigrations([m({ "2026_a_b": noop })])).toThrow(/YYYYMMDDhhmm/);
  });
});
