/**
 * What the vpcd bridge presents: a virtual ICC answering vpcd's power, reset, ATR and APDU requests. vpcd
 * passes APDUs through untouched and has no reader firmware, so the ICC also plays the contactless
 * reader's part: it makes up the PC/SC Part 3 ATR and answers the reader's own commands (CLA FF) that
 * PC/SC applications send to any contactless reader, starting with GET DATA (FF CA) for the UID.
 */
import { type Bytes, concat } from "../core/bytes.js";
import { parseCommand } from "../core/apdu.js";
import { SW } from "../core/sw.js";
import type { Activation, ContactlessCard } from "./link.js";
import { atrForActivation, contactlessAtr } from "./pcsc-atr.js";

export interface VirtualIcc {
  /** The card came into the field (the bridge connected to vpcd): the reader activates it. */
  insert(): void;
  /** The card left the field (the bridge stopped or lost vpcd). */
  remove(): void;
  /** The ATR PC/SC reports for the card now in the field. */
  atr(): Bytes;
  powerOff(): void;
  powerOn(): void;
  reset(): void;
  /** A command APDU in, a response APDU (data ‖ SW1 SW2) out. Never throws. */
  transmit(command: Bytes): Bytes;
}

export const sw = (code: number): Bytes => Uint8Array.of(code >> 8, code & 0xff);

/**
 * GET DATA (FF CA P1 00 Le), as a PC/SC contactless reader answers it: P1 00 = UID, P1 01 = ATS (6A 81 when
 * the card has none, as for MIFARE Classic). Le 00 or absent: the whole value; a shorter Le: 6C XX; a longer
 * Le: the value and 62 82 (end reached before Le bytes), as ACS readers answer.
 */
export function answerGetData(command: Bytes, activation: Activation): Bytes {
  const parsed = parseCommand(command);
  if (!parsed.ok) return sw(parsed.error.sw);
  const { p1, p2, data, ne } = parsed.value;
  if (data.length > 0) return sw(SW.WRONG_LENGTH);
  if (p2 !== 0x00) return sw(SW.WRONG_P1P2);
  const value = p1 === 0x00 ? activation.uid : p1 === 0x01 ? activation.ats : undefined;
  if (!value) return sw(SW.FUNCTION_NOT_SUPPORTED);
  if (ne === undefined || ne === 256) return concat(value, sw(SW.OK));
  if (ne < value.length) return sw(SW.WRONG_LE | value.length);
  if (ne > value.length) return concat(value, sw(SW.WARNING_EOF));
  return concat(value, sw(SW.OK));
}

/** Runs a card call that must not throw; a card that throws anyway answers 6F 00 rather than killing the bridge. */
function guarded(fn: () => Bytes): Bytes {
  try {
    return fn();
  } catch {
    return sw(SW.UNKNOWN);
  }
}

/**
 * A card in the field of a contactless reader, powered as vpcd asks: power off and reset map to the card's
 * `deactivate()`/`activate()`, and a command to an unpowered card powers it first (the field does). What the
 * card answers is the subclass's `answer`, which never sees a throw escape: `guarded`.
 */
export abstract class FieldIcc<
  C extends { activate(): Activation; deactivate(): void },
> implements VirtualIcc {
  protected activation: Activation | null = null;
  private powered = false;

  constructor(readonly card: C) {}

  protected activate(): void {
    if (this.powered) this.card.deactivate();
    this.activation = this.card.activate();
    this.powered = true;
  }

  insert(): void {
    this.activate();
  }

  remove(): void {
    this.powerOff();
  }

  abstract atr(): Bytes;

  powerOff(): void {
    if (this.powered) this.card.deactivate();
    this.powered = false;
  }

  /** A card already powered stays as it is (vpcd powers up on every SCardConnect). */
  powerOn(): void {
    if (!this.powered) this.activate();
  }

  reset(): void {
    this.activate();
  }

  transmit(command: Bytes): Bytes {
    return guarded(() => {
      if (!this.powered) this.activate();
      return this.answer(command, this.activation!);
    });
  }

  /** The answer of the powered card (and of the reader, for CLA FF) to `command`. */
  protected abstract answer(command: Bytes, activation: Activation): Bytes;
}

/**
 * An ISO/IEC 14443-4 card (the phone's SE, a replay card) in a contactless reader: ATR built from the ATS
 * historical bytes, reader commands FF CA answered by the "reader", everything else to the card.
 */
export class ContactlessIcc extends FieldIcc<ContactlessCard> {
  atr(): Bytes {
    return this.activation ? atrForActivation(this.activation) : contactlessAtr(new Uint8Array(0));
  }

  protected answer(command: Bytes, activation: Activation): Bytes {
    if (command[0] !== 0xff) return this.card.process(command);
    if (command[1] === 0xca) return answerGetData(command, activation);
    return sw(SW.FUNCTION_NOT_SUPPORTED);
  }
}

/**
 * One of several ICCs, chosen when the card comes into the field and again at each power-up (after a power
 * off, or a reset), as a phone's NFC controller decides per activation which of its cards answers: `choose`
 * names the one to present now. pcscd reads the ATR again at each power-up, so a client that reconnects sees
 * the new card.
 */
export class SelectingIcc implements VirtualIcc {
  private current: VirtualIcc;
  private powered = false;

  constructor(private readonly choose: () => VirtualIcc) {
    this.current = choose();
  }

  /** The ICC presented now. */
  get presented(): VirtualIcc {
    return this.current;
  }

  private reselect(): void {
    const next = this.choose();
    if (next === this.current) return;
    this.current.powerOff();
    this.current = next;
  }

  insert(): void {
    this.reselect();
    this.current.insert();
    this.powered = true;
  }

  remove(): void {
    this.current.remove();
    this.powered = false;
  }

  atr(): Bytes {
    return this.current.atr();
  }

  powerOff(): void {
    this.current.powerOff();
    this.powered = false;
  }

  powerOn(): void {
    if (!this.powered) this.reselect();
    this.current.powerOn();
    this.powered = true;
  }

  reset(): void {
    this.reselect();
    this.current.reset();
    this.powered = true;
  }

  transmit(command: Bytes): Bytes {
    if (!this.powered) this.powerOn();
    return this.current.transmit(command);
  }
}
