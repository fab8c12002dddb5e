/**
 * The native side of the PC/SC transport: `@pokusew/pcsclite` (an optional dependency, a node-gyp addon over
 * libpcsclite) loaded on first use, the little of its API we use, and PC/SC error codes turned into ours.
 * Nothing here is imported statically, so the project builds, typechecks and runs without PC/SC installed.
 */
import { connect } from "node:net";
import { TapwalletError } from "../core/errors.js";

/** The parts of @pokusew/pcsclite's `CardReader` the transport uses. */
export interface NativeReader {
  name: string;
  connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_SHARE_DIRECT: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
  on(event: "status", listener: (status: { state: number; atr?: Buffer }) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  connect(
    options: { share_mode: number; protocol: number },
    cb: (err: Error | null, protocol: number) => void,
  ): void;
  disconnect(disposition: number, cb: (err: Error | null) => void): void;
  transmit(
    data: Buffer,
    resLen: number,
    protocol: number,
    cb: (err: Error | null, response: Buffer) => void,
  ): void;
  control(
    data: Buffer,
    code: number,
    resLen: number,
    cb: (err: Error | null, response: Buffer) => void,
  ): void;
  SCARD_CTL_CODE(code: number): number;
  close(): void;
}

export interface NativePcsc {
  on(event: "reader", listener: (reader: NativeReader) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  close(): void;
}

export type NativeFactory = () => NativePcsc;

const PACKAGE = "@pokusew/pcsclite";

const INSTALL_HINT = {
  zh: "请安装 PC/SC：sudo bash scripts/setup-pcsc.sh（或 apt install pcscd libpcsclite-dev），然后运行 npm rebuild @pokusew/pcsclite",
  en: "install PC/SC: sudo bash scripts/setup-pcsc.sh (or apt install pcscd libpcsclite-dev), then run npm rebuild @pokusew/pcsclite",
};

/** Loads the addon; without it, a `TapwalletError` that says what to install. */
export async function loadNativePcsc(moduleName: string = PACKAGE): Promise<NativeFactory> {
  let mod: { default?: unknown };
  try {
    mod = (await import(moduleName)) as { default?: unknown };
  } catch (e) {
    throw new TapwalletError(
      "pcsc_unavailable",
      `未能加载 PC/SC 模块 ${moduleName}。${INSTALL_HINT.zh}`,
      `cannot load the PC/SC module ${moduleName} (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); ${INSTALL_HINT.en}`,
    );
  }
  const factory = mod.default;
  if (typeof factory !== "function")
    throw new TapwalletError(
      "pcsc_unavailable",
      `${moduleName} 不是预期的模块`,
      `${moduleName} is not the expected module`,
    );
  return factory as NativeFactory;
}

/** Where pcsc-lite clients find pcscd (pcsc-lite's own override variable, else its compiled-in path). */
export function pcscdSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
}

/**
 * Checks that pcscd answers on its socket. This must come first: @pokusew/pcsclite retries
 * SCardEstablishContext in a busy loop on the main thread for as long as pcscd is not running.
 * Only on Linux; elsewhere the system's PC/SC service is always there.
 */
export function checkPcscdRunning(path = pcscdSocketPath(), platform = process.platform): Promise<void> {
  if (platform !== "linux") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve();
    });
    s.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        new TapwalletError(
          "pcscd_not_running",
          `PC/SC 服务 pcscd 未运行（${path}：${e.code ?? e.message}）。${INSTALL_HINT.zh}`,
          `the PC/SC service pcscd is not running (${path}: ${e.code ?? e.message}); ${INSTALL_HINT.en}`,
        ),
      );
    });
  });
}

/** PC/SC return codes the transport tells apart (winscard / pcsclite.h). */
const PcscCode = {
  E_CANCELLED: 0x80100002,
  E_UNKNOWN_READER: 0x80100009,
  E_TIMEOUT: 0x8010000a,
  E_SHARING_VIOLATION: 0x8010000b,
  E_NO_SMARTCARD: 0x8010000c,
  E_PROTO_MISMATCH: 0x8010000f,
  E_NOT_TRANSACTED: 0x80100016,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  E_COMM_DATA_LOST: 0x8010002f,
  W_UNSUPPORTED_CARD: 0x80100065,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_RESET_CARD: 0x80100068,
  W_REMOVED_CARD: 0x80100069,
} as const;

/** The PC/SC code in one of @pokusew/pcsclite's messages ("SCardTransmit error: …(0x80100016)"), or null. */
export function pcscCodeOf(error: unknown): number | null {
  const m = /\(0x([0-9a-fA-F]{8})\)/.exec(error instanceof Error ? error.message : String(error));
  return m ? parseInt(m[1]!, 16) : null;
}

/**
 * Codes that mean the card is no longer there for us: removed, mute, unpowered or reset behind our back,
 * the exchange broken off (vpcd's answer when the virtual card leaves mid-APDU), the reader gone.
 */
const GONE = new Set<number>([
  PcscCode.E_NO_SMARTCARD,
  PcscCode.E_NOT_TRANSACTED,
  PcscCode.E_COMM_DATA_LOST,
  PcscCode.E_READER_UNAVAILABLE,
  PcscCode.E_UNKNOWN_READER,
  PcscCode.W_UNRESPONSIVE_CARD,
  PcscCode.W_UNPOWERED_CARD,
  PcscCode.W_RESET_CARD,
  PcscCode.W_REMOVED_CARD,
]);

export function isCardGoneCode(code: number | null): boolean {
  return code !== null && GONE.has(code);
}

/** A PC/SC failure that is not the card leaving, as a user-facing error. */
export function pcscError(error: unknown, reader: string): TapwalletError {
  const code = pcscCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === PcscCode.E_NO_SERVICE || code === PcscCode.E_SERVICE_STOPPED)
    return new TapwalletError(
      "pcscd_not_running",
      `PC/SC 服务 pcscd 已停止。${INSTALL_HINT.zh}`,
      `pcscd stopped; ${INSTALL_HINT.en}`,
    );
  if (code === PcscCode.E_SHARING_VIOLATION)
    return new TapwalletError(
      "pcsc_reader_busy",
      `读卡器「${reader}」正被其他程序独占使用`,
      `reader "${reader}" is held exclusively by another application`,
    );
  return new TapwalletError(
    "pcsc_error",
    `PC/SC 错误（读卡器「${reader}」）：${message}`,
    `PC/SC error on "${reader}": ${message}`,
    {
      code,
    },
  );
}
