/**
 * Flipper Zero `.nfc` files, versions 2 to 4 (flipperdevices documentation/file_formats/NfcFileFormats.md;
 * lib/nfc/protocols/mf_classic/mf_classic.c and iso14443_3a.c load/save):
 *
 *   Filetype: Flipper NFC device / Version: N / Device type: Mifare Classic / UID: 01 A0 62 BD /
 *   ATQA: 00 04 / SAK: 08 / Mifare Classic type: 1K / Data format version: 2 / Block 0: 01 A0 … ?? …
 *
 * - ATQA is LSB first in version 2 ("04 00") and MSB first from version 3 ("00 04").
 * - `??` marks an unknown byte (data format version 2). Data format version 1 instead lists which keys are
 *   known in `Key A map:` / `Key B map:` (hex bit masks, bit i = sector i).
 * - A UID-only card is device type `UID` (versions 2–3) or `ISO14443-3A` (version 4). Other ISO 14443-3A
 *   based devices (ISO14443-4A, DESFire, Ultralight…) load as UID-only cards too, so that the emulatable
 *   check can name why they are refused; types without UID/ATQA/SAK are refused here.
 * - The card type comes from SAK/ATQA; the file's `Mifare Classic type` only raises a warning if it differs.
 */
import { type Bytes, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { Identity } from "../block0.js";
import { type MifareCard, typeFromSakAtqa, uidOnlyCard } from "../card.js";
import { BLOCK_SIZE, blockCount, trailerOfSector, typeLabel } from "../geometry.js";
import {
  type DumpError,
  type ExportedDump,
  type ImportedDump,
  MAX_BLOCKS,
  type Notice,
  assemble,
  dumpError,
  oversized,
  rawBlocks,
  textOf,
  utf8,
} from "./common.js";

export type FlipperVersion = 2 | 3 | 4;
export const FLIPPER_VERSIONS: readonly FlipperVersion[] = [2, 3, 4];
/** Versions after this one write ATQA most significant byte first (NFC_LSB_ATQA_FORMAT_VERSION). */
const LSB_ATQA_VERSION = 2;

const bad = (line: number, zh: string, en: string) =>
  dumpError("bad_line", `第 ${line} 行：${zh}`, `line ${line}: ${en}`, line);

/** Space-separated hex bytes, exactly `count` of them (any count when omitted). */
function hexBytes(value: string, count?: number): Bytes | null {
  const tokens = value.trim().split(/\s+/);
  if ((count !== undefined && tokens.length !== count) || !tokens.every((t) => /^[0-9A-Fa-f]{2}$/.test(t)))
    return null;
  return Uint8Array.from(tokens, (t) => parseInt(t, 16));
}

export function parseFlipper(bytes: Bytes): Result<ImportedDump, DumpError> {
  const lines = textOf(bytes).split(/\r?\n/);
  const fields = new Map<string, { value: string; line: number }>();
  const blockLines = new Map<number, { value: string; line: number }>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon < 0) return err(bad(i + 1, "应为“名称: 值”", 'expected "Key: value"'));
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const block = /^Block (\d{1,3})$/.exec(key);
    if (block) {
      const n = Number(block[1]);
      if (n >= MAX_BLOCKS) return err(oversized(`block ${n}`, `第 ${n} 块`));
      if (blockLines.has(n)) return err(bad(i + 1, `第 ${n} 块重复`, `block ${n} appears twice`));
      blockLines.set(n, { value, line: i + 1 });
    } else if (!fields.has(key)) fields.set(key, { value, line: i + 1 });
  }
  const field = (k: string) => fields.get(k);

  if (field("Filetype")?.value !== "Flipper NFC device")
    return err(
      dumpError(
        "bad_nfc",
        "不是 Flipper NFC 文件（缺少 “Filetype: Flipper NFC device”）",
        'not a Flipper NFC file (no "Filetype: Flipper NFC device")',
      ),
    );
  const version = Number(field("Version")?.value);
  if (!FLIPPER_VERSIONS.includes(version as FlipperVersion))
    return err(
      dumpError(
        "unsupported_version",
        `不支持的 Flipper 文件版本 ${field("Version")?.value ?? "（缺失）"}（支持 2–4）`,
        `unsupported Flipper file version ${field("Version")?.value ?? "(missing)"} (2–4 are supported)`,
      ),
    );
  const deviceType = field("Device type")?.value ?? "";

  const uidField = field("UID");
  const atqaField = field("ATQA");
  const sakField = field("SAK");
  if (!uidField || !atqaField || !sakField)
    return err(
      dumpError(
        "not_14443a",
        `设备类型 “${deviceType}” 不是 ISO 14443-A 卡（缺少 UID/ATQA/SAK）`,
        `device type "${deviceType}" is not an ISO 14443-A card (no UID/ATQA/SAK)`,
      ),
    );
  const uid = hexBytes(uidField.value);
  if (!uid || (uid.length !== 4 && uid.length !== 7))
    return err(bad(uidField.line, "UID 应为 4 或 7 个字节", "UID must be 4 or 7 bytes"));
  const atqaText = hexBytes(atqaField.value, 2);
  if (!atqaText) return err(bad(atqaField.line, "ATQA 应为 2 个字节", "ATQA must be 2 bytes"));
  const sak = hexBytes(sakField.value, 1);
  if (!sak) return err(bad(sakField.line, "SAK 应为 1 个字节", "SAK must be 1 byte"));
  const atqa = version > LSB_ATQA_VERSION ? atqaText : Uint8Array.of(atqaText[1]!, atqaText[0]!);
  const id: Identity = { uid, atqa, sak: sak[0]! };

  if (deviceType !== "Mifare Classic") {
    if (blockLines.size > 0)
      return err(
        dumpError(
          "bad_nfc",
          `设备类型 “${deviceType}” 不应含有块数据`,
          `device type "${deviceType}" should hold no blocks`,
        ),
      );
    return ok({ format: "nfc", card: uidOnlyCard(id), warnings: [] });
  }

  const warnings: Notice[] = [];
  const declared = field("Mifare Classic type")?.value;
  const derived = typeFromSakAtqa(id.sak, id.atqa);
  if (declared && derived && declared.toUpperCase() !== typeLabel(derived))
    warnings.push({
      code: "type_mismatch",
      zh: `文件标注为 ${declared}，但 SAK/ATQA 表明是 ${typeLabel(derived)}，以 SAK/ATQA 为准`,
      en: `the file says ${declared} but SAK/ATQA say ${typeLabel(derived)}; SAK/ATQA win`,
    });
  const dataFormat = field("Data format version")?.value ?? "2";
  if (dataFormat !== "1" && dataFormat !== "2")
    return err(
      dumpError(
        "unsupported_version",
        `不支持的数据格式版本 ${dataFormat}`,
        `unsupported data format version ${dataFormat}`,
      ),
    );

  if (blockLines.size === 0) return err(dumpError("empty", "文件中没有块数据", "the file holds no block"));
  const count = Math.max(...blockLines.keys()) + 1;
  const raw = rawBlocks(count);
  for (let b = 0; b < count; b++) {
    const entry = blockLines.get(b);
    if (!entry) return err(dumpError("truncated", `缺少第 ${b} 块`, `block ${b} is missing`));
    const tokens = entry.value.split(/\s+/);
    if (tokens.length !== 16 || !tokens.every((t) => /^([0-9A-Fa-f]{2}|\?\?)$/.test(t)))
      return err(bad(entry.line, "块数据应为 16 个字节（十六进制或 ??）", "a block is 16 bytes, hex or ??"));
    tokens.forEach((t, j) => {
      if (t === "??") return;
      raw.data[b * BLOCK_SIZE + j] = parseInt(t, 16);
      raw.known[b * BLOCK_SIZE + j] = 1;
    });
  }
  if (dataFormat === "1") {
    const maps = applyKeyMaps(raw, field("Key A map"), field("Key B map"));
    if (maps) return err(maps);
  }
  return assemble("nfc", raw, id, { warnings });
}

/** Data format 1: keys of sectors whose bit is clear in the key map are unknown. */
function applyKeyMaps(
  raw: ReturnType<typeof rawBlocks>,
  mapA: { value: string; line: number } | undefined,
  mapB: { value: string; line: number } | undefined,
): DumpError | null {
  for (const [map, from] of [
    [mapA, 0],
    [mapB, 10],
  ] as const) {
    if (!map) continue;
    if (!/^[0-9A-Fa-f]{1,16}$/.test(map.value))
      return bad(map.line, "密钥位图应为十六进制", "a key map is hex");
    const bits = BigInt(`0x${map.value}`);
    for (let s = 0; s < 40; s++) {
      const t = trailerOfSector(s);
      if (t >= raw.count || (bits >> BigInt(s)) & 1n) continue;
      raw.known.fill(0, t * BLOCK_SIZE + from, t * BLOCK_SIZE + from + 6);
      raw.data.fill(0, t * BLOCK_SIZE + from, t * BLOCK_SIZE + from + 6);
    }
  }
  return null;
}

const spaced = (b: Bytes) => toHex(b).replace(/(..)(?!$)/g, "$1 ");

export function writeFlipper(card: MifareCard, version: FlipperVersion = 4): Result<ExportedDump, DumpError> {
  const atqa = version > LSB_ATQA_VERSION ? card.atqa : Uint8Array.of(card.atqa[1]!, card.atqa[0]!);
  const m = card.memory;
  const deviceType = m ? "Mifare Classic" : version >= 4 ? "ISO14443-3A" : "UID";
  const out: string[] = ["Filetype: Flipper NFC device", `Version: ${version}`];
  if (version >= 4) {
    out.push(
      "# Device type can be ISO14443-3A, ISO14443-3B, ISO14443-4A, ISO14443-4B, ISO15693-3, FeliCa, NTAG/Ultralight, Mifare Classic, Mifare Plus, Mifare DESFire, SLIX, ST25TB, EMV",
      `Device type: ${deviceType}`,
      "# UID is common for all formats",
      `UID: ${spaced(card.uid)}`,
      "# ISO14443-3A specific data",
    );
  } else {
    out.push(
      "# Nfc device type can be UID, Mifare Ultralight, Mifare Classic",
      `Device type: ${deviceType}`,
      "# UID, ATQA and SAK are common for all formats",
      `UID: ${spaced(card.uid)}`,
    );
  }
  out.push(`ATQA: ${spaced(atqa)}`, `SAK: ${spaced(Uint8Array.of(card.sak))}`);
  if (m) {
    out.push(
      "# Mifare Classic specific data",
      `Mifare Classic type: ${typeLabel(card.type)}`,
      "Data format version: 2",
      "# Mifare Classic blocks, '??' means unknown data",
    );
    for (let b = 0; b < blockCount(card.type); b++) {
      const bytes: string[] = [];
      for (let j = b * BLOCK_SIZE; j < (b + 1) * BLOCK_SIZE; j++)
        bytes.push(m.known[j] === 1 ? toHex(m.data.subarray(j, j + 1)) : "??");
      out.push(`Block ${b}: ${bytes.join(" ")}`);
    }
  }
  return ok({ bytes: utf8(out.join("\n") + "\n"), warnings: [] });
}
