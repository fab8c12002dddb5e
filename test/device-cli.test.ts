/**
 * `tapwallet phone …`, `door add` and `door open` as a user runs them: separate processes
 * (`npx tsx src/cli/main.ts`) against a cloud listening on a local port, the code typed at the prompt.
 * Errors come out in both languages with a non-zero exit.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-run.js";
import { sqliteBackend } from "./cloud-harness.js";
import { type LiveCloud, removeStateDirs, startCloud, stateDir } from "./device-harness.js";

const root = join(import.meta.dirname, "..");
const cli = (args: string[], answer?: { prompt: RegExp; text: () => string }) =>
  runCli(args, answer ? { answer } : {});
const fixture = (name: string) => join(root, "test/fixtures/mifare", name);

describe("tapwallet phone and door, as separate processes", () => {
  let cloud: LiveCloud;
  const dir = stateDir();
  const state = ["--state", dir];
  beforeAll(async () => {
    cloud = await startCloud(sqliteBackend);
    cloud.clock.set(Date.now()); // the CLI signs with the wall clock
  });
  afterAll(async () => {
    await cloud.close();
    removeStateDirs();
  });

  it("init, login at the prompt, register, add a door card through the cloud, open the door, list", async () => {
    const init = await cli(["phone", "init", "--model", "小米9", ...state]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("小米9 / Xiaomi Mi 9 (cepheus)");
    expect(init.stderr).toContain("开发用");

    const login = await cli(["phone", "login", "--mobile", "13600136000", "--server", cloud.url, ...state], {
      prompt: /SMS code/,
      text: () => cloud.otp.last("13600136000")!,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("136****6000");

    const reg = await cli(["phone", "register", ...state]);
    expect(reg.code, reg.stderr).toBe(0);
    expect(reg.stdout).toMatch(/已注册 \/ registered: dev_/);

    const add = await cli(["door", "add", fixture("blank-1k.json"), "--label", "单元门", ...state]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("门卡已写入手机 / door card installed: 5A17E3C0 → F0544150444F4F5201");

    const open = await cli(["door", "open", ...state]);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toContain("门已打开");

    const cards = await cli(["phone", "cards", "--json", ...state]);
    expect(JSON.parse(cards.stdout)).toMatchObject([
      { aid: "F0544150444F4F5201", category: "access", state: "activated", label: { zh: "单元门" } },
    ]);

    const sync = await cli(["phone", "sync", ...state]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toContain("没有待执行的操作 / nothing to do");

    const activity = await cli(["phone", "transactions", "--json", ...state]);
    expect(JSON.parse(activity.stdout).map((e: { type: string }) => e.type)).toContain(
      "access.card.installed",
    );
  });

  it("exits non-zero with the reason in both languages", async () => {
    const refused = await cli(["door", "add", fixture("encrypted-sector3.json"), ...state]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("扇区 3");
    expect(refused.stderr).toContain("sector 3");

    const lock = await cli(["phone", "lock", ...state]);
    expect(lock.code).toBe(0);
    const shut = await cli(["door", "open", ...state]);
    expect(shut.code).toBe(2);
    expect(shut.stderr).toContain("the phone is locked");

    const model = await cli(["phone", "init", "--model", "iPhone 15", "--state", stateDir()]);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/不认识的机型.*unknown phone model/s);
  });

  it("names phones as every terminal command does: --phone NAME, a bare --phone for the default one", async () => {
    const env = { TAPWALLET_HOME: stateDir() };
    const run = (args: string[]) => runCli(args, { env });
    expect((await run(["phone", "init", "--model", "cepheus", "--name", "lobby"])).code).toBe(0);
    const add = await run(["door", "add", fixture("blank-1k.bin"), "--local", "--phone", "lobby"]);
    expect(add.code, add.stderr).toBe(0);
    const open = await run(["door", "open", "--phone", "lobby"]);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toContain("door opened");
    // No name: the default phone, which this home does not have yet.
    const none = await run(["door", "open", "--phone"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/这里没有虚拟手机.*phones\/default.*no virtual phone in .*phones\/default/);
    const gate = await run(["gate", "--entry", "--station", "0101", "--phone", "lobby", "--json"]);
    expect(gate.code).toBe(3); // a phone with no transit card: the gate refuses
    expect(JSON.parse(gate.stdout)).toMatchObject({ ok: false });
  });

  it("adds a door card locally, without a server, and opens the door with it", async () => {
    const local = ["--state", stateDir()];
    expect((await cli(["phone", "init", "--model", "cepheus", ...local])).code).toBe(0);
    const add = await cli(["door", "add", fixture("blank-1k.bin"), "--local", ...local]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("(local)");
    const open = await cli(["door", "open", "--reader", "sector", "--credential", "00".repeat(16), ...local]);
    expect(open.code, open.stderr).toBe(0);
    const wrong = await cli(["door", "open", "--uid", "01020304", ...local]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("UID not enrolled");
  });
});
