/**
 * The field below APDUs: ISO/IEC 14443-3 type A frames at 106 kbit/s, as a MIFARE Classic reader and card
 * exchange them. A frame carries its data bytes, the parity bit sent after each byte (explicitly, because
 * Crypto1 encrypts parity), or, for a short frame (7-bit REQA/WUPA, 4-bit ACK/NAK), its bit count.
 *
 * `FrameCard` is a card as a frame-level transport presents it (synchronous, never throws; `null` = the
 * card stays silent). `FrameLink` is what a reader talks through; `MemoryFrameLink` puts a `FrameCard` behind
 * one and can record a trace.
 */
import { type Bytes, toHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { crcA } from "./airtime.js";

export interface Frame {
  /** Data bytes, first sent first. A short frame holds its bits in the low bits of `data[0]`. */
  readonly data: Bytes;
  /** Bit count of a short frame (1–7); absent for a frame of whole bytes. */
  readonly bits?: number;
  /** The parity bit (0 or 1) sent after each data byte; empty for a short frame. */
  readonly parity: Uint8Array;
}

/** Odd parity of a byte: 1 when the byte has an even number of one bits. */
export function oddParity(byte: number): number {
  let v = byte & 0xff;
  v ^= v >> 4;
  v ^= v >> 2;
  v ^= v >> 1;
  return (v & 1) ^ 1;
}

/** A frame of whole bytes with standard (odd, plaintext) parity. */
export function plainFrame(data: Bytes): Frame {
  const parity = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) parity[i] = oddParity(data[i]!);
  return { data, parity };
}

/** A short frame of `bits` bits (REQA = `shortFrame(0x26, 7)`, ACK = `shortFrame(0xA, 4)`). */
export function shortFrame(value: number, bits: number): Frame {
  if (!Number.isInteger(bits) || bits < 1 || bits > 7)
    throw new RangeError(`a short frame has 1–7 bits, not ${bits}`);
  return { data: Uint8Array.of(value & ((1 << bits) - 1)), bits, parity: new Uint8Array(0) };
}

/** True when a frame is well formed: a short frame has one byte, a full frame one parity bit per byte. */
export function isWellFormed(frame: Frame): boolean {
  if (frame.bits !== undefined)
    return (
      Number.isInteger(frame.bits) &&
      frame.bits >= 1 &&
      frame.bits <= 7 &&
      frame.data.length === 1 &&
      frame.data[0]! >> frame.bits === 0 &&
      frame.parity.length === 0
    );
  return (
    frame.data.length > 0 && frame.parity.length === frame.data.length && frame.parity.every((p) => p <= 1)
  );
}

/** True when every parity bit of a full frame is the odd parity of its byte (a plaintext frame). */
export function hasPlainParity(frame: Frame): boolean {
  if (frame.parity.length !== frame.data.length) return false;
  for (let i = 0; i < frame.data.length; i++) if (frame.parity[i] !== oddParity(frame.data[i]!)) return false;
  return true;
}

/** Bits on air between start of frame and end of frame: a short frame's bits, or 9 per byte (with parity). */
export function frameBits(frame: Frame): number {
  return frame.bits ?? frame.data.length * 9;
}

// ---- CRC_A (ISO/IEC 14443-3 annex B), from the air-time model ----

export { crcA };

export function withCrcA(data: Bytes): Bytes {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out.set(crcA(data), data.length);
  return out;
}

/** True when the last two bytes are the CRC_A of the rest. */
export function crcAValid(data: Bytes): boolean {
  if (data.length < 3) return false;
  const c = crcA(data.subarray(0, data.length - 2));
  return c[0] === data[data.length - 2] && c[1] === data[data.length - 1];
}

// ---- card and link ----

/** A card at frame level. Synchronous; never throws; `null` means the card stays silent. */
export interface FrameCard {
  /** The field came on: the card powers up in its idle state. */
  fieldOn(): void;
  handle(frame: Frame): Frame | null;
  /** The field went off: all transient state (selection, authentication) is lost. */
  fieldOff(): void;
}

/** What a frame-level reader talks through. */
export interface FrameLink {
  fieldOn(): Promise<void>;
  /** Sends a frame; resolves with the card's answer, or `null` if none came before the timeout. */
  transceive(frame: Frame): Promise<Frame | null>;
  fieldOff(): Promise<void>;
}

export interface FrameTraceEntry {
  from: "reader" | "card";
  frame: Frame;
}

/** A card in memory behind a frame link; `card` null = an empty field. Records a trace when asked. */
export class MemoryFrameLink implements FrameLink {
  private on = false;
  readonly trace: FrameTraceEntry[] = [];

  constructor(
    private card: FrameCard | null,
    private readonly options: { trace?: boolean } = {},
  ) {}

  /** Takes the current card out of the field and puts another (or none) in. */
  present(card: FrameCard | null): void {
    if (this.on) this.card?.fieldOff();
    this.card = card;
    if (this.on) this.card?.fieldOn();
  }

  async fieldOn(): Promise<void> {
    if (!this.on) this.card?.fieldOn();
    this.on = true;
  }

  async transceive(frame: Frame): Promise<Frame | null> {
    if (!this.on) throw new TapwalletError("field_off", "感应场未打开", "the field is off");
    if (this.options.trace) this.trace.push({ from: "reader", frame });
    const answer = this.card ? this.card.handle(frame) : null;
    if (answer && this.options.trace) this.trace.push({ from: "card", frame: answer });
    return answer;
  }

  async fieldOff(): Promise<void> {
    if (this.on) this.card?.fieldOff();
    this.on = false;
  }
}

/**
 * A frame as a proxmark3 trace prints it: hex bytes, `!` after a byte whose parity bit is not the odd parity
 * of the byte on air (an encrypted parity bit that differs), and `(n)` after a short frame's bits.
 */
export function formatFrame(frame: Frame): string {
  if (frame.bits !== undefined) return `${toHex(frame.data)}(${frame.bits})`;
  const out: string[] = [];
  for (let i = 0; i < frame.data.length; i++) {
    const b = toHex(frame.data.subarray(i, i + 1));
    out.push(frame.parity[i] === oddParity(frame.data[i]!) ? b : `${b}!`);
  }
  return out.join(" ");
}
