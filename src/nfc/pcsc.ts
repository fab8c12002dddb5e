/**
 * The PC/SC transport: terminals talk to a card in a real reader (ACR122U and other PC/SC readers) or in
 * vpcd's "Virtual PCD 00 00" through pcscd, using @pokusew/pcsclite (optional; loaded on first use).
 *
 *   const pcsc = await Pcsc.open();                       // clear zh/en error if PC/SC is missing
 *   const reader = await pcsc.waitForReader("ACR122");    // by name substring; undefined = the first
 *   await pcsc.waitForCard(reader);
 *   const link = pcsc.link(reader);                       // a `Link`: fieldOn / transceive / fieldOff
 *   …
 *   await pcsc.close();                                   // closes every reader, so the process can exit
 *
 * `Pcsc` emits reader-attached/-removed and card-inserted/-removed. A card that leaves mid-transaction (or
 * does not answer within the timeout) rejects `transceive` with `CardGoneError`.
 */
import { EventEmitter } from "node:events";
import { type Bytes, concat, toHex } from "../core/bytes.js";
import { parseResponse } from "../core/apdu.js";
import { TapwalletError } from "../core/errors.js";
import { SW } from "../core/sw.js";
import { type Activation, CardGoneError, type Link } from "./link.js";
import { parseContactlessAtr } from "./pcsc-atr.js";
import {
  type NativeFactory,
  type NativePcsc,
  type NativeReader,
  checkPcscdRunning,
  isCardGoneCode,
  loadNativePcsc,
  pcscCodeOf,
  pcscError,
} from "./pcsc-native.js";
import { pseudoApdu } from "./pcsc-storage.js";

export type PcscProtocol = "T0" | "T1" | "any";

export interface PcscLinkOptions {
  /** Protocol to negotiate: T=1 (contactless readers), T=0, or either (default). */
  protocol?: PcscProtocol;
  /** exclusive (default: no other application interleaves APDUs) or shared. */
  share?: "exclusive" | "shared";
  /** Per-APDU timeout in ms (default 5000); a card that does not answer in time counts as gone. */
  timeoutMs?: number;
  /** Ask the reader for UID and ATS with FF CA at field on (default true; false saves two round trips). */
  queryActivation?: boolean;
}

export interface PcscEvents {
  "reader-attached": [reader: string];
  "reader-removed": [reader: string];
  "card-inserted": [event: { reader: string; atr: Bytes }];
  "card-removed": [event: { reader: string }];
  /** A PC/SC error that concerns no call in progress (a reader's status watcher failed…). */
  warning: [error: TapwalletError];
}

interface ReaderState {
  native: NativeReader;
  present: boolean;
  atr: Bytes;
}

/** Largest response: 65,536 data bytes and SW1 SW2 (extended length). */
const MAX_RESPONSE = 65538;

export class Pcsc extends EventEmitter<PcscEvents> {
  private readonly readersByName = new Map<string, ReaderState>();
  private readonly links = new Set<PcscLink>();
  private closed = false;

  private constructor(private readonly native: NativePcsc) {
    super();
    native.on("error", (e) => this.emit("warning", pcscError(e, "")));
    native.on("reader", (r) => this.attach(r));
  }

  /**
   * Connects to pcscd. Rejects with a `TapwalletError` saying what to install when the addon or pcscd is
   * missing. `factory` replaces @pokusew/pcsclite (tests).
   */
  static async open(options: { factory?: NativeFactory; skipServiceCheck?: boolean } = {}): Promise<Pcsc> {
    const factory = options.factory ?? (await loadNativePcsc());
    if (!options.skipServiceCheck) await checkPcscdRunning();
    return new Pcsc(factory());
  }

  private attach(r: NativeReader): void {
    const state: ReaderState = { native: r, present: false, atr: new Uint8Array(0) };
    this.readersByName.set(r.name, state);
    r.on("error", (e) => this.emit("warning", pcscError(e, r.name)));
    r.on("status", ({ state: bits, atr }) => {
      const present = (bits & r.SCARD_STATE_PRESENT) !== 0 && (bits & r.SCARD_STATE_MUTE) === 0;
      if (present && !state.present) {
        state.present = true;
        state.atr = new Uint8Array(atr ?? []);
        this.emit("card-inserted", { reader: r.name, atr: state.atr });
      } else if (!present && state.present) {
        state.present = false;
        state.atr = new Uint8Array(0);
        this.emit("card-removed", { reader: r.name });
      }
    });
    r.on("end", () => {
      if (this.closed) return;
      this.readersByName.delete(r.name);
      if (state.present) this.emit("card-removed", { reader: r.name });
      this.emit("reader-removed", r.name);
    });
    this.emit("reader-attached", r.name);
  }

  /** Names of the readers attached now. */
  readers(): string[] {
    return [...this.readersByName.keys()];
  }

  /** The first reader whose name contains `substring` (case-insensitive), or the first reader; null if none. */
  findReader(substring?: string): string | null {
    const want = substring?.toLowerCase() ?? "";
    return this.readers().find((n) => n.toLowerCase().includes(want)) ?? null;
  }

  /** Whether a card is in the reader, as pcscd last reported. */
  cardPresent(reader: string): boolean {
    return this.readersByName.get(reader)?.present ?? false;
  }

  /** The ATR of the card in the reader (empty when none). */
  atr(reader: string): Bytes {
    return this.readersByName.get(reader)?.atr ?? new Uint8Array(0);
  }

  /** Waits for a reader whose name contains `substring` (pcscd lists readers shortly after start). */
  waitForReader(substring?: string, timeoutMs = 5000): Promise<string> {
    return this.waitFor(
      () => this.findReader(substring),
      "reader-attached",
      timeoutMs,
      () =>
        new TapwalletError(
          "pcsc_no_reader",
          `没有找到读卡器${substring ? `「${substring}」` : ""}（现有：${this.readers().join("、") || "无"}）`,
          `no PC/SC reader${substring ? ` matching "${substring}"` : ""} (present: ${this.readers().join(", ") || "none"})`,
        ),
    );
  }

  /**
   * Waits until a card is in `reader`; resolves with its ATR. `timeoutMs` null waits for ever; `signal`
   * gives up early (rejecting with the signal's reason).
   */
  waitForCard(reader: string, timeoutMs: number | null = 5000, signal?: AbortSignal): Promise<Bytes> {
    return this.waitFor(
      () => (this.cardPresent(reader) ? this.atr(reader) : null),
      "card-inserted",
      timeoutMs,
      () => new CardGoneError(`no card in "${reader}" after ${timeoutMs} ms`),
      signal,
    );
  }

  /** Waits until `reader` is empty. */
  waitForCardRemoved(reader: string, timeoutMs: number | null = 5000, signal?: AbortSignal): Promise<void> {
    return this.waitFor(
      () => (this.cardPresent(reader) ? null : true),
      "card-removed",
      timeoutMs,
      () =>
        new TapwalletError(
          "pcsc_card_still_present",
          `卡片仍在读卡器「${reader}」中`,
          `the card is still in "${reader}"`,
        ),
      signal,
    ).then(() => undefined);
  }

  private waitFor<T>(
    check: () => T | null,
    event: keyof PcscEvents,
    timeoutMs: number | null,
    onTimeout: () => Error,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const now = check();
    if (now !== null) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const listener = () => {
        const v = check();
        if (v === null) return;
        cleanup();
        resolve(v);
      };
      const timer =
        timeoutMs === null
          ? null
          : setTimeout(() => {
              cleanup();
              reject(onTimeout());
            }, timeoutMs);
      const abort = () => {
        cleanup();
        reject(signal!.reason as Error);
      };
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        this.off(event, listener);
        signal?.removeEventListener("abort", abort);
      };
      this.on(event, listener);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }

  /** A `Link` onto the card in `reader`. */
  link(reader: string, options: PcscLinkOptions = {}): PcscLink {
    const state = this.readersByName.get(reader);
    if (!state)
      throw new TapwalletError("pcsc_no_reader", `没有读卡器「${reader}」`, `no reader "${reader}"`);
    const atrOf = () => this.waitForCard(reader, 1000).catch(() => new Uint8Array(0));
    const link = new PcscLink(state.native, atrOf, options);
    this.links.add(link);
    return link;
  }

  /**
   * Disconnects every link and closes every reader and the context, so that nothing keeps the process alive
   * (@pokusew/pcsclite holds it open while any reader is open: santigimeno/node-pcsclite#70).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.links].map((l) => l.fieldOff().catch(() => undefined)));
    // Closing a reader takes its native mutex, which the addon holds while it delivers a status event, and
    // promise continuations of that event (a waitForCard… resolving) run before it lets go: a close()
    // from there would deadlock. A new macrotask is outside any such delivery.
    await new Promise((resolve) => setImmediate(resolve));
    for (const { native } of this.readersByName.values()) native.close();
    this.readersByName.clear();
    this.native.close(); // may emit a harmless "Command cancelled", which the error listener takes
  }
}

const DISPOSITION = {
  leave: "SCARD_LEAVE_CARD",
  reset: "SCARD_RESET_CARD",
  unpower: "SCARD_UNPOWER_CARD",
} as const;

/**
 * A `Link` over one PC/SC reader. Field on = SCardConnect (the reader powers and activates the card) plus
 * FF CA for UID and ATS; field off = SCardDisconnect with unpower. APDUs run one at a time.
 */
export class PcscLink implements Link {
  private current: Activation | null = null;
  private protocol = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Bumped whenever the connection ends, so a late native answer cannot revive it. */
  private session = 0;
  private atrBytes: Bytes = new Uint8Array(0);

  constructor(
    private readonly native: NativeReader,
    private readonly atrOf: () => Promise<Bytes>,
    private readonly options: PcscLinkOptions = {},
  ) {}

  get reader(): string {
    return this.native.name;
  }

  get activation(): Activation | null {
    return this.current;
  }

  /** The ATR of the connected card (empty while the field is off). */
  get atr(): Bytes {
    return this.atrBytes;
  }

  async fieldOn(): Promise<Activation> {
    if (this.current) return this.current;
    const r = this.native;
    const protocols = {
      T0: r.SCARD_PROTOCOL_T0,
      T1: r.SCARD_PROTOCOL_T1,
      any: r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1,
    };
    const share = this.options.share === "shared" ? r.SCARD_SHARE_SHARED : r.SCARD_SHARE_EXCLUSIVE;
    this.protocol = await new Promise<number>((resolve, reject) =>
      r.connect({ share_mode: share, protocol: protocols[this.options.protocol ?? "any"] }, (e, p) =>
        e ? reject(this.failure(e)) : resolve(p),
      ),
    );
    this.session++;
    const atr = await this.statusAtr();
    this.atrBytes = atr;
    this.current = await this.activationFor(atr);
    return this.current;
  }

  /** The ATR pcscd reported for the card (its status watcher may report it a moment after connect). */
  private statusAtr(): Promise<Bytes> {
    return this.atrOf();
  }

  private async activationFor(atr: Bytes): Promise<Activation> {
    const info = parseContactlessAtr(atr);
    let uid: Bytes = new Uint8Array(0);
    let ats: Bytes | undefined;
    if (this.options.queryActivation !== false && info.kind !== "other") {
      const u = parseResponse(await this.transceive(pseudoApdu.getUid()));
      if (u.ok && u.value.sw === SW.OK) uid = u.value.data;
      if (info.kind === "iso14443-4") {
        const a = parseResponse(await this.transceive(pseudoApdu.getAts()));
        if (a.ok && a.value.sw === SW.OK && a.value.data.length > 0) ats = a.value.data;
      }
    }
    // ATQA's top bits give the UID size (single, double, triple); SAK and ATQA are not in PC/SC: inferred.
    const sizeBits = uid.length === 7 ? 0x40 : uid.length === 10 ? 0x80 : 0x00;
    if (info.kind === "storage") {
      const sak = info.variant === "4k" ? 0x18 : info.variant === "mini" ? 0x09 : 0x08;
      return { uid, atqa: Uint8Array.of(0x00, sizeBits | (info.variant === "4k" ? 0x02 : 0x04)), sak };
    }
    if (info.kind === "iso14443-4") {
      // No ATS from the reader: rebuild one from the ATR's historical bytes (T0 = FSCI 8, no TA/TB/TC).
      ats ??= concat(Uint8Array.of(2 + info.historical.length, 0x08), info.historical);
      return { uid, atqa: Uint8Array.of(0x00, sizeBits | 0x04), sak: 0x20, ats };
    }
    return { uid, atqa: Uint8Array.of(0x00, 0x00), sak: 0x00 };
  }

  transceive(command: Bytes): Promise<Bytes> {
    const run = this.queue.then(() => this.transmitNow(command));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private transmitNow(command: Bytes): Promise<Bytes> {
    if (!this.native.connected) return Promise.reject(new CardGoneError(`not connected to "${this.reader}"`));
    const session = this.session;
    const timeoutMs = this.options.timeoutMs ?? 5000;
    return new Promise<Bytes>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The native call cannot be cancelled; this connection is over, a late answer is ignored.
        this.endSession();
        reject(new CardGoneError(`no answer within ${timeoutMs} ms on "${this.reader}"`));
      }, timeoutMs);
      this.native.transmit(Buffer.from(command), MAX_RESPONSE, this.protocol, (e, response) => {
        clearTimeout(timer);
        if (session !== this.session) return;
        if (e) return reject(this.failure(e));
        // No status word: no card answers that. vpcd reports the virtual card vanishing mid-APDU this way.
        if (response.length < 2) {
          this.endSession();
          return reject(
            new CardGoneError(`${this.reader}: response of ${response.length} bytes, no status word`),
          );
        }
        resolve(new Uint8Array(response));
      });
    });
  }

  /** Sends a reader control code (SCardControl), e.g. an ACR122U escape command. */
  control(code: number, data: Bytes, maxResponse = 258): Promise<Bytes> {
    return new Promise((resolve, reject) =>
      this.native.control(Buffer.from(data), code, maxResponse, (e, response) =>
        e ? reject(this.failure(e)) : resolve(new Uint8Array(response)),
      ),
    );
  }

  /** Maps a native error: the card leaving → `CardGoneError` (the connection is then over), else PC/SC error. */
  private failure(e: Error): Error {
    const code = pcscCodeOf(e);
    if (isCardGoneCode(code)) {
      this.endSession();
      return new CardGoneError(`${this.reader}: ${e.message}`);
    }
    return pcscError(e, this.reader);
  }

  private endSession(): void {
    this.session++;
    this.current = null;
    this.atrBytes = new Uint8Array(0);
    if (this.native.connected) this.native.disconnect(this.native[DISPOSITION.leave], () => undefined);
  }

  async fieldOff(disposition: keyof typeof DISPOSITION = "unpower"): Promise<void> {
    this.session++;
    this.current = null;
    this.atrBytes = new Uint8Array(0);
    await this.queue;
    if (this.native.connected)
      await new Promise<void>((resolve) =>
        this.native.disconnect(this.native[DISPOSITION[disposition]], () => resolve()),
      );
  }
}

/** For logs: "3B8180018080" → "3B 81 80 01 80 80". */
export function spacedHex(bytes: Bytes): string {
  return toHex(bytes).replace(/(..)(?!$)/g, "$1 ");
}

export interface OpenedPcscLink {
  pcsc: Pcsc;
  reader: string;
  link: PcscLink;
  /** Field off and `Pcsc.close()`: call it when done, or the process does not exit. */
  close(): Promise<void>;
}

/**
 * What a terminal command's `--pcsc [READER]` does: opens PC/SC, picks the reader whose name contains
 * `reader` (`true` or undefined: the first one), waits up to `cardTimeoutMs` for a card, and gives a `Link`.
 */
export async function openPcscLink(
  reader: string | boolean | undefined,
  options: PcscLinkOptions & {
    cardTimeoutMs?: number;
    factory?: NativeFactory;
    skipServiceCheck?: boolean;
  } = {},
): Promise<OpenedPcscLink> {
  const { cardTimeoutMs = 30_000, factory, skipServiceCheck, ...linkOptions } = options;
  const pcsc = await Pcsc.open({
    ...(factory ? { factory } : {}),
    ...(skipServiceCheck ? { skipServiceCheck } : {}),
  });
  try {
    const name = await pcsc.waitForReader(typeof reader === "string" ? reader : undefined);
    await pcsc.waitForCard(name, cardTimeoutMs);
    const link = pcsc.link(name, linkOptions);
    return {
      pcsc,
      reader: name,
      link,
      close: async () => {
        await link.fieldOff().catch(() => undefined);
        await pcsc.close();
      },
    };
  } catch (e) {
    await pcsc.close();
    throw e;
  }
}
