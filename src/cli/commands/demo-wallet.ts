/**
 * `tapwallet demo wallet [--data DIR] [--trace]`: the whole wallet in one run, on the embedded default.
 *
 * The wallet cloud starts in this process on a random local port (SQLite in a temporary DATA_DIR, removed at
 * the end, or in `--data DIR`, kept), with one-time codes and the banks' codes delivered to in-process senders
 * instead of a log. A virtual phone (小米9, its own SE file) then does what a user does, over HTTP like any
 * phone: signs up with the code the cloud sent, registers (a device key pair; every later request signed),
 * adds the ICBC test card with the code its bank sent (the token installed on the SE by the TSM under SCP03),
 * pays ¥12.34 at our QuickPass POS (online through the cloud's authorisation endpoint, the card checking the
 * ARPC), opens a China T-Union card with its first top-up, tops it up (MAC1, MAC2, TAC), rides the metro on a
 * locked phone with it as the express card (entry, exit) and a bus, has the gates upload their records to
 * clearing (every TAC checked), adds a door card and opens a door. It ends with a summary in zh-CN with English
 * beside: the cards, their balances and transactions, the account's activity and the ledger's check.
 * `--trace` prints each tap's decoded APDUs (and the door's frames).
 */
import { randomBytes, randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { ManualClock, systemClock } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import { type Fen, formatCny } from "../../core/money.js";
import { MemoryOtpSender } from "../../cloud/accounts/otp-sender.js";
import { openDatabase } from "../../cloud/db/open.js";
import { buildServer } from "../../cloud/http/server.js";
import { TEST_CARDS } from "../../cloud/issuer/test-cards.js";
import { CHANNEL_NAMES, type FundingChannel } from "../../cloud/transit/channels.js";
import { TRANSIT_KEY_SEED_ENV } from "../../cloud/transit/keys.js";
import { seMasterKeyFromEnv } from "../../se/factory-keys.js";
import { MemoryBankOtpSender } from "../../cloud/tsp/bank-otp.js";
import { DEV_VAULT_KEY } from "../../cloud/tsp/config.js";
import {
  type BankCardInfo,
  bankCardPayments,
  bankTerms,
  confirmBankCard,
  startBankCard,
} from "../../device/bank-cards.js";
import { VirtualPhone, Wallet, addDoorCard, maskMobile, resolveModel } from "../../device/index.js";
import { openTransitCard, topUpTransitCard, transitCard } from "../../device/transit.js";
import { AID } from "../../emv/profile.js";
import { defaultTerminalConfig, unionPayAid } from "../../emv/terminal/config.js";
import { IssuerClient } from "../../emv/terminal/issuer-client.js";
import { Pos } from "../../emv/terminal/pos.js";
import { maskPan } from "../../emv/track2.js";
import { blankCard } from "../../mifare/card.js";
import { DoorReader } from "../../mifare/door-reader.js";
import { exportDump } from "../../mifare/formats/index.js";
import { decodeTranscript, formatDecoded } from "../../nfc/decode.js";
import { MemoryFrameLink, formatFrame } from "../../nfc/frame.js";
import { MemoryLink } from "../../nfc/memory.js";
import { TracingLink } from "../../nfc/trace.js";
import {
  Blacklist,
  BusValidator,
  DEVELOPMENT_KEY_SEED,
  EXAMPLE_FARES,
  GateLog,
  IssuerKeyStore,
  MetroGate,
  PRODUCTS,
  Psam,
  PsamClient,
  type TapOutcome,
  keyDomainOf,
  readTransitCard,
} from "../../transit/index.js";
import { EXAMPLE_OPERATOR } from "../../transit/sandbox.js";
import { station } from "../../transit/terminal/fares.js";

export interface WalletDemoOptions {
  /** Keep the database and the phone here (default: a temporary directory, removed at the end). */
  data?: string;
  trace?: boolean;
}

/** What the demo did, for its callers (tests) — amounts in fen. */
export interface WalletDemoSummary {
  dataDir: string;
  kept: boolean;
  accountId: string;
  deviceId: string;
  payment: { status: string; amount: Fen };
  bankCard: { id: string; status: string; default: boolean; payments: Fen[] };
  transitCard: { id: string; cardNumber: string; balance: Fen; onCard: Fen; transactions: [string, Fen][] };
  cleared: { records: number; amount: Fen };
  door: { granted: boolean; uid: string };
  activity: string[];
  ledger: { ok: boolean; transfers: number; accounts: number; violations: number };
  seconds: number;
}

const BANK_CARD = TEST_CARDS[0]!; // 中国工商银行 ICBC debit, its code to 13800138001
const TRANSIT_PRODUCT = "tu-jingjinji"; // 京津冀互联互通卡 (China T-Union), no card fee
const BUS = { line: "0300", fare: 200 as Fen, name: { zh: "300 路公交", en: "bus 300" } };

const channelName = (c: FundingChannel) => `${CHANNEL_NAMES[c].zh} / ${CHANNEL_NAMES[c].en}`;
const kindName: Record<string, string> = {
  open: "开卡 / opened",
  load: "充值 / top-up",
  entry: "进站 / entry",
  purchase: "乘车 / ride",
};

/** An amount with its sign before the currency: +¥30.00, −¥5.00. */
const signed = (amount: Fen) =>
  amount > 0 ? `+${formatCny(amount)}` : amount < 0 ? `−${formatCny(-amount)}` : formatCny(0);

/** China time (UTC+8), to the minute: 2026-03-01 08:55. */
const chinaTime = (iso: string) =>
  new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace("T", " ");

/** The gates' PSAM: every transit key domain's purchase keys, from the issuer's seed (the cloud's own). */
function psam(keys: IssuerKeyStore): PsamClient {
  const domains = [...new Set(PRODUCTS.map(keyDomainOf))];
  return new PsamClient(
    new Psam(
      domains.flatMap((d) => (["3des", "sm4"] as const).map((a) => keys.purchaseKey(d, a))),
      fromTerminal(),
    ),
  );
}
const fromTerminal = () => Uint8Array.of(0x00, 0x00, 0x30, 0x00, 0x89, 0x01);

/** Runs the demo; `out` receives each line. */
export async function walletDemo(
  o: WalletDemoOptions = {},
  out: (line: string) => void = console.log,
): Promise<WalletDemoSummary> {
  const started = performance.now();
  const kept = o.data !== undefined;
  const dataDir = kept ? resolve(o.data!) : mkdtempSync(join(tmpdir(), "tapwallet-demo-"));
  mkdirSync(dataDir, { recursive: true });
  const clock = new ManualClock(systemClock.now());
  const otp = new MemoryOtpSender();
  const bankOtp = new MemoryBankOtpSender();
  const db = await openDatabase({ dataDir });
  let app: Awaited<ReturnType<typeof buildServer>> | undefined;
  try {
    app = await buildServer({
      db,
      clock,
      otpSender: otp,
      otpPepper: randomBytes(32).toString("hex"),
      janitor: false,
      webRoot: false,
      tsp: { vaultKey: DEV_VAULT_KEY, bankOtpSender: bankOtp },
      issuer: { testCards: TEST_CARDS },
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    const cloud = app.cloud;
    const trace = (title: string, link: TracingLink) => {
      if (!o.trace) return;
      out(`   ${title} APDU 跟踪 / APDU trace:`);
      out(formatDecoded(decodeTranscript(link.transcript().apdus), "zh"));
    };

    out("== 钱包演示 / wallet demo ==");
    out(`云端 / cloud: ${url}  (${db.dialect}: ${db.location})`);

    // 1. The factory makes a phone; the user signs up with the code the cloud sent.
    const phoneDir = join(dataDir, "demo-phones", `mi9-${randomBytes(4).toString("hex")}`);
    const phone = VirtualPhone.create(phoneDir, {
      name: "mi9",
      model: resolveModel("小米9"),
      region: "CN",
      clock,
      factoryMasterKey: seMasterKeyFromEnv().key,
    });
    out(
      `1. 手机出厂 / a phone is made: ${phone.model.zh} / ${phone.model.en} (${phone.model.code}), 安全元件 / SE ${phone.seId}`,
    );
    const wallet = new Wallet(phone);
    const mobile = `138${String(randomInt(0, 100_000_000)).padStart(8, "0")}`;
    await wallet.requestCode(mobile, url);
    const code = otp.last(mobile);
    if (!code) throw new TapwalletError("demo_no_code", "云端没有发出验证码", "the cloud sent no code");
    const signedUp = await wallet.signIn(mobile, code, url);
    out(
      `2. 注册账户 / signed up: ${maskMobile(mobile)} (${signedUp.accountId}) — 验证码 / one-time code ${code} ` +
        `[DEV ONLY 仅开发环境: 由进程内发送器读取 / read from the in-process sender]`,
    );
    const device = await wallet.register("我的小米9");
    out(
      `3. 绑定手机 / phone registered: ${device.id} (ECDSA P-256 设备密钥 / device key; 此后请求均签名 / requests signed)`,
    );

    // 2. A bank card: details, the bank's code, the token onto the SE at the sync.
    const terms = await bankTerms(wallet);
    const enrolment = await startBankCard(wallet, {
      cardNumber: BANK_CARD.pan,
      expiry: `${BANK_CARD.expiry.slice(2)}/${BANK_CARD.expiry.slice(0, 2)}`,
      termsVersion: terms.version,
    });
    const bankCode = bankOtp.last(BANK_CARD.reservedPhone);
    if (!bankCode) throw new TapwalletError("demo_no_code", "银行没有发出验证码", "the bank sent no code");
    const { card: bank } = await confirmBankCard(wallet, enrolment.id, bankCode);
    out(
      `4. 添加银行卡 / bank card added: ${bank.bank.zh} / ${bank.bank.en} 借记卡 / debit ${maskPan(BANK_CARD.pan)} — ` +
        `银行验证码发至 / the bank's code went to ${enrolment.codeSentTo}; 令牌 / token ••${bank.tokenLast4} ` +
        `经 TSM 写入安全元件 (SCP03) / installed on the SE by the TSM (SCP03)${bank.default ? "，默认卡 / default card" : ""}`,
    );

    // 3. ¥12.34 at our POS: online through the cloud's authorisation endpoint.
    const acquirer = await cloud.issuer.apiKeys.create({ role: "acquirer", name: "演示 POS / demo POS" });
    const posConfig = defaultTerminalConfig({
      terminalId: "TWDEMO01",
      merchantName: "Tapwallet Demo Store",
      aids: [unionPayAid(AID.debit), unionPayAid(AID.credit)],
    });
    const pos = new Pos({
      config: posConfig,
      clock,
      random: (n) => new Uint8Array(randomBytes(n)),
      issuer: new IssuerClient({ url, apiKey: acquirer.key }),
      firstStan: randomInt(1, 900_000),
    });
    const posLink = new TracingLink(new MemoryLink(phone.isoDep));
    const paid = await pos.pay(posLink, 12_34);
    const auth = paid.authorisation?.response;
    out(
      `5. POS 支付 / paid at the POS ${formatCny(12_34)}: ` +
        (paid.status === "approved"
          ? `联机批准 / approved online (${auth?.responseCode ?? "--"}, 授权码 / auth code ${auth?.authorisationCode ?? "-"}), ` +
            `ARPC ${paid.issuerAuthentication === "verified" ? "卡片验证通过 / verified by the card" : paid.issuerAuthentication}`
          : `${paid.status}: ${paid.reason.zh} / ${paid.reason.en}`),
    );
    trace("POS", posLink);
    clock.advance(5 * 60_000);

    // 4. A T-Union card with its first top-up, then a top-up.
    const { card: opened } = await openTransitCard(wallet, {
      productId: TRANSIT_PRODUCT,
      firstTopUp: 50_00,
      channel: "wechat",
    });
    out(
      `6. 开交通卡 / transit card opened: ${opened.product.name.zh} / ${opened.product.name.en} No. ${opened.cardNumber}, ` +
        `首次充值 / first top-up ${formatCny(50_00)} (${channelName("wechat")})`,
    );
    const topUp = await topUpTransitCard(wallet, opened.id, 30_00, { channel: "alipay" });
    const afterTopUp = await transitCard(wallet, opened.id);
    out(
      `7. 充值 / top-up ${formatCny(topUp.amount)} (${channelName("alipay")}): 云端验 MAC1、回 MAC2、验 TAC / ` +
        `the cloud checked MAC1, answered MAC2, verified the TAC — 余额 / balance ${formatCny(afterTopUp.balance)}`,
    );

    // 5. The metro (express card, phone locked) and a bus; the gates upload to clearing.
    phone.setExpress(opened.aid);
    phone.lock();
    const keys = new IssuerKeyStore(process.env[TRANSIT_KEY_SEED_ENV]?.trim() || DEVELOPMENT_KEY_SEED);
    const log = new GateLog("DEMO-LINE-1", EXAMPLE_OPERATOR.id);
    const common = {
      operator: EXAMPLE_OPERATOR,
      accepts: ["t-union", "city-union", "beijing"] as const,
      psam: psam(keys),
      blacklist: new Blacklist(),
      clock,
      log,
    };
    const tap = async (
      n: number,
      title: string,
      terminal: { tap(link: TracingLink): Promise<TapOutcome> },
    ) => {
      const link = new TracingLink(new MemoryLink(phone.isoDep));
      await link.fieldOn();
      const r = await terminal.tap(link);
      out(`${n}. ${title}: ${describeTap(r)}`);
      trace(title, link);
      if (!r.ok) throw new TapwalletError(`demo_${r.reason}`, r.message.zh, r.message.en);
      return r;
    };
    const from = station(EXAMPLE_FARES, "0101")!;
    const to = station(EXAMPLE_FARES, "0112")!;
    clock.advance(30 * 60_000);
    await tap(
      8,
      `地铁进站 / metro entry ${from.name.zh} ${from.name.en}（锁屏，快捷交通卡 / locked phone, express card）`,
      new MetroGate({
        ...common,
        id: `GATE-${from.code}-IN`,
        station: from.code,
        direction: "entry",
        fares: EXAMPLE_FARES,
      }),
    );
    clock.advance(25 * 60_000);
    await tap(
      9,
      `地铁出站 / metro exit ${to.name.zh} ${to.name.en} (${(to.km - from.km).toFixed(1)} km)`,
      new MetroGate({
        ...common,
        id: `GATE-${to.code}-OUT`,
        station: to.code,
        direction: "exit",
        fares: EXAMPLE_FARES,
      }),
    );
    clock.advance(10 * 60_000);
    await tap(
      10,
      `${BUS.name.zh} / ${BUS.name.en}`,
      new BusValidator({ ...common, id: `BUS-${BUS.line}`, line: BUS.line, fare: BUS.fare }),
    );
    phone.unlock("fingerprint");
    const operator = await registerOperator(cloud.transit.clearing);
    const upload = log.upload(clock.now());
    const cleared = await cloud.transit.clearing.upload(operator.id, { ...upload, operator: operator.id });
    out(
      `11. 上传清分 / uploaded and cleared: ${cleared.cleared}/${cleared.records} 条 / records, ${formatCny(cleared.amount)} → ` +
        `${EXAMPLE_OPERATOR.name.zh} / ${EXAMPLE_OPERATOR.name.en} (${operator.id})；每笔 TAC 已验证 / every TAC checked` +
        (cleared.rejected.length ? `；拒绝 / rejected ${cleared.rejected.length}` : ""),
    );

    // 6. A door card (a blank 1K fob in the clear) through the cloud, and a door that knows its UID.
    const uid = randomBytes(4);
    uid[0] = 0x5a;
    const dump = exportDump(blankCard({ type: "1k", uid: new Uint8Array(uid) }), "bin");
    if (!dump.ok) throw new TapwalletError("demo_door", dump.error.zh, dump.error.en);
    const door = await addDoorCard(
      wallet,
      { bytes: dump.value.bytes, fileName: "fob.bin" },
      { name: "单元门 / front door" },
    );
    const doorLink = new MemoryFrameLink(phone.door, { trace: o.trace ?? false });
    const decision = await new DoorReader({ mode: "uid", whitelist: [new Uint8Array(uid)] }, clock, {
      id: "front-door",
    }).tap(doorLink);
    out(
      `12. 门卡 / door card added (UID ${door.card.uid}) → ${decision.granted ? "门已打开 / door opened" : "门未打开 / door stays shut"}: ` +
        `${decision.zh} / ${decision.en}`,
    );
    if (o.trace) {
      out("   门禁读卡器帧 / door reader frames:");
      for (const e of doorLink.trace)
        out(`   ${e.from === "reader" ? "读卡器 / reader →" : "← 门卡 / card  "} ${formatFrame(e.frame)}`);
    }

    // The summary: the cloud's views, the card as a reader sees it, the activity, the ledger's check.
    const bankNow = await wallet
      .client()
      .request<BankCardInfo>("GET", `/api/v1/bank-cards/${bank.id}`, "device");
    const payments = await bankCardPayments(wallet, bank.id);
    const transit = await transitCard(wallet, opened.id);
    const history = await wallet
      .client()
      .request<{ transactions: { kind: string; amount: Fen; time: string }[] }>(
        "GET",
        `/api/v1/transit/cards/${encodeURIComponent(opened.id)}/transactions`,
        "device",
      );
    const link = new MemoryLink(phone.isoDep);
    await link.fieldOn();
    const reading = await readTransitCard(link, ["t-union"]);
    const onCard = reading.ok ? reading.value.balance : (transit.cardBalance ?? transit.balance);
    const activity = (await wallet.activity()).map((e) => e.type);
    const ledger = await cloud.ledger.checkInvariants();

    out("");
    out("== 汇总 / summary ==");
    out(
      `银行卡 / bank card: ${bankNow.bank.zh} / ${bankNow.bank.en} ${maskPan(BANK_CARD.pan)}，令牌 / token ••${bankNow.tokenLast4}，` +
        `${bankNow.status === "active" ? "已启用 / active" : bankNow.status}${bankNow.default ? "，默认卡 / default" : ""}`,
    );
    for (const p of payments)
      out(
        `   ${chinaTime(p.at)}  ${formatCny(p.amount)}  ${p.merchantName ?? p.merchantId}  ${p.approved ? "批准 / approved" : "拒绝 / declined"} (${p.responseCode})`,
      );
    out(
      `交通卡 / transit card: ${transit.product.name.zh} / ${transit.product.name.en} No. ${transit.cardNumber}，` +
        `余额 / balance ${formatCny(transit.balance)}（卡内 / on the card ${formatCny(onCard)}），本月乘车 / rides this month ${formatCny(transit.monthSpend)}`,
    );
    for (const t of [...history.transactions].reverse())
      out(`   ${chinaTime(t.time)}  ${kindName[t.kind] ?? t.kind}  ${signed(t.amount)}`);
    out(
      `门卡 / door card: ${door.card.name} UID ${door.card.uid}，${decision.granted ? "开门成功 / opened the door" : "未能开门 / did not open the door"}`,
    );
    out(
      `账户动态 / account activity: ${activity.length} 条 / events — ` +
        [...new Set(activity)]
          .filter((t) => /payment|topup|opened|added|cleared|bound|created/.test(t))
          .join(", "),
    );
    out(
      `账本 / ledger: ${ledger.transfers} 笔复式记账 / double-entry transfers, ${ledger.accounts} 个账户 / accounts — ` +
        (ledger.ok
          ? "借贷平衡，交通卡备付金等于卡片余额：检查通过 / postings balance, floats equal the cards' balances: check OK"
          : `检查未通过 / check FAILED: ${ledger.violations.length} 处 / violations`),
    );
    const seconds = (performance.now() - started) / 1000;
    out(
      kept
        ? `数据 / data: ${dataDir}（已保留 / kept）— DATA_DIR=${dataDir} npm start，用 ${mobile} 登录网页查看 / ` +
            `sign in to the web app as ${mobile} to browse it`
        : `数据 / data: 临时目录，已删除 / a temporary directory, removed`,
    );
    out(`用时 / took ${seconds.toFixed(1)} s`);
    if (!ledger.ok)
      throw new TapwalletError("demo_ledger", "账本检查未通过", "the ledger check failed", {
        violations: ledger.violations.length,
      });
    return {
      dataDir,
      kept,
      accountId: signedUp.accountId,
      deviceId: device.id,
      payment: { status: paid.status, amount: 12_34 },
      bankCard: {
        id: bankNow.id,
        status: bankNow.status,
        default: bankNow.default,
        payments: payments.filter((p) => p.approved).map((p) => p.amount),
      },
      transitCard: {
        id: transit.id,
        cardNumber: transit.cardNumber,
        balance: transit.balance,
        onCard,
        transactions: history.transactions.map((t) => [t.kind, t.amount]),
      },
      cleared: { records: cleared.cleared, amount: cleared.amount },
      door: { granted: decision.granted, uid: door.card.uid },
      activity,
      ledger: {
        ok: ledger.ok,
        transfers: ledger.transfers,
        accounts: ledger.accounts,
        violations: ledger.violations.length,
      },
      seconds,
    };
  } finally {
    await app?.close();
    await db.close();
    if (!kept) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The example operator for clearing (a database kept from an earlier run already has it: then a new one). */
async function registerOperator(clearing: {
  registerOperator(id: string, name: string): Promise<{ id: string; token: string }>;
}) {
  const name = `${EXAMPLE_OPERATOR.name.zh} ${EXAMPLE_OPERATOR.name.en}`;
  try {
    return await clearing.registerOperator(EXAMPLE_OPERATOR.id, name);
  } catch {
    return clearing.registerOperator(`${EXAMPLE_OPERATOR.id}-${toHex(randomBytes(3)).toLowerCase()}`, name);
  }
}

function describeTap(r: TapOutcome): string {
  if (!r.ok) return `拒绝 / refused: ${r.message.zh} / ${r.message.en}`;
  const what = r.kind === "metro-entry" ? "闸门打开 / gate opens" : `扣费 / charged ${formatCny(r.amount)}`;
  return `${what}，余额 / balance ${formatCny(r.balanceAfter)} (TAC ${r.record.tac})`;
}

export function register(demo: Command): void {
  demo
    .command("wallet")
    .description(
      "钱包全流程：云端、手机、银行卡、交通卡、门卡 / the whole wallet: cloud, phone, bank card, transit card, door card",
    )
    .option(
      "--data <dir>",
      "数据目录（保留）/ keep the database and the phone in DIR (default: a temporary one)",
    )
    .option("--trace", "显示每次刷卡的 APDU / show each tap's decoded APDUs")
    .action(async (o: WalletDemoOptions) => {
      await walletDemo(o);
    });
}
