/**
 * The trace decoder: names each command (ISO 7816-4, EMV/qPBOC, the PBOC e-purse of JR/T 0025 as transit
 * cards use it, GlobalPlatform, PC/SC pseudo-APDUs), gives its parameters, the status word's meaning in zh
 * and en, and the data as fields or an indented TLV tree with tag names. It reads any bytes without throwing.
 *
 * What a trace shows never reveals a PAN, a key or a PIN: tags 5A/57/9F6B keep only the PAN's first 6 and
 * last 4 digits (track-2 data after the separator is hidden), track 1 (56) is hidden, LOAD KEY / PUT KEY /
 * VERIFY / STORE DATA values are replaced by their length, and raw hex is only shown for data that is not
 * one of those.
 */
import { type Bytes, readAscii, readUintBE, toHex } from "../core/bytes.js";
import { type CommandApdu, parseCommand } from "../core/apdu.js";
import { type DolEntry, parseDol, splitDolData } from "../core/dol.js";
import { formatYuan } from "../core/money.js";
import { describeSw } from "../core/sw.js";
import type { Bilingual } from "../core/text.js";
import { tagFormat, tagName } from "../core/tags.js";
import { type Tlv, findTag, parseTlv, tagHex } from "../core/tlv.js";
import type { TranscriptEntry } from "./transcript.js";

export type Lang = "zh" | "en";

export interface DecodedField {
  label: Bilingual;
  value: string;
  /** When the value is words rather than data ("6 bytes hidden"): both languages (`value` is the English). */
  text?: Bilingual;
}

export interface DecodedTlv {
  tag: string;
  name?: string;
  length: number;
  /** Hex of a primitive value, or its masked form. */
  value?: string;
  /** A reading of the value: text, digits, a DOL list. */
  text?: string;
  masked?: boolean;
  children?: DecodedTlv[];
}

export interface DecodedCommand {
  name: Bilingual;
  /** The command hex, with secret data replaced (see the module comment). */
  hex: string;
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  fields: DecodedField[];
  tlv?: DecodedTlv[];
  /** Expected response length Ne. */
  ne?: number;
  /** Why the bytes are not a valid APDU. */
  error?: string;
}

export interface DecodedResponse {
  /** Status word as 4 hex digits; absent when the response is shorter than 2 bytes. */
  sw?: string;
  meaning?: Bilingual;
  /** Data length, without the SW. */
  length: number;
  /** Data hex when it is shown raw (not for TLV, fields or secrets). */
  hex?: string;
  fields?: DecodedField[];
  tlv?: DecodedTlv[];
}

export interface DecodedExchange {
  index: number;
  command: DecodedCommand;
  response: DecodedResponse;
  us?: number;
}

const L = (en: string, zh: string): Bilingual => ({ en, zh });
const F = (label: Bilingual, value: string): DecodedField => ({ label, value });
/** A field whose value is words, not data: `value` holds the English, `text` both languages. */
const W = (label: Bilingual, text: Bilingual): DecodedField => ({ label, value: text.en, text });
/** Secret data (a key, a PIN, personalisation): only its length is shown. */
const hiddenBytes = (label: Bilingual, n: number): DecodedField =>
  W(label, L(`${n} bytes hidden`, `已隐藏 ${n} 字节`));
const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");

// ----------------------------------------------------------------------------------------------- masking

/** Shows only the first 6 and last 4 digits of a PAN. */
export function maskPan(digits: string): string {
  if (digits.length <= 10) return "*".repeat(digits.length);
  return digits.slice(0, 6) + "*".repeat(digits.length - 10) + digits.slice(-4);
}

/** Track 2 equivalent data: masked PAN, separator, everything after it hidden. */
function maskTrack2(value: Bytes): string {
  const h = toHex(value).replace(/F$/, "");
  const sep = h.indexOf("D");
  if (sep < 0) return maskPan(h);
  return `${maskPan(h.slice(0, sep))}D${"*".repeat(h.length - sep - 1)}`;
}

/** Hides track-2-like digit runs (PAN D YYMM) in raw hex that did not decode as TLV. */
function maskRawHex(h: string): string {
  return h.replace(
    /(\d{12,19})D(\d{4})(\d*)/g,
    (_, pan: string, _e: string, rest: string) => `${maskPan(pan)}D${"*".repeat(4 + rest.length)}`,
  );
}

const SENSITIVE_TAGS = new Set([0x5a, 0x57, 0x9f6b, 0x56, 0x9f1f, 0x9f20]);

function maskedValue(tag: number, value: Bytes): string | undefined {
  if (tag === 0x5a) return maskPan(toHex(value).replace(/F+$/, ""));
  if (tag === 0x57 || tag === 0x9f6b) return maskTrack2(value);
  if (SENSITIVE_TAGS.has(tag)) return "*".repeat(value.length * 2);
  return undefined;
}

// ------------------------------------------------------------------------------------------------- TLV

const printable = (b: Bytes) => b.length > 0 && b.every((x) => x >= 0x20 && x < 0x7f);

function dolText(value: Bytes): string | undefined {
  const d = parseDol(value);
  if (!d.ok) return undefined;
  return d.value.map((e) => `${tagHex(e.tag)}(${e.length})`).join(" ");
}

const DOL_TAGS = new Set([0x9f38, 0x8c, 0x8d, 0x9f49, 0x9f4f, 0xdf4f]);

function decodeTlvTree(nodes: Tlv[]): DecodedTlv[] {
  return nodes.map((n) => {
    const out: DecodedTlv = { tag: tagHex(n.tag), length: n.value.length };
    const name = tagName(n.tag);
    if (name) out.name = name;
    if (n.children) {
      out.children = decodeTlvTree(n.children);
      return out;
    }
    const masked = maskedValue(n.tag, n.value);
    if (masked !== undefined) {
      out.value = masked;
      out.masked = true;
      return out;
    }
    out.value = toHex(n.value);
    const fmt = tagFormat(n.tag);
    if (DOL_TAGS.has(n.tag)) {
      const t = dolText(n.value);
      if (t) out.text = t;
    } else if ((fmt === "an" || fmt === "ans" || n.tag === 0x84 || n.tag === 0x4f) && printable(n.value))
      out.text = `"${readAscii(n.value)}"`;
    return out;
  });
}

/** A TLV tree when `data` is entirely well-formed TLV that looks intended (a known or constructed tag). */
function asTlv(data: Bytes): DecodedTlv[] | undefined {
  if (data.length < 2) return undefined;
  const r = parseTlv(data, { skipPadding: false });
  if (!r.ok || r.value.length === 0) return undefined;
  const plausible = r.value.every((n) => tagName(n.tag) !== undefined || n.children !== undefined);
  return plausible ? decodeTlvTree(r.value) : undefined;
}

function containsMasked(t: DecodedTlv[] | undefined): boolean {
  return !!t?.some((n) => n.masked || containsMasked(n.children));
}

// -------------------------------------------------------------------------------------------- commands

type ResponseKind =
  | "tlv"
  | "raw"
  | "balance"
  | "init-load"
  | "init-purchase"
  | "tac"
  | "tac-mac2"
  | "mac2-tac"
  | "init-update"
  | "secret";

interface CommandInfo {
  name: Bilingual;
  fields: DecodedField[];
  responseKind: ResponseKind;
  /** The command data must not be shown (keys, PINs, personalisation data). */
  secretData?: boolean;
  tlv?: DecodedTlv[];
}

const amount = (b: Bytes) => `¥${formatYuan(readUintBE(b))} (${toHex(b)})`;

function selectInfo(c: CommandApdu): CommandInfo {
  const occurrence = ["first or only", "last", "next", "previous"][c.p2 & 3]!;
  const fields: DecodedField[] = [];
  const d = c.data;
  const fid = d.length === 2 ? toHex(d) : undefined;
  switch (c.p1) {
    case 0x04:
      fields.push(F(L("by DF name", "按名称"), `${toHex(d)}${printable(d) ? ` "${readAscii(d)}"` : ""}`));
      fields.push(F(L("occurrence", "匹配"), occurrence));
      break;
    case 0x00:
      fields.push(
        F(
          L("by file identifier", "按文件标识"),
          d.length === 0 || fid === "3F00"
            ? "MF"
            : fid && d[0] === 0
              ? `${fid} (EF, SFI ${hex2(d[1]!)})`
              : toHex(d),
        ),
      );
      break;
    case 0x01:
      fields.push(F(L("child DF", "子 DF"), toHex(d)));
      break;
    case 0x02:
      fields.push(F(L("EF under the current DF", "当前 DF 下的 EF"), toHex(d)));
      break;
    case 0x03:
      fields.push(F(L("parent DF", "父 DF"), "-"));
      break;
    case 0x08:
    case 0x09: {
      const path = toHex(d).match(/.{4}/g)?.join("/") ?? toHex(d);
      fields.push(F(L(c.p1 === 0x08 ? "path from MF" : "path from current DF", "路径"), path));
      break;
    }
    default:
      fields.push(F(L("P1", "P1"), hex2(c.p1)));
  }
  const ret = ["FCI", "FCP", "FMD", "no data"][(c.p2 >> 2) & 3]!;
  if (ret !== "FCI") fields.push(F(L("answer", "返回"), ret));
  return { name: L("SELECT", "选择"), fields, responseKind: "tlv" };
}

function readRecordInfo(c: CommandApdu): CommandInfo {
  const sfi = c.p2 >> 3;
  const mode = c.p2 & 7;
  const fields = [
    F(L("file", "文件"), sfi === 0 ? "current EF" : `SFI ${hex2(sfi)}`),
    F(
      L("record", "记录"),
      mode === 4
        ? String(c.p1)
        : mode === 5
          ? `${c.p1} to last`
          : mode === 6
            ? `last to ${c.p1}`
            : `mode ${mode}, P1 ${c.p1}`,
    ),
  ];
  return { name: L("READ RECORD", "读记录"), fields, responseKind: "tlv" };
}

function readBinaryInfo(c: CommandApdu): CommandInfo {
  const bySfi = (c.p1 & 0x80) !== 0;
  const fields = bySfi
    ? [F(L("file", "文件"), `SFI ${hex2(c.p1 & 0x1f)}`), F(L("offset", "偏移"), String(c.p2))]
    : [F(L("file", "文件"), "current EF"), F(L("offset", "偏移"), String(((c.p1 & 0x7f) << 8) | c.p2))];
  return { name: L("READ BINARY", "读二进制"), fields, responseKind: "raw" };
}

function gpoInfo(c: CommandApdu, pdol: DolEntry[] | undefined): CommandInfo {
  const info: CommandInfo = {
    name: L("GET PROCESSING OPTIONS", "获取处理选项"),
    fields: [],
    responseKind: "tlv",
  };
  const t = parseTlv(c.data);
  const cmdTemplate = t.ok ? findTag(t.value, 0x83) : undefined;
  if (!cmdTemplate) {
    if (c.data.length) info.fields.push(F(L("data", "数据"), toHex(c.data)));
    return info;
  }
  const split = pdol ? splitDolData(pdol, cmdTemplate.value) : undefined;
  if (split?.ok) {
    for (const [tag, value] of split.value) {
      const tagLabel = `${tagHex(tag)} ${tagName(tag) ?? ""}`.trim();
      info.fields.push(F(L(tagLabel, tagLabel), toHex(value)));
    }
  } else {
    info.fields.push(F(L("PDOL data", "PDOL 数据"), toHex(cmdTemplate.value)));
    if (split && !split.ok) info.fields.push(F(L("note", "注"), split.error));
  }
  return info;
}

function generateAcInfo(c: CommandApdu): CommandInfo {
  const type = ["AAC", "TC", "ARQC", "RFU"][c.p1 >> 6]!;
  const fields = [F(L("cryptogram", "密文类型"), type)];
  if (c.p1 & 0x10) fields.push(F(L("CDA", "CDA"), "requested"));
  if (c.data.length) fields.push(F(L("CDOL data", "CDOL 数据"), toHex(c.data)));
  return { name: L("GENERATE AC", "生成应用密文"), fields, responseKind: "tlv" };
}

function ePurseInit(c: CommandApdu): CommandInfo {
  const names: Record<number, Bilingual> = {
    0x00: L("INITIALIZE FOR LOAD", "圈存初始化"),
    0x01: L("INITIALIZE FOR PURCHASE", "消费初始化"),
    0x03: L("INITIALIZE FOR CAPP PURCHASE", "复合消费初始化"),
    0x05: L("INITIALIZE FOR UNLOAD", "圈提初始化"),
  };
  const name = names[c.p1] ?? L(`INITIALIZE (P1 ${hex2(c.p1)})`, `初始化 (P1 ${hex2(c.p1)})`);
  const fields = [F(L("purse", "钱包"), c.p2 === 1 ? "ED (01)" : c.p2 === 2 ? "EP (02)" : hex2(c.p2))];
  if (c.data.length === 11) {
    fields.push(
      F(L("key index", "密钥索引"), hex2(c.data[0]!)),
      F(L("amount", "金额"), amount(c.data.subarray(1, 5))),
      F(L("terminal id", "终端编号"), toHex(c.data.subarray(5, 11))),
    );
  } else if (c.data.length) fields.push(F(L("data", "数据"), toHex(c.data)));
  return { name, fields, responseKind: c.p1 === 0x00 || c.p1 === 0x05 ? "init-load" : "init-purchase" };
}

function dateTimeFields(d: Bytes): DecodedField[] {
  return [F(L("date", "日期"), toHex(d.subarray(0, 4))), F(L("time", "时间"), toHex(d.subarray(4, 7)))];
}

function gpInitUpdate(c: CommandApdu): CommandInfo {
  return {
    name: L("INITIALIZE UPDATE (GlobalPlatform)", "初始化更新 (GP)"),
    fields: [
      F(L("key version", "密钥版本"), hex2(c.p1)),
      F(L("host challenge", "主机随机数"), toHex(c.data)),
    ],
    responseKind: "init-update",
  };
}

const PCSC_GET_DATA: Record<number, string> = { 0x00: "UID", 0x01: "ATS", 0x02: "SAK", 0x03: "ATQA" };

function commandInfo(c: CommandApdu, pdol: DolEntry[] | undefined): CommandInfo {
  const proprietary = (c.cla & 0x80) !== 0;
  const plain = (
    name: Bilingual,
    responseKind: ResponseKind = "tlv",
    fields: DecodedField[] = [],
  ): CommandInfo => ({
    name,
    fields,
    responseKind,
  });
  if (c.cla === 0xff) {
    switch (c.ins) {
      case 0xca:
        return plain(
          L(
            `GET DATA (reader: ${PCSC_GET_DATA[c.p1] ?? hex2(c.p1)})`,
            `读卡器取数据 (${PCSC_GET_DATA[c.p1] ?? hex2(c.p1)})`,
          ),
          "raw",
        );
      case 0x82:
        return {
          ...plain(L("LOAD KEY (reader)", "读卡器装载密钥"), "raw", [
            F(L("key slot", "密钥号"), hex2(c.p2)),
            hiddenBytes(L("key", "密钥"), c.data.length),
          ]),
          secretData: true,
        };
      case 0x86: {
        const d = c.data;
        const fields =
          d.length === 5
            ? [
                F(L("block", "块"), String((d[1]! << 8) | d[2]!)),
                F(L("key type", "密钥类型"), d[3] === 0x60 ? "A" : d[3] === 0x61 ? "B" : hex2(d[3]!)),
                F(L("key slot", "密钥号"), hex2(d[4]!)),
              ]
            : [];
        return plain(L("GENERAL AUTHENTICATE (reader, MIFARE)", "读卡器认证"), "raw", fields);
      }
      case 0xb0:
        return plain(L("READ BINARY (reader, block)", "读卡器读块"), "raw", [
          F(L("block", "块"), String((c.p1 << 8) | c.p2)),
        ]);
      case 0xd6:
        return plain(L("UPDATE BINARY (reader, block)", "读卡器写块"), "raw", [
          F(L("block", "块"), String((c.p1 << 8) | c.p2)),
        ]);
      default:
        return plain(L(`READER COMMAND (INS ${hex2(c.ins)})`, `读卡器命令 (INS ${hex2(c.ins)})`), "raw");
    }
  }
  switch (c.ins) {
    case 0xa4:
      return selectInfo(c);
    case 0xb2:
      return readRecordInfo(c);
    case 0xb0:
      return readBinaryInfo(c);
    case 0xc0:
      return plain(L("GET RESPONSE", "取响应"));
    case 0x84:
      return plain(L("GET CHALLENGE", "取随机数"), "raw");
    case 0x82:
      return proprietary
        ? plain(L("EXTERNAL AUTHENTICATE (GlobalPlatform)", "外部认证 (GP)"), "raw", [
            F(L("security level", "安全级别"), hex2(c.p1)),
            F(L("host cryptogram and MAC", "主机密文和 MAC"), toHex(c.data)),
          ])
        : plain(L("EXTERNAL AUTHENTICATE", "外部认证"), "raw", [
            F(L("key", "密钥"), hex2(c.p2)),
            F(L("cryptogram", "密文"), toHex(c.data)),
          ]);
    case 0x88:
      return plain(L("INTERNAL AUTHENTICATE", "内部认证"), "tlv", [F(L("data", "数据"), toHex(c.data))]);
    case 0x20:
      return {
        ...plain(L("VERIFY", "校验 PIN"), "raw", [
          c.data.length
            ? hiddenBytes(L("PIN", "PIN"), c.data.length)
            : W(L("PIN", "PIN"), L("retry counter query", "查询剩余尝试次数")),
        ]),
        secretData: true,
      };
    case 0xca:
    case 0xcb:
      return plain(L("GET DATA", "取数据"), "tlv", [
        F(
          L("tag", "标签"),
          `${hex2(c.p1)}${hex2(c.p2)}${tagName((c.p1 << 8) | c.p2) ? ` ${tagName((c.p1 << 8) | c.p2)}` : ""}`,
        ),
      ]);
  }
  if (proprietary) {
    switch (c.ins) {
      case 0xa8:
        return gpoInfo(c, pdol);
      case 0xae:
        return generateAcInfo(c);
      case 0x5c:
        return plain(L("GET BALANCE", "读余额"), "balance", [
          F(L("P1", "P1"), hex2(c.p1)),
          F(L("purse", "钱包"), c.p2 === 1 ? "ED (01)" : c.p2 === 2 ? "EP (02)" : hex2(c.p2)),
        ]);
      case 0x50:
        return c.data.length === 8 && c.p2 === 0 ? gpInitUpdate(c) : ePurseInit(c);
      case 0x52:
        return plain(L("CREDIT FOR LOAD", "圈存"), "tac", [
          ...dateTimeFields(c.data),
          F(L("MAC2", "MAC2"), toHex(c.data.subarray(7, 11))),
        ]);
      case 0x54: {
        const unload = c.p1 === 0x03;
        const fields = unload
          ? [...dateTimeFields(c.data), F(L("MAC2", "MAC2"), toHex(c.data.subarray(7, 11)))]
          : [
              F(L("terminal transaction number", "终端交易序号"), toHex(c.data.subarray(0, 4))),
              ...dateTimeFields(c.data.subarray(4)),
              F(L("MAC1", "MAC1"), toHex(c.data.subarray(11, 15))),
            ];
        return plain(
          unload ? L("DEBIT FOR UNLOAD", "圈提") : L("DEBIT FOR PURCHASE / CAPP PURCHASE", "消费 / 复合消费"),
          unload ? "raw" : "tac-mac2",
          fields,
        );
      }
      case 0xdc:
        return plain(L("UPDATE CAPP DATA CACHE", "更新复合应用数据缓存"), "raw", [
          F(L("record / tag", "记录 / 标识"), hex2(c.p1)),
          F(L("file", "文件"), `SFI ${hex2(c.p2 >> 3)}`),
          F(L("record data", "记录数据"), toHex(c.data)),
        ]);
      case 0x5a:
        return plain(L("GET TRANSACTION PROVE", "取交易认证"), "mac2-tac", [
          F(L("transaction type", "交易类型"), hex2(c.p2)),
          F(L("ATC", "交易序号"), toHex(c.data)),
        ]);
      case 0xe6:
        return plain(L("INSTALL (GlobalPlatform)", "安装 (GP)"), "raw", [
          F(L("for", "类型"), installFor(c.p1)),
        ]);
      case 0xe4:
        return plain(L("DELETE (GlobalPlatform)", "删除 (GP)"), "raw", [F(L("data", "数据"), toHex(c.data))]);
      case 0xe2:
        return {
          ...plain(L("STORE DATA (GlobalPlatform)", "存储数据 (GP)"), "raw", [
            F(L("block", "块号"), String(c.p2)),
            F(L("last block", "最后一块"), c.p1 & 0x80 ? "yes" : "no"),
            F(L("DGIs", "DGI"), dgiSummary(c.data)),
          ]),
          secretData: true,
        };
      case 0xf2:
        return plain(L("GET STATUS (GlobalPlatform)", "取状态 (GP)"), "tlv", [
          F(L("of", "对象"), getStatusOf(c.p1)),
        ]);
      case 0xf0:
        return plain(L("SET STATUS (GlobalPlatform)", "设置状态 (GP)"), "raw", [
          F(L("of", "对象"), getStatusOf(c.p1)),
          F(L("state", "状态"), hex2(c.p2)),
          F(L("AID", "AID"), toHex(c.data)),
        ]);
      case 0xd8:
        return {
          ...plain(L("PUT KEY (GlobalPlatform)", "写密钥 (GP)"), "raw", [
            F(L("key version", "密钥版本"), hex2(c.p1)),
            hiddenBytes(L("key data", "密钥数据"), c.data.length),
          ]),
          secretData: true,
        };
    }
  }
  const name = L(
    `UNKNOWN (CLA ${hex2(c.cla)} INS ${hex2(c.ins)})`,
    `未知命令 (CLA ${hex2(c.cla)} INS ${hex2(c.ins)})`,
  );
  return plain(name, "tlv", c.data.length ? [F(L("data", "数据"), toHex(c.data))] : []);
}

function installFor(p1: number): string {
  const parts = [
    [0x02, "load"],
    [0x04, "install"],
    [0x08, "make selectable"],
    [0x10, "extradition"],
    [0x20, "personalization"],
    [0x40, "registry update"],
  ] as const;
  const names = parts.filter(([bit]) => p1 & bit).map(([, n]) => n);
  return names.length ? names.join(" + ") : hex2(p1);
}

function getStatusOf(p1: number): string {
  return (
    {
      0x80: "issuer security domain",
      0x40: "applications and security domains",
      0x20: "load files",
      0x10: "load files and modules",
    }[p1] ?? hex2(p1)
  );
}

/** DGI numbers and lengths of STORE DATA content (values are personalisation secrets and stay hidden). */
function dgiSummary(d: Bytes): string {
  const out: string[] = [];
  let i = 0;
  while (i + 3 <= d.length) {
    const dgi = toHex(d.subarray(i, i + 2));
    let len = d[i + 2]!;
    let head = 3;
    if (len === 0xff) {
      if (i + 5 > d.length) break;
      len = (d[i + 3]! << 8) | d[i + 4]!;
      head = 5;
    }
    out.push(`${dgi}(${len})`);
    i += head + len;
  }
  if (i !== d.length) out.push(`${d.length} bytes`);
  return out.join(" ") || "-";
}

// ------------------------------------------------------------------------------------------- responses

function responseFields(kind: ResponseKind, d: Bytes): DecodedField[] | undefined {
  const part = (label: Bilingual, from: number, to: number) => F(label, toHex(d.subarray(from, to)));
  switch (kind) {
    case "balance":
      return d.length === 4 ? [F(L("balance", "余额"), amount(d))] : undefined;
    case "init-load":
      return d.length === 16
        ? [
            F(L("balance", "余额"), amount(d.subarray(0, 4))),
            part(L("online ATC", "联机交易序号"), 4, 6),
            part(L("key version", "密钥版本"), 6, 7),
            part(L("algorithm id", "算法标识"), 7, 8),
            part(L("random", "伪随机数"), 8, 12),
            part(L("MAC1", "MAC1"), 12, 16),
          ]
        : undefined;
    case "init-purchase":
      return d.length === 15
        ? [
            F(L("balance", "余额"), amount(d.subarray(0, 4))),
            part(L("offline ATC", "脱机交易序号"), 4, 6),
            F(L("overdraft limit", "透支限额"), amount(d.subarray(6, 9))),
            part(L("key version", "密钥版本"), 9, 10),
            part(L("algorithm id", "算法标识"), 10, 11),
            part(L("random", "伪随机数"), 11, 15),
          ]
        : undefined;
    case "tac":
      return d.length === 4 ? [part(L("TAC", "TAC"), 0, 4)] : undefined;
    case "tac-mac2":
      return d.length === 8 ? [part(L("TAC", "TAC"), 0, 4), part(L("MAC2", "MAC2"), 4, 8)] : undefined;
    case "mac2-tac":
      return d.length === 8 ? [part(L("MAC2", "MAC2"), 0, 4), part(L("TAC", "TAC"), 4, 8)] : undefined;
    case "init-update": {
      if (d.length < 28) return undefined;
      const scp = d[11]!;
      const fields = [
        part(L("key diversification data", "密钥分散数据"), 0, 10),
        part(L("key version", "密钥版本"), 10, 11),
        F(L("secure channel protocol", "安全通道协议"), `SCP${hex2(scp)}`),
      ];
      if (scp === 0x02)
        fields.push(
          part(L("sequence counter", "序列计数器"), 12, 14),
          part(L("card challenge", "卡片随机数"), 14, 20),
        );
      else fields.push(part(L("card challenge", "卡片随机数"), 12, 20));
      fields.push(part(L("card cryptogram", "卡片密文"), 20, 28));
      if (d.length > 28) fields.push(part(L("sequence counter", "序列计数器"), 28, d.length));
      return fields;
    }
    default:
      return undefined;
  }
}

function decodeResponse(bytes: Bytes, kind: ResponseKind): DecodedResponse {
  if (bytes.length < 2) return { length: bytes.length, ...(bytes.length ? { hex: toHex(bytes) } : {}) };
  const sw = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
  const data = bytes.subarray(0, bytes.length - 2);
  const out: DecodedResponse = {
    sw: toHex(bytes.subarray(bytes.length - 2)),
    meaning: describeSw(sw),
    length: data.length,
  };
  if (data.length === 0) return out;
  const fields = responseFields(kind, data);
  if (fields) out.fields = fields;
  else if (kind === "secret") out.fields = [hiddenBytes(L("data", "数据"), data.length)];
  else {
    const tlv = asTlv(data);
    if (tlv) out.tlv = tlv;
    else out.hex = maskRawHex(toHex(data));
  }
  return out;
}

// --------------------------------------------------------------------------------------------- decoder

/** LOAD KEY (reader), VERIFY, PUT KEY, STORE DATA: their data is never shown, even in a malformed command. */
const carriesSecret = (cla: number, ins: number): boolean =>
  (cla === 0xff && ins === 0x82) || ins === 0x20 || ins === 0xd8 || ins === 0xe2;

/**
 * Decodes a trace in order, keeping what later commands need: the selected application's PDOL (to split
 * GPO data) and the command a GET RESPONSE continues.
 */
export class TraceDecoder {
  private pdol: DolEntry[] | undefined;
  private pendingKind: ResponseKind | undefined;
  private index = 0;

  decode(command: Bytes, response: Bytes, us?: number): DecodedExchange {
    const parsed = parseCommand(command);
    let cmd: DecodedCommand;
    let kind: ResponseKind;
    if (!parsed.ok) {
      const head = (i: number) => command[i] ?? 0;
      cmd = {
        name: L("MALFORMED APDU", "格式错误的 APDU"),
        hex:
          command.length > 4 && carriesSecret(head(0), head(1))
            ? `${toHex(command.subarray(0, 4))}…`
            : maskRawHex(toHex(command)),
        cla: head(0),
        ins: head(1),
        p1: head(2),
        p2: head(3),
        fields: [],
        error: parsed.error.reason,
      };
      kind = "tlv";
    } else {
      const c = parsed.value;
      const info = commandInfo(c, this.pdol);
      kind = info.responseKind;
      if (c.ins === 0xc0 && c.cla !== 0xff && this.pendingKind) kind = this.pendingKind;
      const dataTlv = !info.secretData && c.data.length ? asTlv(c.data) : undefined;
      cmd = {
        name: info.name,
        hex:
          info.secretData || containsMasked(dataTlv)
            ? `${toHex(command.subarray(0, 4))}…`
            : maskRawHex(toHex(command)),
        cla: c.cla,
        ins: c.ins,
        p1: c.p1,
        p2: c.p2,
        fields: info.fields,
        ...(c.ne !== undefined ? { ne: c.ne } : {}),
      };
      if (dataTlv && c.ins !== 0xa8 && c.ins !== 0xa4) cmd.tlv = dataTlv;
      if (c.ins === 0xa4 && c.p1 === 0x04) this.pdol = undefined;
    }
    const rsp = decodeResponse(response, kind);
    this.afterResponse(parsed.ok ? parsed.value : undefined, response, kind);
    return { index: this.index++, command: cmd, response: rsp, ...(us !== undefined ? { us } : {}) };
  }

  private afterResponse(c: CommandApdu | undefined, response: Bytes, kind: ResponseKind): void {
    const sw1 = response.length >= 2 ? response[response.length - 2] : undefined;
    this.pendingKind = sw1 === 0x61 ? kind : undefined;
    if (!c || response.length < 2 || (c.ins !== 0xa4 && c.ins !== 0xc0)) return;
    const tlv = parseTlv(response.subarray(0, response.length - 2));
    const pdol = tlv.ok ? findTag(tlv.value, 0x9f38) : undefined;
    if (pdol) {
      const d = parseDol(pdol.value);
      this.pdol = d.ok ? d.value : undefined;
    }
  }
}

export function decodeTranscript(apdus: readonly TranscriptEntry[]): DecodedExchange[] {
  const d = new TraceDecoder();
  return apdus.map((e) => d.decode(e.command, e.response, e.us));
}

// ------------------------------------------------------------------------------------------------ text

const label = (l: Bilingual, lang: Lang) => (lang === "zh" ? `${l.zh}` : l.en);
const fieldValue = (f: DecodedField, lang: Lang) =>
  f.text ? (lang === "zh" ? `${f.text.zh} (${f.text.en})` : f.text.en) : f.value;
const name = (l: Bilingual, lang: Lang) => (lang === "zh" ? `${l.zh} ${l.en}` : l.en);

function tlvLines(nodes: DecodedTlv[], indent: string, out: string[]): void {
  for (const n of nodes) {
    const head = `${indent}${n.tag}${n.name ? ` ${n.name}` : ""}`;
    if (n.children) {
      out.push(head);
      tlvLines(n.children, `${indent}  `, out);
    } else out.push(`${head}: ${n.value ?? ""}${n.text ? ` ${n.text}` : ""}`);
  }
}

/** The decoded exchanges as indented text. */
export function formatDecoded(exchanges: readonly DecodedExchange[], lang: Lang = "zh"): string {
  const out: string[] = [];
  for (const ex of exchanges) {
    const c = ex.command;
    out.push(`[${ex.index + 1}] >> ${name(c.name, lang)}`);
    out.push(`      ${c.hex}`);
    for (const f of c.fields) out.push(`      ${label(f.label, lang)}: ${fieldValue(f, lang)}`);
    if (c.ne !== undefined) out.push(`      Le: ${c.ne}`);
    if (c.error) out.push(`      ${lang === "zh" ? "错误" : "error"}: ${c.error}`);
    if (c.tlv) tlvLines(c.tlv, "      ", out);
    const r = ex.response;
    const time = ex.us !== undefined ? ` · ${(ex.us / 1000).toFixed(2)} ms` : "";
    const meaning = r.meaning
      ? lang === "zh"
        ? `${r.meaning.zh} (${r.meaning.en})`
        : r.meaning.en
      : lang === "zh"
        ? "无状态字"
        : "no status word";
    out.push(`    << ${r.sw ?? "----"} ${meaning} · ${r.length} ${lang === "zh" ? "字节" : "bytes"}${time}`);
    if (r.hex) out.push(`      ${r.hex}`);
    for (const f of r.fields ?? []) out.push(`      ${label(f.label, lang)}: ${fieldValue(f, lang)}`);
    if (r.tlv) tlvLines(r.tlv, "      ", out);
  }
  return out.join("\n");
}
