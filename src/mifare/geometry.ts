/**
 * MIFARE Classic memory geometry (NXP MF1S20/MF1S50/MF1S70; proxmark3 client/src/mifare/mifare4.c, Flipper
 * lib/nfc/protocols/mf_classic): Mini 5 × 4 blocks, 1K 16 × 4, 4K 32 × 4 + 8 × 16. A block is 16 bytes; the
 * last block of each sector is its trailer (keys and access bits).
 */

export type CardType = "mini" | "1k" | "4k";

export const CARD_TYPES: readonly CardType[] = ["mini", "1k", "4k"];

export const BLOCK_SIZE = 16;

const SECTORS: Record<CardType, number> = { mini: 5, "1k": 16, "4k": 40 };
const BLOCKS: Record<CardType, number> = { mini: 20, "1k": 64, "4k": 256 };

export function sectorCount(type: CardType): number {
  return SECTORS[type];
}

export function blockCount(type: CardType): number {
  return BLOCKS[type];
}

export function sectorOfBlock(block: number): number {
  return block < 128 ? block >> 2 : 32 + ((block - 128) >> 4);
}

export function firstBlockOfSector(sector: number): number {
  return sector < 32 ? sector * 4 : 128 + (sector - 32) * 16;
}

export function blocksInSector(sector: number): number {
  return sector < 32 ? 4 : 16;
}

export function trailerOfSector(sector: number): number {
  return firstBlockOfSector(sector) + blocksInSector(sector) - 1;
}

export function isTrailer(block: number): boolean {
  return block < 128 ? (block & 3) === 3 : (block & 15) === 15;
}

/** The card type whose memory has exactly `blocks` blocks, or null. */
export function typeOfBlockCount(blocks: number): CardType | null {
  return CARD_TYPES.find((t) => BLOCKS[t] === blocks) ?? null;
}

/** The label dump formats use: MINI, 1K, 4K. */
export function typeLabel(type: CardType): string {
  return type.toUpperCase();
}
