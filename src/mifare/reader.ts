/**
 * A MIFARE Classic reader over a frame-level link: activation (WUPA, anticollision and SELECT over cascade
 * levels), authentication (first and nested), READ, WRITE, value operations, HALT; and `readCard`, which
 * reads a whole card trying a key dictionary on every sector and reports which key opened which sector.
 *
 * After any refusal the card sleeps (see emulator.ts), so the reader forgets its session and selects the
 * card again before the next attempt.
 */
import { randomBytes } from "node:crypto";
import { type Bytes, equal, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import type { Activation } from "../nfc/link.js";
import {
  type Frame,
  type FrameLink,
  crcAValid,
  hasPlainParity,
  plainFrame,
  shortFrame,
  withCrcA,
} from "../nfc/frame.js";
import { type KeyType, decodeAccessBits, trailerAllowed } from "./access.js";
import { decryptFrame, decryptNibble, encryptFrame, readerAnswer, readerVerifyCard } from "./auth.js";
import { bcc, cuidOf } from "./block0.js";
import { type CardMemory, type MifareCard, setBlock, typeFromSakAtqa } from "./card.js";
import type { Crypto1 } from "./crypto1.js";
import { ACK, CMD, SEL, WUPA } from "./emulator.js";
import {
  BLOCK_SIZE,
  blockCount,
  blocksInSector,
  firstBlockOfSector,
  sectorCount,
  trailerOfSector,
} from "./geometry.js";
import { BUILTIN_KEYS } from "./keys.js";

export interface ReaderOptions {
  /** Reader nonces nR, 32-bit; default from the system's CSPRNG. */
  readerNonce?: () => number;
}

const defaultNonce = () => randomBytes(4).readUInt32BE(0);

export class ClassicReader {
  private cipher: Crypto1 | null = null;
  private card: Activation | null = null;
  private readonly nonce: () => number;

  constructor(
    private readonly link: FrameLink,
    options: ReaderOptions = {},
  ) {
    this.nonce = options.readerNonce ?? defaultNonce;
  }

  /** The selected card, or null when none is (never selected, halted, or asleep after a refusal). */
  get selected(): Activation | null {
    return this.card;
  }

  get authenticated(): boolean {
    return this.cipher !== null;
  }

  private lost(): void {
    this.card = null;
    this.cipher = null;
  }

  /**
   * WUPA, then anticollision and SELECT per cascade level. A card left selected by an earlier exchange goes
   * back to sleep on the first WUPA, so one more is sent when the first gets no answer.
   */
  async activate(): Promise<Activation | null> {
    this.lost();
    const atqa =
      (await this.link.transceive(shortFrame(WUPA, 7))) ?? (await this.link.transceive(shortFrame(WUPA, 7)));
    if (!atqa || atqa.data.length !== 2 || !hasPlainParity(atqa)) return null;
    const uid: number[] = [];
    for (let level = 0; level < SEL.length; level++) {
      const sel = SEL[level]!;
      const cl = await this.link.transceive(plainFrame(Uint8Array.of(sel, 0x20)));
      if (!cl || cl.data.length !== 5 || !hasPlainParity(cl) || bcc(cl.data.subarray(0, 4)) !== cl.data[4])
        return null;
      const sakFrame = await this.link.transceive(plainFrame(withCrcA(Uint8Array.of(sel, 0x70, ...cl.data))));
      if (!sakFrame || sakFrame.data.length !== 3 || !hasPlainParity(sakFrame) || !crcAValid(sakFrame.data))
        return null;
      const sak = sakFrame.data[0]!;
      if (sak & 0x04) {
        if (cl.data[0] !== 0x88) return null;
        uid.push(...cl.data.subarray(1, 4));
        continue;
      }
      uid.push(...cl.data.subarray(0, 4));
      this.card = { uid: Uint8Array.from(uid), atqa: Uint8Array.of(atqa.data[1]!, atqa.data[0]!), sak };
      return this.card;
    }
    return null;
  }

  /** Sends a command: encrypted when a session is open, in clear otherwise. */
  private send(plain: Bytes): Promise<Frame | null> {
    return this.link.transceive(this.cipher ? encryptFrame(this.cipher, plain) : plainFrame(plain));
  }

  /** Authenticates for `block` (nested when already authenticated). On failure the card is asleep. */
  async authenticate(block: number, keyType: KeyType, key: Bytes): Promise<boolean> {
    if (!this.card) return false;
    const nested = this.cipher !== null;
    const nonce = await this.send(withCrcA(Uint8Array.of(keyType === "A" ? CMD.authA : CMD.authB, block)));
    const cuid = cuidOf(this.card.uid);
    this.cipher = null;
    const answer =
      nonce && nonce.bits === undefined ? readerAnswer(key, cuid, nonce, nested, this.nonce()) : null;
    if (!answer) {
      this.lost();
      return false;
    }
    const aT = await this.link.transceive(answer.frame);
    if (!readerVerifyCard(answer.cipher, answer.nT, aT)) {
      this.lost();
      return false;
    }
    this.cipher = answer.cipher;
    return true;
  }

  /** Expects a 4-bit ACK; anything else ends the session. */
  private async acked(reply: Frame | null): Promise<boolean> {
    if (this.cipher && reply && reply.bits === 4 && decryptNibble(this.cipher, reply) === ACK) return true;
    this.lost();
    return false;
  }

  /** Sends an encrypted command (with CRC) in the open session. */
  private command(bytes: Bytes): Promise<Frame | null> {
    return this.link.transceive(encryptFrame(this.cipher!, withCrcA(bytes)));
  }

  async readBlock(block: number): Promise<Bytes | null> {
    if (!this.cipher) return null;
    const reply = await this.command(Uint8Array.of(CMD.read, block));
    if (!reply || reply.bits !== undefined || reply.data.length !== 18) {
      this.lost();
      return null;
    }
    const { data, parityOk } = decryptFrame(this.cipher, reply);
    if (!parityOk || !crcAValid(data)) {
      this.lost();
      return null;
    }
    return data.slice(0, 16);
  }

  async writeBlock(block: number, data: Bytes): Promise<boolean> {
    if (!this.cipher || data.length !== 16) return false;
    if (!(await this.acked(await this.command(Uint8Array.of(CMD.write, block))))) return false;
    return this.acked(await this.command(data));
  }

  /** INCREMENT, DECREMENT or RESTORE into the value register; a silent card means success. */
  async valueOperation(
    op: "increment" | "decrement" | "restore",
    block: number,
    operand = 0,
  ): Promise<boolean> {
    if (!this.cipher) return false;
    const cmd = op === "increment" ? CMD.increment : op === "decrement" ? CMD.decrement : CMD.restore;
    if (!(await this.acked(await this.command(Uint8Array.of(cmd, block))))) return false;
    const v = operand | 0;
    const reply = await this.command(
      Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff),
    );
    if (reply === null) return true;
    this.lost();
    return false;
  }

  async transfer(block: number): Promise<boolean> {
    if (!this.cipher) return false;
    return this.acked(await this.command(Uint8Array.of(CMD.transfer, block)));
  }

  async halt(): Promise<void> {
    if (this.card) await this.send(withCrcA(Uint8Array.of(CMD.halt, 0)));
    this.lost();
  }
}

// ---- reading a whole card with a dictionary ----

export interface SectorReport {
  index: number;
  /** The key that authenticated as key A / key B, or null when no key in the dictionary did. */
  keyA: Bytes | null;
  keyB: Bytes | null;
  /** Blocks of the sector whose content was read. */
  blocksRead: number;
  blocks: number;
}

export interface ReadReport {
  activation: Activation;
  /** The card as read: unread bytes are unknown; key A from the dictionary (a READ returns zeros). */
  card: MifareCard;
  sectors: SectorReport[];
}

export interface ReadError {
  code: "no_card";
  zh: string;
  en: string;
}

/**
 * Reads a card: every sector is tried with every key of the dictionary (default: the built-in well-known
 * keys), keys that opened earlier sectors first, as key A and as key B; the blocks are then read with the
 * key the access bits allow. A card that is not a MIFARE Classic (SAK without bit 0x08) is returned UID-only.
 */
export async function readCard(
  link: FrameLink,
  options: ReaderOptions & { keys?: readonly Bytes[] } = {},
): Promise<Result<ReadReport, ReadError>> {
  const reader = new ClassicReader(link, options);
  await link.fieldOn();
  const activation = await reader.activate();
  if (!activation) return err({ code: "no_card", zh: "感应区内没有卡片", en: "no card in the field" });
  const id = { uid: activation.uid, atqa: activation.atqa, sak: activation.sak };
  const type = typeFromSakAtqa(activation.sak, activation.atqa) ?? "1k";
  if ((activation.sak & 0x08) === 0) {
    await reader.halt();
    return ok({ activation, card: { ...id, type, memory: null }, sectors: [] });
  }
  const size = blockCount(type) * BLOCK_SIZE;
  const memory: CardMemory = { data: new Uint8Array(size), known: new Uint8Array(size) };
  const dictionary = dedupe(options.keys ?? BUILTIN_KEYS);
  const opened: Bytes[] = [];
  const sectors: SectorReport[] = [];

  const open = async (sector: number, keyType: KeyType, key: Bytes) => {
    if (!reader.selected && !(await reader.activate())) return false;
    return reader.authenticate(trailerOfSector(sector), keyType, key);
  };
  const findKey = async (sector: number, keyType: KeyType) => {
    for (const key of dedupe([...opened, ...dictionary])) {
      if (await open(sector, keyType, key)) {
        if (!opened.some((k) => equal(k, key))) opened.push(key);
        return key;
      }
    }
    return null;
  };

  for (let sector = 0; sector < sectorCount(type); sector++) {
    const first = firstBlockOfSector(sector);
    const n = blocksInSector(sector);
    const trailer = trailerOfSector(sector);
    const report: SectorReport = { index: sector, keyA: null, keyB: null, blocksRead: 0, blocks: n };
    const read = new Set<number>();
    const readWith = async (keyType: KeyType, key: Bytes) => {
      for (let b = first; b < first + n; b++) {
        if (read.has(b)) continue;
        if (!reader.authenticated && !(await open(sector, keyType, key))) return;
        const data = await reader.readBlock(b);
        if (!data) continue;
        read.add(b);
        if (b === trailer) storeTrailer(memory, sector, data, keyType);
        else setBlock(memory, b, data);
      }
    };
    report.keyA = await findKey(sector, "A");
    if (report.keyA) await readWith("A", report.keyA);
    report.keyB = await findKey(sector, "B");
    if (report.keyB) await readWith("B", report.keyB);
    if (report.keyA) setBlock(memory, trailer, report.keyA, 0);
    if (report.keyB) setBlock(memory, trailer, report.keyB, 10);
    report.blocksRead = read.size;
    sectors.push(report);
  }
  await reader.halt();
  return ok({ activation, card: { ...id, type, memory }, sectors });
}

/** Keeps what a trailer READ really reveals: access bits and GPB, and key B where it is readable. */
function storeTrailer(memory: CardMemory, sector: number, data: Bytes, keyType: KeyType): void {
  const trailer = trailerOfSector(sector);
  const ac = decodeAccessBits(data.subarray(6, 9));
  if (!ac) return;
  setBlock(memory, trailer, data.subarray(6, 10), 6);
  if (trailerAllowed(ac, "keyB", "read", keyType)) setBlock(memory, trailer, data.subarray(10, 16), 10);
}

function dedupe(keys: readonly Bytes[]): Bytes[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const h = toHex(k);
    if (seen.has(h)) return false;
    seen.add(h);
    return true;
  });
}
