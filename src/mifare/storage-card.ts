/**
 * MIFARE Classic through PC/SC, both ways:
 *
 * - `FrameStorageCard`: an emulated MIFARE Classic (`EmulatedClassic`, or the phone's door card as
 *   `doorFieldCard(se)` presents it) as the `StorageCard` the vpcd bridge's reader firmware drives. It plays
 *   the reader chip of an ACR122U (the PN53x): WUPA, anticollision and SELECT, Crypto1 authentication, READ
 *   and the two-part WRITE, at frame level, synchronously. `doorStorageCard(se)` is the phone's door card so.
 * - `phoneFieldIcc(se)`: what the phone puts into vpcd's reader: the storage-card ATR and pseudo-APDUs
 *   while a door card is the active one, otherwise the SE as an ISO 14443-4 card.
 * - `PcscClassicReader`: the other way round, a door reader's `ClassicSession` over the PC/SC pseudo-APDUs of
 *   any reader that does Crypto1 itself (a real ACR122U, or the bridge), so `DoorReader` works over PC/SC.
 */
import { randomBytes } from "node:crypto";
import type { Bytes } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import {
  type Frame,
  type FrameCard,
  crcAValid,
  hasPlainParity,
  plainFrame,
  shortFrame,
  withCrcA,
} from "../nfc/frame.js";
import type { Activation, Link } from "../nfc/link.js";
import type { MifareClassicVariant } from "../nfc/pcsc-atr.js";
import {
  MIFARE_BLOCK_SIZE,
  type MifareKeyType,
  PcscStorageCardLink,
  type StorageCard,
  type StorageRefusal,
} from "../nfc/pcsc-storage.js";
import { ContactlessIcc, SelectingIcc, type VirtualIcc } from "../nfc/vpcd-icc.js";
import { StorageCardIcc } from "../nfc/vpcd-storage.js";
import type { SecureElement } from "../se/secure-element.js";
import { decryptFrame, decryptNibble, encryptFrame, readerAnswer, readerVerifyCard } from "./auth.js";
import { bcc, cuidOf } from "./block0.js";
import { typeFromSakAtqa } from "./card.js";
import type { Crypto1 } from "./crypto1.js";
import type { ClassicSession } from "./door-reader.js";
import { ACK, CMD, SEL, WUPA } from "./emulator.js";
import { blockCount, sectorOfBlock } from "./geometry.js";
import { doorFieldCard } from "./phone.js";

/** What a field with no MIFARE Classic answering reports: no UID (the ICC answers 63 00 to FF CA). */
const MUTE: Activation = { uid: new Uint8Array(0), atqa: Uint8Array.of(0, 0), sak: 0 };

interface ChipSession {
  cipher: Crypto1;
  sector: number;
}

/**
 * A frame-level MIFARE Classic as a PC/SC reader's firmware sees it. After a refusal the card sleeps; the
 * next authentication wakes and selects it again (WUPA), as a reader re-polls. Never throws.
 */
export class FrameStorageCard implements StorageCard {
  private id: Activation | null = null;
  private session: ChipSession | null = null;
  private type: MifareClassicVariant;
  private readonly nonce: () => number;

  constructor(
    private readonly card: FrameCard,
    options: { readerNonce?: () => number; variant?: MifareClassicVariant } = {},
  ) {
    this.nonce = options.readerNonce ?? (() => randomBytes(4).readUInt32BE(0));
    this.type = options.variant ?? "1k";
  }

  /** The variant of the card last activated (from its SAK and ATQA); 1K until one answers. */
  get variant(): MifareClassicVariant {
    return this.type;
  }

  activate(): Activation {
    this.card.fieldOff();
    this.card.fieldOn();
    const id = this.select();
    if (!id) return MUTE;
    this.type = typeFromSakAtqa(id.sak, id.atqa) ?? this.type;
    return id;
  }

  deactivate(): void {
    this.card.fieldOff();
    this.id = null;
    this.session = null;
  }

  /** WUPA, anticollision and SELECT over the cascade levels; null when no MIFARE Classic answers. */
  private select(): Activation | null {
    this.id = null;
    this.session = null;
    const atqa = this.card.handle(shortFrame(WUPA, 7)) ?? this.card.handle(shortFrame(WUPA, 7));
    if (!atqa || atqa.data.length !== 2 || !hasPlainParity(atqa)) return null;
    const uid: number[] = [];
    for (const sel of SEL) {
      const cl = this.card.handle(plainFrame(Uint8Array.of(sel, 0x20)));
      if (!cl || cl.data.length !== 5 || !hasPlainParity(cl) || bcc(cl.data.subarray(0, 4)) !== cl.data[4])
        return null;
      const sak = this.card.handle(plainFrame(withCrcA(Uint8Array.of(sel, 0x70, ...cl.data))));
      if (!sak || sak.data.length !== 3 || !hasPlainParity(sak) || !crcAValid(sak.data)) return null;
      if (sak.data[0]! & 0x04) {
        if (cl.data[0] !== 0x88) return null;
        uid.push(...cl.data.subarray(1, 4));
        continue;
      }
      uid.push(...cl.data.subarray(0, 4));
      if ((sak.data[0]! & 0x08) === 0) return null; // not a MIFARE Classic
      this.id = {
        uid: Uint8Array.from(uid),
        atqa: Uint8Array.of(atqa.data[1]!, atqa.data[0]!),
        sak: sak.data[0]!,
      };
      return this.id;
    }
    return null;
  }

  private lost(): void {
    this.session = null;
    this.id = null;
  }

  private send(s: ChipSession, plain: Bytes): Frame | null {
    return this.card.handle(encryptFrame(s.cipher, withCrcA(plain)));
  }

  private acked(s: ChipSession, reply: Frame | null): boolean {
    if (reply && reply.bits === 4 && decryptNibble(s.cipher, reply) === ACK) return true;
    this.lost();
    return false;
  }

  authenticate(block: number, keyType: MifareKeyType, key: Bytes): boolean {
    if (block >= blockCount(this.type) || key.length !== 6) return false;
    if (!this.id && !this.select()) return false;
    const id = this.id!;
    const previous = this.session;
    const command = withCrcA(Uint8Array.of(keyType === "A" ? CMD.authA : CMD.authB, block));
    const nonce = this.card.handle(previous ? encryptFrame(previous.cipher, command) : plainFrame(command));
    this.session = null;
    const answer =
      nonce && nonce.bits === undefined
        ? readerAnswer(key, cuidOf(id.uid), nonce, previous !== null, this.nonce() >>> 0)
        : null;
    if (!answer || !readerVerifyCard(answer.cipher, answer.nT, this.card.handle(answer.frame))) {
      this.lost();
      return false;
    }
    this.session = { cipher: answer.cipher, sector: sectorOfBlock(block) };
    return true;
  }

  private check(block: number): Result<ChipSession, StorageRefusal> {
    if (block >= blockCount(this.type)) return err("out_of_range");
    const s = this.session;
    if (!s || sectorOfBlock(block) !== s.sector) return err("not_authenticated");
    return ok(s);
  }

  readBlock(block: number): Result<Bytes, StorageRefusal> {
    const c = this.check(block);
    if (!c.ok) return c;
    const reply = this.send(c.value, Uint8Array.of(CMD.read, block));
    if (!reply || reply.bits !== undefined || reply.data.length !== MIFARE_BLOCK_SIZE + 2) {
      this.lost(); // a NAK: the access bits refuse (the card now sleeps)
      return err("access_denied");
    }
    const { data, parityOk } = decryptFrame(c.value.cipher, reply);
    if (!parityOk || !crcAValid(data)) {
      this.lost();
      return err("access_denied");
    }
    return ok(data.slice(0, MIFARE_BLOCK_SIZE));
  }

  updateBlock(block: number, data: Bytes): Result<void, StorageRefusal> {
    if (data.length !== MIFARE_BLOCK_SIZE) return err("bad_length");
    const c = this.check(block);
    if (!c.ok) return c;
    if (!this.acked(c.value, this.send(c.value, Uint8Array.of(CMD.write, block))))
      return err("access_denied");
    if (!this.acked(c.value, this.send(c.value, data))) return err("access_denied");
    return ok(undefined);
  }
}

/** The phone's active door card as a storage card (silent, hence every operation refused, when none is). */
export function doorStorageCard(
  se: SecureElement,
  options: { readerNonce?: () => number } = {},
): StorageCard {
  return new FrameStorageCard(doorFieldCard(se), options);
}

/**
 * The phone in a PC/SC reader: decided each time the phone comes into the field (and at each power-up), as
 * the phone's NFC controller routes the field — the active door card (MIFARE Classic, storage-card ATR) when
 * the SE has one activated for the field, otherwise the SE's ISO 14443-4 applications (bank and transit
 * cards). `isDoorMode` replaces that rule (e.g. a phone that lets the user pick per tap).
 */
export function phoneFieldIcc(
  se: SecureElement,
  options: { isDoorMode?: () => boolean; readerNonce?: () => number } = {},
): SelectingIcc {
  const iso: VirtualIcc = new ContactlessIcc(se);
  const door: VirtualIcc = new StorageCardIcc(doorStorageCard(se, options));
  const isDoor = options.isDoorMode ?? (() => se.registry.activeAccessInstance() !== null);
  return new SelectingIcc(() => (isDoor() ? door : iso));
}

/**
 * A door reader's chip over PC/SC: the reader (ACR122U-style) has activated the card at SCardConnect and does
 * Crypto1 itself; the session sends the pseudo-APDUs. There is no HALT pseudo-APDU: the tap ends with
 * SCardDisconnect. A card that leaves rejects with `CardGoneError`.
 */
export class PcscClassicReader implements ClassicSession {
  private readonly mfc: PcscStorageCardLink;
  /** A failed authentication halts the card: the next one needs it powered up again. */
  private halted = false;

  constructor(private readonly link: Link) {
    this.mfc = new PcscStorageCardLink(link);
  }

  async activate(): Promise<Activation | null> {
    const a = this.link.activation ?? (await this.link.fieldOn());
    return a.uid.length > 0 ? a : null;
  }

  async authenticate(block: number, keyType: MifareKeyType, key: Bytes): Promise<boolean> {
    if (this.halted) await this.mfc.reactivate();
    const r = await this.mfc.authenticateWithKey(block, keyType, key);
    this.halted = !r.ok;
    return r.ok;
  }

  async readBlock(block: number): Promise<Bytes | null> {
    const r = await this.mfc.readBlock(block);
    return r.ok ? r.value : null;
  }

  async halt(): Promise<void> {}
}
