/**
 * What a terminal command's `--pcsc [READER]` does around one tap (or, for a gate, one tap after another):
 * connect to pcscd (a clear zh/en message naming the setup script when PC/SC is missing), pick the reader
 * (by a part of its name; none = the first), say what happens — readers attached and removed, cards put on
 * and taken off, with their ATR — wait for a card up to a timeout, hand the terminal a `PcscLink`, and close
 * everything afterwards so that the process can exit.
 */
import { TapwalletError } from "../core/errors.js";
import type { Bytes } from "../core/bytes.js";
import { CardGoneError } from "./link.js";
import { Pcsc, type PcscLink, type PcscLinkOptions, spacedHex } from "./pcsc.js";
import type { NativeFactory } from "./pcsc-native.js";
import { parseContactlessAtr } from "./pcsc-atr.js";

export interface PcscSessionOptions {
  /** The `--pcsc` value: a part of the reader's name, or true/undefined for the first reader. */
  reader?: string | boolean;
  /** How long to wait for a reader (default 5 s) and for a card (default 30 s). */
  readerTimeoutMs?: number;
  cardTimeoutMs?: number;
  /** Per-APDU timeout and the rest of the link's options. */
  link?: PcscLinkOptions;
  /** Progress, zh-CN and English (a CLI writes it to stderr). */
  say?: (zh: string, en: string) => void;
  /** Tests: a stand-in for @pokusew/pcsclite. */
  factory?: NativeFactory;
  skipServiceCheck?: boolean;
}

export interface PcscCard {
  reader: string;
  atr: Bytes;
  link: PcscLink;
}

/** What the ATR says the card is, for the progress line. */
export function describeAtr(atr: Bytes): { zh: string; en: string } {
  const info = parseContactlessAtr(atr);
  if (info.kind === "storage")
    return info.variant
      ? {
          zh: `MIFARE Classic ${info.variant.toUpperCase()}（存储卡）`,
          en: `MIFARE Classic ${info.variant.toUpperCase()} (storage card)`,
        }
      : { zh: "存储卡", en: "storage card" };
  if (info.kind === "iso14443-4") return { zh: "ISO 14443-4 卡", en: "ISO 14443-4 card" };
  return { zh: "接触式或其他卡", en: "contact or other card" };
}

async function open(o: PcscSessionOptions): Promise<{ pcsc: Pcsc; reader: string }> {
  const say = o.say ?? (() => {});
  const pcsc = await Pcsc.open({
    ...(o.factory ? { factory: o.factory } : {}),
    ...(o.skipServiceCheck ? { skipServiceCheck: true } : {}),
  });
  pcsc.on("reader-attached", (r) => say(`读卡器已连接：${r}`, `reader attached: ${r}`));
  pcsc.on("reader-removed", (r) => say(`读卡器已拔出：${r}`, `reader removed: ${r}`));
  pcsc.on("card-inserted", ({ reader, atr }) => {
    const what = describeAtr(atr);
    say(
      `卡片已放上（${reader}）：${what.zh}，ATR ${spacedHex(atr)}`,
      `card in ${reader}: ${what.en}, ATR ${spacedHex(atr)}`,
    );
  });
  pcsc.on("card-removed", ({ reader }) => say(`卡片已离开：${reader}`, `card removed from ${reader}`));
  try {
    const name = typeof o.reader === "string" && o.reader !== "" ? o.reader : undefined;
    const reader = await pcsc.waitForReader(name, o.readerTimeoutMs ?? 5000);
    return { pcsc, reader };
  } catch (e) {
    await pcsc.close();
    throw e;
  }
}

const duration = (ms: number) =>
  ms < 1000
    ? { zh: `${ms} 毫秒`, en: `${ms} ms` }
    : { zh: `${Math.round(ms / 1000)} 秒`, en: `${Math.round(ms / 1000)} s` };

function noCard(reader: string, ms: number): TapwalletError {
  const d = duration(ms);
  return new TapwalletError(
    "pcsc_no_card",
    `读卡器「${reader}」上 ${d.zh}内没有卡片`,
    `no card on "${reader}" within ${d.en}`,
  );
}

async function waitForCard(
  pcsc: Pcsc,
  reader: string,
  o: PcscSessionOptions,
  signal?: AbortSignal,
): Promise<Bytes> {
  const ms = o.cardTimeoutMs ?? 30_000;
  if (!pcsc.cardPresent(reader))
    o.say?.(
      ms === 0
        ? `请将卡片或手机放到读卡器「${reader}」上`
        : `请将卡片或手机放到读卡器「${reader}」上（等待 ${duration(ms).zh}）`,
      ms === 0
        ? `put a card or the phone on "${reader}"`
        : `put a card or the phone on "${reader}" (waiting ${duration(ms).en})`,
    );
  try {
    return await pcsc.waitForCard(reader, ms === 0 ? null : ms, signal);
  } catch (e) {
    throw e instanceof CardGoneError ? noCard(reader, ms) : e;
  }
}

/** One tap: waits for a card, runs `fn` with a link onto it (field still off), then closes PC/SC. */
export async function withPcscCard<T>(o: PcscSessionOptions, fn: (card: PcscCard) => Promise<T>): Promise<T> {
  const { pcsc, reader } = await open(o);
  const link = pcsc.link(reader, o.link);
  try {
    const atr = await waitForCard(pcsc, reader, o);
    return await fn({ reader, atr, link });
  } finally {
    await link.fieldOff().catch(() => undefined);
    await pcsc.close();
  }
}

/**
 * Tap after tap, as a gate serves a queue: `fn` runs once for each card put on the reader, the next card is
 * awaited once this one has left. Ends when `fn` returns false, when `signal` aborts (Ctrl-C), or when no
 * card comes within the card timeout (0: wait for ever). Resolves with the number of taps.
 */
export async function eachPcscCard(
  o: PcscSessionOptions & { signal?: AbortSignal },
  fn: (card: PcscCard) => Promise<boolean | void>,
): Promise<number> {
  const { pcsc, reader } = await open(o);
  const link = pcsc.link(reader, o.link);
  const stopped = () => o.signal?.aborted === true;
  let taps = 0;
  try {
    while (!stopped()) {
      const atr = await waitForCard(pcsc, reader, o, o.signal).catch((e: unknown) => {
        if (stopped()) return null;
        throw e;
      });
      if (atr === null) break;
      taps++;
      const more = await fn({ reader, atr, link });
      await link.fieldOff().catch(() => undefined);
      if (more === false || stopped()) break;
      o.say?.("请移开卡片", "take the card away");
      const left = await pcsc.waitForCardRemoved(reader, null, o.signal).then(
        () => true,
        () => false,
      );
      if (!left) break;
    }
  } finally {
    await link.fieldOff().catch(() => undefined);
    await pcsc.close();
  }
  return taps;
}

/**
 * The session options of a terminal command's `--pcsc [READER]` and `--timeout SECONDS` (how long to wait for
 * a card; 0 = for ever), with progress lines for stderr. A bad timeout is a `TapwalletError`.
 */
export function pcscCliOptions(
  reader: string | boolean,
  timeoutSeconds: string | undefined,
  say: (zh: string, en: string) => void,
): PcscSessionOptions {
  const seconds = timeoutSeconds === undefined ? 30 : Number(timeoutSeconds);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new TapwalletError(
      "bad_option",
      `--timeout 应为秒数（0 表示一直等待）：${timeoutSeconds}`,
      `--timeout is a number of seconds (0: wait for ever): ${timeoutSeconds}`,
    );
  return { reader, cardTimeoutMs: Math.round(seconds * 1000), say };
}

/** Progress lines as the CLI prints them on stderr: "zh / en". */
export const sayOnStderr = (zh: string, en: string): void => {
  process.stderr.write(`${zh} / ${en}\n`);
};
