/**
 * The phone as the TSM's relay, against untrusted input: whatever the cloud sends, the step and summary
 * parsers return a value or a reason (never throw), and running any well-formed step on the SE never
 * throws and stops where the step says. Property tests with fast-check.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../src/se/factory-keys.js";
import {
  VirtualPhone,
  applyRegistryAction,
  parseSummary,
  parseSyncStep,
  resolveModel,
  runOperations,
  transmit,
} from "../src/device/index.js";
import { installCommands, runSecureScript } from "../src/se/scp03-host.js";
import { samplePackage } from "../src/se/testing/sample-applets.js";
import { removeStateDirs, stateDir } from "./device-harness.js";
import { operationArbs, syncStepArb } from "./sync-arbitraries.js";

afterAll(removeStateDirs);

const phone = VirtualPhone.create(stateDir(), {
  name: "relay",
  model: resolveModel("sagit"),
  region: "CN",
  packages: [samplePackage],
});

function install(aid: string, params: unknown): void {
  const r = runSecureScript(
    phone.se.host.transmit,
    diversifySeKeys(DEV_SE_MASTER_KEY, phone.se.serial),
    installCommands({ packageId: "test.applet", aid: fromHex(aid), params: params as never }),
    { hostChallenge: fromHex("0011223344556677") },
  );
  phone.se.host.reset();
  expect(r.ok).toBe(true);
}

install("A0000000AA0001", { big: 700 });
install("F054415044FF01", { category: "access" });
install("F054415044FF02", { category: "access" });

const AIDS = ["F054415044FF01", "F054415044FF02", "A0000000AA0001"];
const operations = operationArbs(AIDS);

describe("the phone as relay", () => {
  it("parses any cloud answer to a step without throwing; what it accepts is well formed (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), syncStepArb(AIDS)), (json) => {
        const r = parseSyncStep(json);
        if (!r.ok) return;
        expect(r.value.step).toBeGreaterThanOrEqual(1);
        if (!r.value.done)
          for (const op of r.value.operations)
            if (op.type === "apdu") expect(op.apdu.length % 2).toBe(0);
            else expect(op.aid.length).toBeGreaterThanOrEqual(10);
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.anything(), (json) => {
        const r = parseSummary(json);
        if (r.ok) expect(typeof r.value.outcome).toBe("string");
      }),
      { numRuns: 20_000 },
    );
  });

  it("refuses a whole step when one operation is malformed", () => {
    const good = { type: "apdu", apdu: "00A4040000" };
    expect(parseSyncStep({ session: "s", step: 1, done: false, operations: [good] }).ok).toBe(true);
    for (const bad of [
      { type: "apdu", apdu: "00A4" },
      { type: "apdu", apdu: "00A404000500" }, // Lc 05 without its data
      { type: "apdu", apdu: "00A4040000", expect: ["90"] },
      { type: "registry", action: "format", aid: "A000000003" },
      { type: "registry", action: "activate", aid: "A0" },
      { type: "shell", command: "rm -rf" },
    ])
      expect(
        parseSyncStep({ session: "s", step: 1, done: false, operations: [good, bad] }).ok,
        JSON.stringify(bad),
      ).toBe(false);
  });

  it("runs any well-formed step on the SE without throwing, stopping after an unexpected status word (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(...operations), { maxLength: 8 }), (ops) => {
        const results = runOperations(phone.se, ops);
        expect(results.length).toBeLessThanOrEqual(ops.length);
        for (const [i, r] of results.entries()) {
          const op = ops[i]!;
          expect(r.type).toBe(op.type);
          if (r.type === "apdu" && op.type === "apdu") {
            expect(r.response.length % 2).toBe(0);
            const sw = r.response.slice(-4);
            const stopped = r.response.length < 4 || (op.expect !== undefined && !op.expect.includes(sw));
            if (stopped) expect(i).toBe(results.length - 1);
          }
        }
        phone.se.host.reset();
      }),
      { numRuns: 3000 },
    );
  });

  it("completes 61XX answers with GET RESPONSE, as OMAPI does", () => {
    expect(toHex(transmit(phone.se, fromHex("00A4040007A0000000AA0001")))).toMatch(/9000$/);
    const big = transmit(phone.se, fromHex("8014000000"));
    expect(big).toHaveLength(702);
    expect(toHex(big.subarray(0, 4))).toBe("00010203");
    expect(toHex(big.subarray(-2))).toBe("9000");
    phone.se.host.reset();
  });

  it("activating a door card puts the active one to rest; registry refusals are reported, not thrown", () => {
    expect(applyRegistryAction(phone.se, "activate", "F054415044FF01")).toEqual({
      type: "registry",
      ok: true,
    });
    expect(applyRegistryAction(phone.se, "activate", "F054415044FF02")).toEqual({
      type: "registry",
      ok: true,
    });
    const states = phone.se.registry
      .list()
      .filter((e) => e.category === "access")
      .map((e) => e.state);
    expect(states).toEqual(["deactivated", "activated"]);
    expect(applyRegistryAction(phone.se, "express-transit", "F054415044FF02")).toEqual({
      type: "registry",
      ok: false,
      reason: "wrong_category",
    });
    expect(applyRegistryAction(phone.se, "activate", "A0000000000000")).toEqual({
      type: "registry",
      ok: false,
      reason: "not_found",
    });
  });
});
