/**
 * Server-sent events over `fetch`. The browser's EventSource cannot send an `Authorization` header, and
 * the cloud's stream is behind the session, so the app reads the stream itself: `SseParser` implements
 * the event-stream format (WHATWG HTML §9.2), and `readEventStream` feeds it from a response body.
 */

export interface SseMessage {
  /** `event:` field; "message" when absent. */
  event: string;
  data: string;
  /** `id:` field of this event, when it had one. */
  id?: string;
}

/** Incremental parser: feed text as it arrives, get complete events back. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  /** Last `retry:` value in ms, if the server sent one. */
  retryMs: number | undefined;
  /** The last event id seen (what a reconnect sends as `Last-Event-ID`). */
  lastEventId: string | undefined;

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    // Lines end in CRLF, LF or CR; a CR at the very end may be half of a CRLF still to come.
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buffer);
      if (!m) break;
      if (m[0] === "\r" && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    if (this.id !== undefined) this.lastEventId = this.id;
    const hadData = this.data.length > 0;
    const message: SseMessage = { event: this.event || "message", data: this.data.join("\n") };
    if (this.id !== undefined) message.id = this.id;
    this.data = [];
    this.event = "";
    this.id = undefined;
    return hadData ? message : undefined;
  }
}

/** Reads `body` to its end (or until `signal` aborts), calling `onMessage` for each event. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  parser: SseParser,
  onMessage: (m: SseMessage) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const m of parser.feed(decoder.decode(value, { stream: true }))) onMessage(m);
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}
