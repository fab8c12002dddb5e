/**
 * ISO/IEC 14443 type A air-time lower bound of an APDU transcript: how long the frames alone take on the
 * air, with the shortest delays the standard allows between them and no card or terminal processing. What
 * a real tap takes above this figure is processing (the card's crypto, the reader's firmware, the host).
 *
 * The model (docs/AIRTIME.md gives the sources and a worked example):
 * - fc = 13.56 MHz; one bit lasts 128/fc at 106 kbit/s, 64/fc at 212, 32/fc at 424, 16/fc at 848
 *   (ISO/IEC 14443-2). All arithmetic is in whole carrier cycles; µs only at the end.
 * - Standard frame (ISO/IEC 14443-3 §6.2.3): start of communication (1 bit), each byte as 8 data bits and
 *   an odd parity bit — type A keeps the parity at every bit rate — then end of communication: for the
 *   PCD a logic 0 and an unmodulated bit (2 bits), for the PICC one unmodulated bit. REQA/WUPA are short
 *   frames of 7 data bits without parity.
 * - CRC_A (2 bytes, ISO/IEC 14443-3 §6.2.4) ends every frame except REQA/WUPA, ATQA and the
 *   ANTICOLLISION command and its UID answer.
 * - PCD→PICC frame delay time (§6.2.1.1): from the end of the PCD's last pause to the PICC's first
 *   modulation, (n·128 + 84)/fc after a last data bit 1 and (n·128 + 20)/fc after a 0, n = 9 (the
 *   minimum, mandatory for REQA/ANTICOLLISION/SELECT). PICC→PCD (§6.2.1.2): at least 1172/fc from the
 *   PICC's last modulation to the PCD's first pause. At 212–848 kbit/s the same n = 9 figures are used
 *   (docs/DECISIONS.md, "Air time at higher bit rates"; constants below).
 * - ISO/IEC 14443-4 blocks: PCB (1) [+ CID (1)] + INF + CRC_A (2). An APDU longer than the frame size
 *   (FSC for the card's receiving side, from the ATS FSCI; FSD for the reader's, from RATS FSDI) is
 *   chained; each chained block is acknowledged by an R(ACK) block (PCB [+ CID] + CRC_A).
 * - Activation, optional, always at 106 kbit/s: REQA → ATQA; per cascade level (1, 2 or 3 for a 4-, 7- or
 *   10-byte UID) ANTICOLLISION (SEL, NVB 20) → UID CLn + BCC, SELECT (SEL, 70, UID CLn, BCC) → SAK; RATS →
 *   ATS, then the SFGT the ATS asks for; PPS → PPS response when the exchange runs faster than 106 kbit/s.
 *   The ≥ 5 ms of unmodulated field a PICC may need before the first REQA (§5) is not counted.
 */
import type { Bytes } from "../core/bytes.js";
import type { Activation } from "./link.js";

export type BitRate = 106 | 212 | 424 | 848;
export const BIT_RATES: readonly BitRate[] = [106, 212, 424, 848];

/** Carrier frequency, Hz. */
export const FC_HZ = 13_560_000;
/** One bit in carrier cycles: fc/128, fc/64, fc/32, fc/16. */
export const BIT_FC: Readonly<Record<BitRate, number>> = { 106: 128, 212: 64, 424: 32, 848: 16 };
/** Divisor index D (1, 2, 4, 8 → 0…3) of each rate, as PPS1 and TA(1) code it. */
const RATE_INDEX: Readonly<Record<BitRate, number>> = { 106: 0, 212: 1, 424: 2, 848: 3 };

/** n of the PCD→PICC frame delay time (n·128 + 84 or 20)/fc; 9 is the minimum ISO/IEC 14443-3 allows. */
export const FDT_N = 9;
/** Minimum PICC→PCD frame delay time, in fc (1172/fc ≈ 86.4 µs). */
export const FDT_PICC_TO_PCD_FC = 1172;

/** FSCI/FSDI → frame size (ISO/IEC 14443-4: 0–8 original; 9–C added later; D–F read as C). */
const FRAME_SIZES = [16, 24, 32, 40, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096] as const;
/** The FSCI a card announces when its ATS has no format byte T0 (ISO/IEC 14443-4). */
const FSCI_DEFAULT = 2;

/** An ATS with FSCI 8 (256-byte frames), all bit rates, FWI 7, SFGI 0, CID supported — used when none is given. */
export const DEFAULT_ATS: Bytes = Uint8Array.of(0x05, 0x78, 0x77, 0x70, 0x02);

export interface Exchange {
  command: Bytes;
  /** Response data and status word. */
  response: Bytes;
}

export interface AirTimeOptions {
  bitRate: BitRate;
  /** Count REQA, anticollision/SELECT, RATS/ATS and PPS (at 106 kbit/s) before the APDUs. */
  includeActivation?: boolean;
  /** 4, 7 or 10; default the activation's UID length, else 4. */
  uidLength?: 4 | 7 | 10;
  /** Activation data of the card (its UID and ATS bytes set CRCs, FSC and SFGT). */
  activation?: Activation;
  /** The ATS (without CRC); default the activation's, else `DEFAULT_ATS`. Gives FSC (FSCI) and SFGT (SFGI). */
  ats?: Bytes;
  /** Largest frame the card receives; overrides the ATS's FSCI. */
  fsc?: number;
  /** Largest frame the reader receives (sent as FSDI in RATS); default 256. */
  fsd?: number;
  /** A CID (0–14) carried in every block; default none. */
  cid?: number;
}

export type FrameKind =
  | "REQA"
  | "ATQA"
  | "ANTICOLLISION"
  | "UID"
  | "SELECT"
  | "SAK"
  | "RATS"
  | "ATS"
  | "PPS"
  | "PPS response"
  | "I-block"
  | "R(ACK)";

export interface AirFrame {
  direction: "PCD→PICC" | "PICC→PCD";
  kind: FrameKind;
  /** Cascade level (1–3) for the anticollision frames. */
  cascadeLevel?: number;
  /** Index of the transcript exchange this frame carries (absent for activation frames). */
  apdu?: number;
  /** Chained I-block: more of the same APDU follows. */
  chaining?: boolean;
  bitRate: BitRate;
  /** The frame's bytes including PCB/CID/CRC_A (REQA: the 7-bit command in one byte). */
  bytes: Bytes;
  /** Bit periods on the air: start, data and parity bits, end of communication. */
  bits: number;
  /** When the frame starts, µs from the first frame. */
  startUs: number;
  /** Its duration on the air, µs. */
  airUs: number;
  /** Minimum time from its end to the start of the next frame, µs (0 for the last frame). */
  gapUs: number;
}

export interface AirTimeBreakdown {
  /** REQA … PPS response and the delays among them (0 without activation). */
  activationUs: number;
  /** On-air time of the reader's frames carrying APDUs (I-blocks and R(ACK)s). */
  commandAirUs: number;
  /** On-air time of the card's frames carrying APDUs. */
  responseAirUs: number;
  /** Frame delay times (and SFGT) between the APDU frames. */
  delayUs: number;
  /** APDU bytes (commands and responses with their status words). */
  apduBytes: number;
  /** Bytes of block framing: PCB, CID, CRC_A, and whole R(ACK) blocks. */
  framingBytes: number;
  /** Blocks beyond one per APDU direction, from chaining. */
  chainedBlocks: number;
  /** The figures of each exchange: from its first frame to the end of its last. */
  perApduUs: number[];
}

export interface AirTimeResult {
  bitRate: BitRate;
  totalUs: number;
  frames: AirFrame[];
  breakdown: AirTimeBreakdown;
}

/** CRC_A of ISO/IEC 14443-3 (CRC-16/ISO-IEC-14443-3-A: reflected 0x1021, preset 6363), least significant byte first. */
export function crcA(data: Bytes): Bytes {
  let crc = 0x6363;
  for (const byte of data) {
    let b = byte ^ (crc & 0xff);
    b = (b ^ (b << 4)) & 0xff;
    crc = ((crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)) & 0xffff;
  }
  return Uint8Array.of(crc & 0xff, crc >> 8);
}

const withCrc = (frame: Bytes): Bytes => {
  const out = new Uint8Array(frame.length + 2);
  out.set(frame);
  out.set(crcA(frame), frame.length);
  return out;
};

/** Odd parity bit of a byte: 1 when the byte has an even number of ones. */
function parityBit(b: number): number {
  let ones = 0;
  for (let v = b; v; v >>= 1) ones += v & 1;
  return ones % 2 === 0 ? 1 : 0;
}

/** Frame size of an FSCI/FSDI code. */
export function frameSize(index: number): number {
  return FRAME_SIZES[Math.min(index, FRAME_SIZES.length - 1)]!;
}

/** The FSCI/FSDI code of a frame size; the size must be one of `FRAME_SIZES`. */
function frameSizeIndex(size: number): number {
  const i = FRAME_SIZES.indexOf(size as (typeof FRAME_SIZES)[number]);
  if (i < 0) throw new RangeError(`frame size ${size} is not one of ${FRAME_SIZES.join(", ")}`);
  return i;
}

/** FSC and SFGI from an ATS (TL T0 [TA] [TB] [TC] historical bytes), defaults where absent. */
export function atsParameters(ats: Bytes): { fsc: number; sfgi: number; fwi: number } {
  if (ats.length < 2) return { fsc: frameSize(FSCI_DEFAULT), sfgi: 0, fwi: 4 };
  const t0 = ats[1]!;
  let i = 2;
  if (t0 & 0x10) i++; // TA(1)
  const tb = t0 & 0x20 ? ats[i] : undefined;
  return {
    fsc: frameSize(t0 & 0x0f),
    sfgi: tb === undefined ? 0 : tb & 0x0f,
    fwi: tb === undefined ? 4 : tb >> 4,
  };
}

interface FramePlan {
  direction: AirFrame["direction"];
  kind: FrameKind;
  bytes: Bytes;
  bitRate: BitRate;
  /** 7 for a short frame; otherwise 9 per byte. */
  dataBits: number;
  cascadeLevel?: number;
  apdu?: number;
  chaining?: boolean;
  /** Extra guard time required after this frame, fc (SFGT after the ATS). */
  guardFc?: number;
}

/** The last data bit on the air: the parity bit of the last byte, or bit 7 of a short frame. */
function lastBit(p: FramePlan): number {
  if (p.dataBits === 7) return (p.bytes[0]! >> 6) & 1;
  return parityBit(p.bytes[p.bytes.length - 1] ?? 0);
}

/**
 * Frame length and the minimum delay to the next frame, fc. PCD frames end with a pause placed by the last
 * bit (mid-bit for a 1, at the start of the end-of-communication 0 otherwise); the FDT counts from it.
 * PICC frames at 106 kbit/s are Manchester coded (a 1 is modulated in its first half); at higher rates
 * (BPSK) the modulation lasts to the end of the last bit.
 */
function timing(p: FramePlan): { bits: number; airFc: number; gapFc: number } {
  const t = BIT_FC[p.bitRate];
  const d = p.dataBits;
  const last = lastBit(p);
  if (p.direction === "PCD→PICC") {
    const bits = 1 + d + 2;
    const lastPause = last === 1 ? d * t + t / 2 : (d + 1) * t;
    const fdt = FDT_N * 128 + (last === 1 ? 84 : 20);
    return { bits, airFc: bits * t, gapFc: lastPause + fdt - bits * t };
  }
  const bits = 1 + d + 1;
  const lastModulation = p.bitRate === 106 && last === 1 ? d * t + t / 2 : (d + 1) * t;
  const gap = lastModulation + FDT_PICC_TO_PCD_FC - bits * t;
  return { bits, airFc: bits * t, gapFc: Math.max(gap, p.guardFc ?? 0) };
}

const std = (
  direction: FramePlan["direction"],
  kind: FrameKind,
  bytes: Bytes,
  bitRate: BitRate,
  extra: Partial<FramePlan> = {},
): FramePlan => ({ direction, kind, bytes, bitRate, dataBits: bytes.length * 9, ...extra });

/** UID bytes of each cascade level: CT (88) + 3 bytes for all but the last level, then 4 bytes. */
function cascadeLevels(uid: Bytes): Bytes[] {
  const out: Bytes[] = [];
  let rest = uid;
  while (rest.length > 4) {
    out.push(Uint8Array.of(0x88, rest[0]!, rest[1]!, rest[2]!));
    rest = rest.subarray(3);
  }
  out.push(rest);
  return out;
}

function activationFrames(o: AirTimeOptions, ats: Bytes, fsd: number): FramePlan[] {
  const uidLength = o.uidLength ?? (o.activation?.uid.length as 4 | 7 | 10 | undefined) ?? 4;
  if (![4, 7, 10].includes(uidLength)) throw new RangeError(`UID length ${uidLength} is not 4, 7 or 10`);
  const uid =
    o.activation && o.activation.uid.length === uidLength ? o.activation.uid : new Uint8Array(uidLength);
  // ATQA b8b7 = UID size (single/double/triple), b3 = bit-frame anticollision; sent least significant byte first.
  const atqa = o.activation?.atqa ?? Uint8Array.of(0x00, { 4: 0x04, 7: 0x44, 10: 0x84 }[uidLength]);
  const sak = o.activation?.sak ?? 0x20;
  const frames: FramePlan[] = [
    { direction: "PCD→PICC", kind: "REQA", bytes: Uint8Array.of(0x26), bitRate: 106, dataBits: 7 },
    std("PICC→PCD", "ATQA", Uint8Array.of(atqa[1] ?? 0, atqa[0] ?? 0), 106),
  ];
  const levels = cascadeLevels(uid);
  levels.forEach((cl, i) => {
    const sel = [0x93, 0x95, 0x97][i]!;
    const bcc = cl[0]! ^ cl[1]! ^ cl[2]! ^ cl[3]!;
    const level = i + 1;
    const last = i === levels.length - 1;
    frames.push(
      std("PCD→PICC", "ANTICOLLISION", Uint8Array.of(sel, 0x20), 106, { cascadeLevel: level }),
      std("PICC→PCD", "UID", Uint8Array.of(...cl, bcc), 106, { cascadeLevel: level }),
      std("PCD→PICC", "SELECT", withCrc(Uint8Array.of(sel, 0x70, ...cl, bcc)), 106, { cascadeLevel: level }),
      std("PICC→PCD", "SAK", withCrc(Uint8Array.of(last ? sak : 0x04)), 106, { cascadeLevel: level }),
    );
  });
  const cid = o.cid ?? 0;
  const { sfgi } = atsParameters(ats);
  frames.push(
    std("PCD→PICC", "RATS", withCrc(Uint8Array.of(0xe0, (frameSizeIndex(fsd) << 4) | cid)), 106),
    std("PICC→PCD", "ATS", withCrc(ats), 106, sfgi > 0 ? { guardFc: 256 * 16 * 2 ** sfgi } : {}),
  );
  if (o.bitRate !== 106) {
    const d = RATE_INDEX[o.bitRate];
    frames.push(
      std("PCD→PICC", "PPS", withCrc(Uint8Array.of(0xd0 | cid, 0x11, (d << 2) | d)), 106),
      std("PICC→PCD", "PPS response", withCrc(Uint8Array.of(0xd0 | cid)), 106),
    );
  }
  return frames;
}

/** ISO 14443-4 frames of one exchange: command blocks (each chained one ACKed), then response blocks. */
function exchangeFrames(
  ex: Exchange,
  index: number,
  o: { bitRate: BitRate; fsc: number; fsd: number; cid: number | undefined },
  blockNumber: { bn: number },
): FramePlan[] {
  const hasCid = o.cid !== undefined;
  const prologue = (pcb: number) => (hasCid ? Uint8Array.of(pcb | 0x08, o.cid!) : Uint8Array.of(pcb));
  const iBlock = (dir: FramePlan["direction"], inf: Bytes, chaining: boolean) => {
    const head = prologue(0x02 | blockNumber.bn | (chaining ? 0x10 : 0));
    const frame = new Uint8Array(head.length + inf.length);
    frame.set(head);
    frame.set(inf, head.length);
    return std(dir, "I-block", withCrc(frame), o.bitRate, { apdu: index, chaining });
  };
  const ack = (dir: FramePlan["direction"]) =>
    std(dir, "R(ACK)", withCrc(prologue(0xa2 | blockNumber.bn)), o.bitRate, { apdu: index });
  const overhead = 1 + (hasCid ? 1 : 0) + 2;
  const chunks = (data: Bytes, frameMax: number): Bytes[] => {
    const room = frameMax - overhead;
    if (room < 1) throw new RangeError(`frame size ${frameMax} leaves no room for data`);
    const out: Bytes[] = [];
    for (let i = 0; i < data.length; i += room) out.push(data.subarray(i, i + room));
    return out.length ? out : [data];
  };
  const frames: FramePlan[] = [];
  const cmd = chunks(ex.command, o.fsc);
  cmd.forEach((inf, i) => {
    const more = i < cmd.length - 1;
    frames.push(iBlock("PCD→PICC", inf, more));
    if (more) {
      frames.push(ack("PICC→PCD"));
      blockNumber.bn ^= 1;
    }
  });
  const rsp = chunks(ex.response, o.fsd);
  rsp.forEach((inf, i) => {
    const more = i < rsp.length - 1;
    frames.push(iBlock("PICC→PCD", inf, more));
    blockNumber.bn ^= 1;
    if (more) frames.push(ack("PCD→PICC"));
  });
  return frames;
}

const us = (cycles: number): number => (cycles * 1e6) / FC_HZ;

/** The air-time lower bound of a transcript at one bit rate. */
export function airTime(transcript: readonly Exchange[], options: AirTimeOptions): AirTimeResult {
  if (!BIT_FC[options.bitRate])
    throw new RangeError(`bit rate ${options.bitRate} is not 106, 212, 424 or 848`);
  if (options.cid !== undefined && !(Number.isInteger(options.cid) && options.cid >= 0 && options.cid <= 14))
    throw new RangeError(`CID ${options.cid} is not 0–14`);
  const ats = options.ats ?? options.activation?.ats ?? DEFAULT_ATS;
  const fsd = options.fsd ?? 256;
  frameSizeIndex(fsd);
  const fsc = options.fsc ?? atsParameters(ats).fsc;
  if (!Number.isInteger(fsc) || fsc < 16) throw new RangeError(`FSC ${fsc} is below the minimum of 16`);

  const plans: FramePlan[] = options.includeActivation ? activationFrames(options, ats, fsd) : [];
  const activationCount = plans.length;
  const bn = { bn: 0 };
  transcript.forEach((ex, i) =>
    plans.push(...exchangeFrames(ex, i, { bitRate: options.bitRate, fsc, fsd, cid: options.cid }, bn)),
  );

  const frames: AirFrame[] = [];
  const apduStart: number[] = [];
  const apduEnd: number[] = [];
  let t = 0;
  let activationFc = 0;
  let commandFc = 0;
  let responseFc = 0;
  let delayFc = 0;
  plans.forEach((p, i) => {
    const { bits, airFc, gapFc } = timing(p);
    const gap = i === plans.length - 1 ? 0 : gapFc;
    frames.push({
      direction: p.direction,
      kind: p.kind,
      ...(p.cascadeLevel ? { cascadeLevel: p.cascadeLevel } : {}),
      ...(p.apdu !== undefined ? { apdu: p.apdu } : {}),
      ...(p.chaining ? { chaining: true } : {}),
      bitRate: p.bitRate,
      bytes: p.bytes,
      bits,
      startUs: us(t),
      airUs: us(airFc),
      gapUs: us(gap),
    });
    if (p.apdu === undefined) activationFc += airFc + gap;
    else {
      if (p.direction === "PCD→PICC") commandFc += airFc;
      else responseFc += airFc;
      delayFc += gap;
      apduStart[p.apdu] ??= t;
      apduEnd[p.apdu] = t + airFc;
    }
    t += airFc + gap;
  });
  const apduBytes = transcript.reduce((n, ex) => n + ex.command.length + ex.response.length, 0);
  const blockBytes = plans.slice(activationCount).reduce((n, p) => n + p.bytes.length, 0);
  const blocks = plans.slice(activationCount).filter((p) => p.kind === "I-block").length;
  return {
    bitRate: options.bitRate,
    totalUs: us(t),
    frames,
    breakdown: {
      activationUs: us(activationFc),
      commandAirUs: us(commandFc),
      responseAirUs: us(responseFc),
      delayUs: us(delayFc),
      apduBytes,
      framingBytes: blockBytes - apduBytes,
      chainedBlocks: blocks - 2 * transcript.length,
      perApduUs: transcript.map((_, i) => us(apduEnd[i]! - apduStart[i]!)),
    },
  };
}

/** The bound at every bit rate, slowest first. */
export function airTimeAllRates(
  transcript: readonly Exchange[],
  options: Omit<AirTimeOptions, "bitRate"> = {},
): AirTimeResult[] {
  return BIT_RATES.map((bitRate) => airTime(transcript, { ...options, bitRate }));
}
