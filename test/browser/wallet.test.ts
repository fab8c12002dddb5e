/**
 * The wallet in a real browser: Debian's chromium (playwright-core) against a real cloud server serving
 * a fresh build of the web app and the phone simulator, on SQLite in a temporary DATA_DIR. One-time codes
 * are read from the server's in-memory sender. Skipped only when chromium is absent outside CI; in CI it
 * must run. Sign-in, the simulated phone and its refusals, languages, a lost phone, layout and keyboard use
 * are here; the cards and the terminal simulator are in cards.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { ApiClient } from "../../web/src/api/client.js";
import { createApi } from "../../web/src/api/endpoints.js";
import {
  buildWebApp,
  contrastRatio,
  openBrowser,
  signInThroughUi,
  skipBrowserTests,
  startWalletServer,
  type OpenBrowser,
  type WalletServer,
} from "./harness.js";
import type { PageGlobal, ProbeElement } from "./dom.js";

let server: WalletServer;
let numbers = 0;
/** A fresh mainland number per test, so accounts never mix. */
const nextNumber = () => `1380000${String(1000 + numbers++)}`;

async function withBrowser(
  run: (page: Page, b: OpenBrowser) => Promise<void>,
  options?: Parameters<typeof openBrowser>[0],
): Promise<void> {
  const b = await openBrowser(options);
  const errors: string[] = [];
  b.page.on("pageerror", (e) => errors.push(e.message));
  try {
    await run(b.page, b);
    expect(errors, "uncaught errors in the page").toEqual([]);
  } finally {
    await b.close();
  }
}

const alert = (page: Page) => page.getByRole("alert");

async function goToPhoneScreen(page: Page): Promise<void> {
  await page
    .getByRole("navigation")
    .getByRole("link", { name: /^(设置|Settings)$/ })
    .click();
  await page.getByRole("link", { name: /^(管理设备|Manage phones)$/ }).click();
  await page.getByRole("heading", { level: 1, name: /^(我的手机|My phone)$/ }).waitFor();
}

/** Signs in through the API (a second session on the same account, as another browser would). */
async function apiSession(phone: string) {
  const session: { token?: string } = {};
  const api = createApi(new ApiClient({ baseUrl: server.url, token: () => session.token }));
  await api.accounts.requestCode(phone);
  session.token = (await api.accounts.signIn(phone, await server.codeFor(phone))).token;
  return api;
}

describe.skipIf(skipBrowserTests)("wallet web app in chromium", () => {
  beforeAll(async () => {
    const webRoot = await buildWebApp();
    // Codes may be asked again at once (the UI and a second session in one test).
    server = await startWalletServer(webRoot, { otpResendMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("signs in with the one-time code, in zh-CN by default, and stays signed in after a reload", async () => {
    const phone = nextNumber();
    await withBrowser(async (page) => {
      await page.goto(server.url);
      expect(await page.getAttribute("html", "lang")).toBe("zh-CN");
      await page.getByRole("heading", { level: 1, name: "登录钱包" }).waitFor();

      await page.getByLabel("手机号码").fill("12345");
      await page.getByRole("button", { name: "获取验证码" }).click();
      await expect.poll(() => alert(page).textContent()).toContain("请输入中国大陆 11 位手机号码");

      await page.getByLabel("手机号码").fill(phone);
      await page.getByRole("button", { name: "获取验证码" }).click();
      await page.getByText(`验证码已发送至 ${phone.slice(0, 3)}****${phone.slice(7)}`).waitFor();
      const code = await server.codeFor(phone);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
      await page.getByLabel("6 位验证码").fill(wrong);
      await page.getByRole("button", { name: "登录", exact: true }).click();
      await expect.poll(() => alert(page).textContent()).toContain("验证码错误，还可尝试 4 次");

      await page.getByLabel("6 位验证码").fill(code);
      await page.getByRole("button", { name: "登录", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "卡包" }).waitFor();
      await page.getByRole("heading", { name: "这台手机还没有设置" }).waitFor();

      await page.reload();
      await page.getByRole("heading", { level: 1, name: "卡包" }).waitFor();
    });
  });

  it("makes a simulated phone that registers with the account, shows it, and hears the cloud's live updates", async () => {
    const phone = nextNumber();
    await withBrowser(async (page) => {
      await signInThroughUi(page, server, phone);
      await page.getByRole("link", { name: "设置模拟手机" }).click();
      await page.getByRole("heading", { level: 1, name: "我的手机" }).waitFor();

      await page.getByLabel("机型", { exact: true }).selectOption("sagit");
      await page.getByLabel("地区").selectOption("CN");
      await page.getByLabel("设备名称").fill("我的小米6");
      // Slow the factory down so its progress indication can be seen.
      await page.route("**/sim/v1/phones", async (route) => {
        if (route.request().method() === "POST") await new Promise((r) => setTimeout(r, 700));
        await route.continue();
      });
      await page.getByRole("button", { name: "出厂并注册" }).click();
      await page.getByRole("status").filter({ hasText: "正在出厂并注册到账户…" }).waitFor();
      await page.getByRole("progressbar", { name: "正在加载" }).waitFor();

      const thisPhone = page.getByRole("region", { name: "本机" });
      await thisPhone.waitFor();
      await thisPhone.getByText("小米6 (sagit)").waitFor();
      await thisPhone.getByText("银行卡、交通卡（ISO-DEP）").waitFor();
      const myPhones = page.getByRole("region", { name: "账户下的设备" });
      await myPhones.getByText("我的小米6").waitFor();
      // The device.bound event arrives over the notification stream and is announced.
      await page.getByRole("status").filter({ hasText: "新设备已绑定：我的小米6" }).waitFor();

      // The lock screen and the user's verification are the phone's own.
      await thisPhone.getByRole("button", { name: "锁屏" }).click();
      await thisPhone.getByText("已锁屏：只有快捷交通卡会响应读卡器").waitFor();
      await thisPhone.getByRole("button", { name: "指纹验证" }).click();
      await thisPhone.getByText(/，用指纹$/).waitFor();
      await thisPhone.getByRole("button", { name: "解锁" }).click();
      await thisPhone.getByText("未锁屏").waitFor();

      // A second phone, made from another session of the account, appears live; the app can show either.
      const other = await apiSession(phone);
      await other.sim.create({ model: "cepheus", region: "CN", name: "书房的小米9" });
      await myPhones.getByText("书房的小米9").waitFor();
      await page.getByRole("button", { name: "显示 书房的小米9" }).click();
      await thisPhone.getByText("小米9 (cepheus)").waitFor();

      await page.getByRole("navigation").getByRole("link", { name: "消息" }).click();
      const list = page.getByRole("list", { name: "消息列表，最新的在前" });
      await list.getByText("新设备已绑定：书房的小米9").waitFor();
      await list.getByText("新设备已绑定：我的小米6").waitFor();
      await page.getByText("实时更新已连接").waitFor();

      // The choice of phone survives a reload.
      await page.goto(`${server.url}/cards`);
      await page.getByText("本机：书房的小米9（小米9）").waitFor();
    });
  });

  it("shows the cloud's refusal of an unsupported model and of a region outside mainland China, in both languages", async () => {
    await withBrowser(async (page) => {
      await signInThroughUi(page, server, nextNumber());
      await goToPhoneScreen(page);

      await page.getByLabel("机型", { exact: true }).selectOption("__other");
      await page.getByLabel("机型代号（Build.DEVICE）").fill("ginkgo");
      await page.getByRole("button", { name: "出厂并注册" }).click();
      await expect.poll(() => alert(page).textContent()).toContain("该机型（ginkgo）不支持小米支付");
      expect(await alert(page).textContent()).toContain("支持的机型：小米 MIX、小米 MIX 2、");

      await page.getByLabel("机型", { exact: true }).selectOption("sagit");
      await page.getByLabel("地区").selectOption("HK");
      await page.getByRole("button", { name: "出厂并注册" }).click();
      await expect
        .poll(() => alert(page).textContent())
        .toContain("小米支付仅在中国大陆提供服务，中国香港地区不在服务范围内");

      // The same refusals in English.
      await page.getByRole("navigation").getByRole("link", { name: "设置" }).click();
      await page.getByRole("radio", { name: "English" }).check();
      await goToPhoneScreen(page);
      await page.getByLabel("Region").selectOption("HK");
      await page.getByRole("button", { name: "Make and register" }).click();
      await expect
        .poll(() => alert(page).textContent())
        .toContain("Mi Pay is available in mainland China only; Hong Kong is outside the service area");
      await page.getByLabel("Model", { exact: true }).selectOption("__other");
      await page.getByLabel("Model code name (Build.DEVICE)").fill("ginkgo");
      await page.getByLabel("Region").selectOption("CN");
      await page.getByRole("button", { name: "Make and register" }).click();
      await expect
        .poll(() => alert(page).textContent())
        .toContain("This phone model (ginkgo) does not support Mi Pay");
      expect(await alert(page).textContent()).toContain("Supported models: Xiaomi Mi MIX, Xiaomi Mi MIX 2, ");
      // Nothing was registered.
      await page.getByText("No phones are registered yet.").waitFor();
    });
  });

  it("switches to English, remembers it, and words the API's errors in English", async () => {
    await withBrowser(async (page) => {
      await page.goto(server.url);
      await page.getByRole("radio", { name: "English" }).check();
      await page.getByRole("heading", { level: 1, name: "Sign in to your wallet" }).waitFor();
      expect(await page.getAttribute("html", "lang")).toBe("en");
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Sign in to your wallet" }).waitFor();

      const phone = nextNumber();
      await page.getByLabel("Mobile number").fill(phone);
      await page.getByRole("button", { name: "Get code" }).click();
      const code = await server.codeFor(phone);
      await page.getByLabel("6-digit code").fill(String((Number(code) + 1) % 1_000_000).padStart(6, "0"));
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect.poll(() => alert(page).textContent()).toContain("Wrong code; 4 attempt(s) left");

      await page.getByLabel("6-digit code").fill(code);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Cards" }).waitFor();
      await page.getByRole("navigation").getByRole("link", { name: "Settings" }).click();
      await page.getByRole("radio", { name: "中文" }).check();
      await page.getByRole("heading", { level: 1, name: "设置" }).waitFor();
      expect(await page.getAttribute("html", "lang")).toBe("zh-CN");
    });
  });

  it("reports this phone lost from settings: the cloud suspends it and the phone wipes its cards at once", async () => {
    await withBrowser(async (page) => {
      await signInThroughUi(page, server, nextNumber());
      await goToPhoneScreen(page);
      await page.getByLabel("设备名称").fill("丢失的手机");
      await page.getByRole("button", { name: "出厂并注册" }).click();
      await page.getByRole("region", { name: "本机" }).waitFor();

      await page.getByRole("navigation").getByRole("link", { name: "设置" }).click();
      const lost = page.getByRole("region", { name: "手机丢失" });
      await lost.getByRole("button", { name: "挂失这台手机" }).click();
      await lost.getByText("挂失后，丢失的手机 上的所有卡片将被暂停").waitFor();
      await lost.getByRole("button", { name: "确认挂失" }).click();
      await lost.getByText("这台手机已挂失，手机上的卡片已被清除。").waitFor();
      await goToPhoneScreen(page);
      await page.getByRole("region", { name: "账户下的设备" }).getByText("已挂失", { exact: true }).waitFor();
      await page.getByRole("status").filter({ hasText: "一台设备已挂失，其卡片已暂停" }).first().waitFor();
    });
  });

  it("is a phone frame on a desktop and the whole screen on a phone", async () => {
    await withBrowser(async (page) => {
      await page.goto(server.url);
      const box = await page.getByTestId("device").boundingBox();
      expect(box?.width).toBe(390);
      expect(box!.x).toBeGreaterThan(300);
      expect(
        await page
          .getByTestId("device")
          .evaluate((e) => (globalThis as unknown as PageGlobal).getComputedStyle(e).borderTopLeftRadius),
      ).toBe("56px");
    });
    await withBrowser(
      async (page) => {
        await page.goto(server.url);
        const box = await page.getByTestId("device").boundingBox();
        expect(box).toEqual({ x: 0, y: 0, width: 390, height: 844 });
        expect(
          await page
            .getByTestId("device")
            .evaluate((e) => (globalThis as unknown as PageGlobal).getComputedStyle(e).borderTopLeftRadius),
        ).toBe("0px");
      },
      { viewport: { width: 390, height: 844 } },
    );
  });

  it("works from the keyboard alone, with visible focus, labelled controls and readable contrast", async () => {
    await withBrowser(async (page) => {
      await page.goto(server.url);
      // Tab to the number field: focus is visible on it.
      const phoneField = page.getByLabel("手机号码");
      for (
        let i = 0;
        i < 10 &&
        !(await phoneField.evaluate(
          (e) => e === (globalThis as unknown as PageGlobal).document.activeElement,
        ));
        i++
      ) {
        await page.keyboard.press("Tab");
      }
      expect(
        await phoneField.evaluate((e) => e === (globalThis as unknown as PageGlobal).document.activeElement),
      ).toBe(true);
      const outline = await phoneField.evaluate((e) => {
        const s = (globalThis as unknown as PageGlobal).getComputedStyle(e);
        return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
      });
      expect(outline.style).not.toBe("none");
      expect(outline.width).toBeGreaterThanOrEqual(2);

      const phone = nextNumber();
      await page.keyboard.type(phone);
      await page.keyboard.press("Enter");
      await page.getByLabel("6 位验证码").waitFor();
      // The code field takes focus by itself.
      await expect
        .poll(() =>
          page
            .getByLabel("6 位验证码")
            .evaluate((e) => e === (globalThis as unknown as PageGlobal).document.activeElement),
        )
        .toBe(true);
      await page.keyboard.type(await server.codeFor(phone));
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "卡包" }).waitFor();

      // Tab to the terminal tab and open it with Enter; then on to the phone's set-up, also by keyboard.
      const phoneTab = page.getByRole("navigation").getByRole("link", { name: "终端" });
      for (
        let i = 0;
        i < 20 &&
        !(await phoneTab.evaluate((e) => e === (globalThis as unknown as PageGlobal).document.activeElement));
        i++
      ) {
        await page.keyboard.press("Tab");
      }
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "终端模拟器" }).waitFor();
      const setUp = page.getByRole("link", { name: "设置模拟手机" });
      for (
        let i = 0;
        i < 20 &&
        !(await setUp.evaluate((e) => e === (globalThis as unknown as PageGlobal).document.activeElement));
        i++
      ) {
        await page.keyboard.press("Tab");
      }
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "我的手机" }).waitFor();
      await page.getByLabel("机型", { exact: true }).waitFor();

      // Every control on the screen has an accessible name.
      const unlabelled = await page.evaluate(() =>
        [
          ...(globalThis as unknown as PageGlobal).document.querySelectorAll(
            "input, select, textarea, button, a[href]",
          ),
        ]
          .filter((el) => {
            const labels = el.labels;
            const named =
              (labels && labels.length > 0) ||
              el.getAttribute("aria-label") ||
              el.getAttribute("aria-labelledby") ||
              (el.tagName === "BUTTON" || el.tagName === "A" ? (el.textContent ?? "").trim() : "");
            return !named;
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      expect(unlabelled).toEqual([]);

      // Text against its background: WCAG AA (4.5:1) for the main pairs on this screen.
      const pairs = await page.evaluate(() => {
        const w = globalThis as unknown as PageGlobal;
        const background = (el: ProbeElement | null): string => {
          for (let e = el; e; e = e.parentElement) {
            const bg = w.getComputedStyle(e).backgroundColor;
            if (bg && !bg.startsWith("rgba(0, 0, 0, 0)") && bg !== "transparent") return bg;
          }
          return "rgb(255, 255, 255)";
        };
        const selectors = [
          ".app-bar h1",
          ".panel h2",
          ".panel .muted",
          ".field label",
          ".btn-primary",
          ".tab-bar a[aria-current]",
          ".tab-bar a:not([aria-current])",
        ];
        return selectors.map((sel) => {
          const el = w.document.querySelector(sel);
          return { sel, fg: el ? w.getComputedStyle(el).color : "", bg: background(el) };
        });
      });
      for (const p of pairs) {
        expect(p.fg, `${p.sel} present`).not.toBe("");
        expect(contrastRatio(p.fg, p.bg), `${p.sel}: ${p.fg} on ${p.bg}`).toBeGreaterThanOrEqual(4.5);
      }
    });
  });
});
