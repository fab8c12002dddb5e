/**
 * Raw dumps (.bin, .mfd, .dump): the blocks concatenated, 16 bytes each, nothing else (proxmark3
 * `hf mf dump`, libnfc nfc-mfclassic, mfoc, MIFARE Classic Tool export, ChameleonMini). UID, SAK and ATQA
 * come from block 0.
 */
import type { Bytes } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { MifareCard } from "../card.js";
import { BLOCK_SIZE } from "../geometry.js";
import {
  type DumpError,
  type ExportedDump,
  type ImportedDump,
  MAX_BLOCKS,
  assembleWhole,
  dumpError,
  filledMemory,
  oversized,
} from "./common.js";

export function parseBin(bytes: Bytes): Result<ImportedDump, DumpError> {
  if (bytes.length === 0) return err(dumpError("empty", "文件为空", "the file is empty"));
  if (bytes.length > MAX_BLOCKS * BLOCK_SIZE)
    return err(oversized(`${bytes.length} bytes`, `${bytes.length} 字节`));
  if (bytes.length % BLOCK_SIZE !== 0)
    return err(
      dumpError(
        "truncated",
        `文件长度 ${bytes.length} 字节不是 16 字节块的整数倍（文件被截断？）`,
        `${bytes.length} bytes is not a whole number of 16-byte blocks (truncated file?)`,
      ),
    );
  return assembleWhole("bin", bytes, null);
}

export function writeBin(card: MifareCard): Result<ExportedDump, DumpError> {
  const f = filledMemory(card, "bin");
  return f.ok ? ok({ bytes: f.value.data, warnings: f.value.warnings }) : f;
}
