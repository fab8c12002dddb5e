/**
 * `tapwallet phone open | topup | transit | transfer | refund` as a user runs them: separate processes
 * (`npx tsx src/cli/main.ts`) against a cloud on a local port. A refusal comes out in both languages with a
 * non-zero exit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli as cli } from "./cli-run.js";
import { sqliteBackend } from "./cloud-harness.js";
import { type LiveCloud, removeStateDirs, startCloud, stateDir } from "./device-harness.js";

describe("tapwallet phone transit commands, as separate processes", () => {
  let cloud: LiveCloud;
  const a = ["--state", stateDir()];
  const b = ["--state", stateDir()];
  beforeAll(async () => {
    cloud = await startCloud(sqliteBackend);
    cloud.clock.set(Date.now()); // the CLI signs with the wall clock
  });
  afterAll(async () => {
    await cloud.close();
    removeStateDirs();
  });

  async function ready(state: string[], model: string) {
    expect((await cli(["phone", "init", "--model", model, ...state])).code).toBe(0);
    await cloud.app.inject({ method: "POST", url: "/api/v1/auth/code", payload: { phone: "13500135000" } });
    const code = cloud.otp.last("13500135000")!;
    const login = await cli([
      "phone",
      "login",
      "--mobile",
      "13500135000",
      "--code",
      code,
      "--server",
      cloud.url,
      ...state,
    ]);
    expect(login.code, login.stderr).toBe(0);
    cloud.clock.advance(61_000); // one code per number per minute
    expect((await cli(["phone", "register", ...state])).code).toBe(0);
  }

  it("opens, tops up, lists, moves and refunds a card; a closed product is refused in both languages", async () => {
    await ready(a, "小米9");
    const open = await cli(["phone", "open", "tu-jingjinji", "--top-up", "50", "--channel", "alipay", ...a]);
    expect(open.code, open.stderr).toBe(0);
    expect(open.stdout).toMatch(
      /已开卡 \/ opened\n京津冀互联互通卡 \/ Beijing-Tianjin-Hebei Interconnection Card {2}31051700\d{11} {2}active/,
    );
    expect(open.stdout).toContain("余额 / balance ¥50.00");

    const top = await cli(["phone", "topup", "京津冀", "20.50", "--request-id", "cli-topup-0001", ...a]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toContain("已充值 / topped up ¥20.50");
    expect(top.stdout).toContain("余额 / balance ¥70.50");
    const again = await cli([
      "phone",
      "topup",
      "tu-jingjinji",
      "20.50",
      "--request-id",
      "cli-topup-0001",
      ...a,
    ]);
    expect(again.stdout).toContain("余额 / balance ¥70.50");

    const closed = await cli(["phone", "open", "beijing-yikatong", "--top-up", "50", ...a]);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain("已停止开新卡，请改开京津冀互联互通卡");
    expect(closed.stderr).toContain("open Beijing-Tianjin-Hebei Interconnection Card instead");

    await ready(b, "小米8");
    const moved = await cli(["phone", "transfer", "tu-jingjinji", "--to-state", b[1]!, ...a]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/移卡 \/ transfer twf_\w+: done/);
    expect(moved.stdout).toContain("卡片证明的余额 / balance the card proved: ¥70.50");
    const listed = await cli(["phone", "transit", "--json", ...b]);
    const cards = JSON.parse(listed.stdout) as {
      cards: { state: string; deviceId: string; balance: number }[];
    };
    expect(cards.cards).toMatchObject([{ state: "active", balance: 7050 }]);

    const refund = await cli(["phone", "refund", "tu-jingjinji", ...b]);
    expect(refund.code, refund.stderr).toBe(0);
    expect(refund.stdout).toMatch(/退卡 \/ refund twf_\w+: done/);
    expect(refund.stdout).toContain("退回 / paid back to alipay: ¥70.50");
  });
});
