/**
 * The terminal commands' card sources: `tapwallet gate` on a virtual phone's state directory, the clear
 * message when PC/SC is not there (these run everywhere), and `--pcsc [READER]` through the real pcscd + vpcd
 * with the phone presented by our bridge (run in CI always; skipped locally only without the stack).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { isTapwalletError } from "../src/core/errors.js";
import { VirtualPhone, addDoorCardLocally } from "../src/device/index.js";
import { blankCard, setBlock } from "../src/mifare/card.js";
import { DoorReader } from "../src/mifare/door-reader.js";
import { PcscClassicReader, doorStorageCard, phoneFieldIcc } from "../src/mifare/storage-card.js";
import { PcscStorageCardLink } from "../src/nfc/pcsc-storage.js";
import { StorageCardIcc } from "../src/nfc/vpcd-storage.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { type GateOptions, describeGateTap, exampleGate, gateCommand } from "../src/cli/commands/gate.js";
import { doorOpen, presentPhone } from "../src/cli/commands/phone.js";
import { posCommand } from "../src/cli/commands/pos.js";
import { saveLocalIssuer } from "../src/emv/issuer/local.js";
import { readCommand } from "../src/cli/commands/read.js";
import type { TapOutcome } from "../src/transit/terminal/gate.js";
import { IccLink } from "./pcsc-doubles.js";
import {
  DOOR_CREDENTIAL,
  DOOR_KEY,
  DOOR_UID,
  FUNDING_PAN,
  balanceOf,
  phoneInDir,
  phoneWorld,
} from "./pcsc-phone.js";
import { RUN_STACK_TESTS, assertStack, onVpcd, onVpcdSlot, replug, runTool } from "./pcsc-stack.js";

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
  beforeAll(assertStack);

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

  it("tapwallet phone present --vpcd (spawned): our gate and scriptor use the phone; after Ctrl-C its SE file keeps the charge", async () => {
    const dir = tempDir();
    await phoneInDir(dir, 30_00);
    let stderr = "";
    const code = await onVpcdSlot(async ({ reader, card }) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", "phone", "present", "--state", dir, "--vpcd"],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      try {
        const link = await card(30_000);
        const gate = exampleGate("0105", "exit", new ManualClock("2026-03-02T09:00:00+08:00"));
        await link.fieldOn();
        // No entry on the card: the maximum fare.
        expect(await gate.tap(link)).toMatchObject({ ok: true, amount: 10_00, balanceAfter: 20_00 });
        await link.fieldOff();
        const s = await runTool(
          "/usr/bin/scriptor",
          ["-r", reader],
          "00 A4 04 00 08 A0 00 00 06 32 01 01 05 00\n80 5C 00 02 04\n",
        );
        expect(s.stdout).toContain("< 00 00 07 D0 90 00");
      } finally {
        child.kill("SIGINT");
      }
      return exited;
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("bank and transit cards (ISO 14443-4)");
    expect(stderr).toMatch(/on the virtual reader "Virtual PCD 00 00" \(vpcd 127\.0\.0\.1:35963\)/);
    expect(stderr).toContain("the reader sees: ISO 14443-4 card, ATR 3B 80 80 01 01");
    expect(stderr).toMatch(/taken away from the reader \(\d+ APDUs answered\)/);
    const saved = new MemoryLink(VirtualPhone.open(dir, { clock: new ManualClock() }).isoDep);
    await saved.fieldOn();
    expect(await balanceOf(saved)).toBe(20_00);
  });

  it("phone present with a door card active: the storage-card ATR; our door reader opens; an encoder's write is saved", async () => {
    const dir = tempDir();
    const { phone } = await phoneInDir(dir, 1_00);
    const door = blankCard({ type: "1k", uid: fromHex("5EED0001") });
    setBlock(door.memory!, 4, DOOR_CREDENTIAL);
    addDoorCardLocally(phone, door);
    const abort = new AbortController();
    const lines: string[] = [];
    const block = fromHex("00112233445566778899AABBCCDDEEFF");
    await onVpcdSlot(async ({ pcsc, reader, card }) => {
      const presenting = presentPhone(
        { state: dir },
        { signal: abort.signal, say: (_zh, en) => lines.push(en) },
      );
      try {
        const link = await card(10_000);
        expect(toHex(pcsc.atr(reader))).toBe("3B8F8001804F0CA000000306030001000000006A");
        const reader1 = new DoorReader(
          { mode: "sector", block: 4, keyType: "A", key: DOOR_KEY, credentials: [DOOR_CREDENTIAL] },
          new ManualClock(),
        );
        expect(await reader1.tapVia(link, new PcscClassicReader(link))).toMatchObject({
          granted: true,
          uid: "5EED0001",
        });
        await link.fieldOn();
        const mfc = new PcscStorageCardLink(link);
        expect((await mfc.authenticateWithKey(5, "A", DOOR_KEY)).ok).toBe(true);
        expect((await mfc.updateBlock(5, block)).ok).toBe(true);
        await link.fieldOff();
      } finally {
        abort.abort();
      }
      expect(await presenting).toMatchObject({ insertions: 1 });
    });
    expect(lines[0]).toBe("pcsc: the active door card (MIFARE Classic)");
    expect(lines).toContain(
      "the reader sees: MIFARE Classic 1K (storage card), ATR 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
    );
    // The phone's files, opened afresh: the door card holds the encoder's block.
    const again = new IccLink(new StorageCardIcc(doorStorageCard(VirtualPhone.open(dir).se)));
    const mfc = new PcscStorageCardLink(again);
    await again.fieldOn();
    expect((await mfc.authenticateWithKey(5, "A", DOOR_KEY)).ok).toBe(true);
    expect(await mfc.readBlock(5)).toEqual({ ok: true, value: block });
  });

  it("tapwallet pos --pcsc pays with the phone's bank card, online against a local issuer file", async () => {
    const w = await phoneWorld();
    const issuerFile = join(tempDir(), "issuer.json");
    saveLocalIssuer(issuerFile, w.bank);
    await onVpcd(phoneFieldIcc(w.se), async ({ reader }) => {
      const run = await posCommand(
        { amount: "12.34", pcsc: reader, issuer: issuerFile, timeout: "5" },
        { say: () => {} },
      );
      expect(run.result).toMatchObject({
        status: "approved",
        decidedBy: "issuer",
        issuerAuthentication: "verified",
      });
      expect(run.text).toContain("交易成功 / APPROVED");
      expect(run.text).not.toContain(FUNDING_PAN);
    });
  });

  it("tapwallet door open --pcsc opens with the phone's door card (sector and UID modes) and says no when it should", async () => {
    const w = await phoneWorld();
    w.useDoorCard(true);
    await onVpcd(phoneFieldIcc(w.se), async ({ reader }) => {
      const credential = toHex(DOOR_CREDENTIAL);
      const base = { pcsc: reader, timeout: "5" };
      expect(
        await doorOpen({ ...base, reader: "sector", key: toHex(DOOR_KEY), credential: [credential] }),
      ).toContain(`door opened: access granted  (UID ${toHex(DOOR_UID)})`);
      expect(await doorOpen({ ...base, reader: "uid", uid: [toHex(DOOR_UID)] })).toContain("door opened");
      const refused = await doorOpen({ ...base, reader: "uid", uid: ["01020304"] }).catch((e: unknown) => e);
      expect(isTapwalletError(refused) && [refused.code, refused.en]).toEqual([
        "door_uid_not_enrolled",
        "door stays shut: UID not enrolled",
      ]);
    });
  });
});
