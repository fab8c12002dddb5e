/**
 * .eml: one block per line as 32 hex digits (proxmark3 `hf mf esave`/`eload`, ChameleonMini GUI, MIFARE
 * Classic Tool export). Lines starting with `#` and blank lines are skipped. UID, SAK, ATQA from block 0.
 */
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { MifareCard } from "../card.js";
import { BLOCK_SIZE } from "../geometry.js";
import {
  type DumpError,
  type ExportedDump,
  type ImportedDump,
  MAX_BLOCKS,
  assemble,
  dumpError,
  filledMemory,
  oversized,
  rawBlocks,
  textOf,
  uidOnlyUnsupported,
  utf8,
} from "./common.js";

export function parseEml(bytes: Bytes): Result<ImportedDump, DumpError> {
  const lines = textOf(bytes).split(/\r?\n/);
  const blocks: Bytes[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!/^[0-9A-Fa-f]{32}$/.test(line))
      return err(
        dumpError(
          "bad_line",
          `第 ${i + 1} 行不是 32 位十六进制的块数据`,
          `line ${i + 1} is not a block of 32 hex digits`,
          i + 1,
        ),
      );
    if (blocks.length === MAX_BLOCKS)
      return err(oversized(`more than ${MAX_BLOCKS} blocks`, `超过 ${MAX_BLOCKS} 块`));
    blocks.push(fromHex(line));
  }
  if (blocks.length === 0) return err(dumpError("empty", "文件中没有块数据", "the file holds no block"));
  const raw = rawBlocks(blocks.length);
  blocks.forEach((b, i) => raw.data.set(b, i * BLOCK_SIZE));
  raw.known.fill(1);
  return assemble("eml", raw, null);
}

export function writeEml(card: MifareCard): Result<ExportedDump, DumpError> {
  if (!card.memory) return err(uidOnlyUnsupported("eml"));
  const { data, warnings } = filledMemory(card);
  let text = "";
  for (let b = 0; b < data.length / BLOCK_SIZE; b++)
    text += toHex(data.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE)) + "\n";
  return ok({ bytes: utf8(text), warnings });
}
