import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTapwalletError } from "../../core/errors.js";
import { QPBOC_ONLINE_HEX } from "../../nfc/fixtures/qpboc-online.js";
import { traceCommand } from "./trace.js";

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapwallet-trace-cli-"));
  await writeFile(
    file("qpboc.json"),
    JSON.stringify({
      activation: { uid: "08A1B2C3", atqa: "0004", sak: "20", ats: "0578807002" },
      apdus: QPBOC_ONLINE_HEX.map((e, i) => ({ ...e, us: [20_000, 30_000, 50_000][i] })),
    }),
  );
  await writeFile(file("broken.json"), '{"apdus": [{"command": "00A4", "response": "9"}]}');
  await writeFile(file("notjson.json"), "00A40400 9000");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("tapwallet trace", () => {
  it("prints the decoded trace and the air-time bound per bit rate (zh)", async () => {
    const out = await traceCommand(file("qpboc.json"));
    expect(out).toContain("UID 08A1B2C3 · ATQA 0004 · SAK 20 · ATS 0578807002");
    expect(out).toContain("[3] >> 获取处理选项 GET PROCESSING OPTIONS");
    expect(out).toContain("空中时间下限");
    expect(out).toMatch(/106 kbit\/s:\s+27\.\d\d ms/);
    expect(out).toMatch(/848 kbit\/s:\s+3\.\d\d ms/);
    expect(out).toContain("记录的耗时: 100.00 ms");
    expect(out).not.toContain("6299999999999999");
  });

  it("prints English with --lang en and structured JSON with --json", async () => {
    expect(await traceCommand(file("qpboc.json"), { lang: "en" })).toContain("Air-time lower bound");
    const json = JSON.parse(await traceCommand(file("qpboc.json"), { json: true })) as {
      exchanges: { command: { name: { en: string } } }[];
      airTime: { bitRate: number; exchangesUs: number; withActivationUs: number }[];
    };
    expect(json.exchanges.map((e) => e.command.name.en)).toEqual([
      "SELECT",
      "SELECT",
      "GET PROCESSING OPTIONS",
    ]);
    expect(json.airTime.map((r) => r.bitRate)).toEqual([106, 212, 424, 848]);
    expect(json.airTime[0]!.withActivationUs).toBeGreaterThan(json.airTime[0]!.exchangesUs);
  });

  it("explains a bad file in zh and en", async () => {
    const fail = async (f: string, opts = {}) => {
      try {
        await traceCommand(f, opts);
      } catch (e) {
        if (isTapwalletError(e)) return e;
      }
      throw new Error("no TapwalletError");
    };
    const missing = await fail(file("missing.json"));
    expect(missing.code).toBe("trace_unreadable");
    expect(missing.zh).toContain("ENOENT");
    const broken = await fail(file("broken.json"));
    expect(broken.code).toBe("trace_invalid");
    expect(broken.en).toContain("apdus[0].response is not hex");
    expect((await fail(file("notjson.json"))).en).toContain("not JSON");
    expect((await fail(file("qpboc.json"), { lang: "fr" })).zh).toContain("--lang");
  });

  it("exits non-zero with the zh/en message when run as a command", async () => {
    const run = promisify(execFile);
    const err = await run("npx", ["tsx", "src/cli/main.ts", "trace", file("broken.json")]).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain("跟踪文件");
    expect((err as { stderr: string }).stderr).toContain("is not a valid trace");
  });
});
