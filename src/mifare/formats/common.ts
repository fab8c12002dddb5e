/**
 * What every dump format shares: errors and warnings in zh-CN and English, and the assembly of a card from
 * the blocks a file holds: identity from the file's header or block 0 (BCC checked), card type from SAK/ATQA
 * (the file's size only when they say nothing), size checks.
 */
import { type Bytes, equal, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import { type Identity, bcc, buildBlock0, identityOfBlock0 } from "../block0.js";
import {
  type CardMemory,
  type MifareCard,
  blockKnown,
  factoryTrailer,
  typeFromSakAtqa,
  unknownBlockCount,
} from "../card.js";
import { BLOCK_SIZE, blockCount, isTrailer, typeLabel, typeOfBlockCount } from "../geometry.js";

export type DumpFormat = "json" | "bin" | "eml" | "mct" | "nfc";
export const DUMP_FORMATS: readonly DumpFormat[] = ["json", "bin", "eml", "mct", "nfc"];

export interface Notice {
  code: string;
  zh: string;
  en: string;
}

export interface DumpError extends Notice {
  /** 1-based line of a text file where the problem is, when there is one. */
  line?: number;
}

export interface ImportedDump {
  format: DumpFormat;
  card: MifareCard;
  warnings: Notice[];
}

export interface ExportedDump {
  bytes: Bytes;
  warnings: Notice[];
}

/** No MIFARE Classic dump comes near this; anything larger is refused before parsing. */
export const MAX_DUMP_BYTES = 1 << 20;
/** The most blocks a MIFARE Classic card has (4K). */
export const MAX_BLOCKS = 256;

export const dumpError = (code: string, zh: string, en: string, line?: number): DumpError =>
  line === undefined ? { code, zh, en } : { code, zh, en, line };

export const oversized = (what: string, whatZh: string): DumpError =>
  dumpError(
    "oversized",
    `文件过大：${whatZh}超过 MIFARE Classic 4K 的容量`,
    `file too large: ${what} beyond a MIFARE Classic 4K`,
  );

/** Blocks as read from a file, before the card type is known. */
export interface RawBlocks {
  /** count × 16 bytes. */
  data: Uint8Array;
  known: Uint8Array;
  count: number;
}

export function rawBlocks(count: number): RawBlocks {
  return { data: new Uint8Array(count * BLOCK_SIZE), known: new Uint8Array(count * BLOCK_SIZE), count };
}

/** `assemble` for formats whose blocks are all there and known (raw, .eml, proxmark3 JSON): `data` holds them in order. */
export function assembleWhole(
  format: DumpFormat,
  data: Bytes,
  header: Identity | null,
): Result<ImportedDump, DumpError> {
  const raw = rawBlocks(data.length / BLOCK_SIZE);
  raw.data.set(data);
  raw.known.fill(1);
  return assemble(format, raw, header);
}

export const noBlocks = (): DumpError => dumpError("empty", "文件中没有块数据", "the file holds no block");

/** A card's memory, 16 bytes a block. */
export function blocksOf(data: Bytes): Bytes[] {
  return Array.from({ length: data.length / BLOCK_SIZE }, (_, b) =>
    data.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE),
  );
}

/**
 * Builds the card from a file's blocks. `header` is the identity a format stores beside the blocks (pm3
 * JSON, Flipper); without one it comes from block 0. `padMissing`: blocks the file lacks for the card's type
 * are unknown (MCT leaves out sectors it could not read) instead of an error.
 */
export function assemble(
  format: DumpFormat,
  raw: RawBlocks,
  header: Identity | null,
  options: { padMissing?: boolean; warnings?: Notice[] } = {},
): Result<ImportedDump, DumpError> {
  const warnings = options.warnings ?? [];
  const b0Known = raw.count > 0 && blockKnown({ data: raw.data, known: raw.known }, 0);
  const b0 = raw.data.subarray(0, BLOCK_SIZE);
  let id = header;
  if (!id) {
    if (!b0Known)
      return err(
        dumpError("no_uid", "文件缺少第 0 块，无法得知卡号", "block 0 is missing: the UID is unknown"),
      );
    id = identityOfBlock0(b0);
    if (!id) {
      return err(
        (b0[6]! & 0xc0) === 0
          ? badBcc(b0.subarray(0, 4), b0[4]!)
          : dumpError(
              "bad_block0",
              "第 0 块格式无法识别（不是 4 字节或 7 字节卡号的布局）",
              "block 0 is not a 4- or 7-byte UID layout",
            ),
      );
    }
  } else if (b0Known) {
    if (!equal(b0.subarray(0, id.uid.length), id.uid))
      return err(
        dumpError(
          "uid_mismatch",
          `文件头的卡号 ${toHex(id.uid)} 与第 0 块不一致`,
          `the UID in the header (${toHex(id.uid)}) does not match block 0`,
        ),
      );
    if (id.uid.length === 4 && bcc(b0.subarray(0, 4)) !== b0[4])
      return err(badBcc(b0.subarray(0, 4), b0[4]!));
  }
  const type = typeFromSakAtqa(id.sak, id.atqa) ?? typeOfBlockCount(raw.count);
  if (!type)
    return err(
      dumpError(
        "unknown_type",
        `无法判断卡片类型：SAK ${hex2(id.sak)} 与 ATQA ${toHex(id.atqa)} 都不是 MIFARE Classic，且 ${raw.count} 块不是标准容量`,
        `cannot tell the card type: neither SAK ${hex2(id.sak)} nor ATQA ${toHex(id.atqa)} says, and ${raw.count} blocks is no standard size`,
      ),
    );
  const needed = blockCount(type);
  if (raw.count < needed && !options.padMissing)
    return err(
      dumpError(
        "truncated",
        `文件不完整：只有 ${raw.count} 块，而 ${typeLabel(type)} 卡（SAK ${hex2(id.sak)}）有 ${needed} 块`,
        `truncated file: ${raw.count} blocks, but a ${typeLabel(type)} card (SAK ${hex2(id.sak)}) has ${needed}`,
      ),
    );
  if (raw.count > needed)
    warnings.push({
      code: "extra_blocks",
      zh: `文件有 ${raw.count} 块，按 SAK ${hex2(id.sak)} 为 ${typeLabel(type)} 卡（${needed} 块），多余部分已忽略`,
      en: `the file has ${raw.count} blocks; by SAK ${hex2(id.sak)} the card is a ${typeLabel(type)} (${needed} blocks): the rest is ignored`,
    });
  const memory: CardMemory = {
    data: new Uint8Array(needed * BLOCK_SIZE),
    known: new Uint8Array(needed * BLOCK_SIZE),
  };
  const n = Math.min(needed, raw.count) * BLOCK_SIZE;
  memory.data.set(raw.data.subarray(0, n));
  memory.known.set(raw.known.subarray(0, n));
  return ok({
    format,
    card: { uid: id.uid.slice(), atqa: id.atqa.slice(), sak: id.sak, type, memory },
    warnings,
  });
}

function badBcc(uid: Bytes, stored: number): DumpError {
  return dumpError(
    "bad_bcc",
    `第 0 块的 BCC 校验错误：卡号 ${toHex(uid)} 的 BCC 应为 ${hex2(bcc(uid))}，文件中为 ${hex2(stored)}`,
    `bad BCC in block 0: UID ${toHex(uid)} needs BCC ${hex2(bcc(uid))}, the file has ${hex2(stored)}`,
  );
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, "0");

/**
 * The card's memory with every unknown byte filled in, for formats that cannot mark bytes unknown (raw,
 * .eml, proxmark3 JSON): data 00, keys FF…FF, access bits FF0780 69 (what proxmark3 writes for unread keys).
 * A UID-only card has no memory to write in `format`.
 */
export function filledMemory(
  card: MifareCard,
  format: DumpFormat,
): Result<{ data: Bytes; warnings: Notice[] }, DumpError> {
  if (!card.memory) return err(uidOnlyUnsupported(format));
  const m = withIdentityInBlock0(card);
  const data = m.data.slice();
  const factory = factoryTrailer();
  for (let i = 0; i < data.length; i++) {
    if (m.known[i] === 1) continue;
    const block = Math.floor(i / BLOCK_SIZE);
    data[i] = isTrailer(block) ? factory[i % BLOCK_SIZE]! : 0;
  }
  const unknown = unknownBlockCount(m);
  const warnings: Notice[] = [];
  if (unknown.trailers + unknown.data > 0)
    warnings.push({
      code: "unknown_filled",
      zh: `此格式无法标记未知数据：${unknown.data} 个数据块、${unknown.trailers} 个扇区尾块中的未知字节已填为默认值（数据 00，密钥 FFFFFFFFFFFF，访问位 FF078069）`,
      en: `this format cannot mark unknown bytes: those in ${unknown.data} data blocks and ${unknown.trailers} trailers were written as defaults (data 00, keys FFFFFFFFFFFF, access bits FF078069)`,
    });
  return ok({ data, warnings });
}

/**
 * The memory with the identity's bytes of block 0 (UID, BCC, SAK, ATQA) filled in where block 0 is not
 * known: formats without a header keep the UID only there.
 */
export function withIdentityInBlock0(card: MifareCard): CardMemory {
  const m = card.memory!;
  if (blockKnown(m, 0)) return m;
  const data = m.data.slice();
  const known = m.known.slice();
  const b0 = buildBlock0(card);
  const n = card.uid.length === 4 ? 8 : 10;
  for (let i = 0; i < n; i++) {
    if (known[i] === 1) continue;
    data[i] = b0[i]!;
    known[i] = 1;
  }
  return { data, known };
}

export function uidOnlyUnsupported(format: DumpFormat): DumpError {
  return dumpError(
    "uid_only",
    `${format} 格式只能保存完整的 MIFARE Classic 卡，不能保存仅卡号（UID）的卡；请用 nfc 格式`,
    `the ${format} format holds whole MIFARE Classic cards, not a UID-only card; use nfc`,
  );
}

export function textOf(bytes: Bytes): string {
  const s = new TextDecoder("utf-8").decode(bytes);
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

export const utf8 = (s: string): Bytes => new TextEncoder().encode(s);
