/**
 * Transit card layouts on MIFARE Classic that announce themselves in sector 0 or 1, as Metrodroid recognises
 * them (metrodroid/metrodroid, src/commonMain/kotlin/au/id/micolous/metrodroid/transit/<system>/, the
 * `earlyCheck` of each ClassicCardTransitFactory). A door card matching one is a transit card and is refused.
 * Multi-byte integers are big-endian, as Metrodroid's byteArrayToInt reads them.
 */
import { ascii, type Bytes, equal, fromHex, startsWith } from "../core/bytes.js";
import { type CardMemory, blockData, blockKnown } from "./card.js";

export interface TransitLayout {
  id: string;
  zh: string;
  en: string;
  /** Sectors the signature lies in (named in the refusal). */
  sector: number;
  matches(memory: CardMemory): boolean;
}

/** Bytes [from, from+len) of a block when known, else null. */
function known(memory: CardMemory, block: number, from = 0, len = 16): Bytes | null {
  return block * 16 < memory.data.length && blockKnown(memory, block, from, from + len)
    ? blockData(memory, block).subarray(from, from + len)
    : null;
}

const is = (b: Bytes | null, hex: string) => b !== null && equal(b, fromHex(hex));

const TRANSIT_LAYOUTS: readonly TransitLayout[] = [
  {
    id: "easycard",
    zh: "台北悠遊卡",
    en: "EasyCard (Taipei)",
    sector: 0,
    matches: (m) => is(known(m, 1), "0E140001070208030904081000000000"),
  },
  {
    id: "komuterlink",
    zh: "马来西亚 KomuterLink",
    en: "KomuterLink (Malaysia)",
    sector: 0,
    matches: (m) => is(known(m, 1), "0F0102030405060708090A0B0C0D0E0F"),
  },
  {
    id: "waikato",
    zh: "新西兰怀卡托 BUSIT",
    en: "BUSIT (Waikato)",
    sector: 0,
    matches: (m) => {
      const b = known(m, 1, 0, 5);
      return b !== null && startsWith(b, ascii("Panda"));
    },
  },
  {
    id: "otago",
    zh: "新西兰奥塔哥 GoCard",
    en: "GoCard (Otago)",
    sector: 0,
    matches: (m) => {
      const b = known(m, 1, 0, 5);
      return b !== null && startsWith(b, ascii("Valid")) && is(known(m, 4, 2, 2), "4321");
    },
  },
  {
    id: "suncard",
    zh: "美国 SunRail SunCard",
    en: "SunCard (SunRail)",
    sector: 0,
    matches: (m) => is(known(m, 1, 7, 4), "070515FF"),
  },
  {
    id: "zolotaya-korona",
    zh: "俄罗斯金冠卡",
    en: "Zolotaya Korona",
    sector: 0,
    matches: (m) => is(known(m, 1, 8, 2), "18EE") && is(known(m, 1, 12, 2), "18EE"),
  },
  {
    id: "strelka",
    zh: "俄罗斯 Strelka",
    en: "Strelka",
    sector: 0,
    matches: (m) =>
      is(known(m, 2, 4, 2), "18F0") &&
      is(known(m, 2, 8, 2), "0005") &&
      is(known(m, 2, 10, 2), "18E0") &&
      is(known(m, 2, 12, 2), "18E8"),
  },
];

export function matchTransitLayout(memory: CardMemory): TransitLayout | null {
  return TRANSIT_LAYOUTS.find((l) => l.matches(memory)) ?? null;
}
