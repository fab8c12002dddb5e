/**
 * `tapwallet phone`: a virtual phone (docs/PHONE.md). Its state lives in `~/.tapwallet/phones/<name>/`
 * (`--name`, default "default"; `$TAPWALLET_HOME` moves the root) or in any directory given with `--state`
 * (src/cli/phone-select.ts: the rule every command that takes a phone follows).
 *
 *   phone init --model "小米9" [--region CN]   make a phone (its SE keys come from the factory master)
 *   phone login --mobile 138… [--server URL] [--code CODE]   sign in (asks for the code if not given)
 *   phone register [--device-name NAME]        bind the phone to the account (device key pair)
 *   phone sync                                 check in and run what the TSM queued for this phone
 *   phone cards | show | transactions [--json]
 *   phone default CARD | express CARD          default payment card (a bank card through the cloud) /
 *                                              express transit card
 *   phone verify | unlock [--method fingerprint|passcode] | lock
 *   phone present --vpcd [HOST:PORT]           put the phone into vsmartcard's virtual PC/SC reader until Ctrl-C
 *   phone open | topup | refund | transfer | transit   transit cards through the cloud (phone-transit.ts)
 *   phone bank add | verify | cards | default | suspend | resume | delete | payments   bank cards (phone-bank.ts)
 *
 * The `door add` and `door open` subcommands (door.ts) take a phone as every terminal command does
 * (`--phone [NAME]`, `--state DIR`); `door open --pcsc [READER]` taps a card on a PC/SC reader instead.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { TapwalletError } from "../../core/errors.js";
import { fromHex, isHex, toHex } from "../../core/bytes.js";
import { systemClock } from "../../core/clock.js";
import { seMasterKeyFromEnv } from "../../se/factory-keys.js";
import { type DoorConfig, DoorReader } from "../../mifare/door-reader.js";
import { PcscClassicReader, phoneFieldIcc } from "../../mifare/storage-card.js";
import { frameAirTime } from "../../mifare/airtime.js";
import { MemoryFrameLink } from "../../nfc/frame.js";
import {
  type PcscSessionOptions,
  pcscCliOptions,
  sayOnStderr,
  withPcscCard,
} from "../../nfc/pcsc-session.js";
import { TracingLink } from "../../nfc/trace.js";
import { type PresentSummary, presentOnVpcd } from "../../nfc/vpcd-session.js";
import {
  type PhoneCard,
  type SyncOutcome,
  VERIFICATION_METHODS,
  type VerificationMethod,
  VirtualPhone,
  Wallet,
  activeDoorUid,
  addDoorCard,
  addDoorCardLocally,
  importDoorDump,
  openDoor,
  phoneDir,
  resolveModel,
  setDefaultCard,
} from "../../device/index.js";
import {
  type PhoneSelector,
  type TerminalPhoneOptions,
  openPhone,
  out,
  phoneSelectorOptions,
  terminalPhone,
  terminalPhoneOptions,
} from "../phone-select.js";
import { saveDoorApduTrace, saveDoorFrameTrace } from "../trace-out.js";
import { doorDecisionJson } from "../door-decision.js";
import { registerBankPhoneCommands } from "./phone-bank.js";
import { registerTransitPhoneCommands } from "./phone-transit.js";

/** `phone init`: the factory makes a phone in its state directory. */
function initPhone(options: PhoneSelector & { model: string; region?: string }): {
  phone: VirtualPhone;
  developmentMaster: boolean;
} {
  const model = resolveModel(options.model);
  const region = (options.region ?? "CN").toUpperCase();
  if (!/^[A-Z]{2}$/.test(region))
    throw new TapwalletError(
      "bad_region",
      `地区应为两个字母的 ISO 3166-1 代码：${options.region}`,
      `a region is a two-letter ISO 3166-1 code: ${options.region}`,
    );
  const master = seMasterKeyFromEnv();
  const dir = phoneDir(options);
  const phone = VirtualPhone.create(dir, {
    name: options.name ?? (options.state ? "phone" : "default"),
    model,
    region,
    factoryMasterKey: master.key,
  });
  return { phone, developmentMaster: master.development };
}

const yesNo = (b: boolean) => (b ? "是 / yes" : "否 / no");
const categoryText: Record<string, string> = {
  payment: "银行卡 / bank",
  transit: "交通卡 / transit",
  access: "门卡 / door",
  other: "其他 / other",
};
const stateText: Record<PhoneCard["state"], string> = {
  activated: "已启用 / active",
  deactivated: "未启用 / inactive",
  "non-activatable": "非接触不可用 / contact only",
};

function showJson(phone: VirtualPhone) {
  const c = phone.cloud;
  return {
    name: phone.name,
    dir: phone.dir,
    model: phone.model,
    region: phone.region,
    seId: phone.seId,
    createdAt: phone.createdAt,
    locked: phone.signals.locked(),
    verification: phone.signals.verification,
    fieldMode: phone.fieldMode(),
    cloud: c
      ? {
          server: c.server,
          accountId: c.accountId,
          mobile: c.mobile,
          signedIn: c.session !== null,
          sessionExpiresAt: c.session?.expiresAt ?? null,
          deviceId: c.deviceId,
        }
      : null,
    cards: phone.cards().length,
  };
}

function showText(phone: VirtualPhone): string {
  const j = showJson(phone);
  const v = j.verification;
  const lines = [
    `手机 / phone: ${j.name}   ${j.model.zh} / ${j.model.en} (${j.model.code})${j.model.supported ? "" : "  [不在支持列表 / not a supported model]"}`,
    `地区 / region: ${j.region}   安全元件 / SE: ${j.seId}`,
    `状态目录 / state: ${j.dir}`,
    `锁屏 / locked: ${yesNo(j.locked)}   用户验证 / verified: ${v ? `${v.at} (${v.method})` : "无 / never"}`,
    `感应区 / field: ${j.fieldMode === "door" ? "门卡 (MIFARE Classic) / door card" : "ISO-DEP（银行卡、交通卡）/ ISO-DEP (bank, transit)"}`,
    `卡片 / cards: ${j.cards}`,
  ];
  if (!j.cloud) lines.push("云端 / cloud: 未登录 / not signed in");
  else
    lines.push(
      `云端 / cloud: ${j.cloud.server}   账户 / account: ${j.cloud.mobile ?? "-"}${j.cloud.signedIn ? "" : "（未登录 / signed out）"}`,
      `设备 / device: ${j.cloud.deviceId ?? "未注册 / not registered"}`,
    );
  return lines.join("\n") + "\n";
}

function cardsText(cards: PhoneCard[]): string {
  if (cards.length === 0) return "手机上还没有卡片 / no cards on this phone\n";
  return (
    cards
      .map((c) => {
        const roles = [c.defaultPayment ? "默认 / default" : "", c.expressTransit ? "快捷交通 / express" : ""]
          .filter(Boolean)
          .join(", ");
        const name = c.label ? `${c.label.zh}` : c.packageId;
        return `${String(c.index).padStart(2)}  ${name}  ${categoryText[c.category ?? "other"]}  ${stateText[c.state]}${roles ? `  [${roles}]` : ""}  ${c.aid}`;
      })
      .join("\n") + "\n"
  );
}

function syncText(r: SyncOutcome): string {
  const lines: string[] = [];
  if (r.lost)
    lines.push(
      "本机已挂失：卡片已从安全元件删除 / this phone is reported lost: its cards were wiped from the SE",
    );
  const verbs: Record<string, string> = {
    install: "安装 / install",
    delete: "删除 / delete",
    personalize: "个人化 / personalise",
    registry: "注册表 / registry",
    relay: "操作 / relay",
  };
  for (const s of r.scripts) {
    const mark = s.state === "done" ? "✓" : s.state === "failed" ? "✗" : "…";
    const why = s.error ? `  ${s.error.zh} / ${s.error.en}` : "";
    lines.push(`${mark} ${verbs[s.kind] ?? s.kind} ${s.aid} (${s.owner})${why}`);
  }
  const last = r.sessions[r.sessions.length - 1]!;
  if (r.scripts.length === 0) lines.push("没有待执行的操作 / nothing to do");
  if (last.pending > 0) lines.push(`还有 ${last.pending} 项待同步 / ${last.pending} still queued`);
  return lines.join("\n") + "\n";
}

async function promptCode(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question("短信验证码 / SMS code: ")).trim();
  } finally {
    rl.close();
  }
}

function method(value: string | undefined): VerificationMethod {
  const m = (value ?? "fingerprint") as VerificationMethod;
  if (!VERIFICATION_METHODS.includes(m))
    throw new TapwalletError(
      "bad_option",
      `验证方式应为 fingerprint 或 passcode：${value}`,
      `the method is fingerprint or passcode: ${value}`,
    );
  return m;
}

/** `door open`'s reader options: `--reader uid|sector`, `--uid HEX…`, `--block N --key HEX --key-type A|B --credential HEX…`. */
interface DoorReaderOptions {
  reader?: string;
  uid?: string[];
  block?: string;
  key?: string;
  keyType?: string;
  credential?: string[];
}

/** The door reader `door open` plays: by UID (default: the active card's, as if enrolled) or by sector. */
function doorReaderConfig(phone: VirtualPhone | null, o: DoorReaderOptions): DoorConfig {
  const mode = o.reader ?? "uid";
  const hex = (v: string, what: string, len?: number) => {
    if (!isHex(v) || (len !== undefined && v.replace(/\s/g, "").length !== len * 2))
      throw new TapwalletError("bad_option", `${what} 应为十六进制：${v}`, `${what} must be hex: ${v}`);
    return fromHex(v);
  };
  if (mode === "uid") {
    const whitelist = o.uid?.length
      ? o.uid.map((u) => hex(u, "--uid"))
      : [phone ? activeDoorUid(phone) : null].filter((u) => u !== null);
    return { mode: "uid", whitelist };
  }
  if (mode !== "sector")
    throw new TapwalletError(
      "bad_option",
      `读卡器模式应为 uid 或 sector：${mode}`,
      `the reader mode is uid or sector: ${mode}`,
    );
  const block = Number(o.block ?? "4");
  if (!Number.isInteger(block) || block < 0 || block > 255)
    throw new TapwalletError("bad_option", `块号无效：${o.block}`, `invalid block number: ${o.block}`);
  const keyType = (o.keyType ?? "A").toUpperCase();
  if (keyType !== "A" && keyType !== "B")
    throw new TapwalletError("bad_option", "密钥类型应为 A 或 B", "the key type is A or B");
  if (!o.credential?.length)
    throw new TapwalletError(
      "bad_option",
      "扇区模式需要 --credential（登记的凭证块）",
      "sector mode needs --credential (an enrolled credential block)",
    );
  return {
    mode: "sector",
    block,
    keyType,
    key: hex(o.key ?? "FFFFFFFFFFFF", "--key", 6),
    credentials: o.credential.map((c) => hex(c, "--credential", 16)),
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const phone = program
    .command("phone")
    .description("虚拟手机 / a virtual phone: SE, wallet and cloud client");

  phoneSelectorOptions(
    phone
      .command("init")
      .description("出厂一部虚拟手机 / make a virtual phone")
      .requiredOption("--model <model>", '机型 / model, e.g. 小米9, "Mi 9", cepheus')
      .option("--region <cc>", "地区 / region (ISO 3166-1)", "CN"),
  ).action((o: PhoneSelector & { model: string; region: string }) => {
    const { phone: p, developmentMaster } = initPhone(o);
    if (developmentMaster)
      process.stderr.write(
        "注意 / note: 出厂主密钥为开发用（未设置 TAPWALLET_SE_MASTER_KEY）/ factory master is the development one (TAPWALLET_SE_MASTER_KEY unset)\n",
      );
    out(showText(p));
  });

  phoneSelectorOptions(
    phone
      .command("login")
      .description("用手机号和短信验证码登录 / sign in with a mobile number and SMS code")
      .requiredOption("--mobile <number>", "手机号 / mobile number")
      .option(
        "--server <url>",
        "钱包云端 / wallet cloud URL (default: the phone's, or http://127.0.0.1:8080)",
      )
      .option("--code <code>", "验证码（已收到时）/ the code, if already received"),
  ).action(async (o: PhoneSelector & { mobile: string; server?: string; code?: string }) => {
    const wallet = new Wallet(openPhone(o));
    let code = o.code;
    if (!code) {
      const sent = await wallet.requestCode(o.mobile, o.server);
      out(
        `验证码已发送，${Math.round(sent.expiresInSeconds / 60)} 分钟内有效 / code sent, valid ${Math.round(sent.expiresInSeconds / 60)} min`,
      );
      code = await promptCode();
    }
    const r = await wallet.signIn(o.mobile, code, o.server);
    out(
      `${r.created ? "已注册并登录 / signed up and in" : "已登录 / signed in"}: ${wallet.phone.cloud?.mobile} (${r.accountId})`,
    );
  });

  phoneSelectorOptions(
    phone
      .command("register")
      .description("把手机绑定到账户 / bind the phone to the signed-in account")
      .option("--device-name <name>", "设备名称 / the phone's name in the account"),
  ).action(async (o: PhoneSelector & { deviceName?: string }) => {
    const device = await new Wallet(openPhone(o)).register(o.deviceName);
    out(`已注册 / registered: ${device.id}  ${device.model.zh} / ${device.model.en}  ${device.name}`);
    // The first sync ran at once: what an earlier binding of this SE left on it is gone before any new card.
    if (device.sync) out(syncText(device.sync).trimEnd());
    else
      out(
        `同步未完成，请稍后运行 tapwallet phone sync：${device.syncError?.zh} / the first sync did not run, ` +
          `run tapwallet phone sync later: ${device.syncError?.en}`,
      );
  });

  phoneSelectorOptions(
    phone
      .command("sync")
      .description("与钱包云端同步（执行 TSM 脚本）/ sync with the cloud (run the TSM's scripts)"),
  ).action(async (o: PhoneSelector) => {
    const r = await new Wallet(openPhone(o)).sync();
    out(syncText(r));
    const last = r.sessions[r.sessions.length - 1]!;
    if (last.outcome !== "ok")
      throw new TapwalletError(
        `sync_${last.outcome}`,
        `同步未完成：${last.message?.zh ?? last.outcome}`,
        `the sync did not complete: ${last.message?.en ?? last.outcome}`,
      );
  });

  phoneSelectorOptions(
    phone
      .command("cards")
      .description("手机上的卡片 / the cards on the phone")
      .option("--json", "输出 JSON / print JSON"),
  ).action((o: PhoneSelector & { json?: boolean }) => {
    const cards = openPhone(o).cards();
    out(o.json ? JSON.stringify(cards) : cardsText(cards));
  });

  phoneSelectorOptions(
    phone
      .command("default")
      .description(
        "设为默认支付卡（云端管理的银行卡经云端）/ make a bank card the default (through the cloud for its cards)",
      )
      .argument("<card>", "序号、AID 或名称 / number, AID or name"),
  ).action(async (card: string, o: PhoneSelector) => {
    const phone = openPhone(o);
    const target = phone.findCard(card);
    const c = (await setDefaultCard(new Wallet(phone), target)).card ?? target;
    out(`默认支付卡 / default payment card: ${c.label?.zh ?? c.aid} (${c.aid})`);
  });

  phoneSelectorOptions(
    phone
      .command("express")
      .description("设为快捷交通卡 / make a transit card the express card")
      .argument("<card>", "序号、AID 或名称 / number, AID or name"),
  ).action((card: string, o: PhoneSelector) => {
    const c = openPhone(o).setExpress(card);
    out(`快捷交通卡 / express transit card: ${c.label?.zh ?? c.aid} (${c.aid})`);
  });

  phoneSelectorOptions(
    phone
      .command("verify")
      .description("用户验证（指纹或密码，CDCVM）/ verify the user (fingerprint or passcode, CDCVM)")
      .option("--method <method>", "fingerprint | passcode", "fingerprint"),
  ).action((o: PhoneSelector & { method?: string }) => {
    const at = openPhone(o).verify(method(o.method));
    out(`已验证 / verified: ${at.toISOString()} (${o.method ?? "fingerprint"})`);
  });

  phoneSelectorOptions(
    phone
      .command("lock")
      .description("锁屏（只有快捷交通卡响应）/ lock (only the express transit card answers)"),
  ).action((o: PhoneSelector) => {
    openPhone(o).lock();
    out("已锁屏 / locked");
  });

  phoneSelectorOptions(
    phone
      .command("unlock")
      .description(
        "解锁（指纹或密码，也是一次用户验证）/ unlock (fingerprint or passcode: also a user verification)",
      )
      .option("--method <method>", "fingerprint | passcode", "fingerprint"),
  ).action((o: PhoneSelector & { method?: string }) => {
    const at = openPhone(o).unlock(method(o.method));
    out(`已解锁 / unlocked: ${at.toISOString()}`);
  });

  phoneSelectorOptions(
    phone
      .command("transactions")
      .description("账户动态（交易、卡片）/ the account's activity (transactions, cards)")
      .option("--json", "输出 JSON / print JSON"),
  ).action(async (o: PhoneSelector & { json?: boolean }) => {
    const events = await new Wallet(openPhone(o)).activity();
    if (o.json) return out(JSON.stringify(events));
    if (events.length === 0) return out("暂无记录 / nothing yet");
    out(events.map((e) => `${e.createdAt}  ${e.type}  ${JSON.stringify(e.payload)}`).join("\n"));
  });

  phoneSelectorOptions(
    phone
      .command("show")
      .description("手机概况 / the phone at a glance")
      .option("--json", "输出 JSON / print JSON"),
  ).action((o: PhoneSelector & { json?: boolean }) => {
    const p = openPhone(o);
    out(o.json ? JSON.stringify(showJson(p)) : showText(p));
  });

  phoneSelectorOptions(
    phone
      .command("present")
      .description(
        "把手机放到 vsmartcard 虚拟读卡器上，供任何 PC/SC 程序使用（Ctrl-C 拿开）/ put the phone into vsmartcard's virtual PC/SC reader until Ctrl-C",
      )
      .option(
        "--vpcd [host:port]",
        "vpcd 地址 / vpcd's address (default 127.0.0.1:35963 = Virtual PCD 00 00)",
      ),
  ).action(async (o: PhoneSelector & { vpcd?: string | boolean }) => {
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      await presentPhone(o, { signal: abort.signal });
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  });

  registerTransitPhoneCommands(phone);
  registerBankPhoneCommands(phone);
}

/**
 * `phone present --vpcd [HOST:PORT]`: the phone in vpcd's reader — the active door card (storage-card ATR and
 * pseudo-APDUs) while one is active, otherwise the SE's ISO 14443-4 cards — until `signal` aborts. The SE
 * saves its file after every transaction, as it does in any other use. Keep other `phone` commands on this
 * phone for after: they would change its files behind this process.
 */
export async function presentPhone(
  o: PhoneSelector & { vpcd?: string | boolean },
  options: { signal?: AbortSignal; say?: (zh: string, en: string) => void; onStarted?: () => void } = {},
): Promise<PresentSummary> {
  const p = openPhone(o);
  const say = options.say ?? sayOnStderr;
  const mode = p.fieldMode() === "door" && !p.signals.locked() ? "door" : "iso-dep";
  say(
    `${p.name}：${mode === "door" ? "当前门卡（MIFARE Classic）" : "银行卡与交通卡（ISO 14443-4）"}`,
    `${p.name}: ${mode === "door" ? "the active door card (MIFARE Classic)" : "bank and transit cards (ISO 14443-4)"}`,
  );
  // A locked phone's door cards are silent: the field then gets ISO-DEP (the express transit card only).
  const icc = phoneFieldIcc(p.se, {
    isDoorMode: () => p.fieldMode() === "door" && !p.signals.locked(),
  });
  const summary = await presentOnVpcd(icc, o.vpcd, {
    say,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onStarted ? { onStarted: () => options.onStarted!() } : {}),
  });
  if (p.se.storageError)
    throw new TapwalletError(
      "se_save_failed",
      "安全元件文件保存失败，最近的交易可能只在内存中",
      "the SE file could not be saved: the last transactions may exist only in memory",
    );
  return summary;
}

// ---- door add / door open (registered by door.ts) ------------------------------------------------

function readDump(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    throw new TapwalletError(
      "file_unreadable",
      `无法读取文件 ${path}${missing ? "：文件不存在" : ""}`,
      `cannot read ${path}${missing ? ": no such file" : ""}`,
    );
  }
}

/** `door add FILE`: check, then upload and install through the cloud (or `--local`: straight through the TSM script path). */
async function doorAdd(
  file: string,
  o: TerminalPhoneOptions & { local?: boolean; label?: string },
): Promise<string> {
  const phone = terminalPhone(o);
  const bytes = readDump(file);
  if (o.local) {
    const card = importDoorDump(bytes, file).card;
    const aid = addDoorCardLocally(phone, card, {
      factoryMasterKey: seMasterKeyFromEnv().key,
      ...(o.label ? { name: o.label } : {}),
    });
    return `门卡已写入手机（本地）/ door card installed (local): ${toHex(card.uid)} → ${toHex(aid)}\n`;
  }
  const r = await addDoorCard(new Wallet(phone), { bytes, fileName: file }, o.label ? { name: o.label } : {});
  return `门卡已写入手机 / door card installed: ${r.card.uid} → ${r.aid}  (${r.card.id})\n`;
}

/** `door open`: a door reader taps the phone's active door card. */
export async function doorOpen(
  o: TerminalPhoneOptions &
    DoorReaderOptions & {
      /** `--pcsc [READER]`: tap a card on a PC/SC reader instead of the phone in memory. */
      pcsc?: string | boolean;
      timeout?: string;
      /** `--trace-out FILE`: save the tap's trace for `tapwallet trace` (src/cli/trace-out.ts). */
      traceOut?: string;
      /** `--json`: the decision as JSON (src/cli/door-decision.ts); a refusal's error report carries it. */
      json?: boolean;
    },
  pcscSession: Partial<PcscSessionOptions> = {},
): Promise<string> {
  let decision;
  let config: DoorConfig;
  let phone: VirtualPhone | null = null;
  let airTime: { totalUs: number; frames: number } | null = null;
  let softwareMs: number;
  const out = o.traceOut;
  if (o.pcsc !== undefined) {
    // A card on a PC/SC reader (ACR122U-style: the reader does Crypto1). The phone is needed only for the
    // default whitelist (its active door card's UID).
    config = doorReaderConfig(o.uid?.length || o.reader === "sector" ? null : terminalPhone(o), o);
    const reader = new DoorReader(config, systemClock, { id: "door" });
    const session = { ...pcscCliOptions(o.pcsc, o.timeout, sayOnStderr), ...pcscSession };
    let started = 0;
    decision = await withPcscCard(session, async ({ link }) => {
      started = performance.now();
      if (out === undefined) return reader.tapVia(link, new PcscClassicReader(link));
      const traced = new TracingLink(link);
      const d = await reader.tapVia(traced, new PcscClassicReader(traced));
      await saveDoorApduTrace(out, traced);
      return d;
    });
    softwareMs = performance.now() - started;
  } else {
    phone = terminalPhone(o);
    config = doorReaderConfig(phone, o);
    const link = new MemoryFrameLink(phone.door, { trace: true });
    const started = performance.now();
    decision = await openDoor(phone, config, systemClock, "door", link);
    softwareMs = performance.now() - started;
    airTime = frameAirTime(link.trace);
    if (out !== undefined) await saveDoorFrameTrace(out, link.trace);
  }
  const json = o.json
    ? doorDecisionJson(decision, config, {
        id: "door",
        via: o.pcsc !== undefined ? "pcsc" : "phone",
        softwareMs,
        airTime: airTime && { totalUs: airTime.totalUs, frames: airTime.frames },
      })
    : undefined;
  const line = `${decision.granted ? "门已打开" : "门未打开"}：${decision.zh} / ${decision.granted ? "door opened" : "door stays shut"}: ${decision.en}${decision.uid ? `  (UID ${decision.uid})` : ""}`;
  if (!decision.granted) {
    const locked = phone !== null && phone.signals.locked() && decision.outcome === "no_card";
    throw new TapwalletError(
      `door_${decision.outcome}`,
      `门未打开：${decision.zh}${locked ? "（手机已锁屏，门卡不响应）" : ""}`,
      `door stays shut: ${decision.en}${locked ? " (the phone is locked: door cards do not answer)" : ""}`,
      json ? { ...json } : undefined,
    );
  }
  return json ? `${JSON.stringify(json, null, 2)}\n` : line + "\n";
}

export function registerDoorPhoneCommands(door: Command): void {
  terminalPhoneOptions(
    door
      .command("add")
      .description(
        "把门卡写入虚拟手机（先检查能否模拟）/ put a door card on the virtual phone (checked first)",
      )
      .argument("<file>", "转储文件 / dump file (.json .bin .mfd .eml .mct .nfc)"),
  )
    .option("--label <text>", "门卡名称 / the card's name")
    .option(
      "--local",
      "不经云端，直接走 TSM 脚本写入 / without a server, straight through the TSM script path",
    )
    .action(async (file: string, o: TerminalPhoneOptions & { local?: boolean; label?: string }) =>
      out(await doorAdd(file, o)),
    );

  terminalPhoneOptions(
    door.command("open").description("门禁读卡器刷手机 / a door reader taps the phone's active door card"),
  )
    .option(
      "--reader <mode>",
      "uid（卡号白名单）| sector（扇区凭证）/ uid (whitelist) | sector (credential)",
      "uid",
    )
    .option(
      "--uid <hex>",
      "登记的卡号（可重复；默认为当前门卡）/ enrolled UID (repeatable; default: the active card's)",
      collect,
    )
    .option("--block <n>", "凭证块号 / credential block", "4")
    .option("--key <hex>", "站点密钥 / site key", "FFFFFFFFFFFF")
    .option("--key-type <A|B>", "密钥类型 / key type", "A")
    .option("--credential <hex>", "登记的凭证块（可重复）/ enrolled credential block (repeatable)", collect)
    .option(
      "--pcsc [reader]",
      "刷 PC/SC 读卡器上的卡（名称的一部分，默认第一个）/ tap the card on a PC/SC reader (part of its name; default: the first)",
    )
    .option(
      "--timeout <seconds>",
      "等待卡片的秒数（0 为一直等待）/ seconds to wait for a card (0: for ever)",
      "30",
    )
    .option(
      "--trace-out <file>",
      "保存本次刷卡的跟踪，供 tapwallet trace 解码 / save the tap's trace for tapwallet trace",
    )
    .option("--json", "以 JSON 输出（错误也是）/ print JSON (errors too)")
    .action(async (o) => out(await doorOpen(o)));
}
