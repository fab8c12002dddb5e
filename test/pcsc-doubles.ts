/**
 * Test doubles for the PC/SC and vpcd tests (small cards whose every byte a test can state):
 * `PpseTestCard`, a small ISO 14443-4 card that answers SELECT PPSE and keeps a counter, and
 * `MemoryStorageCard`, a MIFARE Classic 1K/4K/Mini at the level of the PC/SC reader firmware; `IccLink`, a
 * `Link` straight onto a virtual ICC; `FakePcsc` and `FakeReader`, stand-ins for @pokusew/pcsclite;
 * `FakeVpcd`, vpcd's side of the vicc protocol.
 */
import { EventEmitter } from "node:events";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { type Bytes, ascii, concat, equal, fromHex, toHex } from "../src/core/bytes.js";
import { type Result, err, ok } from "../src/core/result.js";
import { tlv } from "../src/core/tlv.js";
import { type Activation, CardGoneError, type ContactlessCard, type Link } from "../src/nfc/link.js";
import type { VirtualIcc } from "../src/nfc/vpcd-icc.js";
import type { NativePcsc, NativeReader } from "../src/nfc/pcsc-native.js";
import { FrameDecoder, encodeFrame } from "../src/nfc/vpcd-protocol.js";
import { PPSE_NAME } from "../src/se/gp.js";
import type { MifareClassicVariant } from "../src/nfc/pcsc-atr.js";
import {
  MIFARE_BLOCK_SIZE,
  type MifareKeyType,
  type StorageCard,
  type StorageRefusal,
  isSectorTrailer,
  mifareBlockCount,
  mifareSectorOf,
} from "../src/nfc/pcsc-storage.js";

export const TEST_AID = fromHex("A000000333010101");
/** SELECT 2PAY.SYS.DDF01 with Le 00. */
export const SELECT_PPSE = concat(
  fromHex("00A40400"),
  Uint8Array.of(PPSE_NAME.length),
  PPSE_NAME,
  fromHex("00"),
);
const SELECT_TEST_AID = concat(fromHex("00A40400"), Uint8Array.of(TEST_AID.length), TEST_AID, fromHex("00"));
/** The PPSE FCI the test card answers: one UnionPay-style entry. */
export const PPSE_FCI = tlv(0x6f, [
  { tag: 0x84, value: PPSE_NAME },
  {
    tag: 0xa5,
    value: tlv(0xbf0c, [
      {
        tag: 0x61,
        value: concat(tlv(0x4f, TEST_AID), tlv(0x50, ascii("TEST CARD")), tlv(0x87, Uint8Array.of(1))),
      },
    ]),
  },
]);
/** INS of the test card's counter: each call adds one and answers the count (2 bytes). */
const INS_COUNT = 0x10;
/** INS that makes the test card call its `onUnplug` hook before answering (the bridge is stopped mid-APDU). */
export const INS_UNPLUG = 0xee;

export class PpseTestCard implements ContactlessCard {
  count = 0;
  activations = 0;
  deactivations = 0;
  onUnplug: () => void = () => {};
  readonly activationData: Activation = {
    uid: fromHex("04A1B2C3D4E5F6"),
    atqa: fromHex("0044"),
    sak: 0x20,
    // TL 06, T0 75 (TA TB TC present, FSCI 5), TA 77, TB 81, TC 02, one historical byte 80.
    ats: fromHex("067577810280"),
  };

  activate(): Activation {
    this.activations++;
    return this.activationData;
  }

  deactivate(): void {
    this.deactivations++;
  }

  process(command: Bytes): Bytes {
    if (equal(command, SELECT_PPSE)) return concat(PPSE_FCI, fromHex("9000"));
    if (equal(command, SELECT_TEST_AID))
      return concat(tlv(0x6f, [{ tag: 0x84, value: TEST_AID }]), fromHex("9000"));
    if (command.length >= 4 && command[0] === 0x80 && command[1] === INS_COUNT) {
      this.count++;
      return Uint8Array.of(this.count >> 8, this.count & 0xff, 0x90, 0x00);
    }
    if (command.length >= 4 && command[0] === 0x80 && command[1] === INS_UNPLUG) {
      this.onUnplug();
      return fromHex("9000");
    }
    return fromHex(command.length >= 2 && command[0] === 0x00 && command[1] === 0xa4 ? "6A82" : "6D00");
  }
}

/** Default transport-configuration trailer: key A FF…FF, access bits FF 07 80 69, key B FF…FF. */
const DEFAULT_TRAILER = fromHex("FFFFFFFFFFFF FF078069 FFFFFFFFFFFF");

/**
 * A MIFARE Classic as the reader firmware sees it. Each sector has key A and key B (default FF…FF); both
 * keys read and write data blocks and the trailer's key B, except that `readOnlySectors` refuse writes.
 * Reading a trailer shows key A as zeros, as the real chip does. Authentication holds for one sector.
 */
export class MemoryStorageCard implements StorageCard {
  readonly blocks: Bytes[];
  readonly readOnlySectors = new Set<number>();
  private authSector: number | null = null;
  active = false;
  authentications = 0;

  constructor(
    readonly variant: MifareClassicVariant = "1k",
    readonly uid: Bytes = fromHex("A1B2C3D4"),
  ) {
    this.blocks = Array.from({ length: mifareBlockCount(variant) }, (_, b) =>
      isSectorTrailer(b) ? DEFAULT_TRAILER.slice() : new Uint8Array(MIFARE_BLOCK_SIZE),
    );
    let bcc = 0;
    for (const x of uid) bcc ^= x;
    if (uid.length === 4)
      this.blocks[0] = concat(uid, Uint8Array.of(bcc, 0x08, 0x04, 0x00), fromHex("6263646566676869"));
  }

  private trailerOf(block: number): number {
    let t = block;
    while (!isSectorTrailer(t)) t++;
    return t;
  }

  /** Sets a sector's keys (key A, key B) in its trailer. */
  setKeys(sector: number, keyA: Bytes, keyB: Bytes): void {
    const first = sector < 32 ? sector * 4 : 128 + (sector - 32) * 16;
    const t = this.trailerOf(first);
    this.blocks[t] = concat(keyA, this.blocks[t]!.subarray(6, 10), keyB);
  }

  activate(): Activation {
    this.active = true;
    this.authSector = null;
    const sak = this.variant === "4k" ? 0x18 : this.variant === "mini" ? 0x09 : 0x08;
    return { uid: this.uid, atqa: Uint8Array.of(0x00, this.variant === "4k" ? 0x02 : 0x04), sak };
  }

  deactivate(): void {
    this.active = false;
    this.authSector = null;
  }

  authenticate(block: number, keyType: MifareKeyType, key: Bytes): boolean {
    this.authentications++;
    this.authSector = null;
    if (!this.active || block < 0 || block >= this.blocks.length) return false;
    const trailer = this.blocks[this.trailerOf(block)]!;
    const expected = keyType === "A" ? trailer.subarray(0, 6) : trailer.subarray(10, 16);
    if (!equal(expected, key)) return false;
    this.authSector = mifareSectorOf(block);
    return true;
  }

  private check(block: number): StorageRefusal | null {
    if (block < 0 || block >= this.blocks.length) return "out_of_range";
    if (!this.active || this.authSector !== mifareSectorOf(block)) return "not_authenticated";
    return null;
  }

  readBlock(block: number): Result<Bytes, StorageRefusal> {
    const refused = this.check(block);
    if (refused) return err(refused);
    const data = this.blocks[block]!.slice();
    if (isSectorTrailer(block)) data.fill(0, 0, 6);
    return ok(data);
  }

  updateBlock(block: number, data: Bytes): Result<void, StorageRefusal> {
    const refused = this.check(block);
    if (refused) return err(refused);
    if (data.length !== MIFARE_BLOCK_SIZE) return err("bad_length");
    if (block === 0 || this.readOnlySectors.has(mifareSectorOf(block))) return err("access_denied");
    this.blocks[block] = data.slice();
    return ok(undefined);
  }

  /** For test messages. */
  dump(block: number): string {
    return toHex(this.blocks[block]!);
  }
}

/** A `Link` straight onto a virtual ICC, as if vpcd and pcscd were not there (field on = power on). */
export class IccLink implements Link {
  activation: Activation | null = null;
  present = true;
  constructor(readonly icc: VirtualIcc) {
    icc.insert();
    icc.powerOff();
  }
  async fieldOn(): Promise<Activation> {
    if (!this.present) throw new CardGoneError();
    this.icc.powerOn();
    const uid = this.icc.transmit(fromHex("FFCA000000"));
    this.activation = { uid: uid.subarray(0, uid.length - 2), atqa: fromHex("0004"), sak: 0x08 };
    return this.activation;
  }
  async transceive(command: Bytes): Promise<Bytes> {
    if (!this.present || !this.activation) throw new CardGoneError();
    return this.icc.transmit(command);
  }
  async fieldOff(): Promise<void> {
    this.icc.powerOff();
    this.activation = null;
  }
}

// ---- stand-ins for @pokusew/pcsclite ----

export type Answer = { data?: string; error?: string; delayMs?: number };

/** Stands in for @pokusew/pcsclite's CardReader (constants as in pcsclite.h). */
export class FakeReader extends EventEmitter implements NativeReader {
  connected = false;
  readonly SCARD_SHARE_SHARED = 2;
  readonly SCARD_SHARE_EXCLUSIVE = 1;
  readonly SCARD_SHARE_DIRECT = 3;
  readonly SCARD_PROTOCOL_T0 = 1;
  readonly SCARD_PROTOCOL_T1 = 2;
  readonly SCARD_STATE_PRESENT = 0x20;
  readonly SCARD_STATE_MUTE = 0x200;
  readonly SCARD_LEAVE_CARD = 0;
  readonly SCARD_RESET_CARD = 1;
  readonly SCARD_UNPOWER_CARD = 2;
  sent: string[] = [];
  connectError: string | null = null;
  dispositions: number[] = [];
  closed = false;
  inFlight = 0;
  maxInFlight = 0;
  answer: (command: string) => Answer = () => ({ data: "9000" });

  constructor(readonly name: string) {
    super();
  }
  insert(atr: string): void {
    this.emit("status", { state: 0x20 | 0x02, atr: Buffer.from(fromHex(atr)) });
  }
  removeCard(): void {
    this.emit("status", { state: 0x10 | 0x02 });
  }
  connect(
    options: { share_mode: number; protocol: number },
    cb: (err: Error | null, protocol: number) => void,
  ): void {
    setImmediate(() => {
      if (this.connectError) return cb(new Error(this.connectError), 0);
      this.connected = true;
      cb(null, options.protocol & 2 ? 2 : 1);
    });
  }
  disconnect(disposition: number, cb: (err: Error | null) => void): void {
    this.dispositions.push(disposition);
    this.connected = false;
    setImmediate(() => cb(null));
  }
  transmit(data: Buffer, _len: number, _p: number, cb: (err: Error | null, response: Buffer) => void): void {
    const cmd = toHex(data);
    this.sent.push(cmd);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const a = this.answer(cmd);
    setTimeout(() => {
      this.inFlight--;
      if (a.error) cb(new Error(a.error), Buffer.alloc(0));
      else cb(null, Buffer.from(fromHex(a.data ?? "9000")));
    }, a.delayMs ?? 0);
  }
  control(_d: Buffer, _c: number, _l: number, cb: (err: Error | null, response: Buffer) => void): void {
    cb(null, Buffer.from([0x90, 0x00]));
  }
  SCARD_CTL_CODE(code: number): number {
    return 0x42000000 + code;
  }
  close(): void {
    this.closed = true;
    this.emit("end");
  }
}

export class FakePcsc extends EventEmitter implements NativePcsc {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

// ---- a stand-in for vpcd ----

/** Plays vpcd's side of the protocol: listens, takes the bridge's connection, sends requests. */
export class FakeVpcd {
  readonly server: Server;
  socket: Socket | null = null;
  private decoder = new FrameDecoder();
  private replies: Bytes[] = [];
  private wake: (() => void) | null = null;
  private connectionWaiters: (() => void)[] = [];
  closedByPeer = false;

  constructor() {
    this.server = createServer((s) => {
      this.socket = s;
      this.decoder = new FrameDecoder();
      this.closedByPeer = false;
      s.on("data", (chunk) => {
        this.replies.push(...this.decoder.push(chunk));
        this.wake?.();
      });
      s.on("close", () => {
        this.closedByPeer = true;
        this.wake?.();
      });
      for (const w of this.connectionWaiters.splice(0)) w();
    });
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  connection(): Promise<void> {
    return this.socket && !this.socket.destroyed
      ? Promise.resolve()
      : new Promise((r) => this.connectionWaiters.push(r));
  }

  /** Sends one message (split in single bytes when asked, to exercise reassembly). */
  send(payload: Bytes, bytewise = false): void {
    const frame = encodeFrame(payload);
    if (!bytewise) this.socket!.write(frame);
    else for (const b of frame) this.socket!.write(Uint8Array.of(b));
  }

  /** The next reply, or null when the bridge hangs up first. */
  async reply(): Promise<Bytes | null> {
    while (this.replies.length === 0) {
      if (this.closedByPeer) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return this.replies.shift()!;
  }

  async request(hex: string, bytewise = false): Promise<string | null> {
    this.send(fromHex(hex), bytewise);
    const r = await this.reply();
    return r && toHex(r);
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
