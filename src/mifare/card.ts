/**
 * The card image: a MIFARE Classic card as Tapwallet holds it, a plain data object (an SE applet store keeps
 * it as JSON through `cardToJson`/`cardFromJson`).
 *
 * Memory keeps a per-byte "known" mask, because dumps often lack parts of a card: Flipper writes `??`,
 * MIFARE Classic Tool `-`, and a sector whose keys were not found has no data at all. A UID-only card
 * (Flipper "ISO14443-3A"/"UID" files, or a card whose sectors are all locked) has no memory.
 */
import { type Bytes, equal, fromHex, isHex, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { TRANSPORT_ACCESS } from "./access.js";
import { type Identity, bcc, buildBlock0 } from "./block0.js";
import {
  BLOCK_SIZE,
  CARD_TYPES,
  type CardType,
  blockCount,
  isTrailer,
  sectorCount,
  trailerOfSector,
} from "./geometry.js";

export interface CardMemory {
  /** blockCount(type) × 16 bytes; unknown bytes hold 0. */
  data: Bytes;
  /** One entry per byte of `data`: 1 = known, 0 = unknown. */
  known: Uint8Array;
}

export interface MifareCard extends Identity {
  type: CardType;
  /** Null for a UID-only card (only its anticollision data is known). */
  memory: CardMemory | null;
}

export const DEFAULT_TRANSPORT_KEY = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
/** General purpose byte of a factory trailer. */
const FACTORY_GPB = 0x69;

/**
 * The card type from SAK, then ATQA (NXP AN10833; MIFARE Classic Tool Common.isValidBlock0): SAK bit 0x08
 * (with 0x02 clear) marks MIFARE Classic, 0x10 then means 4K (2K cards are read as 4K) and 0x01 Mini;
 * otherwise ATQA 0x…2 means 4K and 0x…4 1K. Null when neither says.
 */
export function typeFromSakAtqa(sak: number, atqa: Bytes): CardType | null {
  if ((sak & 0x08) !== 0 && (sak & 0x02) === 0) return sak & 0x10 ? "4k" : sak & 0x01 ? "mini" : "1k";
  const low = (atqa[1] ?? 0) & 0x1f;
  if (low === 0x02) return "4k";
  if (low === 0x04) return "1k";
  return null;
}

/** The SAK and ATQA a genuine card of this type and UID size answers (proxmark3 armsrc/mifaresim.c). */
export function standardIdentity(type: CardType, uid: Bytes): Identity {
  const sak = type === "mini" ? 0x09 : type === "1k" ? 0x08 : 0x18;
  const low = type === "4k" ? 0x02 : 0x04;
  return { uid, sak, atqa: Uint8Array.of(0x00, uid.length === 7 ? low | 0x40 : low) };
}

export function factoryTrailer(
  keyA: Bytes = DEFAULT_TRANSPORT_KEY,
  keyB: Bytes = DEFAULT_TRANSPORT_KEY,
): Bytes {
  const t = new Uint8Array(16);
  t.set(keyA, 0);
  t.set(TRANSPORT_ACCESS, 6);
  t[9] = FACTORY_GPB;
  t.set(keyB, 10);
  return t;
}

/**
 * A card in its factory state: block 0 from the identity (SAK/ATQA default to the type's), data blocks zero,
 * every trailer `FFFFFFFFFFFF FF0780 69 FFFFFFFFFFFF`.
 */
export function blankCard(options: {
  type: CardType;
  uid: Bytes;
  sak?: number;
  atqa?: Bytes;
  manufacturer?: Bytes;
}): MifareCard {
  const std = standardIdentity(options.type, options.uid);
  const id: Identity = {
    uid: options.uid.slice(),
    sak: options.sak ?? std.sak,
    atqa: (options.atqa ?? std.atqa).slice(),
  };
  const n = blockCount(options.type);
  const data = new Uint8Array(n * BLOCK_SIZE);
  data.set(buildBlock0(id, options.manufacturer), 0);
  const trailer = factoryTrailer();
  for (let s = 0; s < sectorCount(options.type); s++) data.set(trailer, trailerOfSector(s) * BLOCK_SIZE);
  return { ...id, type: options.type, memory: { data, known: new Uint8Array(data.length).fill(1) } };
}

export function uidOnlyCard(id: Identity, type?: CardType): MifareCard {
  return {
    uid: id.uid.slice(),
    atqa: id.atqa.slice(),
    sak: id.sak,
    type: type ?? typeFromSakAtqa(id.sak, id.atqa) ?? "1k",
    memory: null,
  };
}

/** A block's bytes (unknown bytes read as 0). */
export function blockData(memory: CardMemory, block: number): Bytes {
  return memory.data.subarray(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE);
}

/** Whether bytes [from, to) of a block are all known. */
export function blockKnown(memory: CardMemory, block: number, from = 0, to = BLOCK_SIZE): boolean {
  const base = block * BLOCK_SIZE;
  for (let i = base + from; i < base + to; i++) if (memory.known[i] !== 1) return false;
  return true;
}

export function setBlock(memory: CardMemory, block: number, bytes: Bytes, from = 0): void {
  memory.data.set(bytes, block * BLOCK_SIZE + from);
  memory.known.fill(1, block * BLOCK_SIZE + from, block * BLOCK_SIZE + from + bytes.length);
}

/** A sector trailer's parts, each null when not (fully) known. */
export function trailerParts(
  memory: CardMemory,
  sector: number,
): { keyA: Bytes | null; access: Bytes | null; gpb: number | null; keyB: Bytes | null } {
  const t = trailerOfSector(sector);
  const b = blockData(memory, t);
  return {
    keyA: blockKnown(memory, t, 0, 6) ? b.slice(0, 6) : null,
    access: blockKnown(memory, t, 6, 9) ? b.slice(6, 9) : null,
    gpb: blockKnown(memory, t, 9, 10) ? b[9]! : null,
    keyB: blockKnown(memory, t, 10, 16) ? b.slice(10, 16) : null,
  };
}

export function cloneCard(card: MifareCard): MifareCard {
  return {
    uid: card.uid.slice(),
    atqa: card.atqa.slice(),
    sak: card.sak,
    type: card.type,
    memory: card.memory ? { data: card.memory.data.slice(), known: card.memory.known.slice() } : null,
  };
}

/** Same identity, type and memory (unknown bytes compare as unknown whatever `data` holds there). */
export function cardsEqual(a: MifareCard, b: MifareCard): boolean {
  if (!equal(a.uid, b.uid) || !equal(a.atqa, b.atqa) || a.sak !== b.sak || a.type !== b.type) return false;
  if (a.memory === null || b.memory === null) return a.memory === b.memory;
  const ma = a.memory;
  const mb = b.memory;
  if (ma.data.length !== mb.data.length) return false;
  for (let i = 0; i < ma.data.length; i++) {
    if (ma.known[i] !== mb.known[i]) return false;
    if (ma.known[i] === 1 && ma.data[i] !== mb.data[i]) return false;
  }
  return true;
}

/** Counts of blocks, for messages: how many trailers and data blocks hold unknown bytes. */
export function unknownBlockCount(memory: CardMemory): { trailers: number; data: number } {
  let trailers = 0;
  let data = 0;
  for (let b = 0; b < memory.data.length / BLOCK_SIZE; b++) {
    if (blockKnown(memory, b)) continue;
    if (isTrailer(b)) trailers++;
    else data++;
  }
  return { trailers, data };
}

// ---- JSON form (for the SE applet store and the wallet) ----

export interface CardJson {
  uid: string;
  atqa: string;
  sak: number;
  type: CardType;
  /** One 32-character string per block, `??` for an unknown byte; null for a UID-only card. */
  blocks: string[] | null;
  [key: string]: string | number | string[] | null;
}

function blockToText(memory: CardMemory, block: number): string {
  let s = "";
  for (let i = block * BLOCK_SIZE; i < (block + 1) * BLOCK_SIZE; i++)
    s += memory.known[i] === 1 ? toHex(memory.data.subarray(i, i + 1)) : "??";
  return s;
}

export function cardToJson(card: MifareCard): CardJson {
  const m = card.memory;
  return {
    uid: toHex(card.uid),
    atqa: toHex(card.atqa),
    sak: card.sak,
    type: card.type,
    blocks: m ? Array.from({ length: m.data.length / BLOCK_SIZE }, (_, b) => blockToText(m, b)) : null,
  };
}

export function cardFromJson(json: unknown): Result<MifareCard> {
  if (typeof json !== "object" || json === null) return err("not an object");
  const j = json as Record<string, unknown>;
  const { uid, atqa, sak, type, blocks } = j;
  if (typeof uid !== "string" || !isHex(uid) || (uid.length !== 8 && uid.length !== 14))
    return err("bad uid");
  if (typeof atqa !== "string" || !isHex(atqa) || atqa.length !== 4) return err("bad atqa");
  if (typeof sak !== "number" || !Number.isInteger(sak) || sak < 0 || sak > 255) return err("bad sak");
  if (typeof type !== "string" || !CARD_TYPES.includes(type as CardType)) return err("bad type");
  const t = type as CardType;
  const id = { uid: fromHex(uid), atqa: fromHex(atqa), sak };
  if (blocks === null) return ok({ ...id, type: t, memory: null });
  if (!Array.isArray(blocks) || blocks.length !== blockCount(t)) return err("bad blocks");
  const data = new Uint8Array(blocks.length * BLOCK_SIZE);
  const known = new Uint8Array(data.length);
  for (const [b, text] of blocks.entries()) {
    if (typeof text !== "string" || !/^(?:[0-9A-Fa-f]{2}|\?\?){16}$/.test(text)) return err(`bad block ${b}`);
    for (let i = 0; i < 16; i++) {
      const pair = text.slice(2 * i, 2 * i + 2);
      if (pair === "??") continue;
      data[b * BLOCK_SIZE + i] = parseInt(pair, 16);
      known[b * BLOCK_SIZE + i] = 1;
    }
  }
  return ok({ ...id, type: t, memory: { data, known } });
}

/** BCC check of a 4-byte UID's block 0 (true when not applicable: 7-byte UID or block 0 unknown). */
export function block0BccValid(card: MifareCard): boolean {
  const m = card.memory;
  if (!m || card.uid.length !== 4 || !blockKnown(m, 0, 0, 5)) return true;
  return bcc(m.data.subarray(0, 4)) === m.data[4];
}
