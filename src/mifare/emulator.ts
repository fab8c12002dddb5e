/**
 * An emulated MIFARE Classic card at frame level: what the phone presents to a door reader.
 *
 * States follow ISO/IEC 14443-3 (IDLE, READY per cascade level, ACTIVE, HALT) and the MIFARE Classic
 * command set (NXP MF1S50 §9–10; the listener state machines of Flipper mf_classic_listener.c, ChameleonMini
 * MifareClassic.c and proxmark3 armsrc/mifaresim.c were read for behaviour):
 *
 * - REQA wakes an IDLE card, WUPA an IDLE or HALTed one; either, received in any other state, sends the card
 *   back to sleep (IDLE, or HALT if it was woken from HALT), as does any frame a state does not expect.
 * - Anticollision (NVB 20, or whole known bytes) and SELECT over one or two cascade levels.
 * - AUTH A/B for a block of the card (first or nested); a wrong reader answer → silent and asleep. An unknown
 *   key (a dump without it) never authenticates.
 * - READ, WRITE (two parts), INCREMENT/DECREMENT/RESTORE (two parts, silent on success) and TRANSFER, each
 *   within the authenticated sector and as the access bits allow. READ of a trailer returns key A as zeros,
 *   and key B only where the access bits make it readable.
 * - Every refusal is a 4-bit NAK (encrypted once authenticated): 0x0 block outside the card or unknown
 *   command, 0x1 parity/CRC error, 0x4 not allowed; the card then sleeps, so the reader must select it again.
 * - Block 0 is never writable (the phone's UID is fixed), nor are access bits that would not decode (a real
 *   card would lock the sector for ever). The owner may close the card to writes altogether (`writable`).
 *
 * A UID-only card answers anticollision and SELECT and stays silent on AUTH. `handle` never throws.
 */
import { randomBytes } from "node:crypto";
import type { Bytes } from "../core/bytes.js";
import {
  type Frame,
  type FrameCard,
  crcAValid,
  hasPlainParity,
  isWellFormed,
  plainFrame,
  shortFrame,
  withCrcA,
} from "../nfc/frame.js";
import {
  type AccessConditions,
  type KeyType,
  dataAllowed,
  decodeAccessBits,
  groupOfBlock,
  trailerAllowed,
} from "./access.js";
import { cardNonce, cardVerifyReader, decryptFrame, encryptFrame, encryptNibble } from "./auth.js";
import { bcc, cuidOf } from "./block0.js";
import { type CardMemory, type MifareCard, blockData, blockKnown, cloneCard, setBlock } from "./card.js";
import type { Crypto1 } from "./crypto1.js";
import { blockCount, isTrailer, sectorOfBlock, trailerOfSector } from "./geometry.js";
import { decodeValueBlock, encodeValueBlock } from "./value.js";

export const ACK = 0xa;
export const NAK_INVALID = 0x0;
export const NAK_TRANSMISSION = 0x1;
export const NAK_NOT_ALLOWED = 0x4;

const REQA = 0x26;
export const WUPA = 0x52;
export const SEL = [0x93, 0x95, 0x97] as const;
export const CMD = {
  authA: 0x60,
  authB: 0x61,
  read: 0x30,
  write: 0xa0,
  decrement: 0xc0,
  increment: 0xc1,
  restore: 0xc2,
  transfer: 0xb0,
  halt: 0x50,
} as const;

export interface EmulatorOptions {
  /** Tag nonces, 32-bit; default from the system's CSPRNG. */
  nonce?: () => number;
  /** Called after every change a reader makes (WRITE, TRANSFER): a copy of the card image, and the block. */
  onChange?: (card: MifareCard, block: number) => void;
  /** Whether readers may change the card now (default always); when not, WRITE and TRANSFER get NAK 4. */
  writable?: () => boolean;
}

interface Session {
  cipher: Crypto1;
  sector: number;
  key: KeyType;
}

type State =
  | { kind: "off" | "idle" | "halt" | "active" }
  | { kind: "ready"; level: number }
  | { kind: "auth"; cipher: Crypto1; nT: number; sector: number; key: KeyType; keyKnown: boolean }
  | ({ kind: "authed" } & Session)
  | ({ kind: "write"; block: number } & Session)
  | ({ kind: "value"; block: number; op: "increment" | "decrement" | "restore" } & Session);

const defaultNonce = () => randomBytes(4).readUInt32BE(0);

/** The UID bytes (with BCC) answered at each cascade level: CT 88 + 3 bytes for all but the last, then 4. */
function cascadeLevels(uid: Bytes): Bytes[] {
  const out: Bytes[] = [];
  let rest = uid;
  while (rest.length > 4) {
    const cl = Uint8Array.of(0x88, rest[0]!, rest[1]!, rest[2]!);
    out.push(Uint8Array.of(...cl, bcc(cl)));
    rest = rest.subarray(3);
  }
  out.push(Uint8Array.of(...rest, bcc(rest)));
  return out;
}

export class EmulatedClassic implements FrameCard {
  private readonly card: MifareCard;
  private readonly levels: Bytes[];
  private readonly cuid: number;
  private readonly nonce: () => number;
  private state: State = { kind: "off" };
  private wokenFromHalt = false;
  /** The value register of INCREMENT/DECREMENT/RESTORE, for TRANSFER (lost with the authentication). */
  private register: { value: number; address: number } | null = null;

  constructor(
    card: MifareCard,
    private readonly options: EmulatorOptions = {},
  ) {
    this.card = cloneCard(card);
    this.levels = cascadeLevels(card.uid);
    this.cuid = cuidOf(card.uid);
    this.nonce = options.nonce ?? defaultNonce;
  }

  /** A copy of the card image as it is now (reader writes included). */
  image(): MifareCard {
    return cloneCard(this.card);
  }

  fieldOn(): void {
    this.state = { kind: "idle" };
    this.wokenFromHalt = false;
    this.register = null;
  }

  fieldOff(): void {
    this.state = { kind: "off" };
    this.register = null;
  }

  handle(frame: Frame): Frame | null {
    if (this.state.kind === "off" || !isWellFormed(frame)) return null;
    if (frame.bits !== undefined) return this.shortFrame(frame);
    switch (this.state.kind) {
      case "idle":
      case "halt":
        return null;
      case "ready":
        return this.anticollision(frame, this.state.level);
      case "active":
        return this.plainCommand(frame);
      case "auth":
        return this.authAnswer(frame, this.state);
      case "authed":
      case "write":
      case "value":
        return this.encrypted(frame, this.state);
    }
  }

  // ---- ISO/IEC 14443-3 ----

  private sleep(): null {
    this.state = { kind: this.wokenFromHalt ? "halt" : "idle" };
    this.register = null;
    return null;
  }

  private shortFrame(frame: Frame): Frame | null {
    const cmd = frame.bits === 7 ? frame.data[0]! : -1;
    const s = this.state.kind;
    if ((cmd === REQA && s === "idle") || (cmd === WUPA && (s === "idle" || s === "halt"))) {
      this.wokenFromHalt = s === "halt";
      this.state = { kind: "ready", level: 0 };
      return plainFrame(Uint8Array.of(this.card.atqa[1]!, this.card.atqa[0]!));
    }
    if (s === "idle" || s === "halt") return null;
    return this.sleep();
  }

  private anticollision(frame: Frame, level: number): Frame | null {
    const d = frame.data;
    if (!hasPlainParity(frame) || d.length < 2 || d[0] !== SEL[level]) return this.sleep();
    const cl = this.levels[level]!;
    const nvb = d[1]!;
    if (nvb === 0x70) {
      if (d.length !== 9 || !crcAValid(d)) return null;
      for (let i = 0; i < 5; i++) if (d[2 + i] !== cl[i]) return null;
      const last = level === this.levels.length - 1;
      this.state = last ? { kind: "active" } : { kind: "ready", level: level + 1 };
      return plainFrame(withCrcA(Uint8Array.of(last ? this.card.sak : 0x04)));
    }
    const known = (nvb >> 4) - 2;
    if ((nvb & 15) !== 0 || known < 0 || known > 4 || d.length !== known + 2) return null;
    for (let i = 0; i < known; i++) if (d[2 + i] !== cl[i]) return null;
    return plainFrame(cl.slice(known));
  }

  // ---- before authentication ----

  private plainCommand(frame: Frame): Frame | null {
    const d = frame.data;
    if (!hasPlainParity(frame) || !crcAValid(d)) return this.nak(NAK_TRANSMISSION, null);
    const cmd = d[0]!;
    if (d.length !== 4) return this.sleep();
    if (cmd === CMD.halt) return d[1] === 0 ? this.halt() : this.nak(NAK_INVALID, null);
    if (cmd === CMD.authA || cmd === CMD.authB)
      return this.startAuth(d[1]!, cmd === CMD.authA ? "A" : "B", null);
    if (cmd === CMD.read || cmd === CMD.write || cmd === CMD.transfer) return this.nak(NAK_NOT_ALLOWED, null);
    if (cmd === CMD.increment || cmd === CMD.decrement || cmd === CMD.restore)
      return this.nak(NAK_NOT_ALLOWED, null);
    return this.sleep();
  }

  private halt(): null {
    this.state = { kind: "halt" };
    this.wokenFromHalt = true;
    this.register = null;
    return null;
  }

  private nak(code: number, cipher: Crypto1 | null): Frame {
    const f = cipher ? encryptNibble(cipher, code) : shortFrame(code, 4);
    this.sleep();
    return f;
  }

  private ack(cipher: Crypto1): Frame {
    return encryptNibble(cipher, ACK);
  }

  private startAuth(block: number, key: KeyType, previous: Crypto1 | null): Frame | null {
    const m = this.card.memory;
    if (!m) return this.sleep();
    if (block >= blockCount(this.card.type)) return this.nak(NAK_INVALID, previous);
    const sector = sectorOfBlock(block);
    const t = trailerOfSector(sector);
    const [from, to] = key === "A" ? [0, 6] : [10, 16];
    const keyKnown = blockKnown(m, t, from, to);
    const nT = this.nonce() >>> 0;
    const { cipher, frame } = cardNonce(blockData(m, t).subarray(from, to), this.cuid, nT, previous !== null);
    this.state = { kind: "auth", cipher, nT, sector, key, keyKnown };
    this.register = null;
    return frame;
  }

  private authAnswer(frame: Frame, s: Extract<State, { kind: "auth" }>): Frame | null {
    const aT = s.keyKnown ? cardVerifyReader(s.cipher, s.nT, frame) : null;
    if (!aT) return this.sleep();
    this.state = { kind: "authed", cipher: s.cipher, sector: s.sector, key: s.key };
    return aT;
  }

  // ---- after authentication: everything encrypted ----

  private encrypted(frame: Frame, s: Extract<State, { kind: "authed" | "write" | "value" }>): Frame | null {
    const { data, parityOk } = decryptFrame(s.cipher, frame);
    if (!parityOk || !crcAValid(data)) return this.nak(NAK_TRANSMISSION, s.cipher);
    const body = data.subarray(0, data.length - 2);
    const session: Session = { cipher: s.cipher, sector: s.sector, key: s.key };
    if (s.kind === "write") return this.writeData(body, s.block, session);
    if (s.kind === "value") return this.valueOperand(body, s.block, s.op, session);
    return this.command(body, session);
  }

  private command(body: Bytes, s: Session): Frame | null {
    const m = this.card.memory!;
    const cmd = body[0]!;
    if (body.length !== 2) return this.nak(NAK_INVALID, s.cipher);
    const block = body[1]!;
    if (cmd === CMD.halt) return block === 0 ? this.halt() : this.nak(NAK_INVALID, s.cipher);
    if (cmd === CMD.authA || cmd === CMD.authB)
      return this.startAuth(block, cmd === CMD.authA ? "A" : "B", s.cipher);
    const known = [CMD.read, CMD.write, CMD.increment, CMD.decrement, CMD.restore, CMD.transfer] as number[];
    if (!known.includes(cmd) || block >= blockCount(this.card.type)) return this.nak(NAK_INVALID, s.cipher);
    const ac = this.conditions(m, s.sector);
    if (sectorOfBlock(block) !== s.sector || !ac) return this.nak(NAK_NOT_ALLOWED, s.cipher);
    const group = groupOfBlock(block);

    if (cmd === CMD.read) {
      const out = isTrailer(block) ? this.maskedTrailer(m, block, ac, s.key) : null;
      if (isTrailer(block) && !out) return this.nak(NAK_NOT_ALLOWED, s.cipher);
      if (!isTrailer(block) && !dataAllowed(ac, group, "read", s.key))
        return this.nak(NAK_NOT_ALLOWED, s.cipher);
      return encryptFrame(s.cipher, withCrcA(out ?? blockData(m, block)));
    }
    if ((cmd === CMD.write || cmd === CMD.transfer) && !(this.options.writable?.() ?? true))
      return this.nak(NAK_NOT_ALLOWED, s.cipher);
    if (cmd === CMD.write) {
      const allowed =
        block !== 0 &&
        (isTrailer(block)
          ? (["keyA", "access", "keyB"] as const).some((f) => trailerAllowed(ac, f, "write", s.key))
          : dataAllowed(ac, group, "write", s.key));
      if (!allowed) return this.nak(NAK_NOT_ALLOWED, s.cipher);
      this.state = { kind: "write", block, ...s };
      return this.ack(s.cipher);
    }
    if (isTrailer(block)) return this.nak(NAK_NOT_ALLOWED, s.cipher);
    if (cmd === CMD.transfer) {
      if (!this.register || block === 0 || !dataAllowed(ac, group, "decrement", s.key))
        return this.nak(NAK_NOT_ALLOWED, s.cipher);
      this.store(m, block, encodeValueBlock(this.register.value, this.register.address));
      return this.ack(s.cipher);
    }
    const op = cmd === CMD.increment ? "increment" : cmd === CMD.decrement ? "decrement" : "restore";
    const source = blockKnown(m, block) ? decodeValueBlock(blockData(m, block)) : null;
    if (!source || !dataAllowed(ac, group, op === "increment" ? "increment" : "decrement", s.key))
      return this.nak(NAK_NOT_ALLOWED, s.cipher);
    this.state = { kind: "value", block, op, ...s };
    return this.ack(s.cipher);
  }

  private conditions(m: CardMemory, sector: number): AccessConditions | null {
    const t = trailerOfSector(sector);
    return blockKnown(m, t, 6, 9) ? decodeAccessBits(blockData(m, t).subarray(6, 9)) : null;
  }

  /** A trailer as READ returns it: key A as zeros, access bits and key B only where readable; null if none is. */
  private maskedTrailer(m: CardMemory, block: number, ac: AccessConditions, key: KeyType): Bytes | null {
    const t = blockData(m, block);
    const out = new Uint8Array(16);
    const access = trailerAllowed(ac, "access", "read", key);
    const keyB = trailerAllowed(ac, "keyB", "read", key);
    if (!access && !keyB) return null;
    if (access) out.set(t.subarray(6, 10), 6);
    if (keyB) out.set(t.subarray(10, 16), 10);
    return out;
  }

  private writeData(body: Bytes, block: number, s: Session): Frame | null {
    const m = this.card.memory!;
    if (body.length !== 16) return this.nak(NAK_TRANSMISSION, s.cipher);
    this.state = { kind: "authed", ...s };
    if (!isTrailer(block)) {
      this.store(m, block, body);
      return this.ack(s.cipher);
    }
    const ac = this.conditions(m, s.sector)!;
    const next = blockData(m, block).slice();
    if (trailerAllowed(ac, "keyA", "write", s.key)) next.set(body.subarray(0, 6), 0);
    if (trailerAllowed(ac, "access", "write", s.key)) {
      if (!decodeAccessBits(body.subarray(6, 9))) return this.nak(NAK_NOT_ALLOWED, s.cipher);
      next.set(body.subarray(6, 10), 6);
    }
    if (trailerAllowed(ac, "keyB", "write", s.key)) next.set(body.subarray(10, 16), 10);
    this.store(m, block, next);
    return this.ack(s.cipher);
  }

  private valueOperand(
    body: Bytes,
    block: number,
    op: "increment" | "decrement" | "restore",
    s: Session,
  ): Frame | null {
    const m = this.card.memory!;
    if (body.length !== 4) return this.nak(NAK_TRANSMISSION, s.cipher);
    const source = decodeValueBlock(blockData(m, block))!;
    const operand = body[0]! | (body[1]! << 8) | (body[2]! << 16) | (body[3]! << 24);
    const value =
      op === "increment"
        ? (source.value + operand) | 0
        : op === "decrement"
          ? (source.value - operand) | 0
          : source.value;
    this.register = { value, address: source.address };
    this.state = { kind: "authed", ...s };
    return null;
  }

  private store(m: CardMemory, block: number, bytes: Bytes): void {
    setBlock(m, block, bytes);
    this.options.onChange?.(cloneCard(this.card), block);
  }
}
