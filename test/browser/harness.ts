/**
 * What the browser tests and the screenshot script share: a fresh build of the web app, a real cloud
 * server (API + that build + the phone and terminal simulator, as `npm start` serves them; SQLite and the
 * simulated phones in a temporary DATA_DIR, a random port on 127.0.0.1, sign-in and bank one-time codes
 * kept in memory instead of printed), and Debian's chromium driven by playwright-core.
 *
 * Chromium: `/usr/bin/chromium` (apt package `chromium`; `.ci/run` installs it), or CHROMIUM_PATH.
 * Playwright never downloads a browser here. Each browser gets a fresh `--user-data-dir` (a new
 * temporary profile passed to launchPersistentContext), so no state leaks between tests.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { FastifyInstance } from "fastify";
import type { Clock } from "../../src/core/clock.js";
import { attachSimulator } from "../../src/cli/simulator.js";
import { MemoryOtpSender } from "../../src/cloud/accounts/otp-sender.js";
import { MemoryBankOtpSender } from "../../src/cloud/tsp/bank-otp.js";
import { openDatabase, type CloudDb } from "../../src/cloud/db/open.js";
import { buildServer } from "../../src/cloud/http/server.js";
import type { CloudPolicy } from "../../src/cloud/policy.js";

export const CHROMIUM_PATH = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Headless, no sandbox (root in CI), and no background traffic: this machine has no network. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const chromiumPresent = existsSync(CHROMIUM_PATH);
/** Browser tests skip only on a developer machine without chromium; in CI a missing chromium fails them. */
export const skipBrowserTests = !chromiumPresent && !process.env["CI"];

const WEB_CONFIG = fileURLToPath(new URL("../../web/vite.config.ts", import.meta.url));

/** Builds the web app from source into a new temporary folder; returns that folder. */
export async function buildWebApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "tw-web-"));
  const { build } = await import("vite");
  // Vite's build sets NODE_ENV=production in this process when it is unset; the server started after it is
  // a development server (development keys, codes in memory), so the variable is put back as it was.
  const nodeEnv = process.env["NODE_ENV"];
  try {
    await build({
      configFile: WEB_CONFIG,
      logLevel: "warn",
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env["NODE_ENV"];
    else process.env["NODE_ENV"] = nodeEnv;
  }
  return outDir;
}

export interface WalletServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  app: FastifyInstance;
  db: CloudDb;
  /** The one-time codes the server "sent", by normalised mobile number. */
  otp: MemoryOtpSender;
  /** The code last sent to `phone`, waiting briefly for it. */
  codeFor(phone: string): Promise<string>;
  /** The bank's one-time codes, by the card's reserved mobile number. */
  bankOtp: MemoryBankOtpSender;
  /** The bank's code last sent to `phone` (a test card's reserved number). */
  bankCodeFor(phone: string): Promise<string>;
  close(): Promise<void>;
}

export async function startWalletServer(
  webRoot: string | false,
  policy: Partial<CloudPolicy> = {},
  /** The server's and the simulator's clock (default: the system's). */
  clock?: Clock,
): Promise<WalletServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "tw-data-"));
  const db = await openDatabase({ dataDir });
  const otp = new MemoryOtpSender();
  const bankOtp = new MemoryBankOtpSender();
  const app = await buildServer({
    db,
    otpSender: otp,
    otpPepper: "browser-test-pepper",
    webRoot,
    janitor: false,
    // Streams notice new events quickly in tests.
    policy: { notificationPollMs: 100, ...policy },
    tsp: { bankOtpSender: bankOtp },
    ...(clock ? { clock } : {}),
  });
  // The development keys of `npm start` (acquirer, factory master, transit seed, a registered operator).
  await attachSimulator(app, { dataDir, cloudUrl: "http://127.0.0.1", env: {}, ...(clock ? { clock } : {}) });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (typeof address !== "object" || !address) throw new Error("server has no address");
  const waitFor = async (get: () => string | undefined, what: string) => {
    for (let i = 0; i < 50; i++) {
      const code = get();
      if (code) return code;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no code was sent to ${what}`);
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    db,
    otp,
    bankOtp,
    codeFor: (phone) => waitFor(() => otp.last(phone), phone),
    bankCodeFor: (phone) => waitFor(() => bankOtp.last(phone), phone),
    async close() {
      await app.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface OpenBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** Default: a desktop window, where the app shows the phone frame. */
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
}

/** Debian's chromium with a fresh profile; one page open. */
export async function openBrowser(options: BrowserOptions = {}): Promise<OpenBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "tw-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: options.viewport ?? { width: 1280, height: 960 },
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the UI (mobile number, then the code the server sent); ends on the cards screen. */
export async function signInThroughUi(page: Page, server: WalletServer, phone: string): Promise<void> {
  await page.goto(server.url);
  await page.getByLabel(/手机号码|Mobile number/).fill(phone);
  await page.getByRole("button", { name: /获取验证码|Get code/ }).click();
  const code = await server.codeFor(phone);
  await page.getByLabel(/6 位验证码|6-digit code/).fill(code);
  await page.getByRole("button", { name: /^(登录|Sign in)$/ }).click();
  await page.getByRole("heading", { level: 1, name: /^(卡包|Cards)$/ }).waitFor();
}

/** WCAG 2.x contrast ratio of two CSS `rgb()`/`rgba()` colours (alpha ignored: pass opaque ones). */
export function contrastRatio(a: string, b: string): number {
  const lum = (css: string) => {
    const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(css);
    if (!m) throw new Error(`not an rgb colour: ${css}`);
    const [r, g, bl] = [m[1], m[2], m[3]].map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}
