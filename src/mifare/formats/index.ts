/**
 * Dump formats: detection, import and export. Every format reads into the same `MifareCard`, so any format
 * converts to any other; formats that cannot mark unknown bytes (raw, .eml, proxmark3 JSON) fill them in and
 * say so in a warning.
 */
import type { Bytes } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import type { MifareCard } from "../card.js";
import { parseBin, writeBin } from "./bin.js";
import {
  DUMP_FORMATS,
  type DumpError,
  type DumpFormat,
  type ExportedDump,
  type ImportedDump,
  MAX_DUMP_BYTES,
  dumpError,
  oversized,
  textOf,
} from "./common.js";
import { parseEml, writeEml } from "./eml.js";
import { type FlipperVersion, parseFlipper, writeFlipper } from "./flipper.js";
import { parseMct, writeMct } from "./mct.js";
import { parsePm3Json, writePm3Json } from "./pm3-json.js";

export * from "./common.js";
export { FLIPPER_VERSIONS, type FlipperVersion } from "./flipper.js";

const EXTENSIONS: Record<string, DumpFormat> = {
  json: "json",
  bin: "bin",
  mfd: "bin",
  dump: "bin",
  raw: "bin",
  eml: "eml",
  mct: "mct",
  nfc: "nfc",
};

/** A format from a name the user typed (`--to mfd`) or a file extension; null if unknown. */
export function formatFromName(name: string): DumpFormat | null {
  const ext = name.toLowerCase().replace(/^.*\./, "");
  return EXTENSIONS[ext] ?? null;
}

/** The format of a file: from its extension when known, otherwise from its content. */
export function detectFormat(bytes: Bytes, fileName?: string): DumpFormat {
  const byName = fileName && fileName.includes(".") ? formatFromName(fileName) : null;
  if (byName) return byName;
  const head = textOf(bytes.subarray(0, 4096)).trimStart();
  if (head.startsWith("{")) return "json";
  if (head.startsWith("Filetype: Flipper NFC device")) return "nfc";
  if (head.startsWith("+Sector:")) return "mct";
  const firstLine = head.split(/\r?\n/).find((l) => l.trim() !== "" && !l.startsWith("#"));
  if (firstLine && /^[0-9A-Fa-f]{32}$/.test(firstLine.trim())) return "eml";
  return "bin";
}

export function importDump(
  bytes: Bytes,
  options: { fileName?: string; format?: DumpFormat } = {},
): Result<ImportedDump, DumpError> {
  if (bytes.length > MAX_DUMP_BYTES) return err(oversized(`${bytes.length} bytes`, `${bytes.length} 字节`));
  const format = options.format ?? detectFormat(bytes, options.fileName);
  switch (format) {
    case "json":
      return parsePm3Json(bytes);
    case "bin":
      return parseBin(bytes);
    case "eml":
      return parseEml(bytes);
    case "mct":
      return parseMct(bytes);
    case "nfc":
      return parseFlipper(bytes);
  }
}

export function exportDump(
  card: MifareCard,
  format: DumpFormat,
  options: { nfcVersion?: FlipperVersion } = {},
): Result<ExportedDump, DumpError> {
  switch (format) {
    case "json":
      return writePm3Json(card);
    case "bin":
      return writeBin(card);
    case "eml":
      return writeEml(card);
    case "mct":
      return writeMct(card);
    case "nfc":
      return writeFlipper(card, options.nfcVersion);
  }
}

export function unknownFormat(name: string): DumpError {
  return dumpError(
    "unknown_format",
    `未知的格式 “${name}”（可用：${DUMP_FORMATS.join("、")}，mfd 同 bin）`,
    `unknown format "${name}" (one of ${DUMP_FORMATS.join(", ")}; mfd is bin)`,
  );
}
