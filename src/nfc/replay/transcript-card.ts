/**
 * A card that replays a recorded transcript: each command is answered by exact match of its bytes. When the
 * same command was recorded several times its answers come in recorded order, then the last one repeats;
 * the order starts again each time the card is activated (a new tap). Commands not in the transcript get
 * 6A82 (a SELECT: file or application not found), 6700 (shorter than a header) or 6D00.
 */
import { encodeResponse } from "../../core/apdu.js";
import { type Bytes, toHex } from "../../core/bytes.js";
import { type Result, ok } from "../../core/result.js";
import { SW } from "../../core/sw.js";
import type { Activation, ContactlessCard } from "../link.js";
import { type Transcript, parseTranscript } from "../transcript.js";
import { copyActivation, defaultReplayActivation } from "./activation.js";

const swBytes = (sw: number): Bytes => encodeResponse({ data: new Uint8Array(0), sw });

export class TranscriptCard implements ContactlessCard {
  private readonly answers = new Map<string, Bytes[]>();
  private readonly served = new Map<string, number>();
  private readonly act: Activation;

  constructor(transcript: Transcript) {
    for (const e of transcript.apdus) {
      const key = toHex(e.command);
      const list = this.answers.get(key) ?? [];
      list.push(e.response.slice());
      this.answers.set(key, list);
    }
    this.act = transcript.activation ? copyActivation(transcript.activation) : defaultReplayActivation();
  }

  /** Builds a card from transcript JSON; errors name the field that is wrong. */
  static fromJson(json: unknown): Result<TranscriptCard> {
    const t = parseTranscript(json);
    return t.ok ? ok(new TranscriptCard(t.value)) : t;
  }

  activate(): Activation {
    this.served.clear();
    return copyActivation(this.act);
  }

  process(command: Bytes): Bytes {
    const key = toHex(command);
    const list = this.answers.get(key);
    if (list) {
      const n = this.served.get(key) ?? 0;
      this.served.set(key, n + 1);
      return list[Math.min(n, list.length - 1)]!.slice();
    }
    if (command.length < 4) return swBytes(SW.WRONG_LENGTH);
    return swBytes(command[1] === 0xa4 ? SW.FILE_NOT_FOUND : SW.INS_NOT_SUPPORTED);
  }

  deactivate(): void {
    this.served.clear();
  }
}
