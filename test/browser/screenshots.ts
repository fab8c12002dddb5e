/**
 * `npm run screenshots`: drives the wallet through its main screens in Debian's chromium against a real
 * server (as the browser tests do) and saves each screen to docs/screenshots/*.png for the README and
 * docs/WEB.md. Chinese text needs a CJK font on the machine (Debian: fonts-noto-cjk).
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { buildWebApp, chromiumPresent, CHROMIUM_PATH, openBrowser, startWalletServer } from "./harness.js";

const OUT = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

async function shoot(page: Page, name: string): Promise<void> {
  // Let toasts and transitions settle, then take the phone alone.
  await page.waitForTimeout(300);
  await page.getByTestId("device").screenshot({ path: `${OUT}${name}.png`, animations: "disabled" });
  console.log(`docs/screenshots/${name}.png`);
}

async function main(): Promise<void> {
  if (!chromiumPresent) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)`);
  }
  mkdirSync(OUT, { recursive: true });
  const server = await startWalletServer(await buildWebApp());
  const phone = "13912345678";
  const desktop = await openBrowser({ deviceScaleFactor: 1.5 });
  try {
    const page = desktop.page;
    await page.goto(server.url);
    await page.getByRole("heading", { level: 1, name: "登录钱包" }).waitFor();
    await shoot(page, "sign-in");

    await page.getByLabel("手机号码").fill(phone);
    await page.getByRole("button", { name: "获取验证码" }).click();
    await page.getByLabel("6 位验证码").waitFor();
    await shoot(page, "sign-in-code");

    await page.getByLabel("6 位验证码").fill(await server.codeFor(phone));
    await page.getByRole("button", { name: "登录", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "卡包" }).waitFor();
    await shoot(page, "cards-empty");

    await page.getByRole("link", { name: "注册这台手机" }).click();
    await page.getByLabel("机型", { exact: true }).waitFor();
    await shoot(page, "phone-register");

    await page.getByLabel("机型", { exact: true }).selectOption("__other");
    await page.getByLabel("机型代号（Build.DEVICE）").fill("ginkgo");
    await page.getByRole("button", { name: "注册这台手机" }).click();
    await page.getByRole("alert").waitFor();
    await page.getByRole("alert").scrollIntoViewIfNeeded();
    await shoot(page, "phone-refused");

    await page.getByLabel("机型", { exact: true }).selectOption("sagit");
    await page.getByLabel("设备名称").fill("我的小米6");
    await page.getByRole("button", { name: "注册这台手机" }).click();
    await page.getByRole("region", { name: "本机" }).waitFor();
    await page.getByRole("heading", { level: 1, name: "我的手机" }).scrollIntoViewIfNeeded();
    await page.waitForTimeout(6500); // the live-update toast fades
    await shoot(page, "phone-registered");

    await page.getByRole("navigation").getByRole("link", { name: "消息" }).click();
    await page.getByText("实时更新已连接").waitFor();
    await shoot(page, "activity");

    await page.getByRole("navigation").getByRole("link", { name: "设置" }).click();
    await page.getByRole("radio", { name: "English" }).check();
    await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    await shoot(page, "settings-en");

    await page.getByRole("navigation").getByRole("link", { name: "Cards" }).click();
    await page.getByRole("heading", { level: 1, name: "Cards" }).waitFor();
    await page.waitForTimeout(300);
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
