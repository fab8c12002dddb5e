/**
 * MIFARE Application Directory (NXP AN10787): which application owns which sector.
 *
 * MAD1 sits in sector 0, blocks 1–2: CRC, info byte, then one 2-byte AID per sector 1–15. MAD2 (4K) adds
 * sector 16, blocks 64–66: CRC, info, AIDs of sectors 17–39. An AID is stored application code first, then
 * function cluster code. The directory is in force when the general purpose byte of sector 0's trailer has
 * bit 7 (DA) set; its bits 1–0 give the MAD version.
 *
 * The function clusters below are those AN10787 assigns to transport and to payment/stored value (list as
 * given in dpavlin/perl-Mifare-MAD, "based on AN10787"). Which clusters make a card non-emulatable is
 * our choice (docs/DECISIONS.md, "Door cards: MAD clusters refused").
 */
import { type CardMemory, blockData, blockKnown } from "./card.js";
import { trailerOfSector } from "./geometry.js";

export type MadCategory = "transit" | "payment";

export const REFUSED_MAD_CLUSTERS: Readonly<
  Record<number, { category: MadCategory; zh: string; en: string }>
> = {
  0x08: { category: "transit", zh: "航空", en: "airlines" },
  0x09: { category: "transit", zh: "轮渡", en: "ferry traffic" },
  0x10: { category: "transit", zh: "铁路", en: "railway services" },
  0x12: { category: "transit", zh: "交通运输", en: "transport" },
  0x18: { category: "transit", zh: "城市交通", en: "city traffic" },
  0x19: { category: "transit", zh: "捷克铁路", en: "Czech Railways" },
  0x20: { category: "transit", zh: "公交", en: "bus services" },
  0x21: { category: "transit", zh: "多方式联运", en: "multi modal transit" },
  0x28: { category: "transit", zh: "出租车", en: "taxi" },
  0x30: { category: "transit", zh: "道路收费", en: "road toll" },
  0x40: { category: "transit", zh: "城市一卡通服务", en: "city card services" },
  0xc8: { category: "transit", zh: "停车", en: "car parking" },
  0x88: { category: "payment", zh: "电子钱包", en: "electronic purse" },
  0xb0: { category: "payment", zh: "电子商务", en: "electronic trade" },
  0xb8: { category: "payment", zh: "银行", en: "banking" },
  0xd0: { category: "payment", zh: "加油", en: "fuel, gasoline" },
};

export interface MadEntry {
  sector: number;
  /** Function cluster code (high byte of the AID). */
  cluster: number;
  application: number;
}

/** The directory's entries (free sectors left out), or null when the card declares no MAD or it is unread. */
export function readMad(memory: CardMemory, sectors: number): MadEntry[] | null {
  const t0 = trailerOfSector(0);
  if (!blockKnown(memory, t0, 9, 10)) return null;
  const gpb = blockData(memory, t0)[9]!;
  if ((gpb & 0x80) === 0) return null;
  const entries: MadEntry[] = [];
  const collect = (blocks: number[], firstSector: number) => {
    if (!blocks.every((b) => blockKnown(memory, b))) return;
    const bytes = new Uint8Array(blocks.length * 16);
    blocks.forEach((b, i) => bytes.set(blockData(memory, b), i * 16));
    for (let i = 2; i + 1 < bytes.length; i += 2) {
      const sector = firstSector + (i - 2) / 2;
      if (sector >= sectors) break;
      const application = bytes[i]!;
      const cluster = bytes[i + 1]!;
      if (cluster !== 0 || application !== 0) entries.push({ sector, cluster, application });
    }
  };
  collect([1, 2], 1);
  if ((gpb & 0x03) === 0x02 && sectors > 16) collect([64, 65, 66], 17);
  return entries;
}
