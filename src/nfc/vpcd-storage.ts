/**
 * A MIFARE Classic storage card behind vpcd: the storage-card ATR, and the firmware of an ACR122U-style
 * reader answering the PC/SC pseudo-APDUs against a `StorageCard`. Status words are those ACS readers give:
 * 90 00, or 63 00 for any operation that failed (empty key slot, wrong key, block outside the authenticated
 * sector or the card, access bits); 6A 81 for an instruction the reader does not have; 6E 00 for a command
 * that is not a reader command (a storage card has no APDU interface; see docs/DECISIONS.md).
 */
import { type Bytes, concat } from "../core/bytes.js";
import { parseCommand } from "../core/apdu.js";
import { SW } from "../core/sw.js";
import type { Activation } from "./link.js";
import { MIFARE_CLASSIC_CARD_NAME, storageCardAtr } from "./pcsc-atr.js";
import {
  MIFARE_BLOCK_SIZE,
  MIFARE_KEY_SIZE,
  type MifareKeyType,
  type StorageCard,
  mifareBlockCount,
  mifareSectorOf,
} from "./pcsc-storage.js";
import { FieldIcc, answerGetData, sw } from "./vpcd-icc.js";

/** What a storage card answers to an APDU whose class is not FF. Change here if a reader model says otherwise. */
const STORAGE_CARD_NON_READER_COMMAND_SW = SW.CLA_NOT_SUPPORTED;
/** ACS readers' answer to every failed pseudo-APDU. */
const FAILED = SW.VERIFY_FAILED;
/** Volatile key slots of an ACR122U (ACR128-style non-volatile slots are not emulated). */
const KEY_SLOTS = 2;

export class StorageCardIcc extends FieldIcc<StorageCard> {
  /** The reader's volatile key memory: kept while the reader is plugged in, whatever the card does. */
  private readonly keys: (Bytes | null)[] = new Array<Bytes | null>(KEY_SLOTS).fill(null);
  /**
   * After a failed authentication the card is halted and the reader has lost it: every card operation fails
   * until the card is powered up or reset again (what clients see as "63 00 until reconnect").
   */
  private halted = false;

  protected override activate(): void {
    super.activate();
    this.halted = false;
  }

  override remove(): void {
    super.remove();
    this.keys.fill(null);
  }

  /** The variant is read each time: a card behind frames (mifare/storage-card.ts) learns it at activation. */
  atr(): Bytes {
    return storageCardAtr(MIFARE_CLASSIC_CARD_NAME[this.card.variant]);
  }

  protected answer(command: Bytes, activation: Activation): Bytes {
    if (command[0] !== 0xff) return sw(STORAGE_CARD_NON_READER_COMMAND_SW);
    switch (command[1]) {
      case 0xca:
        // No card answered the activation (a phone whose door card went silent): nothing to report.
        if (activation.uid.length === 0) return sw(FAILED);
        return answerGetData(command, activation);
      case 0x82:
        return this.loadKey(command);
      case 0x86:
        return this.authenticate(command);
      case 0x88:
        return this.authenticateObsolete(command);
      case 0xb0:
        return this.readBinary(command);
      case 0xd6:
        return this.updateBinary(command);
      default:
        return sw(SW.FUNCTION_NOT_SUPPORTED);
    }
  }

  /** FF 82 <00 = volatile> <slot> 06 <key>. */
  private loadKey(command: Bytes): Bytes {
    const c = parseCommand(command);
    if (!c.ok) return sw(FAILED);
    const { p1, p2, data, ne } = c.value;
    if (p1 !== 0x00 || p2 >= KEY_SLOTS || data.length !== MIFARE_KEY_SIZE || ne !== undefined)
      return sw(FAILED);
    this.keys[p2] = data.slice();
    return sw(SW.OK);
  }

  /** FF 86 00 00 05 <01 = version> <block MSB> <block LSB> <60 = A | 61 = B> <slot> (PC/SC 2.07). */
  private authenticate(command: Bytes): Bytes {
    const c = parseCommand(command);
    if (!c.ok) return sw(FAILED);
    const { p1, p2, data, ne } = c.value;
    if (p1 !== 0 || p2 !== 0 || data.length !== 5 || data[0] !== 0x01 || ne !== undefined) return sw(FAILED);
    return this.doAuthenticate((data[1]! << 8) | data[2]!, data[3]!, data[4]!);
  }

  /** FF 88 00 <block> <60 | 61> <slot>, the obsolete PC/SC 2.01 form. */
  private authenticateObsolete(command: Bytes): Bytes {
    // Not a well-formed ISO 7816 APDU (key type and slot sit where Lc and data would): read it raw.
    if (command.length !== 6 || command[2] !== 0x00) return sw(FAILED);
    return this.doAuthenticate(command[3]!, command[4]!, command[5]!);
  }

  private doAuthenticate(block: number, keyCode: number, slot: number): Bytes {
    const keyType: MifareKeyType | null = keyCode === 0x60 ? "A" : keyCode === 0x61 ? "B" : null;
    const key = slot < KEY_SLOTS ? this.keys[slot] : null;
    if (!keyType || !key || this.halted || block >= mifareBlockCount(this.card.variant)) return sw(FAILED);
    if (this.card.authenticate(block, keyType, key)) return sw(SW.OK);
    this.halted = true;
    return sw(FAILED);
  }

  /**
   * The blocks a read or update of `length` bytes at `block` covers: whole blocks within one sector of the
   * card (ACR122U itself takes 16 bytes; ACR1281-class readers take more, within a sector), else null.
   */
  private span(p1: number, block: number, length: number): number[] | null {
    if (this.halted || p1 !== 0 || length === 0 || length % MIFARE_BLOCK_SIZE !== 0) return null;
    const count = length / MIFARE_BLOCK_SIZE;
    const last = block + count - 1;
    if (last >= mifareBlockCount(this.card.variant) || mifareSectorOf(last) !== mifareSectorOf(block))
      return null;
    return Array.from({ length: count }, (_, i) => block + i);
  }

  /** FF B0 00 <block> <Le = 16 × n>. */
  private readBinary(command: Bytes): Bytes {
    const c = parseCommand(command);
    if (!c.ok || c.value.data.length > 0 || c.value.ne === undefined || c.value.ne > 0xff) return sw(FAILED);
    const blocks = this.span(c.value.p1, c.value.p2, c.value.ne);
    if (!blocks) return sw(FAILED);
    const parts: Bytes[] = [];
    for (const b of blocks) {
      const r = this.card.readBlock(b);
      if (!r.ok || r.value.length !== MIFARE_BLOCK_SIZE) return sw(FAILED);
      parts.push(r.value);
    }
    return concat(...parts, sw(SW.OK));
  }

  /** FF D6 00 <block> <Lc = 16 × n> <data>. */
  private updateBinary(command: Bytes): Bytes {
    const c = parseCommand(command);
    if (!c.ok || c.value.ne !== undefined) return sw(FAILED);
    const blocks = this.span(c.value.p1, c.value.p2, c.value.data.length);
    if (!blocks) return sw(FAILED);
    for (const [i, b] of blocks.entries()) {
      const chunk = c.value.data.slice(i * MIFARE_BLOCK_SIZE, (i + 1) * MIFARE_BLOCK_SIZE);
      if (!this.card.updateBlock(b, chunk).ok) return sw(FAILED);
    }
    return sw(SW.OK);
  }
}
