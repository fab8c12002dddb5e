/**
 * The door-card applet ("mifare.door", contactless category "access"): a MIFARE Classic card image held in
 * the SE's applet store, emulated at frame level. As on phones whose secure element carries MIFARE Classic
 * emulation, the card's keys and data never leave the SE: the NFC controller (here `doorFieldCard`, phone.ts)
 * forwards raw frames in and out.
 *
 * Personalisation (STORE DATA through the card manager under SCP03, as a TSM sends it):
 *   DGI 0101  identity: type (00 Mini, 01 1K, 02 4K) ‖ SAK ‖ ATQA (2, MSB first) ‖ UID length ‖ UID ‖ flags
 *             (bit 0: UID only). Starts a new image: sectors stored before are dropped.
 *   DGI 02ss  sector ss: its blocks (64 or 256 bytes).
 *   DGI 0301  reader writes: 00 refused, 01 allowed, 02 allowed until the 4-byte Unix time (seconds) that
 *             follows (an authorised encoder's window).
 *
 * Commands (CLA 80), after SELECT:
 *   4C P1=01/00  field on (the image is loaded; 6985 while it is incomplete) / field off
 *   4A P1 00     one frame: P1 = bit count of a short frame (1–7) with one data byte, or 0 for a frame of
 *                whole bytes sent as its n data bytes then its n parity bits (one per byte). The answer is
 *                empty when the card stays silent, else P1-style bits ‖ data ‖ parity, SW 9000.
 *   CA 00 00     identity: DF01 UID, DF02 SAK, DF03 ATQA, DF04 type, DF05 write mode (no keys, no data).
 *
 * Reader writes land in the store within the command's transaction (all or nothing, tearing-safe).
 */
import { type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import { type Bytes, fromHex, isHex, readUintBE, toHex } from "../core/bytes.js";
import { SW } from "../core/sw.js";
import { tlv } from "../core/tlv.js";
import type { Frame } from "../nfc/frame.js";
import type { Applet, AppletContext, AppletPackage, Json } from "../se/applet.js";
import { bytesWord } from "./auth.js";
import { type MifareCard, blockData } from "./card.js";
import { EmulatedClassic } from "./emulator.js";
import {
  BLOCK_SIZE,
  CARD_TYPES,
  type CardType,
  blockCount,
  blocksInSector,
  firstBlockOfSector,
  sectorCount,
  sectorOfBlock,
} from "./geometry.js";

export const DOOR_PACKAGE_ID = "mifare.door";

export const DOOR_DGI = { identity: 0x0101, sector: 0x0200, writes: 0x0301 } as const;
export const DOOR_INS = { frame: 0x4a, field: 0x4c, identity: 0xca } as const;

export type WriteMode = { mode: "refused" } | { mode: "allowed" } | { mode: "until"; until: number };

interface Identity {
  [k: string]: Json;
  uid: string;
  atqa: string;
  sak: number;
  type: CardType;
  uidOnly: boolean;
}

const K_ID = "id";
const K_WRITES = "writes";
const kSector = (s: number) => `s:${s}`;

/** Encodes a frame for the FRAME command (and its answer): P1/first byte = bits, then data, then parity. */
export function encodeFrame(frame: Frame): { bits: number; body: Bytes } {
  if (frame.bits !== undefined) return { bits: frame.bits, body: frame.data.slice(0, 1) };
  const body = new Uint8Array(frame.data.length * 2);
  body.set(frame.data);
  body.set(frame.parity, frame.data.length);
  return { bits: 0, body };
}

export function decodeFrame(bits: number, body: Bytes): Frame | null {
  if (bits >= 1 && bits <= 7)
    return body.length === 1 ? { data: body.slice(), bits, parity: new Uint8Array(0) } : null;
  if (bits !== 0 || body.length === 0 || body.length % 2 !== 0) return null;
  const n = body.length / 2;
  const parity = body.slice(n);
  return parity.every((p) => p <= 1) ? { data: body.slice(0, n), parity } : null;
}

function readIdentity(ctx: AppletContext): Identity | null {
  const id = ctx.store.get<Identity>(K_ID);
  return id && typeof id === "object" && CARD_TYPES.includes(id.type) ? id : null;
}

/** The stored image, or null while it is incomplete (identity or a sector missing). */
function storedImage(ctx: AppletContext): MifareCard | null {
  const id = readIdentity(ctx);
  if (!id) return null;
  const base = { uid: fromHex(id.uid), atqa: fromHex(id.atqa), sak: id.sak, type: id.type };
  if (id.uidOnly) return { ...base, memory: null };
  const data = new Uint8Array(blockCount(id.type) * BLOCK_SIZE);
  for (let s = 0; s < sectorCount(id.type); s++) {
    const hex = ctx.store.get<string>(kSector(s));
    if (typeof hex !== "string" || !isHex(hex) || hex.length !== blocksInSector(s) * BLOCK_SIZE * 2)
      return null;
    data.set(fromHex(hex), firstBlockOfSector(s) * BLOCK_SIZE);
  }
  return { ...base, memory: { data, known: new Uint8Array(data.length).fill(1) } };
}

function writeMode(ctx: AppletContext): WriteMode {
  return ctx.store.get<WriteMode>(K_WRITES) ?? { mode: "allowed" };
}

function writesOpen(ctx: AppletContext): boolean {
  const w = writeMode(ctx);
  return w.mode === "allowed" || (w.mode === "until" && ctx.clock.now().getTime() < w.until * 1000);
}

class DoorApplet implements Applet {
  private emulator: EmulatedClassic | null = null;
  /** The context of the command being processed (the emulator's callbacks write through it). */
  private ctx: AppletContext | null = null;

  select(_c: CommandApdu, ctx: AppletContext): ResponseApdu {
    this.emulator = null;
    return response(SW.OK, tlv(0x6f, [{ tag: 0x84, value: ctx.selectedAid }]));
  }

  deselect(): void {
    this.emulator = null;
  }

  process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.cla !== 0x80) return response(SW.CLA_NOT_SUPPORTED);
    this.ctx = ctx;
    try {
      switch (c.ins) {
        case DOOR_INS.field:
          return this.field(c, ctx);
        case DOOR_INS.frame:
          return this.frame(c);
        case DOOR_INS.identity:
          return this.identity(ctx);
        default:
          return response(SW.INS_NOT_SUPPORTED);
      }
    } finally {
      this.ctx = null;
    }
  }

  private field(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.p2 !== 0 || c.p1 > 1) return response(SW.INCORRECT_P1P2);
    this.emulator?.fieldOff();
    this.emulator = null;
    if (c.p1 === 0) return response(SW.OK);
    const image = storedImage(ctx);
    if (!image) return response(SW.CONDITIONS_NOT_SATISFIED);
    this.emulator = new EmulatedClassic(image, {
      nonce: () => bytesWord(this.ctx!.random(4)),
      writable: () => writesOpen(this.ctx!),
      onChange: (card, block) => {
        const s = sectorOfBlock(block);
        const from = firstBlockOfSector(s);
        const bytes = new Uint8Array(blocksInSector(s) * BLOCK_SIZE);
        for (let b = 0; b < blocksInSector(s); b++)
          bytes.set(blockData(card.memory!, from + b), b * BLOCK_SIZE);
        this.ctx!.store.put(kSector(s), toHex(bytes));
      },
    });
    this.emulator.fieldOn();
    return response(SW.OK);
  }

  private frame(c: CommandApdu): ResponseApdu {
    if (!this.emulator) return response(SW.CONDITIONS_NOT_SATISFIED);
    if (c.p2 !== 0 || c.p1 > 7) return response(SW.INCORRECT_P1P2);
    const frame = decodeFrame(c.p1, c.data);
    if (!frame) return response(SW.WRONG_DATA);
    const answer = this.emulator.handle(frame);
    if (!answer) return response(SW.OK);
    const { bits, body } = encodeFrame(answer);
    const out = new Uint8Array(body.length + 1);
    out[0] = bits;
    out.set(body, 1);
    return response(SW.OK, out);
  }

  private identity(ctx: AppletContext): ResponseApdu {
    const id = readIdentity(ctx);
    if (!id) return response(SW.CONDITIONS_NOT_SATISFIED);
    const w = writeMode(ctx);
    const mode = w.mode === "refused" ? 0 : w.mode === "allowed" ? 1 : 2;
    return response(
      SW.OK,
      tlv(0x70, [
        { tag: 0xdf01, value: fromHex(id.uid) },
        { tag: 0xdf02, value: Uint8Array.of(id.sak) },
        { tag: 0xdf03, value: fromHex(id.atqa) },
        { tag: 0xdf04, value: Uint8Array.of(CARD_TYPES.indexOf(id.type)) },
        { tag: 0xdf05, value: Uint8Array.of(mode) },
      ]),
    );
  }

  personalize(dgi: number, data: Bytes, ctx: AppletContext): number {
    if (dgi === DOOR_DGI.identity) return this.personalizeIdentity(data, ctx);
    if (dgi === DOOR_DGI.writes) {
      const mode = data[0];
      if (data.length === 1 && (mode === 0 || mode === 1))
        ctx.store.put(K_WRITES, mode === 0 ? { mode: "refused" } : { mode: "allowed" });
      else if (data.length === 5 && mode === 2)
        ctx.store.put(K_WRITES, { mode: "until", until: readUintBE(data, 1, 4) });
      else return SW.WRONG_DATA;
      return SW.OK;
    }
    if ((dgi & 0xff00) === DOOR_DGI.sector) {
      const id = readIdentity(ctx);
      if (!id || id.uidOnly) return SW.CONDITIONS_NOT_SATISFIED;
      const s = dgi & 0xff;
      if (s >= sectorCount(id.type) || data.length !== blocksInSector(s) * BLOCK_SIZE) return SW.WRONG_DATA;
      ctx.store.put(kSector(s), toHex(data));
      return SW.OK;
    }
    return SW.REFERENCED_DATA_NOT_FOUND;
  }

  private personalizeIdentity(data: Bytes, ctx: AppletContext): number {
    const type = CARD_TYPES[data[0] ?? 9];
    const n = data[4];
    if (!type || (n !== 4 && n !== 7) || data.length !== 6 + n) return SW.WRONG_DATA;
    for (const k of ctx.store.keys("s:")) ctx.store.delete(k);
    ctx.store.put(K_ID, {
      uid: toHex(data.subarray(5, 5 + n)),
      atqa: toHex(data.subarray(2, 4)),
      sak: data[1]!,
      type,
      uidOnly: (data[5 + n]! & 1) === 1,
    });
    return SW.OK;
  }
}

export const doorPackage: AppletPackage = {
  id: DOOR_PACKAGE_ID,
  create: () => new DoorApplet(),
  contactless: () => ({ category: "access" }),
};
