/**
 * `tapwallet read --image FILE | --replay FILE | --pcsc [READER] [--json]`: reads a Chinese transit card from a
 * card image, a recorded transcript (docs/REPLAY.md formats) or a PC/SC reader (a real card, or the phone in
 * vpcd's reader; docs/PCSC.md) as a reader would read the card itself, and prints what it holds; `--json`
 * prints exactly the documented shape (docs/TRANSIT.md "Reader JSON").
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { TapwalletError } from "../../core/errors.js";
import type { ContactlessCard, Link } from "../../nfc/link.js";
import { MemoryLink } from "../../nfc/memory.js";
import {
  type PcscSessionOptions,
  pcscCliOptions,
  sayOnStderr,
  withPcscCard,
} from "../../nfc/pcsc-session.js";
import { ImageCard, TranscriptCard, loadImageText } from "../../nfc/replay/index.js";
import { parseTranscriptText } from "../../nfc/transcript.js";
import { formatReading } from "../../transit/reader/format.js";
import { type ReadFailure, readTransitCard, readingJson } from "../../transit/reader/reader.js";

export interface ReadOptions {
  image?: string;
  replay?: string;
  /** `--pcsc [READER]`: true for the first reader, or a part of its name. */
  pcsc?: string | boolean;
  /** Seconds to wait for a card on the PC/SC reader (default 30; 0 = for ever). */
  timeout?: string;
  json?: boolean;
}

async function text(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new TapwalletError(
      "read_unreadable",
      `无法读取文件 ${file}（${why}）`,
      `cannot read file ${file} (${why})`,
    );
  }
}

async function cardFrom(o: ReadOptions): Promise<ContactlessCard> {
  if ([o.image, o.replay, o.pcsc].filter((s) => s !== undefined).length !== 1)
    throw new TapwalletError(
      "read_usage",
      "请给出 --image 文件、--replay 文件或 --pcsc [读卡器] 之一",
      "give one of --image FILE, --replay FILE or --pcsc [READER]",
    );
  if (o.image !== undefined) {
    const image = loadImageText(await text(o.image));
    if (!image.ok)
      throw new TapwalletError(
        "read_bad_image",
        `卡片镜像 ${o.image} 格式不对：${image.error}`,
        `card image ${o.image} is not valid: ${image.error}`,
      );
    return new ImageCard(image.value);
  }
  const t = parseTranscriptText(await text(o.replay!));
  if (!t.ok)
    throw new TapwalletError(
      "read_bad_transcript",
      `交易记录 ${o.replay} 格式不对：${t.error}`,
      `transcript ${o.replay} is not valid: ${t.error}`,
    );
  return new TranscriptCard(t.value);
}

function failure(e: ReadFailure): TapwalletError {
  switch (e.reason) {
    case "no_system":
      return new TapwalletError(
        "read_no_transit_card",
        "没有找到可识别的交通卡应用",
        "no transit card application answered",
      );
    case "unreadable":
      return new TapwalletError(
        "read_unreadable_card",
        `卡片数据无法解析：${e.detail}`,
        `the card's data cannot be decoded: ${e.detail}`,
      );
    case "no_balance":
      return new TapwalletError(
        "read_no_balance",
        `无法读取余额：${e.detail}`,
        `cannot read the balance: ${e.detail}`,
      );
  }
}

async function readThrough(link: Link) {
  await link.fieldOn();
  const r = await readTransitCard(link);
  await link.fieldOff();
  return r;
}

/** Reads the card and returns the text to print. `pcscSession` adds to the PC/SC session's options (tests). */
export async function readCommand(
  o: ReadOptions,
  pcscSession: Partial<PcscSessionOptions> = {},
): Promise<string> {
  const r =
    o.pcsc !== undefined && o.image === undefined && o.replay === undefined
      ? await withPcscCard(
          { ...pcscCliOptions(o.pcsc, o.timeout, sayOnStderr), ...pcscSession },
          ({ link }) => readThrough(link),
        )
      : await readThrough(new MemoryLink(await cardFrom(o)));
  if (!r.ok) throw failure(r.error);
  return o.json ? JSON.stringify(readingJson(r.value)) : formatReading(r.value).join("\n");
}

export function register(program: Command): void {
  program
    .command("read")
    .description(
      "读交通卡（卡片镜像、交易记录回放或 PC/SC 读卡器） / read a transit card from a card image, a replayed transcript or a PC/SC reader",
    )
    .option("--image <file>", "卡片镜像 JSON / card image JSON")
    .option("--replay <file>", "APDU 交易记录 JSON / APDU transcript JSON")
    .option(
      "--pcsc [reader]",
      "PC/SC 读卡器（名称的一部分，默认第一个）/ a PC/SC reader (part of its name; default: the first)",
    )
    .option(
      "--timeout <seconds>",
      "等待卡片的秒数（0 为一直等待）/ seconds to wait for a card (0: for ever)",
      "30",
    )
    .option("--json", "以 JSON 输出 / print JSON")
    .action(async (o: ReadOptions) => {
      process.stdout.write(`${await readCommand(o)}\n`);
    });
}
