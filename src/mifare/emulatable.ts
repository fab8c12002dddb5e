/**
 * The emulatable check, Mi Pay's rule for door cards (门卡模拟): only a MIFARE Classic card "in the clear"
 * (every sector opens with a default key and can be read with it), or a UID-only card, may be copied to the
 * phone; a card that carries a payment, transit or stored-value application is refused. Every refusal names
 * its reason, and its sector where there is one, in zh-CN and English.
 *
 * Refused:
 * - SAK with bit 0x20 (ISO-DEP: CPU, DESFire, Plus SL3, bank or transit CPU cards), or any SAK that is not a
 *   MIFARE Classic one (08, 09, 18, and 88/98 as some cards store them);
 * - a UID that is not 4 or 7 bytes, a 4-byte UID whose block 0 BCC is wrong;
 * - per sector: access bits unknown or invalid, no default key usable (key A, or key B when the access bits
 *   do not make it readable), data blocks unknown or not readable with that key;
 * - value blocks (stored value), MAD entries of transport or payment applications, known transit layouts.
 */
import { toHex } from "../core/bytes.js";
import { decodeAccessBits, dataAllowed, groupOfBlock, keyBReadable, type KeyType } from "./access.js";
import { type MifareCard, block0BccValid, blockData, blockKnown, trailerParts } from "./card.js";
import { blocksInSector, firstBlockOfSector, sectorCount } from "./geometry.js";
import { isDefaultKey } from "./keys.js";
import { REFUSED_MAD_CLUSTERS, readMad } from "./mad.js";
import { matchTransitLayout } from "./transit-layouts.js";
import { isValueBlock } from "./value.js";

export interface Refusal {
  code:
    | "iso_dep"
    | "not_classic"
    | "uid_length"
    | "bad_bcc"
    | "access_unknown"
    | "access_invalid"
    | "key_unknown"
    | "key_not_default"
    | "data_unknown"
    | "data_locked"
    | "value_block"
    | "mad_application"
    | "transit_layout";
  /** The sector the reason is about, or null for the whole card. */
  sector: number | null;
  block?: number;
  zh: string;
  en: string;
}

export interface EmulatableVerdict {
  emulatable: boolean;
  /** What would be emulated: the whole card, or only its anticollision data. */
  kind: "classic" | "uid-only";
  reasons: Refusal[];
}

/** On-air SAKs of MIFARE Classic Mini, 1K and 4K (and the 0x80 variants some cards keep in block 0). */
const CLASSIC_SAKS: readonly number[] = [0x08, 0x09, 0x18, 0x88, 0x98];

const hex2 = (n: number) => toHex(Uint8Array.of(n));

/** "zh / en" of a refusal, as the CLI and inspect JSON print it. */
export function refusalText(r: Refusal): string {
  return `${r.zh} / ${r.en}`;
}

export function checkEmulatable(card: MifareCard): EmulatableVerdict {
  const reasons: Refusal[] = [];
  const whole = (code: Refusal["code"], zh: string, en: string) =>
    reasons.push({ code, sector: null, zh, en });
  const kind = card.memory ? "classic" : "uid-only";

  if (card.sak & 0x20)
    whole(
      "iso_dep",
      `SAK ${hex2(card.sak)} 表明是 CPU 卡（ISO-DEP），可能承载支付或交通应用，不能模拟`,
      `SAK ${hex2(card.sak)} marks a CPU card (ISO-DEP) that may carry payment or transit applications; it cannot be emulated`,
    );
  else if (!CLASSIC_SAKS.includes(card.sak))
    whole(
      "not_classic",
      `SAK ${hex2(card.sak)} 不是 MIFARE Classic 卡`,
      `SAK ${hex2(card.sak)} is not a MIFARE Classic card`,
    );
  if (card.uid.length !== 4 && card.uid.length !== 7)
    whole(
      "uid_length",
      `卡号长度 ${card.uid.length} 字节，只支持 4 或 7 字节`,
      `a ${card.uid.length}-byte UID; only 4 and 7 bytes are supported`,
    );
  if (!block0BccValid(card))
    whole("bad_bcc", "第 0 块的 BCC 与卡号不符", "the BCC in block 0 does not match the UID");

  const m = card.memory;
  if (!m) return { emulatable: reasons.length === 0, kind, reasons };

  for (let s = 0; s < sectorCount(card.type); s++) {
    const at = (code: Refusal["code"], zh: string, en: string, block?: number) =>
      reasons.push(
        block === undefined
          ? { code, sector: s, zh: `扇区 ${s}：${zh}`, en: `sector ${s}: ${en}` }
          : { code, sector: s, block, zh: `扇区 ${s}：${zh}`, en: `sector ${s}: ${en}` },
      );
    const t = trailerParts(m, s);
    if (!t.access) {
      at("access_unknown", "访问控制位未读出（扇区被加密）", "access bits not read (encrypted sector)");
      continue;
    }
    const ac = decodeAccessBits(t.access);
    if (!ac) {
      at(
        "access_invalid",
        `访问控制位 ${toHex(t.access)} 无效`,
        `access bits ${toHex(t.access)} are invalid`,
      );
      continue;
    }
    const usable: KeyType | null =
      t.keyA && isDefaultKey(t.keyA)
        ? "A"
        : t.keyB && isDefaultKey(t.keyB) && !keyBReadable(ac[3])
          ? "B"
          : null;
    if (!usable) {
      if (!t.keyA && !t.keyB) at("key_unknown", "密钥未知（加密扇区）", "keys unknown (encrypted sector)");
      else
        at("key_not_default", "密钥不是默认密钥（加密扇区）", "no default key opens it (encrypted sector)");
      continue;
    }
    const first = firstBlockOfSector(s);
    const last = first + blocksInSector(s) - 1;
    for (let b = first; b < last; b++) {
      if (!blockKnown(m, b)) {
        at("data_unknown", `第 ${b} 块数据未读出`, `block ${b} was not read`, b);
        break;
      }
      if (!dataAllowed(ac, groupOfBlock(b), "read", usable)) {
        at(
          "data_locked",
          `第 ${b} 块不能用默认密钥读取`,
          `block ${b} cannot be read with the default key`,
          b,
        );
        break;
      }
      if (b !== 0 && isValueBlock(blockData(m, b)))
        at(
          "value_block",
          `第 ${b} 块是数值块（储值），不能模拟`,
          `block ${b} is a value block (stored value); it cannot be emulated`,
          b,
        );
    }
  }

  for (const e of readMad(m, sectorCount(card.type)) ?? []) {
    const c = REFUSED_MAD_CLUSTERS[e.cluster];
    if (!c) continue;
    const what = c.category === "transit" ? ["交通", "transit"] : ["支付/储值", "payment/stored-value"];
    reasons.push({
      code: "mad_application",
      sector: e.sector,
      zh: `扇区 ${e.sector}：MAD 登记了${what[0]}应用（功能簇 0x${hex2(e.cluster)} ${c.zh}），不能模拟`,
      en: `sector ${e.sector}: the MAD lists a ${what[1]} application (function cluster 0x${hex2(e.cluster)}, ${c.en}); it cannot be emulated`,
    });
  }

  const layout = matchTransitLayout(m);
  if (layout)
    reasons.push({
      code: "transit_layout",
      sector: layout.sector,
      zh: `扇区 ${layout.sector}：数据符合交通卡布局（${layout.zh}），不能模拟`,
      en: `sector ${layout.sector}: the data is a transit card layout (${layout.en}); it cannot be emulated`,
    });

  return { emulatable: reasons.length === 0, kind, reasons };
}
