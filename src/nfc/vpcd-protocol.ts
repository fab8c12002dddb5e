/**
 * The wire protocol between vsmartcard's vpcd (a pcsc-lite reader driver inside pcscd) and a virtual ICC
 * (vicc): TCP, every message in both directions is a 2-byte big-endian length followed by that many bytes.
 * From vpcd, a 1-byte message is a control byte (power off/on, reset: no reply; get ATR: the ATR is the
 * reply); a longer one is a command APDU, answered by the response APDU.
 */
import type { Bytes } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";

/** vpcd's default port (0x8C7B, `CHANNELID` in /etc/reader.conf.d/vpcd); slot 1 listens on the next one. */
export const VPCD_DEFAULT_PORT = 35963;
export const VPCD_DEFAULT_HOST = "127.0.0.1";
/** The PC/SC reader name of vpcd's first slot (the second is "Virtual PCD 00 01"). */
export const VPCD_READER_NAME = "Virtual PCD 00 00";

/** The PC/SC reader of vpcd's slot on `port` (the default port is slot 0, the next one slot 1…). */
export function vpcdReaderName(port: number = VPCD_DEFAULT_PORT): string {
  return `Virtual PCD 00 ${String(port - VPCD_DEFAULT_PORT).padStart(2, "0")}`;
}

const VpcdControl = {
  POWER_OFF: 0x00,
  POWER_ON: 0x01,
  RESET: 0x02,
  GET_ATR: 0x04,
} as const;

/** The largest payload a 2-byte length can carry. */
const VPCD_MAX_PAYLOAD = 0xffff;

/** One message as one buffer: length and payload go out in a single write (see docs/PCSC.md, Nagle). */
export function encodeFrame(payload: Bytes): Buffer {
  if (payload.length > VPCD_MAX_PAYLOAD)
    throw new RangeError(`vpcd payload of ${payload.length} bytes exceeds 65535`);
  const out = Buffer.allocUnsafe(2 + payload.length);
  out.writeUInt16BE(payload.length, 0);
  out.set(payload, 2);
  return out;
}

/** What vpcd asked for. */
export type VpcdMessage =
  | { kind: "power-off" }
  | { kind: "power-on" }
  | { kind: "reset" }
  | { kind: "get-atr" }
  | { kind: "apdu"; command: Bytes }
  /** A 1-byte message that is none of the control bytes, or an empty one: answered with nothing. */
  | { kind: "unknown"; payload: Bytes };

export function classifyMessage(payload: Bytes): VpcdMessage {
  if (payload.length > 1) return { kind: "apdu", command: payload };
  if (payload.length === 1) {
    switch (payload[0]) {
      case VpcdControl.POWER_OFF:
        return { kind: "power-off" };
      case VpcdControl.POWER_ON:
        return { kind: "power-on" };
      case VpcdControl.RESET:
        return { kind: "reset" };
      case VpcdControl.GET_ATR:
        return { kind: "get-atr" };
    }
  }
  return { kind: "unknown", payload };
}

/**
 * Reassembles messages from TCP chunks, however the stream is split. Holds at most one partial message
 * (≤ 65,537 bytes), so a peer cannot make it grow without bound.
 */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns every message now complete, in order. */
  push(chunk: Uint8Array): Bytes[] {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const out: Bytes[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= 2) {
      const len = this.buffer.readUInt16BE(offset);
      if (this.buffer.length - offset - 2 < len) break;
      out.push(new Uint8Array(this.buffer.subarray(offset + 2, offset + 2 + len)));
      offset += 2 + len;
    }
    this.buffer = offset === 0 ? this.buffer : Buffer.from(this.buffer.subarray(offset));
    return out;
  }

  /** Bytes received that do not yet form a whole message (a message cut off when the peer left). */
  get pending(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}

export interface VpcdAddress {
  host: string;
  port: number;
}

/**
 * Parses `HOST:PORT`, `HOST`, `:PORT` or `PORT` (IPv6 as `[::1]:35963`); missing parts take the defaults
 * 127.0.0.1 and 35963.
 */
export function parseVpcdAddress(text: string | undefined): Result<VpcdAddress> {
  const s = (text ?? "").trim();
  if (s === "") return ok({ host: VPCD_DEFAULT_HOST, port: VPCD_DEFAULT_PORT });
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (/^\d+$/.test(s)) {
    host = VPCD_DEFAULT_HOST;
    portText = s;
  } else {
    const colon = s.lastIndexOf(":");
    if (colon >= 0 && s.indexOf(":") !== colon) return err(`"${s}": write an IPv6 address as [addr]:port`);
    host = colon >= 0 ? s.slice(0, colon) : s;
    portText = colon >= 0 ? s.slice(colon + 1) : undefined;
  }
  if (host === "") host = VPCD_DEFAULT_HOST;
  if (!/^[A-Za-z0-9.\-:]+$/.test(host)) return err(`"${host}" is not a host name or address`);
  if (portText === undefined || portText === "") return ok({ host, port: VPCD_DEFAULT_PORT });
  if (!/^\d{1,5}$/.test(portText)) return err(`"${portText}" is not a port number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) return err(`port ${port} is outside 1–65535`);
  return ok({ host, port });
}
