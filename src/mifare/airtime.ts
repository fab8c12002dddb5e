/**
 * Air time of a MIFARE Classic exchange at frame level: the lower bound of how long its frames take at
 * 106 kbit/s, in the model of docs/AIRTIME.md (src/nfc/airtime.ts computes it for APDU transcripts and has no
 * frame-level entry point, so this small function applies the same rules to raw frames and reuses its
 * constants):
 *
 * - one bit = 128/fc (≈ 9.44 µs); a frame = start bit + data bits (9 per byte with parity, or a short frame's
 *   7 or 4) + end of communication (2 bits from the reader, 1 from the card);
 * - reader → card: the card starts (n·128 + 84)/fc after the reader's last pause when the last bit is 1, and
 *   (n·128 + 20)/fc when it is 0, n = 9; the pause is mid-bit for a 1, at the end-of-communication 0 otherwise;
 * - card → reader: the reader starts at least 1172/fc (≈ 86.4 µs) after the card's last modulation, which ends
 *   half-way through a final 1 (Manchester) or at the end of the last bit.
 *
 * Frames in a row from the same side (the card stayed silent) are spaced as if it had answered at once.
 */
import { type FrameTraceEntry, frameBits } from "../nfc/frame.js";
import { BIT_FC, FC_HZ, FDT_N, FDT_PICC_TO_PCD_FC } from "../nfc/airtime.js";

const T = BIT_FC[106];

export interface FrameAirTime {
  totalUs: number;
  /** On-air time of the reader's frames and of the card's, and the delays between frames. */
  readerUs: number;
  cardUs: number;
  delayUs: number;
  frames: number;
  /** Each frame: when it starts (µs from the first frame's start) and how long it is on the air. */
  perFrame: { startUs: number; airUs: number }[];
}

const us = (fc: number) => (fc * 1e6) / FC_HZ;

export function frameAirTime(trace: readonly FrameTraceEntry[]): FrameAirTime {
  let clock = 0;
  let reader = 0;
  let card = 0;
  let end = 0;
  const perFrame: FrameAirTime["perFrame"] = [];
  for (const { from, frame } of trace) {
    const d = frameBits(frame);
    const bits = 1 + d + (from === "reader" ? 2 : 1);
    const last =
      frame.bits !== undefined
        ? (frame.data[0]! >> (frame.bits - 1)) & 1
        : (frame.parity[frame.parity.length - 1] ?? 0) & 1;
    const air = bits * T;
    if (from === "reader") reader += air;
    else card += air;
    end = clock + air;
    perFrame.push({ startUs: us(clock), airUs: us(air) });
    const lastEdge = last === 1 ? d * T + T / 2 : (d + 1) * T;
    clock += lastEdge + (from === "reader" ? FDT_N * 128 + (last === 1 ? 84 : 20) : FDT_PICC_TO_PCD_FC);
  }
  return {
    totalUs: us(end),
    readerUs: us(reader),
    cardUs: us(card),
    delayUs: us(end - reader - card),
    frames: trace.length,
    perFrame,
  };
}
