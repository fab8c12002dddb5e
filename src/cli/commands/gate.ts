/**
 * `tapwallet gate --entry|--exit --station CODE (--pcsc [READER] | --phone [NAME] | --state DIR | --image FILE)`:
 * a metro gate (闸机) of the example operator taps one transit card — a card on a PC/SC reader (a real card,
 * or a phone in vpcd's reader: docs/PCSC.md), a virtual phone (its SE file is saved as the card changes), or a
 * card image — and prints what the gate decided: the gate opens with the fare charged and the balance left,
 * or it refuses with the reason. `--repeat` (with --pcsc) keeps the gate serving one card after another until
 * Ctrl-C, as a real gate does, so a debit torn by a card pulled away is settled at that card's next tap.
 *
 * The gate's PSAM holds the development deployment's purchase keys (transit/keys.ts DEVELOPMENT_KEY_SEED):
 * it accepts the cards the local issuer, the demo and the development cloud open. Stations and fares are the
 * example table (transit/terminal/fares.ts). Exit code 0 when the gate opens, 3 when it refuses.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { fromHex } from "../../core/bytes.js";
import { type Clock, ManualClock, systemClock } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import { formatCny } from "../../core/money.js";
import { CardGoneError, type ContactlessCard, type Link } from "../../nfc/link.js";
import { MemoryLink } from "../../nfc/memory.js";
import {
  type PcscSessionOptions,
  eachPcscCard,
  pcscCliOptions,
  sayOnStderr,
  withPcscCard,
} from "../../nfc/pcsc-session.js";
import { ImageCard, loadImageText } from "../../nfc/replay/index.js";
import { PRODUCTS } from "../../transit/catalogue.js";
import type { EpurseAlgorithm } from "../../transit/epurse-crypto.js";
import { DEVELOPMENT_KEY_SEED, IssuerKeyStore, keyDomainOf } from "../../transit/keys.js";
import { Psam, PsamClient } from "../../transit/psam.js";
import { EXAMPLE_OPERATOR } from "../../transit/sandbox.js";
import { Blacklist } from "../../transit/terminal/blacklist.js";
import { EXAMPLE_FARES, station } from "../../transit/terminal/fares.js";
import { MetroGate, type TapOutcome } from "../../transit/terminal/gate.js";
import { GateLog } from "../../transit/terminal/log.js";
import {
  type TerminalPhoneOptions,
  phoneGiven,
  terminalPhone,
  terminalPhoneOptions,
} from "../phone-select.js";

export interface GateOptions extends TerminalPhoneOptions {
  entry?: boolean;
  exit?: boolean;
  station: string;
  pcsc?: string | boolean;
  image?: string;
  at?: string;
  timeout?: string;
  repeat?: boolean;
  json?: boolean;
}

function usage(zh: string, en: string): TapwalletError {
  return new TapwalletError("gate_usage", zh, en);
}

/** The example operator's gate at `code`, its PSAM on the development keys. */
export function exampleGate(code: string, direction: "entry" | "exit", clock: Clock): MetroGate {
  const where = station(EXAMPLE_FARES, code);
  if (!where)
    throw usage(
      `没有车站 ${code}（可用：${EXAMPLE_FARES.stations.map((s) => `${s.code} ${s.name.zh}`).join("、")}）`,
      `no station ${code} (stations: ${EXAMPLE_FARES.stations.map((s) => `${s.code} ${s.name.en}`).join(", ")})`,
    );
  const keys = new IssuerKeyStore(DEVELOPMENT_KEY_SEED);
  const domains = [...new Set(PRODUCTS.map(keyDomainOf))];
  const algorithms: EpurseAlgorithm[] = ["3des", "sm4"];
  const psam = new PsamClient(
    new Psam(
      domains.flatMap((d) => algorithms.map((a) => keys.purchaseKey(d, a))),
      fromHex("000030008901"),
    ),
  );
  const id = `GATE-${code}-${direction === "entry" ? "IN" : "OUT"}`;
  return new MetroGate({
    id,
    operator: EXAMPLE_OPERATOR,
    accepts: ["t-union", "city-union", "beijing"],
    psam,
    blacklist: new Blacklist(),
    log: new GateLog(id, EXAMPLE_OPERATOR.id),
    clock,
    station: code,
    direction,
    fares: EXAMPLE_FARES,
  });
}

/** The outcome as a line (zh-CN first, English beside). */
export function describeGateTap(r: TapOutcome): string {
  if (!r.ok)
    return (
      `闸机拒绝 / refused: ${r.message.zh} / ${r.message.en}` +
      (r.cardNumber ? ` (卡号 / card ${r.cardNumber})` : "")
    );
  const what =
    r.kind === "metro-entry" ? "闸门打开，进站 / gate opens: entry" : "闸门打开，出站 / gate opens: exit";
  const rule =
    r.fareRule === "max-fare-no-entry"
      ? "（无进站记录，按最高票价 / no entry: maximum fare）"
      : r.fareRule === "max-fare-stale-entry"
        ? "（进站记录超时，按最高票价 / entry too old: maximum fare）"
        : "";
  return (
    `${what}${r.recovered ? "（上次中断的交易已确认 / the interrupted tap settled）" : ""} · ` +
    `扣费 / charged ${formatCny(r.amount)}${rule} · 余额 / balance ${formatCny(r.balanceAfter)} · ` +
    `卡号 / card ${r.cardNumber} · TAC ${r.record.tac}`
  );
}

/** The outcome without its APDUs, for --json. */
function gateTapJson(r: TapOutcome): Record<string, unknown> {
  const { exchanges, ...rest } = r;
  void exchanges;
  if (!rest.ok) return rest;
  const { record, ...ok } = rest;
  return { ...ok, tac: record.tac, psamSeq: record.psamSeq };
}

async function cardFromFiles(o: GateOptions, clock: Clock): Promise<ContactlessCard> {
  if (o.image !== undefined) {
    let text: string;
    try {
      text = await readFile(o.image, "utf8");
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? String(e);
      throw usage(`无法读取文件 ${o.image}（${why}）`, `cannot read file ${o.image} (${why})`);
    }
    const image = loadImageText(text);
    if (!image.ok)
      throw usage(
        `卡片镜像 ${o.image} 格式不对：${image.error}`,
        `card image ${o.image} is not valid: ${image.error}`,
      );
    return new ImageCard(image.value);
  }
  return terminalPhone(o, { clock }).isoDep;
}

async function tapOnce(gate: MetroGate, link: Link): Promise<TapOutcome> {
  // A card gone before activation is the gate's own "please tap again" (its first command finds no card),
  // as one gone mid-transaction is — not an error that would stop a --repeat gate.
  await link.fieldOn().catch((e: unknown) => {
    if (!(e instanceof CardGoneError)) throw e;
  });
  try {
    return await gate.tap(link);
  } finally {
    await link.fieldOff();
  }
}

/**
 * Runs the gate; `print` gets each tap's outcome as it happens (one, or one per card with --repeat).
 * Resolves with the outcomes. `pcscSession` adds to the PC/SC session's options (tests).
 */
export async function gateCommand(
  o: GateOptions,
  print: (r: TapOutcome) => void,
  pcscSession: Partial<PcscSessionOptions> & { signal?: AbortSignal } = {},
): Promise<TapOutcome[]> {
  if (Boolean(o.entry) === Boolean(o.exit))
    throw usage("请指定 --entry 或 --exit 之一", "give one of --entry or --exit");
  const sources = [o.pcsc, phoneGiven(o) || undefined, o.image].filter((s) => s !== undefined);
  if (sources.length !== 1)
    throw usage(
      "请指定一个卡片来源：--pcsc [读卡器]、--phone [名称]（或 --state 目录）或 --image 文件",
      "give one card: --pcsc [READER], --phone [NAME] (or --state DIR) or --image FILE",
    );
  if (o.repeat && o.pcsc === undefined) throw usage("--repeat 需配合 --pcsc", "--repeat goes with --pcsc");
  let clock: Clock = systemClock;
  if (o.at !== undefined) {
    const t = new Date(o.at);
    if (Number.isNaN(t.getTime())) throw usage(`--at 不是时间：${o.at}`, `--at is not a date-time: ${o.at}`);
    clock = new ManualClock(t);
  }
  const gate = exampleGate(o.station, o.entry ? "entry" : "exit", clock);
  const outcomes: TapOutcome[] = [];
  const one = async (link: Link) => {
    const r = await tapOnce(gate, link);
    outcomes.push(r);
    print(r);
  };
  if (o.pcsc === undefined) {
    await one(new MemoryLink(await cardFromFiles(o, clock)));
    return outcomes;
  }
  const session = {
    ...pcscCliOptions(o.pcsc, o.repeat && o.timeout === undefined ? "0" : o.timeout, sayOnStderr),
    ...pcscSession,
  };
  if (o.repeat) await eachPcscCard(session, ({ link }) => one(link));
  else await withPcscCard(session, ({ link }) => one(link));
  return outcomes;
}

export function register(program: Command): void {
  const gate = program
    .command("gate")
    .description(
      "地铁闸机刷卡 / a metro gate taps a transit card (PC/SC reader, virtual phone or card image)",
    )
    .option("--entry", "进站闸机 / entry gate")
    .option("--exit", "出站闸机 / exit gate")
    .requiredOption(
      "--station <code>",
      `车站代码 / station code: ${EXAMPLE_FARES.stations.map((s) => `${s.code} ${s.name.en}`).join(", ")}`,
    )
    .option(
      "--pcsc [reader]",
      "PC/SC 读卡器（名称的一部分，默认第一个）/ a PC/SC reader (part of its name; default: the first)",
    );
  terminalPhoneOptions(gate)
    .option("--image <file>", "卡片镜像 JSON / a card image")
    .option("--at <datetime>", "闸机时间 / the gate's date-time (ISO 8601)")
    .option(
      "--timeout <seconds>",
      "等待卡片的秒数（0 为一直等待；--repeat 默认 0）/ seconds to wait for a card (0: for ever; --repeat: 0)",
    )
    .option("--repeat", "连续刷卡直到 Ctrl-C（需 --pcsc）/ serve card after card until Ctrl-C (with --pcsc)")
    .option("--json", "JSON 输出 / JSON output (one line per tap)")
    .action(async (o: GateOptions) => {
      const abort = new AbortController();
      const stop = () => abort.abort(new TapwalletError("interrupted", "已停止", "stopped"));
      process.once("SIGINT", stop);
      try {
        const outcomes = await gateCommand(
          o,
          (r) => process.stdout.write(`${o.json ? JSON.stringify(gateTapJson(r)) : describeGateTap(r)}\n`),
          { signal: abort.signal },
        );
        process.exitCode = outcomes.length > 0 && outcomes.every((r) => r.ok) ? 0 : 3;
      } finally {
        process.off("SIGINT", stop);
      }
    });
}
