/**
 * `tapwallet pos --amount 12.34 (--replay FILE | --image FILE | --phone [NAME] | --state DIR | --pcsc [READER])`:
 * one QuickPass payment at Tapwallet's contactless POS (entry point + C-7 kernel) against a recorded card
 * (transcript), a card image, a virtual phone (the rule every terminal command follows: src/cli/phone-select.ts;
 * `--phone FILE` also takes a bare SE file), or a card on a PC/SC reader (a real card, or a phone in vpcd's
 * reader: docs/PCSC.md); `--issuer FILE` authorises online against a local issuer file (as
 * `tapwallet demo quickpass --save DIR` writes), `--issuer-url URL` against the cloud's issuer host
 * (`POST /api/v1/issuer/authorisations` with an acquirer API key: `--api-key`, else TAPWALLET_ACQUIRER_KEY,
 * else the development key a development server creates). Prints the kernel's outcome, field 55, the issuer's answer
 * and the receipt, zh-CN first with English beside; `--trace` adds the decoded APDUs. Exit code 0 when the
 * payment is approved, 3 when it is not.
 *
 * Offline approvals are cleared in batches, as a real POS settles: `--batch FILE` adds the clearing record of
 * a payment the card approved offline (a TC; raise `--floor-limit` above the amount) to the batch file, and
 * `tapwallet pos --clear FILE (--issuer FILE | --issuer-url URL)` uploads it; the records the issuer answered
 * (cleared, or already cleared) leave the file, refused ones stay. Exit code 0 when nothing was refused, 3
 * otherwise.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type Bytes, fromHex, isHex, toHex } from "../../core/bytes.js";
import { type Clock, ManualClock, systemClock } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import { MoneyError, parseYuan } from "../../core/money.js";
import { DEV_ACQUIRER_KEY } from "../../cloud/issuer/config.js";
import type { ClearingRecord, ClearingResult } from "../../emv/clearing.js";
import { type LocalIssuer, loadLocalIssuer, saveLocalIssuer } from "../../emv/issuer/local.js";
import { AID } from "../../emv/profile.js";
import { appendToBatch, clearingRecordOf, loadBatch, saveBatch } from "../../emv/terminal/clearing-batch.js";
import { type TerminalConfig, defaultTerminalConfig, unionPayAid } from "../../emv/terminal/config.js";
import { type PaymentResult, Pos } from "../../emv/terminal/pos.js";
import { IssuerClient } from "../../emv/terminal/issuer-client.js";
import { formatReceipt } from "../../emv/terminal/receipt.js";
import { maskPan } from "../../emv/track2.js";
import type { ContactlessCard, Link } from "../../nfc/link.js";
import {
  type PcscSessionOptions,
  pcscCliOptions,
  sayOnStderr,
  withPcscCard,
} from "../../nfc/pcsc-session.js";
import { MemoryLink } from "../../nfc/memory.js";
import { decodeTranscript, formatDecoded } from "../../nfc/decode.js";
import { ImageCard, TranscriptCard } from "../../nfc/replay/index.js";
import { TracingLink } from "../../nfc/trace.js";
import { PHONE_PACKAGES } from "../../device/packages.js";
import { openSecureElement } from "../../se/persistence.js";
import {
  type TerminalPhoneOptions,
  phoneGiven,
  seFileOption,
  terminalPhone,
  terminalPhoneOptions,
} from "../phone-select.js";

export interface PosOptions extends TerminalPhoneOptions {
  /** Yuan; required for a payment (not with `clear`). */
  amount?: string;
  /** The clearing batch file an offline approval is added to. */
  batch?: string;
  /** Upload this clearing batch file instead of taking a payment. */
  clear?: string;
  replay?: string;
  image?: string;
  /** `--pcsc [READER]`: the card on a PC/SC reader (true: the first reader). */
  pcsc?: string | boolean;
  /** Seconds to wait for a card on the PC/SC reader (default 30). */
  timeout?: string;
  issuer?: string;
  /** The cloud's base URL: authorise online through its issuer host. */
  issuerUrl?: string;
  /** The acquirer API key for `issuerUrl`. */
  apiKey?: string;
  /** The phone's user verified (fingerprint or passcode) just before the tap (on a named phone: recorded there). */
  verified?: boolean;
  un?: string;
  at?: string;
  ttq?: string;
  floorLimit?: string;
  cvmLimit?: string;
  appVersion?: string;
  ifdSerial?: string;
  sequence?: string;
  trace?: boolean;
  json?: boolean;
}

export interface PosRun {
  result: PaymentResult;
  text: string;
  json: Record<string, unknown>;
}

export interface ClearRun {
  results: ClearingResult[];
  /** Records left in the batch file (the refused ones). */
  kept: number;
  text: string;
  json: Record<string, unknown>;
}

function bad(zh: string, en: string): TapwalletError {
  return new TapwalletError("pos_usage", zh, en);
}

function yuan(text: string, what: string): number {
  try {
    const v = parseYuan(text);
    if (v < 0) throw new MoneyError("negative");
    return v;
  } catch {
    throw bad(`${what}不是金额：${text}`, `${what} is not an amount in yuan: ${text}`);
  }
}

function hexOption(text: string | undefined, bytes: number, what: string): Bytes | undefined {
  if (text === undefined) return undefined;
  if (!isHex(text) || text.replace(/\s/g, "").length !== bytes * 2)
    throw bad(`${what}须为 ${bytes} 字节十六进制`, `${what} must be ${bytes} bytes of hex`);
  return fromHex(text);
}

function readJson(path: string, what: { zh: string; en: string }): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new TapwalletError(
      "pos_file",
      `无法读取${what.zh} ${path}（${why}）`,
      `cannot read ${what.en} ${path} (${why})`,
    );
  }
}

function terminalConfig(o: PosOptions): TerminalConfig {
  const overrides = {
    ...(o.ttq !== undefined ? { ttq: hexOption(o.ttq, 4, "--ttq")! } : {}),
    ...(o.appVersion !== undefined ? { appVersion: hexOption(o.appVersion, 2, "--app-version")! } : {}),
    floorLimit: o.floorLimit === undefined ? 0 : yuan(o.floorLimit, "--floor-limit "),
    ...(o.cvmLimit !== undefined ? { cvmRequiredLimit: yuan(o.cvmLimit, "--cvm-limit ") } : {}),
  };
  return defaultTerminalConfig({
    ...(o.ifdSerial !== undefined ? { ifdSerialNumber: o.ifdSerial } : {}),
    aids: [
      unionPayAid(AID.debit, overrides),
      unionPayAid(AID.credit, overrides),
      unionPayAid(AID.quasiCredit, overrides),
    ],
  });
}

/** `pcscSession` adds to the PC/SC session's options (tests). */
export async function posCommand(
  o: PosOptions,
  pcscSession: Partial<PcscSessionOptions> = {},
): Promise<PosRun> {
  const sources = [o.replay, o.image, phoneGiven(o) || undefined, o.pcsc].filter((s) => s !== undefined);
  if (sources.length !== 1)
    throw bad(
      "请指定一个卡片来源：--replay、--image、--phone [名称]（或 --state 目录）或 --pcsc",
      "give exactly one card: --replay, --image, --phone [NAME] (or --state DIR) or --pcsc",
    );
  if (o.clear !== undefined)
    throw bad("--clear 不与收款一起使用", "--clear uploads a batch: it takes no payment");
  if (o.amount === undefined) throw bad("请给出 --amount（元）", "give --amount (yuan)");
  const amount = yuan(o.amount, "--amount ");
  let clock: Clock = systemClock;
  if (o.at !== undefined) {
    const t = new Date(o.at);
    if (Number.isNaN(t.getTime())) throw bad(`--at 不是时间：${o.at}`, `--at is not a date-time: ${o.at}`);
    clock = new ManualClock(t);
  }
  const random = (n: number): Bytes => new Uint8Array(randomBytes(n));
  const un = hexOption(o.un, 4, "--un");
  const sequence = o.sequence === undefined ? undefined : Number(o.sequence);
  if (sequence !== undefined && !(Number.isInteger(sequence) && sequence >= 1 && sequence <= 999999))
    throw bad("--sequence 须为 1–999999", "--sequence must be 1–999999");

  let card: ContactlessCard | null = null;
  if (o.pcsc !== undefined) {
    // The card is on a reader: it comes with the tap below.
  } else if (o.replay !== undefined) {
    const c = TranscriptCard.fromJson(readJson(o.replay, { zh: "交易记录文件", en: "transcript" }));
    if (!c.ok) throw bad(`交易记录文件无效：${c.error}`, `invalid transcript: ${c.error}`);
    card = c.value;
  } else if (o.image !== undefined) {
    const c = ImageCard.fromJson(readJson(o.image, { zh: "卡片镜像文件", en: "card image" }));
    if (!c.ok) throw bad(`卡片镜像文件无效：${c.error}`, `invalid card image: ${c.error}`);
    card = c.value;
  } else {
    const seFile = seFileOption(o);
    if (seFile !== null) {
      const verifiedAt = o.verified ? clock.now() : null;
      card = openSecureElement(seFile, {
        packages: PHONE_PACKAGES,
        clock,
        host: { lastUserVerification: () => verifiedAt, locked: () => false },
      });
    } else {
      // The phone as it is (locked or not, its last verification), its user verifying now if told so.
      const phone = terminalPhone(o, { clock });
      if (o.verified) phone.verify("fingerprint");
      card = phone.isoDep;
    }
  }

  const { local: issuer, remote } = issuerOf(o, clock, random);
  const config = terminalConfig(o);
  const pos = new Pos({
    config,
    clock,
    random,
    ...(issuer ? { issuer: issuer.host } : remote ? { issuer: remote } : {}),
    ...(sequence ? { firstStan: sequence } : {}),
  });
  const tap = async (field: Link) => {
    const traced = new TracingLink(field);
    return { link: traced, result: await pos.pay(traced, amount, un ? { unpredictableNumber: un } : {}) };
  };
  const { link, result } =
    o.pcsc !== undefined
      ? await withPcscCard({ ...pcscCliOptions(o.pcsc, o.timeout, sayOnStderr), ...pcscSession }, (c) =>
          tap(c.link),
        )
      : await tap(new MemoryLink(card!));
  if (issuer && o.issuer !== undefined) saveLocalIssuer(o.issuer, issuer);

  const lines = describePayment(result, config);
  const record = clearingRecordOf(result, config);
  let batched: { file: string; records: number } | undefined;
  if (record && o.batch !== undefined) {
    batched = { file: o.batch, records: appendToBatch(o.batch, record) };
    lines.push(`已加入清算批次 / added to the clearing batch: ${o.batch}（${batched.records} 笔 / records）`);
  } else if (record) {
    lines.push("脱机批准，未加入清算批次（--batch 文件）/ approved offline, not batched (give --batch FILE)");
  }
  if (o.trace)
    lines.push("", "APDU 跟踪 / APDU trace:", formatDecoded(decodeTranscript(link.transcript().apdus), "zh"));
  const c = result.outcome.card;
  const json: Record<string, unknown> = {
    status: result.status,
    reason: result.reason,
    kernelOutcome: result.outcome.kind,
    cvm: result.outcome.cvm,
    ...(result.outcome.ttq ? { ttq: toHex(result.outcome.ttq) } : {}),
    ...(c
      ? {
          card: {
            pan: maskPan(c.pan),
            aid: toHex(c.aid),
            atc: toHex(c.atc),
            cryptogramType: c.cryptogramType,
            cryptogram: toHex(c.cryptogram),
            fdda: c.fdda,
          },
        }
      : {}),
    ...(result.outcome.field55 ? { field55: toHex(result.outcome.field55) } : {}),
    ...(result.authorisation ? { issuer: result.authorisation.response } : {}),
    issuerAuthentication: result.issuerAuthentication,
    ...(batched ? { batch: batched } : {}),
  };
  return { result, text: lines.join("\n"), json };
}

/** The issuer `--issuer FILE` or `--issuer-url URL` names (with the acquirer key), for a payment or a clearing. */
function issuerOf(
  o: PosOptions,
  clock: Clock,
  random: (n: number) => Bytes,
): { local?: LocalIssuer; remote?: IssuerClient } {
  if (o.issuer !== undefined && o.issuerUrl !== undefined)
    throw bad("--issuer 与 --issuer-url 只能选一个", "give --issuer or --issuer-url, not both");
  if (o.issuer !== undefined) return { local: loadLocalIssuer(o.issuer, clock, random) };
  if (o.issuerUrl === undefined) return {};
  const apiKey = o.apiKey ?? process.env["TAPWALLET_ACQUIRER_KEY"] ?? DEV_ACQUIRER_KEY;
  try {
    return { remote: new IssuerClient({ url: o.issuerUrl, apiKey }) };
  } catch {
    throw bad(
      `--issuer-url 不是 http(s) 地址：${o.issuerUrl}`,
      `--issuer-url is not an http(s) URL: ${o.issuerUrl}`,
    );
  }
}

const CLEARING_STATUS: Record<ClearingResult["status"], string> = {
  cleared: "已清算 / cleared",
  duplicate: "已清算过 / already cleared",
  refused: "拒绝 / REFUSED",
};

/**
 * `tapwallet pos --clear FILE`: uploads the clearing batch to the issuer and keeps in the file only the
 * records it refused (a record answered cleared or duplicate is done; sending it again is harmless).
 */
export async function posClearCommand(o: PosOptions): Promise<ClearRun> {
  const file = o.clear!;
  const card = o.replay ?? o.image ?? o.pcsc ?? (phoneGiven(o) || undefined);
  if (o.amount !== undefined || o.batch !== undefined || card !== undefined)
    throw bad(
      "--clear 只上传批次：不要同时给出金额或卡片",
      "--clear only uploads the batch: give no amount or card",
    );
  const random = (n: number): Bytes => new Uint8Array(randomBytes(n));
  const { local, remote } = issuerOf(o, systemClock, random);
  if (!local && !remote)
    throw bad(
      "请给出发卡行：--issuer 文件或 --issuer-url 地址",
      "give the issuer: --issuer FILE or --issuer-url URL",
    );
  const batch = loadBatch(file);
  let results: ClearingResult[] = [];
  if (batch.records.length > 0) {
    if (local) {
      for (const r of batch.records) results.push(await local.host.clear(r));
      saveLocalIssuer(o.issuer!, local);
    } else {
      results = await remote!.clear(batch);
    }
  }
  const kept = batch.records.filter((_, i) => results[i]?.status === "refused");
  saveBatch(file, { ...batch, records: kept });

  const lines = [`清算批次 / clearing batch: ${file} · ${batch.records.length} 笔 / records`];
  for (const [i, r] of results.entries()) {
    const rec = batch.records[i] as Partial<ClearingRecord>;
    const amount = typeof rec.amount === "number" ? `¥${(rec.amount / 100).toFixed(2)}` : "";
    const card = r.tokenLast4 ? `•••• ${r.tokenLast4}` : "";
    const atc = r.atc !== undefined ? `ATC ${r.atc.toString(16).toUpperCase().padStart(4, "0")}` : "";
    const why = r.status === "refused" ? `（${r.message.zh} / ${r.message.en}）` : "";
    const short = r.shortfall ? ` · 账户差额 / shortfall ¥${(r.shortfall / 100).toFixed(2)}` : "";
    lines.push(
      `#${i + 1} ${[amount, card, atc].filter(Boolean).join(" ")}: ${CLEARING_STATUS[r.status]}${why}${short}`,
    );
  }
  const count = (s: ClearingResult["status"]) => results.filter((r) => r.status === s).length;
  lines.push(
    `已清算 / cleared ${count("cleared")} · 重复 / duplicates ${count("duplicate")} · 拒绝 / refused ${count("refused")}` +
      (kept.length > 0 ? ` · 被拒记录留在批次文件中 / refused records stay in the file` : ""),
  );
  const json = {
    file,
    results: results.map((r, index) => ({ index, ...r })),
    cleared: count("cleared"),
    duplicates: count("duplicate"),
    refused: count("refused"),
    kept: kept.length,
  };
  return { results, kept: kept.length, text: lines.join("\n"), json };
}

const KIND: Record<string, string> = {
  "online-request": "请求联机授权 / online request",
  approved: "脱机批准 / offline approved",
  declined: "拒绝 / declined",
  "try-again": "请重试 / try again",
  "try-another-interface": "请使用其他界面 / try another interface",
};

const STATUS: Record<string, string> = {
  declined: "交易拒绝 / DECLINED",
  "try-again": "请重新挥卡 / TAP AGAIN",
  "try-another-interface": "请插卡或刷卡 / USE ANOTHER INTERFACE",
};

const CVM: Record<string, string> = {
  none: "无需验证 / no CVM",
  cdcvm: "手机上已验证 / consumer device CVM",
  signature: "签名 / signature",
  "online-pin": "联机密码 / online PIN",
};

/** The outcome of one payment as printed lines (no PAN: the card number is masked). */
export function describePayment(r: PaymentResult, config: TerminalConfig): string[] {
  const o = r.outcome;
  const lines = [`闪付 POS / QuickPass POS · 金额 / amount ¥${(r.amount / 100).toFixed(2)}`];
  if (o.card) lines.push(`卡片 / card: ${maskPan(o.card.pan)}  ${o.card.label ?? ""} (${toHex(o.card.aid)})`);
  const plain = o.reason.code === "online-request" || o.reason.code === "offline-approved";
  lines.push(
    `内核结果 / kernel outcome: ${KIND[o.kind]}${plain ? "" : `（${o.reason.zh} / ${o.reason.en}）`}`,
  );
  if (o.ttq) lines.push(`TTQ 9F66: ${toHex(o.ttq)}`);
  if (o.card) {
    lines.push(
      `密文 / cryptogram: ${o.card.cryptogramType} ${toHex(o.card.cryptogram)} · ATC ${toHex(o.card.atc)}`,
    );
    if (o.card.fdda !== "not-performed")
      lines.push(`fDDA: ${o.card.fdda === "passed" ? "通过 / passed" : "失败 / failed"}`);
  }
  if (o.kind === "online-request" || o.kind === "approved") lines.push(`持卡人验证 / CVM: ${CVM[o.cvm]}`);
  if (o.field55) lines.push(`55 域 / field 55: ${toHex(o.field55)}`);
  const a = r.authorisation?.response;
  if (a)
    lines.push(
      `发卡行应答 / issuer: ${a.responseCode} ${a.message.zh} / ${a.message.en}` +
        (a.authorisationCode ? ` · 授权码 / auth code ${a.authorisationCode}` : ""),
    );
  if (r.issuerAuthentication !== "not-performed")
    lines.push(
      `发卡行认证 / issuer authentication: ${r.issuerAuthentication === "verified" ? "卡片验证通过 / verified by the card" : "卡片验证失败 / FAILED on the card"}`,
    );
  if (r.status === "approved") lines.push("", ...formatReceipt(r, config));
  else lines.push(`结果 / result: ${STATUS[r.status]}（${r.reason.zh} / ${r.reason.en}）`);
  return lines;
}

export function register(program: Command): void {
  const pos = program
    .command("pos")
    .description("闪付 POS 收款 / one QuickPass payment at Tapwallet's contactless POS")
    .option("--amount <yuan>", "金额（元）/ amount in yuan, e.g. 12.34 (every payment)")
    .option("--replay <file>", "回放交易记录 / replay a recorded transcript")
    .option("--image <file>", "卡片镜像 / a card image");
  terminalPhoneOptions(
    pos,
    "虚拟手机或安全元件文件 / a virtual phone (~/.tapwallet/phones/<name>, default: default) or a bare SE file",
  )
    .option(
      "--pcsc [reader]",
      "PC/SC 读卡器上的卡（名称的一部分，默认第一个）/ the card on a PC/SC reader (part of its name; default: the first)",
    )
    .option(
      "--timeout <seconds>",
      "等待卡片的秒数（0 为一直等待）/ seconds to wait for a card (0: for ever)",
      "30",
    )
    .option("--issuer <file>", "本地发卡行文件（联机授权）/ local issuer file for online authorisation")
    .option(
      "--issuer-url <url>",
      "云端发卡行（联机授权）/ the cloud's issuer host, e.g. http://127.0.0.1:8080",
    )
    .option(
      "--api-key <key>",
      "收单密钥 / acquirer API key for --issuer-url (default: TAPWALLET_ACQUIRER_KEY, else the dev key)",
    )
    .option("--verified", "用户已在手机上验证 / the user verified on the phone just before the tap")
    .option("--un <hex>", "不可预知数 9F37 / unpredictable number (4 bytes hex)")
    .option("--at <datetime>", "终端时间 / terminal date-time (ISO 8601)")
    .option("--ttq <hex>", "基础 TTQ / base TTQ (4 bytes hex)")
    .option("--floor-limit <yuan>", "非接脱机限额 / contactless floor limit (default 0: always online)")
    .option("--cvm-limit <yuan>", "CVM 限额 / CVM-required limit (default 1000.01)")
    .option("--app-version <hex>", "终端应用版本 9F09 / terminal application version")
    .option("--ifd-serial <text>", "接口设备序列号 9F1E / IFD serial number (8 characters)")
    .option("--sequence <n>", "交易序号 9F41 / transaction sequence counter")
    .option(
      "--batch <file>",
      "清算批次文件：脱机批准的交易加入其中 / clearing batch file an offline approval is added to",
    )
    .option(
      "--clear <file>",
      "上传清算批次（须 --issuer 或 --issuer-url）/ upload a clearing batch (with --issuer or --issuer-url)",
    )
    .option("--trace", "显示 APDU / show the decoded APDUs")
    .option("--json", "JSON 输出 / JSON output")
    .action(async (o: PosOptions) => {
      if (o.clear !== undefined) {
        const cleared = await posClearCommand(o);
        process.stdout.write(`${o.json ? JSON.stringify(cleared.json, null, 2) : cleared.text}\n`);
        process.exitCode = cleared.json.refused === 0 ? 0 : 3;
        return;
      }
      const run = await posCommand(o);
      process.stdout.write(`${o.json ? JSON.stringify(run.json, null, 2) : run.text}\n`);
      process.exitCode = run.result.status === "approved" ? 0 : 3;
    });
}
