/**
 * MIFARE Classic through PC/SC: a storage card has no APDU interface of its own, so the reader's firmware
 * answers the PC/SC Part 3 pseudo-APDUs (CLA FF) and speaks Crypto1 to the card:
 *
 *   FF CA 00 00 00                      get UID
 *   FF 82 00 <slot> 06 <key>            load key into the reader's volatile slot 00/01
 *   FF 86 00 00 05 01 00 <blk> <60|61> <slot>   authenticate the block's sector with key A (60) or B (61)
 *   FF B0 00 <blk> 10                   read 16 bytes
 *   FF D6 00 <blk> 10 <16 bytes>        update 16 bytes
 *
 * This module holds both sides of that: `StorageCard`, the card as the vpcd bridge's reader firmware
 * (vpcd-storage.ts) drives it (the emulated MIFARE Classic implements it), and `PcscStorageCardLink`, the
 * API a MIFARE terminal uses over any `Link` (a real ACR122U through PC/SC, or the bridge).
 */
import { type Bytes, concat } from "../core/bytes.js";
import { parseResponse, swHex } from "../core/apdu.js";
import { type Result, err, ok } from "../core/result.js";
import { SW } from "../core/sw.js";
import type { Activation, Link } from "./link.js";
import type { MifareClassicVariant } from "./pcsc-atr.js";

export type MifareKeyType = "A" | "B";
const MIFARE_KEY_CODE: Record<MifareKeyType, number> = { A: 0x60, B: 0x61 };
export const MIFARE_BLOCK_SIZE = 16;
export const MIFARE_KEY_SIZE = 6;

/** Why a card refused a block operation (a reader answers all of them with 63 00). */
export type StorageRefusal = "not_authenticated" | "access_denied" | "out_of_range" | "bad_length";

/**
 * A MIFARE Classic card as a PC/SC reader's firmware sees it, after Crypto1. Synchronous, never throws.
 * Its UID comes with `activate()`; load key is the reader's business (key slots live in the firmware), so the
 * card is given the key itself when authenticating.
 */
export interface StorageCard {
  readonly variant: MifareClassicVariant;
  /** Field on: anticollision and select. No sector is authenticated afterwards. */
  activate(): Activation;
  /** Field off: the authentication state is lost. */
  deactivate(): void;
  /**
   * Three-pass authentication of the sector holding `block` with key A or B. On failure the card drops any
   * earlier authentication.
   */
  authenticate(block: number, keyType: MifareKeyType, key: Bytes): boolean;
  /** 16 bytes of `block`, within the authenticated sector and as its access bits allow (key A reads as 00s). */
  readBlock(block: number): Result<Bytes, StorageRefusal>;
  /** Writes 16 bytes to `block` under the same rules. */
  updateBlock(block: number, data: Bytes): Result<void, StorageRefusal>;
}

/** Number of blocks: Mini 5 sectors × 4, 1K 16 × 4, 4K 32 × 4 + 8 × 16. */
export function mifareBlockCount(variant: MifareClassicVariant): number {
  return variant === "mini" ? 20 : variant === "1k" ? 64 : 256;
}

/** Sector of a block: 4 blocks a sector up to block 127, 16 blocks a sector from 128 (4K). */
export function mifareSectorOf(block: number): number {
  return block < 128 ? block >> 2 : 32 + ((block - 128) >> 4);
}

/** True for the last block of a sector (the trailer with keys and access bits). */
export function isSectorTrailer(block: number): boolean {
  return block < 128 ? (block & 3) === 3 : ((block - 128) & 15) === 15;
}

// ---- the pseudo-APDUs ----

const fixedLength = (bytes: Bytes, n: number, what: string) => {
  if (bytes.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${bytes.length}`);
};
const checkBlock = (block: number) => {
  if (!Number.isInteger(block) || block < 0 || block > 0xff)
    throw new RangeError(`block ${block} outside 0–255`);
};
const checkSlot = (slot: number) => {
  if (slot !== 0 && slot !== 1)
    throw new RangeError(`key slot ${slot}: an ACR122U-style reader has slots 0 and 1`);
};

export const pseudoApdu = {
  getUid: (): Bytes => Uint8Array.of(0xff, 0xca, 0x00, 0x00, 0x00),
  getAts: (): Bytes => Uint8Array.of(0xff, 0xca, 0x01, 0x00, 0x00),
  loadKey(slot: number, key: Bytes): Bytes {
    checkSlot(slot);
    fixedLength(key, MIFARE_KEY_SIZE, "a MIFARE key");
    return concat(Uint8Array.of(0xff, 0x82, 0x00, slot, MIFARE_KEY_SIZE), key);
  },
  authenticate(block: number, keyType: MifareKeyType, slot: number): Bytes {
    checkBlock(block);
    checkSlot(slot);
    return Uint8Array.of(0xff, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, MIFARE_KEY_CODE[keyType], slot);
  },
  readBinary(block: number, length = MIFARE_BLOCK_SIZE): Bytes {
    checkBlock(block);
    if (!Number.isInteger(length) || length < 1 || length > 0xff)
      throw new RangeError(`read length ${length}`);
    return Uint8Array.of(0xff, 0xb0, 0x00, block, length);
  },
  updateBinary(block: number, data: Bytes): Bytes {
    checkBlock(block);
    if (data.length < 1 || data.length > 0xff) throw new RangeError(`update of ${data.length} bytes`);
    return concat(Uint8Array.of(0xff, 0xd6, 0x00, block, data.length), data);
  },
};

/** A pseudo-APDU the reader refused: its status word (63 00 for a failed operation on ACS readers). */
export interface StorageCardFailure {
  sw: number;
  /** English, for logs: what was being done. */
  operation: string;
}

/**
 * A MIFARE terminal's view of a storage card through a PC/SC reader. Every method sends pseudo-APDUs over
 * the given `Link` (call `link.fieldOn()` first). Refusals come back as results; a card that left the field
 * rejects with `CardGoneError` as the link does. After a failed authentication a real card halts: call
 * `reactivate()` before trying another key.
 */
export class PcscStorageCardLink {
  constructor(readonly link: Link) {}

  private async exchange(command: Bytes, operation: string): Promise<Result<Bytes, StorageCardFailure>> {
    const parsed = parseResponse(await this.link.transceive(command));
    if (!parsed.ok) return err({ sw: SW.UNKNOWN, operation: `${operation}: ${parsed.error}` });
    if (parsed.value.sw !== SW.OK) return err({ sw: parsed.value.sw, operation });
    return ok(parsed.value.data);
  }

  /** The card's UID (FF CA 00 00 00). */
  getUid(): Promise<Result<Bytes, StorageCardFailure>> {
    return this.exchange(pseudoApdu.getUid(), "get UID");
  }

  async loadKey(slot: number, key: Bytes): Promise<Result<void, StorageCardFailure>> {
    const r = await this.exchange(pseudoApdu.loadKey(slot, key), `load key into slot ${slot}`);
    return r.ok ? ok(undefined) : r;
  }

  async authenticate(
    block: number,
    keyType: MifareKeyType,
    slot: number,
  ): Promise<Result<void, StorageCardFailure>> {
    const r = await this.exchange(
      pseudoApdu.authenticate(block, keyType, slot),
      `authenticate block ${block} with key ${keyType}`,
    );
    return r.ok ? ok(undefined) : r;
  }

  /** Loads `key` into slot 0 and authenticates `block`'s sector with it. */
  async authenticateWithKey(
    block: number,
    keyType: MifareKeyType,
    key: Bytes,
  ): Promise<Result<void, StorageCardFailure>> {
    const loaded = await this.loadKey(0, key);
    return loaded.ok ? this.authenticate(block, keyType, 0) : loaded;
  }

  async readBlock(block: number): Promise<Result<Bytes, StorageCardFailure>> {
    const r = await this.exchange(pseudoApdu.readBinary(block), `read block ${block}`);
    if (r.ok && r.value.length !== MIFARE_BLOCK_SIZE)
      return err({ sw: SW.UNKNOWN, operation: `read block ${block}: ${r.value.length} bytes instead of 16` });
    return r;
  }

  async updateBlock(block: number, data: Bytes): Promise<Result<void, StorageCardFailure>> {
    fixedLength(data, MIFARE_BLOCK_SIZE, "a MIFARE block");
    const r = await this.exchange(pseudoApdu.updateBinary(block, data), `update block ${block}`);
    return r.ok ? ok(undefined) : r;
  }

  /** Field off and on again: the card wakes up unauthenticated (needed after a failed authentication). */
  async reactivate(): Promise<Activation> {
    await this.link.fieldOff();
    return this.link.fieldOn();
  }
}

/** "63 00 (verification failed) during read block 4", for messages. */
export function describeFailure(f: StorageCardFailure): string {
  return `${swHex(f.sw)} during ${f.operation}`;
}
