/**
 * The cards and the terminal simulator in a real browser (Debian's chromium via playwright-core) against a
 * real server — the cloud, the web app and the phone simulator, on SQLite in a temporary DATA_DIR: a bank
 * card added with the bank's code and paid with at the simulated POS (the payment arriving live), a T-Union
 * card opened, topped up and ridden through gates (its trips in the chart), the refusals the API words (a
 * second T-Union card, a closed product naming its successor, a wrong bank code, a payment that needs the
 * user's verification) in both languages, a door card uploaded and opening the simulated door, and a
 * Shenzhen Tong card moved to a second phone and refunded, their rules shown first. Every control on these
 * screens is labelled.
 * Skipped only when chromium is absent outside CI; in CI it must run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { fromHex } from "../../src/core/bytes.js";
import { TEST_CARDS } from "../../src/cloud/issuer/test-cards.js";
import { blankCard } from "../../src/mifare/card.js";
import { exportDump } from "../../src/mifare/formats/index.js";
import {
  buildWebApp,
  openBrowser,
  signInThroughUi,
  skipBrowserTests,
  startWalletServer,
  type WalletServer,
} from "./harness.js";
import type { PageGlobal } from "./dom.js";

let server: WalletServer;
let numbers = 0;
const nextNumber = () => `1390000${String(1000 + numbers++)}`;

async function withBrowser(run: (page: Page) => Promise<void>): Promise<void> {
  const b = await openBrowser();
  const errors: string[] = [];
  b.page.on("pageerror", (e) => errors.push(e.message));
  try {
    await run(b.page);
    expect(errors, "uncaught errors in the page").toEqual([]);
  } finally {
    await b.close();
  }
}

const tab = (page: Page, name: string) =>
  page.getByRole("navigation").getByRole("link", { name, exact: true }).click();
const heading = (page: Page, name: string) =>
  page.getByRole("heading", { level: 1, name, exact: true }).waitFor();
const alertText = (page: Page) => page.getByRole("alert").first().textContent();

/** Signs in and makes a 小米6 (it carries T-Union cards) through the phone screen; ends on the cards. */
async function signInWithPhone(page: Page): Promise<void> {
  await signInThroughUi(page, server, nextNumber());
  await page.getByRole("link", { name: "设置模拟手机" }).click();
  await page.getByLabel("机型", { exact: true }).selectOption("sagit");
  await page.getByLabel("设备名称").fill("测试手机");
  await page.getByRole("button", { name: "出厂并注册" }).click();
  await page.getByRole("region", { name: "本机" }).waitFor();
  await tab(page, "卡包");
  await heading(page, "卡包");
}

/** Every control on the screen has an accessible name (label, aria-label or its own text). */
async function expectAllLabelled(page: Page): Promise<void> {
  const unlabelled = await page.evaluate(() =>
    [
      ...(globalThis as unknown as PageGlobal).document.querySelectorAll(
        "input, select, textarea, button, a[href], summary",
      ),
    ]
      .filter((el) => {
        const labels = el.labels;
        const named =
          (labels && labels.length > 0) ||
          el.getAttribute("aria-label") ||
          el.getAttribute("aria-labelledby") ||
          (el.tagName === "BUTTON" || el.tagName === "A" || el.tagName === "SUMMARY"
            ? (el.textContent ?? "").trim()
            : "");
        return !named;
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  expect(unlabelled).toEqual([]);
}

/** Holds the phone to the terminal the form is set to; returns the outcome panel. */
async function tapPhone(page: Page, label = "靠近终端刷卡") {
  const result = page.getByRole("region", { name: /^(刷卡结果|Outcome)$/ });
  const before = (await result.count()) ? await result.getByRole("status").textContent() : null;
  await page.getByRole("button", { name: label }).click();
  await result.waitFor();
  // The outcome of this tap, not the one before it.
  await expect
    .poll(async () => (await result.getByRole("status").textContent()) !== before || before === null)
    .toBe(true);
  return result;
}

describe.skipIf(skipBrowserTests)("cards and the terminal simulator in chromium", () => {
  beforeAll(async () => {
    server = await startWalletServer(await buildWebApp(), { otpResendMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("adds a bank card with the bank's code (a wrong one first), pays at the simulated POS (the payment shows live), suspends, resumes and deletes it", async () => {
    const card = TEST_CARDS[0]!;
    await withBrowser(async (page) => {
      await signInWithPhone(page);
      await page.getByRole("link", { name: "添加银行卡" }).click();
      await heading(page, "添加银行卡");

      // The Luhn hint as the number is typed.
      const number = page.getByLabel("银行卡号");
      await number.fill(card.pan.slice(0, -1) + String((Number(card.pan.slice(-1)) + 1) % 10));
      await page.getByText("卡号校验位不正确，请检查").waitFor();
      await number.fill(card.pan);
      await page.getByText("卡号校验通过").waitFor();
      expect(await number.inputValue()).toBe(card.pan.replace(/(\d{4})(?=\d)/g, "$1 "));
      await page.getByLabel("有效期（月/年）").fill("1230");
      expect(await page.getByLabel("有效期（月/年）").inputValue()).toBe("12/30");
      await page.getByLabel("我已阅读并同意以上条款").check();
      await expectAllLabelled(page);
      await page.getByRole("button", { name: "下一步" }).click();

      await heading(page, "添加银行卡");
      await page
        .getByText(/中国工商银行已向尾号 \d{4} 的储蓄卡预留手机 138\*\*\*\*8001 发送验证码/)
        .waitFor();
      const code = await server.bankCodeFor(card.reservedPhone);
      await page.getByLabel("6 位银行验证码").fill(String((Number(code) + 1) % 1_000_000).padStart(6, "0"));
      await page.getByRole("button", { name: "确认添加" }).click();
      await expect.poll(() => alertText(page)).toContain("验证码错误，还可尝试 4 次");
      await page.getByLabel("6 位银行验证码").fill(code);
      await page.getByRole("button", { name: "确认添加" }).click();
      await heading(page, "银行卡");
      await page.getByText("已写入安全元件").waitFor();

      // The card in the wallet, with its bank's art.
      await tab(page, "卡包");
      await page.getByRole("img", { name: /^中国工商银行储蓄卡，尾号 \d{4}$/ }).waitFor();
      await page.getByText("默认卡").waitFor();

      // Pay ¥12.34 at the simulated POS: approved online, announced live.
      await tab(page, "终端");
      await heading(page, "终端模拟器");
      await page.getByLabel("金额（元）").fill("12.34");
      const result = await tapPhone(page);
      await result.getByRole("status").getByText("交易成功", { exact: true }).waitFor();
      await page
        .getByRole("status")
        .filter({ hasText: "付款成功 ¥12.34：Tapwallet Simulator Store" })
        .waitFor();
      await result.getByText("签购单 / SALES SLIP", { exact: false }).waitFor();
      const timeline = result.getByRole("list", { name: "时序，按发生顺序" });
      expect(await timeline.getByRole("listitem").count()).toBeGreaterThan(3);
      await timeline.getByText("获取处理选项").first().waitFor();
      await result.getByText("空中时间 106 kbit/s").waitFor();
      await result.getByText("空中时间 848 kbit/s").waitFor();
      await result.getByText("联机授权").waitFor();
      await expectAllLabelled(page);

      // Above ¥1000 the card wants the user verified on the phone: refused, in English too, until then.
      await tab(page, "设置");
      await page.getByRole("radio", { name: "English" }).check();
      await tab(page, "Terminal");
      await page.getByLabel("Amount (yuan)").fill("1200");
      const big = await tapPhone(page, "Tap the phone");
      await big.getByRole("status").getByText("verify on your phone, then tap again").waitFor();
      await page.getByRole("button", { name: "Verify with fingerprint" }).click();
      const verified = await tapPhone(page, "Tap the phone");
      await verified.getByRole("status").getByText("approved", { exact: true }).waitFor();
      await page
        .getByRole("status")
        .filter({ hasText: "Paid ¥1200.00 at Tapwallet Simulator Store" })
        .waitFor();

      // The card's payments, live.
      await tab(page, "Cards");
      await page
        .getByRole("link", { name: /Industrial and Commercial Bank of China/ })
        .first()
        .click();
      const payments = page.getByRole("list", { name: "Payments" });
      await payments.getByText("¥12.34").waitFor();
      await payments.getByText("¥1200.00").first().waitFor();

      // Suspended, the token is refused by the issuer; resumed, it pays; deleted, it leaves the wallet.
      await page.getByRole("button", { name: "Suspend" }).click();
      await page.getByText("Card suspended").waitFor();
      await page.getByText("Suspended (by you)").waitFor();
      await tab(page, "Terminal");
      await page.getByLabel("Amount (yuan)").fill("8.00");
      const refused = await tapPhone(page, "Tap the phone");
      await refused.getByRole("status").getByText("restricted card").waitFor();
      await tab(page, "Cards");
      await page
        .getByRole("link", { name: /Industrial and Commercial Bank of China/ })
        .first()
        .click();
      await page.getByRole("button", { name: "Resume" }).click();
      await page.getByText("Card resumed").waitFor();
      await page.getByRole("button", { name: "Delete" }).click();
      await page.getByText("The token stops working at once", { exact: false }).waitFor();
      await page.getByRole("button", { name: "Delete card" }).click();
      await heading(page, "Cards");
      await page.getByRole("heading", { name: "No cards yet" }).waitFor();
    });
  });

  it("opens a T-Union card with its fee and first top-up, tops it up, rides a gate (locked, as the express card), and refuses a second T-Union card and a closed product with the reason", async () => {
    await withBrowser(async (page) => {
      await signInWithPhone(page);
      await tab(page, "交通卡");
      await heading(page, "交通卡");
      // The catalogue by city: a closed product points to its successor.
      const closed = page.getByRole("listitem", { name: "北京市政交通一卡通" });
      await closed.getByText("停止开新卡").waitFor();
      await closed.getByRole("link", { name: "京津冀互联互通卡" }).waitFor();
      const shengjing = page.getByRole("listitem", { name: "盛京通" });
      await shengjing.getByText("开卡费 ¥20.00（退卡时退还）", { exact: false }).waitFor();
      await shengjing.getByRole("link", { name: "盛京通" }).click();

      await heading(page, "开通交通卡");
      await page.getByRole("radio", { name: "¥50.00" }).check();
      const bill = page.getByRole("group", { name: "首次充值" });
      await bill.waitFor();
      await page.getByText("¥70.00").first().waitFor();
      // Slow the opening down so its progress indication can be seen.
      await page.route("**/sim/v1/phones/*/transit/cards", async (route) => {
        await new Promise((r) => setTimeout(r, 500));
        await route.continue();
      });
      await page.getByRole("button", { name: "支付 ¥70.00 并开卡" }).click();
      await page.getByRole("status").filter({ hasText: "正在支付、开卡并写入手机…" }).waitFor();
      await heading(page, "交通卡");
      await page.getByLabel("余额").getByText("¥50.00").waitFor();

      // Top up with a preset amount; the balance and a live note follow.
      await page.getByRole("radio", { name: "¥20.00" }).check();
      await page.getByRole("button", { name: "充值 ¥20.00" }).click();
      await page.getByText("已充值 ¥20.00").waitFor();
      await page.getByRole("status").filter({ hasText: "充值成功 ¥20.00，余额 ¥70.00" }).waitFor();
      await page.getByLabel("余额").getByText("¥70.00").waitFor();

      // Ride: in at 苹果园, out at 国贸; each record goes to clearing at once.
      await tab(page, "终端");
      await page.getByRole("radio", { name: "地铁闸机" }).check();
      await page.getByRole("radio", { name: "进站" }).check();
      await page.getByLabel("车站").selectOption("0101");
      const entry = await tapPhone(page);
      await entry.getByText("闸门打开：进站（余额 ¥70.00）").waitFor();
      await entry.getByText("记录已上传清分").waitFor();
      await page.getByRole("radio", { name: "出站" }).check();
      await page.getByLabel("车站").selectOption("0116");
      const exit = await tapPhone(page);
      await exit.getByText("闸门打开：出站，扣费 ¥5.00（余额 ¥65.00）").waitFor();
      await exit.getByText("APDU 时序").waitFor();

      // The ride in the card's trips and its monthly chart.
      await tab(page, "交通卡");
      await page.getByRole("link", { name: /盛京通 · 余额 ¥65.00/ }).click();
      await page.getByRole("img", { name: "近 6 个月乘车花费" }).waitFor();
      const trips = page.getByRole("list", { name: "交易记录，最新的在前" });
      await trips.getByText("乘车 · 国贸").waitFor();
      await trips.getByText("-¥5.00").waitFor();
      await page
        .getByRole("table", { name: "近 6 个月乘车花费" })
        .getByRole("cell", { name: "¥5.00" })
        .waitFor();

      // Refund rules are shown before the user agrees (not carried out here).
      await page.getByRole("button", { name: "退卡" }).click();
      await page.getByText("卡内余额 ¥65.00 原路退回支付渠道").waitFor();
      await page.getByText("开卡费 ¥20.00 一并退还").waitFor();
      await expect(page.getByRole("button", { name: "确认退卡" }).isDisabled()).resolves.toBe(true);
      await page.getByRole("button", { name: "取消" }).click();

      // The express card answers the gate while the phone is locked.
      await tab(page, "设置");
      await page.getByLabel("快捷交通卡").selectOption({ label: "盛京通" });
      await page.getByText("快捷交通卡已更新").waitFor();
      await tab(page, "终端");
      await page.getByRole("button", { name: "锁屏" }).click();
      await page.getByText("已锁屏", { exact: false }).first().waitFor();
      await page.getByRole("radio", { name: "地铁闸机" }).check();
      await page.getByRole("radio", { name: "进站" }).check();
      const locked = await tapPhone(page);
      await locked.getByText("闸门打开：进站（余额 ¥65.00）").waitFor();
      await page.getByRole("button", { name: "解锁" }).click();

      // A second T-Union card on the same phone: the phone refuses, saying why.
      await tab(page, "交通卡");
      await page
        .getByRole("listitem", { name: "京津冀互联互通卡" })
        .getByRole("link", { name: "京津冀互联互通卡" })
        .click();
      await page.getByRole("button", { name: /^支付 ¥\d+\.\d\d 并开卡$/ }).click();
      await expect.poll(() => alertText(page)).toContain("每台设备仅能存在一张交通联合卡，已有盛京通");

      // A closed product: refused, naming its successor — in both languages.
      await page.goto(`${server.url}/transit/open/beijing-yikatong`);
      await page.getByText("北京市政交通一卡通已停止开新卡，开卡会被拒绝。").waitFor();
      await page.getByRole("button", { name: /^支付 ¥\d+\.\d\d 并开卡$/ }).click();
      await expect
        .poll(() => alertText(page))
        .toContain("北京市政交通一卡通已停止开新卡，请改开京津冀互联互通卡");
      await tab(page, "设置");
      await page.getByRole("radio", { name: "English" }).check();
      await page.goto(`${server.url}/transit/open/beijing-yikatong`);
      await page.getByRole("button", { name: /^Pay ¥\d+\.\d\d and open$/ }).click();
      await expect.poll(() => alertText(page)).toContain("closed for new cards");
      expect(await alertText(page)).toContain("Beijing-Tianjin-Hebei Interconnection Card");
      await tab(page, "Transit");
      await page
        .getByRole("listitem", { name: "Beijing Yikatong (BMAC)" })
        .getByText("Closed to new cards")
        .waitFor();
    });
  });

  it("checks door cards (a dump and a card read on the reader), adds one, and opens the simulated door with it", async () => {
    const dump = exportDump(blankCard({ type: "1k", uid: fromHex("5A17E3C0") }), "eml");
    if (!dump.ok) throw new Error(dump.error.en);
    await withBrowser(async (page) => {
      await signInWithPhone(page);
      await page.getByRole("link", { name: "添加门卡" }).click();
      await heading(page, "门卡");

      // An encrypted card read on the simulator's reader: refused, naming the sector.
      await page.getByLabel("或在读卡器上读一张").selectOption("encrypted");
      await page.getByRole("button", { name: "读卡" }).click();
      const verdict = page.getByRole("region", { name: "检查结果" });
      await verdict.getByText("这张卡不能模拟").waitFor();
      await verdict
        .getByText(/扇区 3/)
        .first()
        .waitFor();
      await verdict.getByText(/读出 15\/16 个扇区/).waitFor();
      await expect(page.getByRole("button", { name: "添加到这台手机" }).count()).resolves.toBe(0);

      // A dump file in .eml: emulatable; added and made the active door card.
      await page.getByLabel("转储文件").setInputFiles({
        name: "front-door.eml",
        mimeType: "text/plain",
        buffer: Buffer.from(dump.value.bytes),
      });
      await verdict.getByText("可以模拟这张卡").waitFor();
      await verdict.getByText("5A17E3C0").waitFor();
      await verdict.getByText("16/16 个扇区用默认密钥打开").waitFor();
      await page.getByLabel("名称").fill("单元门");
      await page.getByRole("button", { name: "添加到这台手机" }).click();
      await page.getByText("门卡“单元门”已写入手机并启用").waitFor();
      await page.getByRole("region", { name: "我的门卡" }).getByText("当前门卡").waitFor();
      await expectAllLabelled(page);

      // The door reader lets in only the cards enrolled at it.
      await tab(page, "终端");
      await page.getByText("感应区：门卡", { exact: false }).waitFor();
      await page.getByRole("radio", { name: "门禁读卡器" }).check();
      await page.getByRole("radio", { name: "卡号白名单" }).check();
      const shut = await tapPhone(page);
      await shut.getByText("门未打开：卡号未登记").waitFor();
      await page.getByRole("button", { name: "登记这台手机的门卡" }).click();
      await page.getByRole("region", { name: "刷卡结果" }).getByText("已登记门卡 5A17E3C0").waitFor();
      const open = await tapPhone(page);
      await open.getByText("门已打开").waitFor();
      await open.getByText("MIFARE 帧时序").waitFor();
      await open.getByText("SAK 选卡确认").waitFor();

      // In English, the same reader in sector mode.
      await tab(page, "设置");
      await page.getByRole("radio", { name: "English" }).check();
      await tab(page, "Terminal");
      await page.getByRole("radio", { name: "Door reader" }).check();
      await page.getByRole("radio", { name: /^Sector data/ }).check();
      await page.getByRole("button", { name: "Enrol this phone's door card" }).click();
      await page.getByRole("region", { name: "Outcome" }).getByText("Card 5A17E3C0 enrolled").waitFor();
      const sector = await tapPhone(page, "Tap the phone");
      await sector.getByText("Door opened").waitFor();
      await sector.getByText("card nonce nT").waitFor();
    });
  });

  it("moves a Shenzhen Tong card to a second phone and refunds it there, each with its rules shown before agreeing", async () => {
    await withBrowser(async (page) => {
      await signInWithPhone(page);
      // A second phone on the account to move the card to.
      await page.goto(`${server.url}/phone`);
      await page.getByRole("button", { name: "再建一部模拟手机" }).click();
      await page.getByLabel("机型", { exact: true }).selectOption("cepheus");
      await page.getByLabel("设备名称").fill("新手机");
      await page.getByRole("button", { name: "出厂并注册" }).click();
      await page.getByRole("region", { name: "本机" }).getByText("小米9 (cepheus)").waitFor();
      await page.getByRole("button", { name: "显示 测试手机" }).click();
      await page.getByRole("region", { name: "本机" }).getByText("小米6 (sagit)").waitFor();

      await page.goto(`${server.url}/transit/open/shenzhen-tong`);
      await page.getByRole("button", { name: "支付 ¥50.00 并开卡" }).click();
      await page.getByLabel("余额").getByText("¥50.00").waitFor();
      const oldNumber = await page.locator(".facts dd.mono").first().textContent();

      await page.getByRole("button", { name: "移到另一台手机" }).click();
      const rules = page.getByRole("group", { name: "移到另一台手机" });
      await rules.getByText("深圳通：每个自然年只能移卡一次").waitFor();
      await rules.getByText("原卡余额 ¥50.00 退回支付渠道，不转到新卡").waitFor();
      await expect(rules.getByRole("button", { name: "确认移卡" }).isDisabled()).resolves.toBe(true);
      await rules.getByLabel("移到哪台手机").selectOption({ label: "新手机" });
      await rules.getByLabel("我已了解以上规则").check();
      await rules.getByRole("button", { name: "确认移卡" }).click();
      // The new card on the new phone, with a new number.
      await page.getByRole("heading", { name: "深圳通" }).waitFor();
      await expect.poll(() => page.locator(".facts dd.mono").first().textContent()).not.toBe(oldNumber);
      await tab(page, "卡包");
      await page.getByText("本机：新手机（小米9）").waitFor();
      await page.getByRole("link", { name: /深圳通 · 余额/ }).click();

      await page.getByRole("button", { name: "退卡" }).click();
      const refund = page.getByRole("group", { name: "退卡" });
      await refund.getByText("卡片从手机中删除，卡号作废").waitFor();
      await refund.getByLabel("我已了解以上规则").check();
      await refund.getByRole("button", { name: "确认退卡" }).click();
      await heading(page, "交通卡");
      await page.getByText("这台手机还没有交通卡。从下面的目录中开通一张。").waitFor();
    });
  });
});
