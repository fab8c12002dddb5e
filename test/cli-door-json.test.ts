/**
 * `tapwallet door open --json`, spawned as a user runs it: the decision as JSON (opened or refused with the
 * reader's reason, the reader's mode, the UID in hex, the sector's authentication and credential, software
 * time, air time), a refusal as the CLI's JSON error carrying the same decision (exit 2), a bad option as a
 * JSON error; never the site key.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phoneWithBlankDoorCard, runCli, sectorDoorOpen } from "./cli-run.js";

let dir: string;
let state: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapwallet-door-json-"));
  state = await phoneWithBlankDoorCard(dir);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const CREDENTIAL = "00".repeat(16);
const SITE_KEY = "FFFFFFFFFFFF";

describe("door open --json", () => {
  it("opened by UID: the decision, the reader's mode, the UID in hex, software and air time", async () => {
    const r = await runCli(["door", "open", "--json", ...state]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(j).toMatchObject({
      opened: true,
      outcome: "granted",
      reason: { zh: "开门", en: "access granted" },
      reader: { id: "door", mode: "uid", via: "phone" },
      uid: "5A17E3C0",
      whitelisted: true,
      sector: null,
      airTime: { bitRate: 106, frames: 7 },
    });
    expect(j["softwareMs"]).toBeGreaterThan(0);
    expect(j["airTime"]["totalUs"]).toBeGreaterThan(2000);
    expect(j["airTime"]["totalUs"]).toBeLessThan(4000);
  });

  it("opened by sector data: block, key slot, authenticated, credential enrolled; no key in the output", async () => {
    const r = await runCli(sectorDoorOpen(CREDENTIAL, "--json", ...state));
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(j).toMatchObject({
      opened: true,
      reader: { mode: "sector", via: "phone" },
      uid: "5A17E3C0",
      whitelisted: null,
      sector: { block: 4, keyType: "A", authenticated: true, credential: "enrolled" },
      airTime: { bitRate: 106, frames: 13 },
    });
    expect(j["airTime"]["totalUs"]).toBeGreaterThan(6800);
    expect(r.stdout.toUpperCase()).not.toContain(SITE_KEY);
  });

  it("refused: exit 2, the JSON error carries the decision; a wrong key and an unknown UID say why", async () => {
    const other = await runCli(sectorDoorOpen("11".repeat(16), "--json", ...state));
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("门未打开");
    expect(JSON.parse(other.stdout)).toMatchObject({
      error: "door_credential_not_enrolled",
      message: { zh: "门未打开：凭证未登记", en: "door stays shut: credential not enrolled" },
      details: {
        opened: false,
        outcome: "credential_not_enrolled",
        reason: { en: "credential not enrolled" },
        uid: "5A17E3C0",
        sector: { block: 4, keyType: "A", authenticated: true, credential: "not_enrolled" },
      },
    });

    const wrongKey = "A0A1A2A3A4A5";
    const key = await runCli(sectorDoorOpen(CREDENTIAL, "--key", wrongKey, "--json", ...state));
    expect(key.code).toBe(2);
    expect(JSON.parse(key.stdout)).toMatchObject({
      error: "door_auth_failed",
      details: { sector: { authenticated: false, credential: null } },
    });
    expect(key.stdout).not.toContain(wrongKey);

    const uid = await runCli(["door", "open", "--uid", "01020304", "--json", ...state]);
    expect(uid.code).toBe(2);
    expect(JSON.parse(uid.stdout)).toMatchObject({
      error: "door_uid_not_enrolled",
      details: { opened: false, whitelisted: false, uid: "5A17E3C0", reader: { mode: "uid" } },
    });
  });

  it("a bad option is a JSON error (no decision), and without --json the output stays text", async () => {
    const bad = await runCli(["door", "open", "--reader", "sector", "--json", ...state]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({
      error: "bad_option",
      message: {
        zh: "扇区模式需要 --credential（登记的凭证块）",
        en: "sector mode needs --credential (an enrolled credential block)",
      },
    });
    const text = await runCli(["door", "open", ...state]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("门已打开：开门 / door opened: access granted  (UID 5A17E3C0)");
  });
});
