/**
 * `tapwallet phone …` covers issue 6 item 8, as a user runs it: separate processes (`npx tsx src/cli/main.ts`)
 * against the whole cloud listening on a local port (SQLite). Sign in (the code typed at the prompt), register,
 * add bank cards with the bank's code (at the prompt, and in two steps with `--no-prompt` + `verify`), pay at the
 * POS with the phone's SE in memory (online through the cloud's issuer), open and top up a T-Union card, verify
 * the user (CDCVM), list the account's transactions (payments and top-ups) and a card's payments, set the
 * default card (through the cloud, from `phone bank default` and from `phone default` alike), suspend and
 * resume. Errors come out in both languages with exit 2.
 * (Presenting the SE over PC/SC, `phone present --vpcd`, is tested in test/pcsc-cli.test.ts; the transit
 * subcommands in test/cloud-transit-cli.test.ts; door cards in test/device-cli.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-run.js";
import { sqliteBackend } from "./cloud-harness.js";
import { CARDS, cvn2Of, expiryOf } from "./cloud-tsp-harness.js";
import { removeStateDirs, stateDir } from "./device-harness.js";
import { type WalletCloud, startWalletCloud } from "./e2e-harness.js";

const cli = (args: string[], answer?: { prompt: RegExp; text: () => string }) =>
  runCli(args, { env: { TRANSIT_ISSUER_KEY_SEED: "" }, ...(answer ? { answer } : {}) });

const ICBC = CARDS.icbc[0]!;
const CCB = CARDS.ccbCredit;

describe("tapwallet phone: sign in, bank cards, pay, transit, CDCVM, transactions (separate processes)", () => {
  let cloud: WalletCloud;
  const dir = stateDir();
  const state = ["--state", dir];
  beforeAll(async () => {
    cloud = await startWalletCloud(sqliteBackend, "phone-cli");
    cloud.clock.set(Date.now()); // the CLI signs with the wall clock
  });
  afterAll(async () => {
    await cloud.close();
    removeStateDirs();
  });

  it("covers the phone's wallet from sign-in to a card's payments", async () => {
    expect((await cli(["phone", "init", "--model", "小米9", ...state])).code).toBe(0);
    const login = await cli(["phone", "login", "--mobile", "13300133000", "--server", cloud.url, ...state], {
      prompt: /SMS code/,
      text: () => cloud.otp.last("13300133000")!,
    });
    expect(login.code, login.stderr).toBe(0);
    expect((await cli(["phone", "register", ...state])).stdout).toMatch(/registered: dev_/);

    // Terms first: without --accept-terms nothing is sent to the bank.
    const card = ["--number", ICBC.pan, "--expiry", expiryOf(ICBC)];
    const noTerms = await cli(["phone", "bank", "add", ...card, ...state]);
    expect(noTerms.code).toBe(2);
    expect(noTerms.stderr).toMatch(
      /错误 \/ error: 请阅读并同意.*--accept-terms \/ read and accept .*--accept-terms/,
    );
    expect(cloud.bankOtp.messages).toHaveLength(0);

    // The bank's code at the prompt: the token lands on the SE in the same command.
    const added = await cli(["phone", "bank", "add", ...card, "--accept-terms", ...state], {
      prompt: /the bank's code: $/,
      text: () => cloud.bankOtp.last(ICBC.reservedPhone)!,
    });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/银行验证码已发送至 139\*{4}\d{4}/);
    expect(added.stdout).toContain("已添加并写入手机 / added and installed on the phone: 中国工商银行");
    expect(added.stdout).toContain("[默认 / default]");
    expect(added.stdout).not.toContain(ICBC.pan);

    // In two steps: --no-prompt, then verify (a credit card, with its CVN2).
    const started = await cli([
      "phone",
      "bank",
      "add",
      "--number",
      CCB.pan,
      "--expiry",
      expiryOf(CCB),
      "--cvn2",
      cvn2Of(CCB),
      "--accept-terms",
      "--no-prompt",
      ...state,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const enrolment = /phone bank verify (\S+) CODE/.exec(started.stdout)![1]!;
    const verified = await cli([
      "phone",
      "bank",
      "verify",
      enrolment,
      cloud.bankOtp.last(CCB.reservedPhone)!,
      ...state,
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain("中国建设银行");

    // The phone in memory at our POS (named as every terminal names it), online through the cloud's issuer.
    const pos = ["pos", "--amount", "12.34", "--issuer-url", cloud.url, "--api-key", cloud.acquirerKey];
    const pay = await cli([...pos, ...state]);
    expect(pay.code, pay.stdout + pay.stderr).toBe(0);
    expect(pay.stdout).toContain("00");
    // Locked, its bank cards do not answer the POS.
    expect((await cli(["phone", "lock", ...state])).code).toBe(0);
    const locked = await cli([...pos, ...state]);
    expect(locked.code, locked.stdout + locked.stderr).toBe(3);
    expect((await cli(["phone", "unlock", ...state])).code).toBe(0);

    // A T-Union card with its first top-up, and a top-up.
    const open = await cli(["phone", "open", "tu-jingjinji", "--top-up", "50", ...state]);
    expect(open.code, open.stderr).toBe(0);
    const top = await cli(["phone", "topup", "tu-jingjinji", "30", "--channel", "alipay", ...state]);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toContain("余额 / balance ¥80.00");

    // CDCVM: the user verifies on the phone.
    const v = await cli(["phone", "verify", "--method", "fingerprint", ...state]);
    expect(v.stdout).toMatch(/已验证 \/ verified: \d{4}-/);

    // The account's transactions: the payment and the top-up are there.
    const events = JSON.parse((await cli(["phone", "transactions", "--json", ...state])).stdout) as {
      type: string;
      payload: Record<string, unknown>;
    }[];
    expect(events.find((e) => e.type === "bank_card.payment")?.payload).toMatchObject({
      amount: 12_34,
      approved: true,
    });
    expect(events.find((e) => e.type === "transit.topup.completed")?.payload).toMatchObject({
      amount: 30_00,
    });

    // The card's own payments; the default card made the credit card; suspend and resume.
    const payments = await cli(["phone", "bank", "payments", ICBC.pan.slice(-4), ...state]);
    expect(payments.stdout).toMatch(/¥12\.34 .*批准 \/ approved 00/);
    const def = await cli(["phone", "bank", "default", "CCB", ...state]);
    expect(def.code, def.stderr).toBe(0);
    const cards = JSON.parse((await cli(["phone", "bank", "cards", "--json", ...state])).stdout) as {
      bank: { code: string };
      default: boolean;
    }[];
    expect(cards.map((c) => [c.bank.code, c.default]).sort()).toEqual([
      ["CCB", true],
      ["ICBC", false],
    ]);
    const onSe = JSON.parse((await cli(["phone", "cards", "--json", ...state])).stdout) as {
      category: string;
      defaultPayment: boolean;
      expressTransit: boolean;
    }[];
    expect(
      onSe
        .filter((c) => c.category === "payment")
        .map((c) => c.defaultPayment)
        .sort(),
    ).toEqual([false, true]);
    expect(onSe.filter((c) => c.category === "transit")).toHaveLength(1);
    const suspended = await cli(["phone", "bank", "suspend", "ICBC", ...state]);
    expect(suspended.stdout).toContain("已暂停 / suspended");
    const resumed = await cli(["phone", "bank", "resume", "ICBC", ...state]);
    expect(resumed.stdout).toContain("已恢复 / resumed");
    // `phone default` names the card as the phone lists it; a bank card goes through the cloud, whose TSM
    // moves the default on the SE at the sync: the cloud's books and the SE agree.
    const icbcDefault = await cli(["phone", "default", "工商", ...state]);
    expect(icbcDefault.code, icbcDefault.stderr).toBe(0);
    expect(icbcDefault.stdout).toMatch(/默认支付卡 \/ default payment card: 中国工商银行/);
    const after = JSON.parse((await cli(["phone", "bank", "cards", "--json", ...state])).stdout) as {
      bank: { code: string };
      default: boolean;
    }[];
    expect(after.map((c) => [c.bank.code, c.default]).sort()).toEqual([
      ["CCB", false],
      ["ICBC", true],
    ]);
    const seAfter = JSON.parse((await cli(["phone", "cards", "--json", ...state])).stdout) as {
      defaultPayment: boolean;
      label: { zh: string } | null;
    }[];
    expect(seAfter.filter((c) => c.defaultPayment).map((c) => c.label?.zh)).toEqual([
      expect.stringContaining("中国工商银行"),
    ]);
    const unknown = await cli(["phone", "bank", "suspend", "0000", ...state]);
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      expect.stringContaining('本机没有银行卡「0000」 / no bank card "0000"'),
    ]);
  });
});
