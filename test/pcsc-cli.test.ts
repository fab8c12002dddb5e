/**
 * The terminal commands' card sources: `tapwallet gate` on a virtual phone's state directory, the clear
 * message when PC/SC is not there (these run everywhere), and `--pcsc [READER]` through the real pcscd + vpcd
 * with the phone presented by our bridge (run in CI always; skipped locally only without the stack).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/core/clock.js";
import { isTapwalletError } from "../src/core/errors.js";
import { VirtualPhone } from "../src/device/index.js";
import { phoneFieldIcc } from "../src/mifare/storage-card.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { type GateOptions, describeGateTap, gateCommand } from "../src/cli/commands/gate.js";
import { readCommand } from "../src/cli/commands/read.js";
import type { TapOutcome } from "../src/transit/terminal/gate.js";
import { balanceOf, phoneInDir } from "./pcsc-phone.js";
import { RUN_STACK_TESTS, onVpcd, replug } from "./pcsc-stack.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tw-pcsc-cli-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI in its own process; resolves with exit code and output. */
function tapwallet(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "npx",
      ["tsx", "src/cli/main.ts", ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const tapsOf = async (o: GateOptions) => {
  const printed: TapOutcome[] = [];
  const outcomes = await gateCommand(o, (r) => printed.push(r));
  expect(printed).toEqual(outcomes);
  return outcomes;
};

describe("tapwallet gate on a virtual phone", () => {
  it("an entry and an exit gate charge the phone's T-Union card; the phone's SE file keeps it", async () => {
    const dir = tempDir();
    await phoneInDir(dir, 50_00);
    const [entry] = await tapsOf({
      entry: true,
      station: "0101",
      state: dir,
      at: "2026-03-02T08:00:00+08:00",
    });
    expect(entry).toMatchObject({ ok: true, kind: "metro-entry", amount: 0, balanceAfter: 50_00 });
    const [exit] = await tapsOf({ exit: true, station: "0112", state: dir, at: "2026-03-02T08:25:00+08:00" });
    // Pingguoyuan → Wangfujing, 16.2 km: ¥5 in the example fares.
    expect(exit).toMatchObject({ ok: true, kind: "metro-exit", amount: 5_00, balanceAfter: 45_00 });
    expect(describeGateTap(exit!)).toContain("扣费 / charged ¥5.00");
    const again = new MemoryLink(VirtualPhone.open(dir, { clock: new ManualClock() }).isoDep);
    await again.fieldOn();
    expect(await balanceOf(again)).toBe(45_00);
  });

  it("refuses bad usage with a zh/en reason", async () => {
    const cases: [GateOptions, string][] = [
      [{ entry: true, exit: true, station: "0101", state: "x" }, "give one of --entry or --exit"],
      [{ entry: true, station: "0101" }, "give one card"],
      [{ entry: true, station: "0101", state: "x", image: "y" }, "give one card"],
      [{ entry: true, station: "9999", state: "x" }, "no station 9999"],
      [{ entry: true, station: "0101", state: "x", repeat: true }, "--repeat goes with --pcsc"],
      [{ entry: true, station: "0101", pcsc: true, timeout: "soon" }, "--timeout is a number of seconds"],
    ];
    for (const [o, en] of cases) {
      const e = await gateCommand(o, () => {}).catch((x: unknown) => x);
      expect(isTapwalletError(e) && e.en, JSON.stringify(o)).toContain(en);
      expect(isTapwalletError(e) && e.zh.length).toBeGreaterThan(0);
    }
  });

  it("spawned: --json prints the gate's decision; a refusal exits 3", async () => {
    const dir = tempDir();
    await phoneInDir(dir, 2_00);
    // ¥2.00 is under the minimum fare (¥3): the entry gate refuses.
    const refused = await tapwallet(["gate", "--entry", "--station", "0101", "--state", dir, "--json"]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      reason: "insufficient_balance",
      balance: 2_00,
    });
  });
});

describe("--pcsc without PC/SC", () => {
  it("says what to install (zh/en) and exits 2, without hanging", async () => {
    const r = await tapwallet(["read", "--pcsc"], { PCSCLITE_CSOCK_NAME: "/nonexistent/pcscd.comm" });
    expect(r.code).toBe(2);
    // pcscd not running (or, on a machine without the addon, the addon missing): both name the setup script.
    expect(r.stderr).toMatch(/pcscd 未运行|未能加载 PC\/SC 模块/);
    expect(r.stderr).toContain("sudo bash scripts/setup-pcsc.sh");
  });
});

describe.skipIf(!RUN_STACK_TESTS)("--pcsc through pcscd and vpcd, the phone presented by the bridge", () => {
  it("tapwallet read --pcsc (spawned) reads the phone's T-Union card", async () => {
    const dir = tempDir();
    const { phone } = await phoneInDir(dir, 66_00);
    await onVpcd(phoneFieldIcc(phone.se), async ({ reader }) => {
      const r = await tapwallet(["read", "--pcsc", "Virtual PCD", "--timeout", "5", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ balance: 66_00 });
      expect(r.stderr).toContain(`card in ${reader}: ISO 14443-4 card`);
      // The function the command runs, in this process.
      expect(JSON.parse(await readCommand({ pcsc: reader, json: true }, { say: () => {} }))).toMatchObject({
        balance: 66_00,
      });
    });
  });

  it("tapwallet gate --pcsc --repeat serves the phone tap after tap until stopped", async () => {
    const dir = tempDir();
    const { phone } = await phoneInDir(dir, 20_00);
    await onVpcd(phoneFieldIcc(phone.se), async (session) => {
      const abort = new AbortController();
      const seen: TapOutcome[] = [];
      const done = gateCommand(
        { exit: true, station: "0105", pcsc: session.reader, repeat: true, at: "2026-03-02T09:00:00+08:00" },
        (r) => {
          seen.push(r);
          // The phone leaves the reader after each tap; the second time, the gate is closed (Ctrl-C).
          if (seen.length === 1) void session.bridge.stop().then(() => replug(session));
          else abort.abort(new Error("Ctrl-C"));
        },
        { signal: abort.signal, say: () => {} },
      );
      const outcomes = await done;
      // No entry on the card: the maximum fare (¥10), twice.
      expect(outcomes.map((o) => o.ok && [o.amount, o.balanceAfter, o.fareRule])).toEqual([
        [10_00, 10_00, "max-fare-no-entry"],
        [10_00, 0, "max-fare-no-entry"],
      ]);
    });
  });
});
