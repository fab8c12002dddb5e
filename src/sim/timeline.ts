/**
 * What a simulated tap shows: each exchange decoded (src/nfc/decode.ts for APDUs — PANs masked, secrets
 * hidden — and src/mifare/frame-names.ts for MIFARE frames, authentication nonces hidden), how long the
 * software took, and the ISO/IEC 14443 air-time lower bound of the same exchanges (src/nfc/airtime.ts at 106 and 848 kbit/s with the activation; frames at
 * 106 kbit/s by src/mifare/airtime.ts). The difference between the two is the point: a phone's SE answers in
 * microseconds, the air takes milliseconds.
 */
import { toHex } from "../core/bytes.js";
import { frameAirTime } from "../mifare/airtime.js";
import { type AirTimeResult, airTime } from "../nfc/airtime.js";
import { type DecodedTlv, TraceDecoder } from "../nfc/decode.js";
import type { FrameTraceEntry } from "../nfc/frame.js";
import type { Activation } from "../nfc/link.js";
import type { TraceRecord } from "../nfc/trace.js";
import type { Bilingual } from "../core/text.js";
import { type ShownFrame, decodeFrames, redactAuthenticationNonces } from "../mifare/frame-names.js";

export interface ApduStep {
  index: number;
  command: {
    name: Bilingual;
    /** Masked where it carries a PAN or a secret. */
    hex: string;
    fields: { label: Bilingual; value: string }[];
    tlv?: DecodedTlv[];
  };
  response: {
    sw: string | null;
    meaning: Bilingual | null;
    /** Data bytes, without the status word. */
    length: number;
    hex?: string;
    fields?: { label: Bilingual; value: string }[];
    tlv?: DecodedTlv[];
  };
  /** The card's (the SE's) processing time for this exchange, µs. */
  softwareUs: number;
  /** This exchange's frames on the air at 106 and 848 kbit/s, µs. */
  airUs: { 106: number; 848: number };
}

export interface AirFigures {
  bitRate: 106 | 848;
  totalUs: number;
  activationUs: number;
  frames: number;
}

export interface ApduTimeline {
  kind: "apdu";
  activation: { uid: string; atqa: string; sak: string; ats: string | null } | null;
  steps: ApduStep[];
  air: AirFigures[];
}

export interface FrameTimeline {
  kind: "frames";
  /** Each authentication's nT, {nR}{aR} and {aT} hidden (`??`), as in a trace file: they give the key away. */
  steps: ShownFrame[];
  air: AirFigures[];
}

const figures = (r: AirTimeResult): AirFigures => ({
  bitRate: r.bitRate === 848 ? 848 : 106,
  totalUs: r.totalUs,
  activationUs: r.breakdown.activationUs,
  frames: r.frames.length,
});

/** The decoded APDU exchanges of a tap, with their software and air times. */
export function apduTimeline(records: readonly TraceRecord[], activation: Activation | null): ApduTimeline {
  const exchanges = records
    .filter((r) => r.response !== undefined)
    .map((r) => ({ command: r.command, response: r.response!, us: r.us }));
  const options = { includeActivation: true, ...(activation ? { activation } : {}) };
  const slow = airTime(exchanges, { ...options, bitRate: 106 });
  const fast = airTime(exchanges, { ...options, bitRate: 848 });
  const decoder = new TraceDecoder();
  const steps = exchanges.map((e, i): ApduStep => {
    const d = decoder.decode(e.command, e.response, e.us);
    return {
      index: i,
      command: {
        name: d.command.name,
        hex: d.command.hex,
        fields: d.command.fields,
        ...(d.command.tlv ? { tlv: d.command.tlv } : {}),
      },
      response: {
        sw: d.response.sw ?? null,
        meaning: d.response.meaning ?? null,
        length: d.response.length,
        ...(d.response.hex ? { hex: d.response.hex } : {}),
        ...(d.response.fields ? { fields: d.response.fields } : {}),
        ...(d.response.tlv ? { tlv: d.response.tlv } : {}),
      },
      softwareUs: e.us,
      airUs: { 106: slow.breakdown.perApduUs[i] ?? 0, 848: fast.breakdown.perApduUs[i] ?? 0 },
    };
  });
  return {
    kind: "apdu",
    activation: activation
      ? {
          uid: toHex(activation.uid),
          atqa: toHex(activation.atqa),
          sak: toHex(Uint8Array.of(activation.sak)),
          ats: activation.ats ? toHex(activation.ats) : null,
        }
      : null,
    steps,
    air: [figures(slow), figures(fast)],
  };
}

/**
 * The named frames of a MIFARE Classic tap and their air time (MIFARE Classic runs at 106 kbit/s only), the
 * authentication nonces hidden by the rule every trace follows; the air time is the real frames'.
 */
export function frameTimeline(trace: readonly FrameTraceEntry[]): FrameTimeline {
  const air = frameAirTime(trace);
  return {
    kind: "frames",
    steps: redactAuthenticationNonces(decodeFrames(trace)),
    air: [{ bitRate: 106, totalUs: air.totalUs, activationUs: 0, frames: air.frames }],
  };
}
