/**
 * `tapwallet door`: door cards (门禁卡).
 *   door inspect FILE [--json]            what a dump holds and whether the phone may emulate it
 *   door convert IN --to FORMAT -o OUT    between proxmark3 JSON, raw .bin/.mfd, .eml, MCT and Flipper .nfc
 *   door add FILE / door open             a door card on the virtual phone, a door reader tapping it (phone.ts)
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { toHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import { decodeAccessBits } from "../../mifare/access.js";
import { trailerParts } from "../../mifare/card.js";
import { checkEmulatable, refusalText } from "../../mifare/emulatable.js";
import {
  type DumpError,
  type DumpFormat,
  FLIPPER_VERSIONS,
  type FlipperVersion,
  type ImportedDump,
  type Notice,
  exportDump,
  formatFromName,
  importDump,
  unknownFormat,
} from "../../mifare/formats/index.js";
import { sectorCount, typeLabel } from "../../mifare/geometry.js";
import { registerDoorPhoneCommands } from "./phone.js";

/** The `inspect --json` document (shape fixed by issue 5). */
export interface InspectJson {
  format: string;
  type: "mini" | "1k" | "4k";
  uid: string;
  sak: string;
  /** Most significant byte first. */
  atqa: string;
  sectors: { index: number; keyA: string | null; keyB: string | null; accessBitsValid: boolean }[];
  emulatable: boolean;
  reasons: string[];
}

const fail = (e: DumpError, file: string): TapwalletError =>
  new TapwalletError(
    e.code,
    `${file}：${e.zh}`,
    `${file}: ${e.en}`,
    e.line === undefined ? undefined : { line: e.line },
  );

function parseFormat(name: string): DumpFormat {
  const f = formatFromName(name);
  if (!f) {
    const e = unknownFormat(name);
    throw new TapwalletError(e.code, e.zh, e.en);
  }
  return f;
}

function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TapwalletError(
      "file_unreadable",
      `无法读取文件 ${path}${code === "ENOENT" ? "：文件不存在" : ""}`,
      `cannot read ${path}${code === "ENOENT" ? ": no such file" : ""}`,
    );
  }
}

/** Loads a dump file; a bad file throws a TapwalletError naming what is wrong. */
export function loadDump(path: string, format?: DumpFormat): ImportedDump {
  const r = importDump(readInput(path), format ? { format } : { fileName: path });
  if (!r.ok) throw fail(r.error, path);
  return r.value;
}

export function inspectDump(dump: ImportedDump): InspectJson {
  const { card } = dump;
  const verdict = checkEmulatable(card);
  const m = card.memory;
  const sectors = m
    ? Array.from({ length: sectorCount(card.type) }, (_, index) => {
        const t = trailerParts(m, index);
        return {
          index,
          keyA: t.keyA ? toHex(t.keyA) : null,
          keyB: t.keyB ? toHex(t.keyB) : null,
          accessBitsValid: t.access !== null && decodeAccessBits(t.access) !== null,
        };
      })
    : [];
  return {
    format: dump.format,
    type: card.type,
    uid: toHex(card.uid),
    sak: toHex(Uint8Array.of(card.sak)),
    atqa: toHex(card.atqa),
    sectors,
    emulatable: verdict.emulatable,
    reasons: verdict.reasons.map(refusalText),
  };
}

/** The human-readable report of `door inspect`. */
function inspectText(dump: ImportedDump, j: InspectJson): string {
  const lines = [
    `格式 / format: ${j.format}`,
    `类型 / type: MIFARE Classic ${typeLabel(j.type)}${dump.card.memory ? "" : "（仅卡号 / UID only）"}`,
    `卡号 / UID: ${j.uid}   SAK: ${j.sak}   ATQA: ${j.atqa}`,
  ];
  if (j.sectors.length > 0) {
    lines.push("扇区 / sector  密钥A / key A    密钥B / key B    访问位 / access bits");
    for (const s of j.sectors)
      lines.push(
        `${String(s.index).padStart(6)}        ${(s.keyA ?? "?").padEnd(16)} ${(s.keyB ?? "?").padEnd(16)} ${s.accessBitsValid ? "有效 / valid" : "无效或未知 / invalid or unknown"}`,
      );
  }
  lines.push(j.emulatable ? "可以模拟 / emulatable: yes" : "不能模拟 / emulatable: no");
  for (const r of j.reasons) lines.push(`  - ${r}`);
  return lines.join("\n") + "\n";
}

function printWarnings(warnings: Notice[]): void {
  for (const w of warnings) process.stderr.write(`警告 / warning: ${w.zh} / ${w.en}\n`);
}

/** `door convert`: returns the warnings of the import and of the export. */
export function convertDump(
  input: string,
  to: DumpFormat,
  output: string,
  options: { from?: DumpFormat; nfcVersion?: FlipperVersion } = {},
): Notice[] {
  const dump = loadDump(input, options.from);
  const r = exportDump(dump.card, to, options.nfcVersion ? { nfcVersion: options.nfcVersion } : {});
  if (!r.ok) throw fail(r.error, output);
  try {
    writeFileSync(output, r.value.bytes);
  } catch {
    throw new TapwalletError("file_unwritable", `无法写入文件 ${output}`, `cannot write ${output}`);
  }
  return [...dump.warnings, ...r.value.warnings];
}

export function register(program: Command): void {
  const door = program.command("door").description("门禁卡 / door cards (MIFARE Classic)");

  door
    .command("inspect")
    .description("查看转储文件并检查能否模拟 / inspect a dump and check whether it can be emulated")
    .argument("<file>", "转储文件 / dump file (.json .bin .mfd .eml .mct .nfc)")
    .option("--json", "输出 JSON / print JSON")
    .option(
      "--format <format>",
      "文件格式（默认按扩展名或内容判断）/ file format (default: by extension or content)",
    )
    .action((file: string, opts: { json?: boolean; format?: string }) => {
      const dump = loadDump(file, opts.format ? parseFormat(opts.format) : undefined);
      const j = inspectDump(dump);
      printWarnings(dump.warnings);
      process.stdout.write(opts.json ? JSON.stringify(j) + "\n" : inspectText(dump, j));
    });

  door
    .command("convert")
    .description("转换转储格式 / convert a dump to another format")
    .argument("<in>", "输入文件 / input file")
    .requiredOption("--to <format>", "目标格式 / target format: json | bin | mfd | eml | mct | nfc")
    .requiredOption("-o, --output <file>", "输出文件 / output file")
    .option(
      "--from <format>",
      "输入格式（默认按扩展名或内容判断）/ input format (default: by extension or content)",
    )
    .option("--nfc-version <n>", "Flipper 文件版本 / Flipper file version: 2 | 3 | 4", "4")
    .action((input: string, opts: { to: string; output: string; from?: string; nfcVersion: string }) => {
      const version = Number(opts.nfcVersion) as FlipperVersion;
      if (!FLIPPER_VERSIONS.includes(version))
        throw new TapwalletError(
          "bad_option",
          `Flipper 文件版本应为 2、3 或 4，而不是 ${opts.nfcVersion}`,
          `the Flipper version is 2, 3 or 4, not ${opts.nfcVersion}`,
        );
      const warnings = convertDump(input, parseFormat(opts.to), opts.output, {
        ...(opts.from ? { from: parseFormat(opts.from) } : {}),
        nfcVersion: version,
      });
      printWarnings(warnings);
      process.stdout.write(`已写入 / written: ${opts.output}\n`);
    });

  registerDoorPhoneCommands(door);
}
