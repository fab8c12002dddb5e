/**
 * The trace recorder: a `Link` that wraps any other and records every exchange — command, response, when it
 * started and how long it took by an injected monotonic clock — and the activation. `transcript()` gives the
 * replay transcript shape, so a recorded trace can be replayed by `TranscriptCard`.
 *
 * A trace holds the card's data as it answered (a replay needs it): keep trace files as private as the
 * card. The decoder (`decode.ts`) masks PANs whenever a trace is shown.
 */
import { writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { Bytes } from "../core/bytes.js";
import { isTapwalletError } from "../core/errors.js";
import type { Activation, Link } from "./link.js";
import { type Transcript, type TranscriptJson, transcriptToJson } from "./transcript.js";

/** Microseconds from an arbitrary origin that never goes backwards. */
export interface MonotonicClock {
  nowUs(): number;
}

const performanceClock: MonotonicClock = { nowUs: () => performance.now() * 1000 };

export interface TraceRecord {
  command: Bytes;
  /** Absent when the exchange failed (card gone, transport error). */
  response?: Bytes;
  /** Start, µs since the recorder was created. */
  startUs: number;
  /** Duration, µs. */
  us: number;
  /** Error code (e.g. "card_gone") when the exchange failed. */
  error?: string;
}

export class TracingLink implements Link {
  readonly records: TraceRecord[] = [];
  private recordedActivation: Activation | undefined;
  private readonly origin: number;

  constructor(
    private readonly inner: Link,
    private readonly clock: MonotonicClock = performanceClock,
  ) {
    this.origin = clock.nowUs();
  }

  get activation(): Activation | null {
    return this.inner.activation;
  }

  async fieldOn(): Promise<Activation> {
    const a = await this.inner.fieldOn();
    this.recordedActivation = a;
    return a;
  }

  async transceive(command: Bytes): Promise<Bytes> {
    const copy = command.slice();
    const start = this.clock.nowUs();
    try {
      const response = await this.inner.transceive(command);
      const end = this.clock.nowUs();
      this.records.push({
        command: copy,
        response: response.slice(),
        startUs: start - this.origin,
        us: end - start,
      });
      return response;
    } catch (e) {
      const end = this.clock.nowUs();
      const error = isTapwalletError(e) ? e.code : e instanceof Error ? e.name : "error";
      this.records.push({ command: copy, startUs: start - this.origin, us: end - start, error });
      throw e;
    }
  }

  fieldOff(): Promise<void> {
    return this.inner.fieldOff();
  }

  /** The completed exchanges (failed ones have no response to replay) and the activation. */
  transcript(): Transcript {
    const apdus = this.records
      .filter((r): r is TraceRecord & { response: Bytes } => r.response !== undefined)
      .map((r) => ({ command: r.command, response: r.response, us: r.us }));
    return this.recordedActivation ? { activation: this.recordedActivation, apdus } : { apdus };
  }

  toJson(): TranscriptJson {
    return transcriptToJson(this.transcript());
  }

  /** Writes the trace as transcript JSON. */
  async save(path: string): Promise<void> {
    await writeFile(path, `${JSON.stringify(this.toJson(), null, 2)}\n`, { mode: 0o600 });
  }
}
