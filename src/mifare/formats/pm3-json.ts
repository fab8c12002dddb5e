/**
 * proxmark3 JSON dumps (client/src/fileutils.c prepareJSON / loadFileJSON):
 * `{"Created","FileType":"mfc v2","Card":{"UID","ATQA","SAK"},"blocks":{"0":"<32 hex>",…},"SectorKeys":{…}}`.
 * The loader accepts FileType `mfcard`, `mfc v2` and `mfc v3` (v3 adds Card.ATS and Card.SIGNATURE). ATQA is
 * in air order (LSB first: "0400" = 0x0004). SectorKeys are derived from the trailers and not read back.
 */
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import { type AccessConditions, decodeAccessBits, describeCondition } from "../access.js";
import type { Identity } from "../block0.js";
import type { MifareCard } from "../card.js";
import { BLOCK_SIZE, sectorCount, trailerOfSector } from "../geometry.js";
import {
  type DumpError,
  type ExportedDump,
  type ImportedDump,
  MAX_BLOCKS,
  assembleWhole,
  blocksOf,
  dumpError,
  filledMemory,
  noBlocks,
  oversized,
  textOf,
  utf8,
} from "./common.js";

const FILE_TYPES = ["mfcard", "mfc v2", "mfc v3"];

const notPm3 = (why: string, whyZh: string) =>
  dumpError(
    "bad_json",
    `不是 proxmark3 的 MIFARE Classic JSON 转储：${whyZh}`,
    `not a proxmark3 MIFARE Classic JSON dump: ${why}`,
  );

const isHexOf = (v: unknown, chars: number[]): v is string =>
  typeof v === "string" && chars.includes(v.length) && /^[0-9A-Fa-f]*$/.test(v);

export function parsePm3Json(bytes: Bytes): Result<ImportedDump, DumpError> {
  let doc: unknown;
  try {
    doc = JSON.parse(textOf(bytes));
  } catch {
    return err(notPm3("the file is not valid JSON", "文件不是有效的 JSON"));
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    return err(notPm3("no JSON object", "缺少 JSON 对象"));
  const d = doc as Record<string, unknown>;
  if (typeof d.FileType !== "string" || !FILE_TYPES.includes(d.FileType.toLowerCase()))
    return err(
      notPm3(`FileType is ${JSON.stringify(d.FileType)}`, `FileType 为 ${JSON.stringify(d.FileType)}`),
    );

  let header: Identity | null = null;
  if (d.Card !== undefined) {
    const c = d.Card as Record<string, unknown> | null;
    if (typeof c !== "object" || c === null) return err(notPm3("Card is not an object", "Card 不是对象"));
    if (!isHexOf(c.UID, [8, 14]))
      return err(notPm3("Card.UID is not 4 or 7 hex bytes", "Card.UID 不是 4 或 7 字节的十六进制"));
    if (!isHexOf(c.ATQA, [4]))
      return err(notPm3("Card.ATQA is not 2 hex bytes", "Card.ATQA 不是 2 字节的十六进制"));
    if (!isHexOf(c.SAK, [2]))
      return err(notPm3("Card.SAK is not 1 hex byte", "Card.SAK 不是 1 字节的十六进制"));
    const atqaAir = fromHex(c.ATQA);
    header = { uid: fromHex(c.UID), atqa: Uint8Array.of(atqaAir[1]!, atqaAir[0]!), sak: parseInt(c.SAK, 16) };
  }

  const blocks = d.blocks;
  if (typeof blocks !== "object" || blocks === null || Array.isArray(blocks))
    return err(notPm3('no "blocks" object', '缺少 "blocks" 对象'));
  const entries = Object.entries(blocks as Record<string, unknown>);
  if (entries.length === 0) return err(noBlocks());
  if (entries.length > MAX_BLOCKS) return err(oversized(`${entries.length} blocks`, `${entries.length} 块`));
  const data = new Uint8Array(entries.length * BLOCK_SIZE);
  const seen = new Set<number>();
  for (const [k, v] of entries) {
    const n = /^(0|[1-9]\d{0,2})$/.test(k) ? Number(k) : -1;
    if (n < 0 || n >= entries.length)
      return err(
        notPm3(
          `block key "${k.slice(0, 10)}" is not a block number in 0..${entries.length - 1}`,
          `块编号 "${k.slice(0, 10)}" 无效`,
        ),
      );
    if (!isHexOf(v, [32]))
      return err(dumpError("bad_block", `第 ${n} 块不是 32 位十六进制`, `block ${n} is not 32 hex digits`));
    data.set(fromHex(v), n * BLOCK_SIZE);
    seen.add(n);
  }
  // With n distinct keys all below n, every block 0..n-1 is present.
  if (seen.size !== entries.length) return err(notPm3("a block appears twice", "有重复的块"));
  return assembleWhole("json", data, header);
}

export function writePm3Json(card: MifareCard): Result<ExportedDump, DumpError> {
  const f = filledMemory(card, "json");
  if (!f.ok) return f;
  const all = blocksOf(f.value.data);
  const blocks = Object.fromEntries(all.map((b, i) => [String(i), toHex(b)]));
  const sectorKeys: Record<string, unknown> = {};
  for (let s = 0; s < sectorCount(card.type); s++) {
    const t = all[trailerOfSector(s)]!;
    const ac = decodeAccessBits(t.subarray(6, 9));
    sectorKeys[String(s)] = {
      KeyA: toHex(t.subarray(0, 6)),
      KeyB: toHex(t.subarray(10, 16)),
      AccessConditions: toHex(t.subarray(6, 10)),
      AccessConditionsText: accessText(ac, t[9]!),
    };
  }
  const doc = {
    Created: "tapwallet",
    FileType: "mfc v2",
    Card: {
      UID: toHex(card.uid),
      ATQA: toHex(Uint8Array.of(card.atqa[1]!, card.atqa[0]!)),
      SAK: toHex(Uint8Array.of(card.sak)),
    },
    blocks,
    SectorKeys: sectorKeys,
  };
  return ok({ bytes: utf8(JSON.stringify(doc, null, 2) + "\n"), warnings: f.value.warnings });
}

function accessText(ac: AccessConditions | null, gpb: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let g = 0; g < 4; g++) out[`block${g}`] = ac ? describeCondition(g, ac[g]!) : "invalid access bits";
  out.UserData = toHex(Uint8Array.of(gpb));
  return out;
}
