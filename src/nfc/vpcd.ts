/**
 * The vpcd bridge: puts a card of ours (the phone's SE, a replay card, an emulated MIFARE Classic) into the
 * PC/SC reader "Virtual PCD 00 00" that vsmartcard's vpcd driver gives pcscd, so that any PC/SC
 * application (pcsc_scan, scriptor, opensc-tool, pyscard, our own PC/SC transport) can talk to it.
 *
 * The bridge is the virtual ICC (vicc) client: it connects to vpcd (default 127.0.0.1:35963), answers the
 * framed protocol (vpcd-protocol.ts) and presents the card through a `VirtualIcc` (vpcd-icc.ts,
 * vpcd-storage.ts). Connecting is inserting the card; `stop()` is pulling it out, at any moment, including
 * while vpcd waits for a response. While started it reconnects whenever vpcd goes away (pcscd restarted).
 *
 * Latency: each message goes out in one write with TCP_NODELAY set. The stock Debian vpcd 0.8 still adds
 * about 40 ms per APDU on its own side (docs/PCSC.md); scripts/setup-pcsc.sh loads our shim that fixes it.
 */
import { EventEmitter } from "node:events";
import { type Socket, connect } from "node:net";
import type { Bytes } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import type { ContactlessCard } from "./link.js";
import type { StorageCard } from "./pcsc-storage.js";
import { ContactlessIcc, type VirtualIcc } from "./vpcd-icc.js";
import {
  FrameDecoder,
  VPCD_DEFAULT_HOST,
  VPCD_DEFAULT_PORT,
  classifyMessage,
  encodeFrame,
  parseVpcdAddress,
} from "./vpcd-protocol.js";
import { StorageCardIcc } from "./vpcd-storage.js";

export interface VpcdBridgeOptions {
  host?: string;
  port?: number;
  /** Keep (re)connecting while started (default true); false: `start()` rejects if vpcd is not there. */
  reconnect?: boolean;
  /**
   * `start()` rejects (and the bridge stops) when vpcd is not there at the first attempt; once connected, the
   * bridge reconnects as usual. What a command wants: a clear error at once, then riding out pcscd restarts.
   */
  failIfAbsent?: boolean;
  /** First retry delay; it doubles up to `maxRetryDelayMs` (defaults 50 ms and 1 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Sees every message in and out, for traces. */
  trace?: (event: VpcdTraceEvent) => void;
}

export type VpcdTraceEvent =
  | { dir: "in"; kind: "power-off" | "power-on" | "reset" | "get-atr" | "unknown"; payload: Bytes }
  | { dir: "in"; kind: "apdu"; payload: Bytes }
  | { dir: "out"; kind: "atr" | "rapdu"; payload: Bytes };

/** The right virtual ICC for a card: the storage-card reader firmware for MIFARE Classic, else ISO 14443-4. */
function iccFor(card: ContactlessCard | StorageCard | VirtualIcc): VirtualIcc {
  if ("transmit" in card) return card;
  if ("process" in card) return new ContactlessIcc(card);
  return new StorageCardIcc(card);
}

export class VpcdBridge extends EventEmitter<{ connected: []; disconnected: [] }> {
  readonly icc: VirtualIcc;
  readonly host: string;
  readonly port: number;
  private readonly options: VpcdBridgeOptions;
  private socket: Socket | null = null;
  private started = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private readonly decoder = new FrameDecoder();
  /** Whether this start() has reached vpcd once. */
  private reached = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(card: ContactlessCard | StorageCard | VirtualIcc, options: VpcdBridgeOptions = {}) {
    super();
    this.icc = iccFor(card);
    this.options = options;
    this.host = options.host ?? VPCD_DEFAULT_HOST;
    this.port = options.port ?? VPCD_DEFAULT_PORT;
    this.retryDelay = options.retryDelayMs ?? 50;
  }

  /** True while the card is in the reader (connected to vpcd). */
  get connected(): boolean {
    return this.socket !== null && !this.socket.connecting && !this.socket.destroyed;
  }

  /** Plugs the card in: resolves once vpcd has accepted the connection. */
  start(): Promise<void> {
    if (this.connected) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    p.catch(() => {}); // a caller that does not wait for the connection must not see an unhandled rejection
    if (!this.started) {
      this.started = true;
      this.reached = false;
      this.retryDelay = this.options.retryDelayMs ?? 50;
      this.dial();
    }
    return p;
  }

  /** Pulls the card out now, whatever vpcd is waiting for; no reconnect until `start()` again. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.settle(new TapwalletError("vpcd_stopped", "虚拟读卡器连接已停止", "the vpcd bridge was stopped"));
    const s = this.socket;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
    s.destroy();
    await closed;
  }

  private settle(error?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters)
      if (error) w.reject(error);
      else w.resolve();
  }

  private dial(): void {
    const s = connect({ host: this.host, port: this.port });
    this.socket = s;
    s.setNoDelay(true);
    let inserted = false;
    s.on("connect", () => {
      if (this.socket !== s) return;
      this.retryDelay = this.options.retryDelayMs ?? 50;
      this.decoder.reset();
      this.icc.insert();
      inserted = true;
      this.reached = true;
      this.emit("connected");
      this.settle();
    });
    s.on("data", (chunk: Buffer) => this.receive(s, chunk));
    s.on("error", (e) => {
      const giveUp =
        this.options.reconnect === false || (this.options.failIfAbsent === true && !this.reached);
      if (giveUp && !inserted) {
        this.started = false;
        this.settle(
          new TapwalletError(
            "vpcd_unreachable",
            `无法连接虚拟读卡器 vpcd（${this.host}:${this.port}）：${e.message}；请先运行 sudo bash scripts/setup-pcsc.sh`,
            `cannot reach vpcd at ${this.host}:${this.port}: ${e.message}; run sudo bash scripts/setup-pcsc.sh first`,
          ),
        );
      }
    });
    s.on("close", () => {
      if (this.socket === s) this.socket = null;
      if (inserted) {
        this.icc.remove();
        this.emit("disconnected");
      }
      if (this.started && this.options.reconnect !== false) this.scheduleRetry();
      else this.started = false;
    });
  }

  private scheduleRetry(): void {
    const delay = this.retryDelay;
    this.retryDelay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? 1000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.started) this.dial();
    }, delay);
  }

  private receive(s: Socket, chunk: Buffer): void {
    for (const payload of this.decoder.push(chunk)) {
      // stop() may run inside the card (or between two messages of one chunk): answer nothing after it.
      if (this.socket !== s || s.destroyed) return;
      const reply = this.handle(payload);
      if (reply && this.socket === s && !s.destroyed) s.write(encodeFrame(reply));
    }
  }

  private handle(payload: Bytes): Bytes | null {
    const msg = classifyMessage(payload);
    const trace = this.options.trace;
    trace?.({ dir: "in", kind: msg.kind, payload });
    switch (msg.kind) {
      case "power-off":
        this.icc.powerOff();
        return null;
      case "power-on":
        this.icc.powerOn();
        return null;
      case "reset":
        this.icc.reset();
        return null;
      case "get-atr": {
        const atr = this.icc.atr();
        trace?.({ dir: "out", kind: "atr", payload: atr });
        return atr;
      }
      case "apdu": {
        const r = this.icc.transmit(msg.command);
        trace?.({ dir: "out", kind: "rapdu", payload: r });
        return r;
      }
      case "unknown":
        return null;
    }
  }
}

/**
 * What `--vpcd [HOST:PORT]` does: parses the address (a bad one is a `TapwalletError`), presents `card` and
 * resolves once vpcd has it. The bridge keeps reconnecting until `stop()`.
 */
export async function startVpcdBridge(
  card: ContactlessCard | StorageCard | VirtualIcc,
  address: string | boolean | undefined,
  options: Omit<VpcdBridgeOptions, "host" | "port"> = {},
): Promise<VpcdBridge> {
  const parsed = parseVpcdAddress(typeof address === "string" ? address : undefined);
  if (!parsed.ok)
    throw new TapwalletError(
      "vpcd_bad_address",
      `vpcd 地址无效：${parsed.error}`,
      `bad vpcd address: ${parsed.error}`,
    );
  const bridge = new VpcdBridge(card, { ...options, ...parsed.value });
  await bridge.start();
  return bridge;
}
