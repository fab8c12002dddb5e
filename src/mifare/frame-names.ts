/**
 * A MIFARE Classic frame trace in words: each frame of a `MemoryFrameLink` trace named as a protocol
 * analyser names it (ISO/IEC 14443-3 activation, the Classic commands of NXP MF1S50 §9, the three-pass
 * authentication). After an authentication the frames are encrypted with Crypto1 and cannot be read on the
 * air; they are named by their place in the exchange and their length. Never throws.
 */
import { toHex } from "../core/bytes.js";
import type { Bilingual } from "../core/text.js";
import { type Frame, type FrameTraceEntry, formatFrame } from "../nfc/frame.js";

export interface DecodedFrame {
  index: number;
  from: "reader" | "card";
  /** The frame as proxmark3 prints it (`!` after an encrypted parity bit that differs from odd parity). */
  hex: string;
  /** Bits on the air without start, parity and end bits. */
  bits: number;
  name: Bilingual;
  encrypted: boolean;
}

const W = (zh: string, en: string): Bilingual => ({ zh, en });
const CASCADE: Record<number, number> = { 0x93: 1, 0x95: 2, 0x97: 3 };
const CLASSIC: Record<number, [string, string]> = {
  0x30: ["读块", "READ"],
  0xa0: ["写块", "WRITE"],
  0xc0: ["减值", "DECREMENT"],
  0xc1: ["增值", "INCREMENT"],
  0xc2: ["恢复", "RESTORE"],
  0xb0: ["传送", "TRANSFER"],
};

// The three frames of an authentication after AUTH: with them a trace gives the key away (mfkey64).
const CARD_NONCE = W("卡片随机数 nT", "card nonce nT");
const READER_ANSWER = W("读卡器应答 {nR}{aR}", "reader answer {nR}{aR}");
const CARD_ANSWER = W("卡片应答 {aT}", "card answer {aT}");
// A nested authentication's nT comes encrypted: told apart by its length (four whole bytes after an
// encrypted command; a READ answers 18 bytes, WRITE and value operations a 4-bit ACK/NAK). Whoever knows the
// first sector's key (a default one, often) decrypts it, and then its three frames give the next key away.
const NESTED_CARD_NONCE = W("加密卡片随机数 nT（嵌套认证）", "encrypted card nonce nT (nested)");
const AUTHENTICATION_NONCES = new Set([
  CARD_NONCE.en,
  NESTED_CARD_NONCE.en,
  READER_ANSWER.en,
  CARD_ANSWER.en,
]);

/** True for nT, {nR}{aR} and {aT}: the frames from which the sector key can be computed offline. */
export const isAuthenticationNonce = (f: DecodedFrame): boolean => AUTHENTICATION_NONCES.has(f.name.en);

/** How a frame whose bytes are not shown is written: `??` per byte. */
export const HIDDEN_BYTE = "??";

/** A decoded frame as it may leave the process (a trace file, the simulator's timeline, the CLI's output). */
export interface ShownFrame extends DecodedFrame {
  /** Its bytes are not shown: `hex` is `??` per byte; name, bits and air time stay. */
  hidden: boolean;
}

/** `frame` with its bytes written as `??` (its length kept). */
export const hideFrame = (f: DecodedFrame): ShownFrame => ({
  ...f,
  hex: Array.from({ length: Math.ceil(f.bits / 8) }, () => HIDDEN_BYTE).join(" "),
  hidden: true,
});

/**
 * The one rule for showing a MIFARE Classic trace anywhere: every authentication's nT, {nR}{aR} and {aT} is
 * hidden (mfkey64 computes the sector key from them in seconds); every other frame is shown as decoded.
 */
export const redactAuthenticationNonces = (frames: readonly DecodedFrame[]): ShownFrame[] =>
  frames.map((f) => (isAuthenticationNonce(f) ? hideFrame(f) : { ...f, hidden: false }));

type Expect = "atqa" | "uid" | "sak" | "nt" | "at" | "answer" | null;

/** Names each frame of a trace, keeping the little state the naming needs (what the card answers next). */
export function decodeFrames(trace: readonly FrameTraceEntry[]): DecodedFrame[] {
  let encrypted = false;
  let expect: Expect = null;
  let cascade = 1;
  return trace.map((entry, index) => {
    const { from, frame } = entry;
    const bits = frame.bits ?? frame.data.length * 8;
    const base = { index, from, hex: formatFrame(frame), bits };
    if (from === "reader") {
      const r = nameReaderFrame(frame, encrypted, expect);
      expect = r.expect;
      if (r.cascade) cascade = r.cascade;
      if (r.endsCrypto) encrypted = false;
      return { ...base, name: r.name, encrypted: r.encrypted };
    }
    const c = nameCardFrame(frame, expect, cascade, encrypted);
    if (c.startsCrypto) encrypted = true;
    expect = c.next;
    return { ...base, name: c.name, encrypted: c.encrypted };
  });
}

function nameReaderFrame(
  f: Frame,
  encrypted: boolean,
  expect: Expect,
): { name: Bilingual; expect: Expect; encrypted: boolean; cascade?: number; endsCrypto?: boolean } {
  const d = f.data;
  if (f.bits === 7) {
    if (d[0] === 0x26)
      return { name: W("REQA 寻卡", "REQA"), expect: "atqa", encrypted: false, endsCrypto: true };
    if (d[0] === 0x52)
      return { name: W("WUPA 唤醒", "WUPA"), expect: "atqa", encrypted: false, endsCrypto: true };
  }
  if (expect === "at" && d.length === 8) return { name: READER_ANSWER, expect: "at", encrypted: true };
  if (encrypted) {
    if (d.length === 4)
      return { name: W("加密命令", "encrypted command"), expect: "answer", encrypted: true };
    if (d.length === 18)
      return { name: W("加密数据块", "encrypted block data"), expect: "answer", encrypted: true };
    return { name: W("加密帧", "encrypted frame"), expect: "answer", encrypted: true };
  }
  const c = CASCADE[d[0] ?? -1];
  if (c !== undefined && d[1] === 0x20)
    return {
      name: W(`防冲突 第 ${c} 级`, `ANTICOLLISION CL${c}`),
      expect: "uid",
      encrypted: false,
      cascade: c,
    };
  if (c !== undefined && d[1] === 0x70)
    return { name: W(`选卡 第 ${c} 级`, `SELECT CL${c}`), expect: "sak", encrypted: false, cascade: c };
  if (d[0] === 0x50 && d[1] === 0x00) return { name: W("HALT 休眠", "HALT"), expect: null, encrypted: false };
  if ((d[0] === 0x60 || d[0] === 0x61) && d.length === 4) {
    const key = d[0] === 0x60 ? "A" : "B";
    return {
      name: W(`认证 密钥 ${key}，块 ${d[1]}`, `AUTH key ${key}, block ${d[1]}`),
      expect: "nt",
      encrypted: false,
    };
  }
  const op = CLASSIC[d[0] ?? -1];
  if (op && d.length === 4)
    return { name: W(`${op[0]} 块 ${d[1]}`, `${op[1]} block ${d[1]}`), expect: "answer", encrypted: false };
  return {
    name: W(`未知帧 ${toHex(d.subarray(0, 1))}`, `unknown frame ${toHex(d.subarray(0, 1))}`),
    expect: null,
    encrypted: false,
  };
}

function nameCardFrame(
  f: Frame,
  expect: Expect,
  cascade: number,
  encrypted: boolean,
): { name: Bilingual; next: Expect; encrypted: boolean; startsCrypto?: boolean } {
  const d = f.data;
  if (f.bits === 4)
    return encrypted
      ? { name: W("ACK/NAK（加密）", "ACK/NAK (encrypted)"), next: null, encrypted: true }
      : d[0] === 0x0a
        ? { name: W("ACK 确认", "ACK"), next: null, encrypted: false }
        : { name: W("NAK 拒绝", "NAK"), next: null, encrypted: false };
  switch (expect) {
    case "atqa":
      return { name: W("ATQA 卡片类型应答", "ATQA"), next: null, encrypted: false };
    case "uid":
      return d[0] === 0x88
        ? {
            name: W(`级联标志 + UID 第 ${cascade} 级 + BCC`, `cascade tag + UID CL${cascade} + BCC`),
            next: null,
            encrypted: false,
          }
        : { name: W(`UID 第 ${cascade} 级 + BCC`, `UID CL${cascade} + BCC`), next: null, encrypted: false };
    case "sak":
      return { name: W("SAK 选卡确认", "SAK"), next: null, encrypted: false };
    case "nt":
      return {
        name: CARD_NONCE,
        next: "at",
        encrypted,
        startsCrypto: true,
      };
    case "at":
      return { name: CARD_ANSWER, next: null, encrypted: true };
    default:
      if (encrypted && expect === "answer" && d.length === 4 && f.bits === undefined)
        return { name: NESTED_CARD_NONCE, next: "at", encrypted: true };
      return encrypted
        ? {
            name:
              d.length === 18 ? W("加密数据块", "encrypted block data") : W("加密应答", "encrypted answer"),
            next: null,
            encrypted: true,
          }
        : { name: W("应答", "answer"), next: null, encrypted: false };
  }
}
