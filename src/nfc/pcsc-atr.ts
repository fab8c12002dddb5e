/**
 * The ATRs a PC/SC contactless reader makes up for the card in its field (PC/SC Part 3, as ACS readers and
 * Windows' NFC class driver implement it), built for the vpcd bridge and parsed by the PC/SC transport:
 * - ISO/IEC 14443-4 card: `3B 8n 80 01 <historical bytes of the ATS> TCK` (n = number of historical bytes);
 * - storage card (MIFARE Classic…): `3B 8F 80 01 80 4F 0C A0 00 00 03 06 <SS> <card name, 2 B> 00 00 00 00 TCK`,
 *   SS = 03 for ISO 14443 A part 3, card name 0001 = 1K, 0002 = 4K, 0003 = Ultralight, 0026 = Mini.
 * TCK is the XOR of every byte after TS (3B).
 */
import { type Bytes, concat, equal } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import type { Activation } from "./link.js";

const ATR_PREFIX = Uint8Array.of(0x3b); // TS: direct convention
/** TD1 = 80 (TD2 follows, T=0), TD2 = 01 (T=1). */
const TD1_TD2 = Uint8Array.of(0x80, 0x01);
/** PC/SC Workgroup registered application provider identifier. */
const PCSC_RID = Uint8Array.of(0xa0, 0x00, 0x00, 0x03, 0x06);
/** PC/SC Part 3 supplement, table of standards: ISO/IEC 14443 A, part 3. */
const PCSC_STANDARD_ISO14443A_3 = 0x03;

/** Card names of PC/SC Part 3's supplement that this project presents or recognises. */
export const PcscCardName = {
  MIFARE_CLASSIC_1K: 0x0001,
  MIFARE_CLASSIC_4K: 0x0002,
  MIFARE_ULTRALIGHT: 0x0003,
  MIFARE_MINI: 0x0026,
} as const;

export type MifareClassicVariant = "mini" | "1k" | "4k";

export const MIFARE_CLASSIC_CARD_NAME: Record<MifareClassicVariant, number> = {
  mini: PcscCardName.MIFARE_MINI,
  "1k": PcscCardName.MIFARE_CLASSIC_1K,
  "4k": PcscCardName.MIFARE_CLASSIC_4K,
};

/** XOR of T0..Tk (every byte after TS). */
function atrCheckByte(afterTs: Bytes): number {
  let x = 0;
  for (const b of afterTs) x ^= b;
  return x;
}

function withTck(t0: number, rest: Bytes): Bytes {
  const body = concat(Uint8Array.of(t0), TD1_TD2, rest);
  return concat(ATR_PREFIX, body, Uint8Array.of(atrCheckByte(body)));
}

/** ATR of an ISO 14443-4 card from its historical bytes (at most 15 are carried; more are cut off). */
export function contactlessAtr(historical: Bytes): Bytes {
  const h = historical.subarray(0, 15);
  return withTck(0x80 | h.length, h);
}

/** ATR of a storage card. */
export function storageCardAtr(cardName: number, standard: number = PCSC_STANDARD_ISO14443A_3): Bytes {
  const historical = concat(
    Uint8Array.of(0x80, 0x4f, 0x0c),
    PCSC_RID,
    Uint8Array.of(standard & 0xff, (cardName >> 8) & 0xff, cardName & 0xff, 0, 0, 0, 0),
  );
  return withTck(0x80 | historical.length, historical);
}

export interface Ats {
  /** Maximum frame size the card accepts, as FSCI (0–8; larger values are RFU and read as 8). */
  fsci: number;
  ta?: number;
  tb?: number;
  tc?: number;
  historical: Bytes;
}

/**
 * Parses an ISO/IEC 14443-4 ATS as transmitted without its CRC: TL (the length, counting itself), T0, then
 * TA(1), TB(1), TC(1) as T0 announces them, then the historical bytes.
 */
export function parseAts(ats: Bytes): Result<Ats> {
  if (ats.length === 0) return err("empty ATS");
  const tl = ats[0]!;
  if (tl !== ats.length) return err(`ATS length byte TL=${tl} but ${ats.length} bytes given`);
  if (tl === 1) return ok({ fsci: 2, historical: new Uint8Array(0) }); // only TL: defaults (FSCI 2 = 32 B)
  const t0 = ats[1]!;
  if (t0 & 0x80) return err("ATS T0 has bit 8 set");
  let i = 2;
  const out: Ats = { fsci: Math.min(t0 & 0x0f, 8), historical: new Uint8Array(0) };
  for (const [bit, key] of [
    [0x10, "ta"],
    [0x20, "tb"],
    [0x40, "tc"],
  ] as const) {
    if (t0 & bit) {
      if (i >= ats.length) return err(`ATS announces ${key.toUpperCase()}(1) but ends first`);
      out[key] = ats[i++]!;
    }
  }
  out.historical = ats.slice(i);
  return ok(out);
}

/**
 * The ATR a contactless reader reports for an activated ISO 14443-4 card. A missing or malformed ATS gives
 * the ATR without historical bytes (`3B 80 80 01 01`), as readers do for a card they cannot parse.
 */
export function atrForActivation(activation: Activation): Bytes {
  const parsed = activation.ats ? parseAts(activation.ats) : null;
  return contactlessAtr(parsed?.ok ? parsed.value.historical : new Uint8Array(0));
}

export type ContactlessAtrInfo =
  | { kind: "storage"; standard: number; cardName: number; variant: MifareClassicVariant | null }
  | { kind: "iso14443-4"; historical: Bytes }
  /** Not a PC/SC Part 3 contactless ATR (a contact card, or a reader with its own scheme). */
  | { kind: "other" };

/** Recognises the two PC/SC Part 3 ATR forms (and checks TCK); anything else is `other`. */
export function parseContactlessAtr(atr: Bytes): ContactlessAtrInfo {
  if (atr.length < 5 || atr[0] !== 0x3b || (atr[1]! & 0xf0) !== 0x80 || atr[2] !== 0x80 || atr[3] !== 0x01)
    return { kind: "other" };
  const n = atr[1]! & 0x0f;
  if (atr.length !== 4 + n + 1) return { kind: "other" };
  if (atrCheckByte(atr.subarray(1, atr.length - 1)) !== atr[atr.length - 1]) return { kind: "other" };
  const historical = atr.slice(4, 4 + n);
  if (n === 15 && historical[0] === 0x80 && historical[1] === 0x4f && historical[2] === 0x0c) {
    if (!equal(historical.subarray(3, 8), PCSC_RID)) return { kind: "other" };
    const cardName = (historical[9]! << 8) | historical[10]!;
    const variant =
      (Object.keys(MIFARE_CLASSIC_CARD_NAME) as MifareClassicVariant[]).find(
        (v) => MIFARE_CLASSIC_CARD_NAME[v] === cardName,
      ) ?? null;
    return { kind: "storage", standard: historical[8]!, cardName, variant };
  }
  return { kind: "iso14443-4", historical };
}
