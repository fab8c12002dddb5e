/**
 * .eml: one block per line as 32 hex digits (proxmark3 `hf mf esave`/`eload`, ChameleonMini GUI, MIFARE
 * Classic Tool export). Lines starting with `#` and blank lines are skipped. UID, SAK, ATQA from block 0.
 */
import { type Bytes, concat, fromHex, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { MifareCard } from "../card.js";
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
  if (blocks.length === 0) return err(noBlocks());
  return assembleWhole("eml", concat(...blocks), null);
}

export function writeEml(card: MifareCard): Result<ExportedDump, DumpError> {
  const f = filledMemory(card, "eml");
  if (!f.ok) return f;
  const text = blocksOf(f.value.data)
    .map((b) => toHex(b) + "\n")
    .join("");
  return ok({ bytes: utf8(text), warnings: f.value.warnings });
}
