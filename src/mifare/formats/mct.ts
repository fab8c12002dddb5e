/**
 * MIFARE Classic Tool dumps (ikarus23/MifareClassicTool Common.isValidDump, MCReader NO_KEY / NO_DATA):
 * `+Sector: N` (0–39), then its 4 (16 from sector 32) blocks as 32 characters each. `-` marks what was not
 * read: a whole block (32 `-`) or a key in a trailer (12 `-`); here any byte may be `--`. A line starting
 * `*` after a header stands for a sector that was not read. Sectors may be missing; none may repeat.
 * UID, SAK and ATQA come from block 0.
 */
import { type Bytes, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { MifareCard } from "../card.js";
import { BLOCK_SIZE, blocksInSector, firstBlockOfSector, sectorCount } from "../geometry.js";
import {
  type DumpError,
  type ExportedDump,
  type ImportedDump,
  MAX_BLOCKS,
  assemble,
  dumpError,
  rawBlocks,
  textOf,
  uidOnlyUnsupported,
  utf8,
  withIdentityInBlock0,
} from "./common.js";

const MAX_SECTOR = 39;

export function parseMct(bytes: Bytes): Result<ImportedDump, DumpError> {
  const lines = textOf(bytes).split(/\r?\n/);
  const raw = rawBlocks(MAX_BLOCKS);
  const seen = new Set<number>();
  let lastBlock = -1;
  let i = 0;
  const next = () => {
    while (i < lines.length && lines[i]!.trim() === "") i++;
    return i < lines.length ? lines[i]!.trim() : null;
  };
  if (next() === null) return err(dumpError("empty", "文件为空", "the file is empty"));
  for (let line = next(); line !== null; line = next()) {
    const m = /^\+Sector: *(\d{1,2})$/.exec(line);
    if (!m)
      return err(
        dumpError(
          "bad_line",
          `第 ${i + 1} 行应为 "+Sector: N"`,
          `line ${i + 1} should be "+Sector: N"`,
          i + 1,
        ),
      );
    const sector = Number(m[1]);
    if (sector > MAX_SECTOR)
      return err(
        dumpError(
          "bad_sector",
          `第 ${i + 1} 行：扇区 ${sector} 超出 0–39`,
          `line ${i + 1}: sector ${sector} is not in 0–39`,
          i + 1,
        ),
      );
    if (seen.has(sector))
      return err(
        dumpError(
          "duplicate_sector",
          `第 ${i + 1} 行：扇区 ${sector} 重复`,
          `line ${i + 1}: sector ${sector} appears twice`,
          i + 1,
        ),
      );
    seen.add(sector);
    i++;
    const n = blocksInSector(sector);
    const first = firstBlockOfSector(sector);
    lastBlock = Math.max(lastBlock, first + n - 1);
    if (next()?.startsWith("*")) {
      i++;
      continue;
    }
    for (let k = 0; k < n; k++) {
      const text = next();
      if (text === null || !/^[0-9A-Fa-f-]{32}$/.test(text))
        return err(
          dumpError(
            "bad_line",
            `第 ${i + 1} 行：扇区 ${sector} 应有 ${n} 行 32 个字符的块数据`,
            `line ${i + 1}: sector ${sector} needs ${n} lines of 32 characters`,
            i + 1,
          ),
        );
      for (let j = 0; j < 16; j++) {
        const pair = text.slice(2 * j, 2 * j + 2);
        if (pair === "--") continue;
        if (pair.includes("-"))
          return err(
            dumpError(
              "bad_line",
              `第 ${i + 1} 行：字节 "${pair}" 不完整`,
              `line ${i + 1}: byte "${pair}" is half unknown`,
              i + 1,
            ),
          );
        raw.data[(first + k) * BLOCK_SIZE + j] = parseInt(pair, 16);
        raw.known[(first + k) * BLOCK_SIZE + j] = 1;
      }
      i++;
    }
  }
  raw.count = lastBlock + 1;
  return assemble("mct", raw, null, { padMissing: true });
}

export function writeMct(card: MifareCard): Result<ExportedDump, DumpError> {
  if (!card.memory) return err(uidOnlyUnsupported("mct"));
  const m = withIdentityInBlock0(card);
  let text = "";
  for (let s = 0; s < sectorCount(card.type); s++) {
    const first = firstBlockOfSector(s);
    const n = blocksInSector(s);
    const from = first * BLOCK_SIZE;
    if (m.known.subarray(from, from + n * BLOCK_SIZE).every((k) => k !== 1)) continue;
    text += `+Sector: ${s}\n`;
    for (let b = first; b < first + n; b++) {
      for (let j = b * BLOCK_SIZE; j < (b + 1) * BLOCK_SIZE; j++)
        text += m.known[j] === 1 ? toHex(m.data.subarray(j, j + 1)) : "--";
      text += "\n";
    }
  }
  return ok({ bytes: utf8(text), warnings: [] });
}
