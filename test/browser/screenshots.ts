/**
 * `npm run screenshots`: drives the wallet through its main screens in Debian's chromium against a real
 * server and the phone simulator (as the browser tests do) and saves each screen to docs/screenshots/*.png
 * for the README and docs/WEB.md. Chinese text needs a CJK font on the machine (Debian: fonts-noto-cjk).
 *
 * So that the trips chart has months to show, the server's clock starts five months back: the account's
 * phone is made, its T-Union card opened and ridden month by month through the simulator's API (a new
 * sign-in each month, as sessions last 30 days), then the clock comes back to now and the browser signs in.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import type { Clock } from "../../src/core/clock.js";
import { TEST_CARDS } from "../../src/cloud/issuer/test-cards.js";
import { ApiClient } from "../../web/src/api/client.js";
import { createApi } from "../../web/src/api/endpoints.js";
import {
  buildWebApp,
  chromiumPresent,
  CHROMIUM_PATH,
  openBrowser,
  signInThroughUi,
  startWalletServer,
  type WalletServer,
} from "./harness.js";

const OUT = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
const DAY = 24 * 3600_000;

/** The system clock, shifted into the past by `offset` ms. */
class ShiftedClock implements Clock {
  offset = 0;
  now(): Date {
    return new Date(Date.now() - this.offset);
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  // Let live-update toasts fade and transitions settle, then take the phone alone.
  await page.locator(".toast").waitFor({ state: "detached", timeout: 10_000 });
  await page.waitForTimeout(300);
  await page.getByTestId("device").screenshot({ path: `${OUT}${name}.png`, animations: "disabled" });
  console.log(`docs/screenshots/${name}.png`);
}

interface Box {
  getBoundingClientRect(): { top: number };
  scrollTop: number;
}

/** Scrolls the phone's screen (only it: the frame stays put) so that the text is near its top. */
async function scrollTo(page: Page, text: string | RegExp): Promise<void> {
  const target = page.getByText(text).first();
  const main = page.locator("main#main");
  const top = await target.evaluate((e) => (e as unknown as Box).getBoundingClientRect().top);
  await main.evaluate((m, y) => {
    const box = m as unknown as Box;
    box.scrollTop += y - box.getBoundingClientRect().top - 8;
  }, top);
}

async function signedInApi(server: WalletServer, mobile: string) {
  const session: { token?: string } = {};
  const api = createApi(new ApiClient({ baseUrl: server.url, token: () => session.token }));
  await api.accounts.requestCode(mobile);
  session.token = (await api.accounts.signIn(mobile, await server.codeFor(mobile))).token;
  return api;
}

/** Five months of rides on the account's phone, in the past. */
async function history(server: WalletServer, clock: ShiftedClock, mobile: string): Promise<void> {
  const rides: [string, string][][] = [
    [["0101", "0110"]],
    [
      ["0105", "0116"],
      ["0116", "0105"],
    ],
    [
      ["0101", "0112"],
      ["0112", "0101"],
      ["0110", "0116"],
    ],
    [["0101", "0123"]],
    [
      ["0105", "0110"],
      ["0110", "0105"],
    ],
  ];
  clock.offset = 5 * 30 * DAY;
  let api = await signedInApi(server, mobile);
  const phone = await api.sim.create({ model: "sagit", region: "CN", name: "我的小米6" });
  const card = await api.sim.openTransit(phone.id, {
    productId: "tu-jingjinji",
    firstTopUp: 10000,
    channel: "wechat",
  });
  for (let month = 0; month < rides.length; month++) {
    clock.offset = (5 - month) * 30 * DAY - 2 * DAY;
    api = await signedInApi(server, mobile);
    for (const [from, to] of rides[month]!) {
      await api.sim.tap(phone.id, { kind: "gate", direction: "entry", station: from });
      clock.offset -= 40 * 60_000;
      await api.sim.tap(phone.id, { kind: "gate", direction: "exit", station: to });
      clock.offset -= DAY;
    }
    if (month === 2) await api.sim.topUp(phone.id, card.id, 5000, "alipay");
  }
  clock.offset = 0;
}

async function main(): Promise<void> {
  if (!chromiumPresent) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)`);
  }
  mkdirSync(OUT, { recursive: true });
  const clock = new ShiftedClock();
  const server = await startWalletServer(await buildWebApp(), { otpResendMs: 0 }, clock);
  const mobile = "13912345678";
  await history(server, clock, mobile);
  const desktop = await openBrowser({ deviceScaleFactor: 1.5 });
  try {
    const page = desktop.page;
    await page.goto(server.url);
    await page.getByRole("heading", { level: 1, name: "登录钱包" }).waitFor();
    await shoot(page, "sign-in");
    await signInThroughUi(page, server, mobile);

    // A rides today, then the bank card.
    const api = await signedInApi(server, mobile);
    const [phone] = await api.sim.phones();
    await api.sim.tap(phone!.id, { kind: "gate", direction: "entry", station: "0101" });
    await api.sim.tap(phone!.id, { kind: "gate", direction: "exit", station: "0116" });

    const card = TEST_CARDS[0]!;
    await page.getByRole("link", { name: "添加银行卡" }).click();
    await page.getByLabel("银行卡号").fill(card.pan);
    await page.getByLabel("有效期（月/年）").fill("1230");
    await page.getByLabel("我已阅读并同意以上条款").check();
    await shoot(page, "add-bank-card");
    await page.getByRole("button", { name: "下一步" }).click();
    await page.getByLabel("6 位银行验证码").fill(await server.bankCodeFor(card.reservedPhone));
    await page.getByRole("button", { name: "确认添加" }).click();
    await page.getByText("已写入安全元件").waitFor();

    await page.getByRole("navigation").getByRole("link", { name: "卡包" }).click();
    await page.getByRole("img", { name: /中国工商银行/ }).waitFor();
    await shoot(page, "cards");

    await page.getByRole("navigation").getByRole("link", { name: "终端" }).click();
    await page.getByLabel("金额（元）").fill("36.80");
    await page.getByRole("button", { name: "靠近终端刷卡" }).click();
    await page.getByRole("region", { name: "刷卡结果" }).waitFor();
    await page.getByRole("status").filter({ hasText: "付款成功" }).waitFor();
    await scrollTo(page, "刷卡结果");
    await page
      .locator(".timeline details")
      .first()
      .evaluate((e) => e.setAttribute("open", ""));
    await shoot(page, "terminal");

    await page.getByRole("navigation").getByRole("link", { name: "交通卡" }).click();
    await page.getByRole("heading", { name: "按城市开通" }).waitFor();
    await scrollTo(page, "按城市开通");
    await shoot(page, "transit-catalogue");

    await page.getByRole("link", { name: /京津冀互联互通卡 · 余额/ }).click();
    await page.getByRole("img", { name: "近 6 个月乘车花费" }).waitFor();
    await scrollTo(page, "行程与充值");
    await shoot(page, "transit-card");

    await page.goto(`${server.url}/door-cards`);
    await page.getByLabel("或在读卡器上读一张").selectOption("encrypted");
    await page.getByRole("button", { name: "读卡" }).click();
    await page.getByText("这张卡不能模拟").waitFor();
    await scrollTo(page, "检查结果");
    await shoot(page, "door-card-verdict");

    await page.goto(`${server.url}/phone`);
    await page.getByRole("region", { name: "本机" }).waitFor();
    await shoot(page, "phone");

    await page.getByRole("navigation").getByRole("link", { name: "设置" }).click();
    await page.getByRole("radio", { name: "English" }).check();
    await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    await page.getByRole("navigation").getByRole("link", { name: "Terminal" }).click();
    await page.getByRole("radio", { name: "Metro gate" }).check();
    await page.getByRole("button", { name: "Tap the phone" }).click();
    await page.getByRole("region", { name: "Outcome" }).waitFor();
    await page.locator(".toast").waitFor({ state: "detached", timeout: 10_000 });
    await scrollTo(page, "Outcome");
    await page.screenshot({ path: `${OUT}desktop.png` });
    console.log("docs/screenshots/desktop.png");
  } finally {
    await desktop.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
