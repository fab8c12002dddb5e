/**
 * `tapwallet door open --trace-out FILE` then `tapwallet trace FILE`, as a user runs them (separate
 * processes): the door's MIFARE Classic frames named, with their air time, the key never shown; and any
 * file that is not a trace gives a zh/en message and a non-zero exit, never a stack trace.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTapwalletError } from "../src/core/errors.js";
import { traceCommand } from "../src/cli/commands/trace.js";
import { phoneWithBlankDoorCard, runCli, sectorDoorOpen } from "./cli-run.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapwallet-trace-door-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const CREDENTIAL = "00".repeat(16);

describe("door open --trace-out, then trace", () => {
  it("records a door open and decodes it frame by frame, with air time, nonces hidden, no key", async () => {
    const state = await phoneWithBlankDoorCard(dir);
    const file = join(dir, "door.json");
    const open = await runCli(sectorDoorOpen(CREDENTIAL, "--trace-out", file, ...state));
    expect(open.code, open.stderr).toBe(0);

    const en = await runCli(["trace", file, "--lang", "en"]);
    expect(en.code, en.stderr).toBe(0);
    expect(en.stdout).toMatch(/\[ {2}7\]\s+[\d.]+\s+[\d.]+\s+reader 60 04 D1 3D\s+AUTH key A, block 4\n/);
    expect(en.stdout).toMatch(/ 5A 17 E3 C0 6E /);
    expect(en.stdout).toMatch(/\?\? \?\? \?\? \?\? \?\? \?\? \?\? \?\?/);
    expect(en.stdout).toMatch(/card\s+(\S\S!? ){17}\S\S!?\s+encrypted block data/);
    expect(en.stdout).toMatch(/Air-time lower bound \(ISO 14443-A 106 kbit\/s, 13 frames\): 6\.9\d ms/);
    expect(en.stdout.replace(/[\s!]/g, "")).not.toContain("FFFFFFFFFFFF");

    const zh = await runCli(["trace", file]);
    expect(zh.stdout).toContain("认证 密钥 A，块 4 (AUTH key A, block 4)");
    expect(zh.stdout).toContain("空中时间下限");

    const json = JSON.parse((await runCli(["trace", file, "--json"])).stdout) as {
      kind: string;
      frames: {
        from: string;
        name: { en: string };
        encrypted: boolean;
        hidden: boolean;
        startUs: number;
        airUs: number;
      }[];
      airTime: { bitRate: number; totalUs: number };
    };
    const names = json.frames.map(
      (f) => `${f.from}: ${f.name.en}${f.encrypted ? " · encrypted" : ""}${f.hidden ? " · hidden" : ""}`,
    );
    expect(names).toEqual([
      "reader: WUPA",
      "card: ATQA",
      "reader: ANTICOLLISION CL1",
      "card: UID CL1 + BCC",
      "reader: SELECT CL1",
      "card: SAK",
      "reader: AUTH key A, block 4",
      "card: card nonce nT · hidden",
      "reader: reader answer {nR}{aR} · encrypted · hidden",
      "card: card answer {aT} · encrypted · hidden",
      // After the authentication: READ block 4 and HALT, encrypted.
      "reader: encrypted command · encrypted",
      "card: encrypted block data · encrypted",
      "reader: encrypted command · encrypted",
    ]);
    expect(json.kind).toBe("mifare-classic-frames");
    expect(json.frames).toHaveLength(13);
    expect(json.frames.every((f) => f.airUs > 0)).toBe(true);
    expect(json.airTime.bitRate).toBe(106);
  });
});

describe("trace on a file that is not a trace", () => {
  it("any bytes: a TapwalletError naming the file, never anything else (in process)", async () => {
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.json().map((j) => Buffer.from(j)),
      fc
        .record({
          kind: fc.constant("mifare-classic-frames"),
          frames: fc.array(fc.anything(), { maxLength: 5 }),
        })
        .map((j) => Buffer.from(JSON.stringify(j))),
      fc
        .record({ apdus: fc.array(fc.anything(), { maxLength: 5 }) })
        .map((j) => Buffer.from(JSON.stringify(j))),
    );
    const file = join(dir, "junk.json");
    await fc.assert(
      fc.asyncProperty(junk, async (bytes) => {
        await writeFile(file, bytes);
        try {
          await traceCommand(file);
        } catch (e) {
          expect(isTapwalletError(e), String(e)).toBe(true);
          if (isTapwalletError(e)) expect(e.en).toContain(file);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("spawned: exit 2 and the message in zh and en, no stack trace", async () => {
    const file = join(dir, "garbage.json");
    await writeFile(
      file,
      JSON.stringify({ kind: "mifare-classic-frames", frames: [{ from: "card", frame: "XYZ" }] }),
    );
    const r = await runCli(["trace", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("跟踪文件");
    expect(r.stderr).toContain('frames[0].frame: "XYZ" is not a byte');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const j = await runCli(["trace", join(dir, "missing.json"), "--json"]);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({
      error: "trace_unreadable",
      message: { en: expect.stringContaining("ENOENT") },
    });
  });

  it("an APDU trace with a malformed LOAD KEY still hides the key", async () => {
    const file = join(dir, "loadkey.json");
    await writeFile(file, JSON.stringify({ apdus: [{ command: "FF82000006A1B2C3D4E5", response: "6700" }] }));
    const out = await traceCommand(file, { lang: "en" });
    expect(out).toContain("MALFORMED APDU");
    expect(out).not.toContain("A1B2C3");
  });
});
