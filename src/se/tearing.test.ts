/**
 * Tearing, enumerated not sampled: every command below is cut after 0, 1, 2, … physical NVM writes until it
 * completes, the SE rebooted from its NVM each time; each state must be exactly the before- or after-state.
 */
import { describe, expect, it } from "vitest";
import { encodeCommand } from "../core/apdu.js";
import { fromHex, toHex } from "../core/bytes.js";
import type { TapwalletError } from "../core/errors.js";
import { ISD_AID, installForInstallCommand, selectByAid } from "./gp.js";
import {
  HostSession,
  initializeUpdateCommand,
  personalizationCommands,
  deleteCommands,
} from "./scp03-host.js";
import type { SecureElement } from "./secure-element.js";
import { TEST_KEYS, createTestSecureElement, installForTest, tap } from "./testing/provision.js";
import { fileSamplePackage, samplePackage } from "./testing/sample-applets.js";
import { type TearingReport, atomicityViolations, enumerateTearing } from "./testing/tearing.js";

const CARD = "A0000006320101051001";
const OTHER = "A0000003330101";

function phone(): SecureElement {
  const se = createTestSecureElement({ packages: [samplePackage, fileSamplePackage] });
  installForTest(se, {
    packageId: "test.applet",
    aid: fromHex(CARD),
    params: { category: "transit", writes: 5 },
  });
  installForTest(se, {
    packageId: "test.applet",
    aid: fromHex(OTHER),
    params: { category: "payment", label: "DEBIT" },
    personalization: [{ dgi: 0x0101, data: fromHex("1122") }],
  });
  return se;
}

/** Opens an SCP03 session on the host interface (not cut) and returns it for the command under test. */
function openSession(se: SecureElement): HostSession {
  se.host.transmit(encodeCommand(selectByAid(ISD_AID)));
  const hostChallenge = fromHex("0102030405060708");
  const iu = se.host.transmit(encodeCommand(initializeUpdateCommand(hostChallenge)));
  const s = HostSession.open(TEST_KEYS, hostChallenge, iu);
  if (!s.ok) throw new Error(s.error);
  expect(toHex(se.host.transmit(s.value.externalAuthenticate()))).toBe("9000");
  return s.value;
}

function expectAtomic(report: TearingReport): void {
  expect(report.writes).toBeGreaterThan(0);
  expect(report.cuts).toHaveLength(report.writes + 1);
  expect(atomicityViolations(report)).toEqual([]);
  // the cuts straddle the commit record: some leave the before-state, the rest the after-state
  const outcomes = report.cuts.map((c) => c.outcome);
  const firstAfter = outcomes.indexOf("after");
  expect(firstAfter).toBeGreaterThan(0);
  expect(outcomes.slice(0, firstAfter).every((o) => o === "before")).toBe(true);
  expect(outcomes.slice(firstAfter).every((o) => o === "after")).toBe(true);
  // a torn command never answers
  expect(report.cuts.every((c) => c.response.length === 0)).toBe(true);
  expect(report.before).not.toEqual(report.after);
}

describe("tearing", () => {
  it("an applet command writing 5 keys: 12 physical writes, 13 cut points, each before or after", () => {
    let checked = 0;
    const report = enumerateTearing({
      create: phone,
      prepare: (se) => {
        se.activate();
        tap(se, `00A404000A${CARD}00`);
      },
      command: (se) => se.process(fromHex("8010000004")),
      afterReboot: (se, cut) => {
        // the card answers again after the power comes back, with the state it recovered
        se.activate();
        const [, count] = tap(se, `00A404000A${CARD}00`, "8012000004");
        expect(count).toBe(cut.outcome === "after" ? "000000019000" : "000000009000");
        checked++;
      },
    });
    expect(report.writes).toBe(12);
    expect(toHex(report.response)).toBe("000000019000");
    expectAtomic(report);
    expect(report.cuts.map((c) => c.outcome)).toEqual([
      ...Array(6).fill("before"),
      ...Array(7).fill("after"),
    ]);
    expect(checked).toBe(13);
  });

  it("INSTALL through SCP03 (instance record, registry state, install counter, the applet's install())", () => {
    let session: HostSession;
    const install = installForInstallCommand({
      packageId: "test.files",
      aid: fromHex("A00000000386980701"),
      params: { city: "2000" },
      privileges: new Uint8Array(0),
    });
    const report = enumerateTearing({
      create: phone,
      prepare: (se) => (session = openSession(se)),
      command: (se) => se.host.transmit(session.wrap(install)),
      afterReboot: (se, cut) => {
        const listed = se.registry.list().some((e) => toHex(e.aid) === "A00000000386980701");
        expect(listed).toBe(cut.outcome === "after");
      },
    });
    expect(toHex(report.response)).toBe("009000");
    expectAtomic(report);
  });

  it("STORE DATA of several DGIs (all land or none)", () => {
    let session: HostSession;
    const [forPerso, store] = personalizationCommands(fromHex(OTHER), [
      { dgi: 0x0201, data: fromHex("AA") },
      { dgi: 0x0202, data: fromHex("BBBB") },
      { dgi: 0x0203, data: fromHex("CCCCCC") },
    ]);
    expect(toHex(store!.data)).toBe("020101AA020202BBBB020303CCCCCC");
    const report = enumerateTearing({
      create: phone,
      prepare: (se) => {
        session = openSession(se);
        expect(toHex(se.host.transmit(session.wrap(forPerso!)))).toBe("9000");
      },
      command: (se) => se.host.transmit(session.wrap(store!)),
    });
    expect(toHex(report.response)).toBe("9000");
    expectAtomic(report);
  });

  it("DELETE of an instance with data and a registry role", () => {
    let session: HostSession;
    const report = enumerateTearing({
      create: () => {
        const se = phone();
        se.registry.setDefaultPayment(fromHex(OTHER));
        return se;
      },
      prepare: (se) => (session = openSession(se)),
      command: (se) => se.host.transmit(session.wrap(deleteCommands(fromHex(OTHER))[0]!)),
      afterReboot: (se, cut) => {
        expect(se.registry.defaultPayment() === null).toBe(cut.outcome === "after");
      },
    });
    expect(toHex(report.response)).toBe("009000");
    expectAtomic(report);
  });

  it("deactivating the default card through the typed API (state and role together)", () => {
    const report = enumerateTearing({
      create: () => {
        const se = phone();
        se.registry.setDefaultPayment(fromHex(OTHER));
        return se;
      },
      command: (se) => {
        try {
          expect(se.registry.deactivate(fromHex(OTHER)).ok).toBe(true);
        } catch (e) {
          expect((e as TapwalletError).code).toBe("se_power_lost");
        }
        return new Uint8Array(0);
      },
    });
    expect(report.writes).toBe(6);
    expectAtomic(report);
  });

  it("stops at once for a command that writes nothing", () => {
    const report = enumerateTearing({
      create: phone,
      prepare: (se) => {
        se.activate();
        tap(se, `00A404000A${CARD}00`);
      },
      command: (se) => se.process(fromHex("8012000004")),
    });
    expect(report.writes).toBe(0);
    expect(report.cuts).toEqual([]);
    expect(report.before).toEqual(report.after);
  });
});
