/** The event-stream parser against the WHATWG format rules, fed in arbitrary pieces. */
import { describe, expect, it } from "vitest";
import { SseParser } from "./sse.js";

const STREAM =
  "retry: 2000\n\n" +
  ": keep-alive\n\n" +
  'id: 7\nevent: device.bound\ndata: {"seq":7}\n\n' +
  "data: line one\r\ndata: line two\r\n\r\n" +
  "id: 8\rdata:no space\r\r\n";

describe("SseParser", () => {
  it("parses events, comments, ids, multi-line data, retry and every line ending", () => {
    const p = new SseParser();
    const events = p.feed(STREAM);
    expect(events).toEqual([
      { event: "device.bound", data: '{"seq":7}', id: "7" },
      { event: "message", data: "line one\nline two" },
      { event: "message", data: "no space", id: "8" },
    ]);
    expect(p.retryMs).toBe(2000);
    expect(p.lastEventId).toBe("8");
  });

  it("gives the same events however the stream is cut into chunks", () => {
    const whole = new SseParser().feed(STREAM);
    for (let size = 1; size <= 7; size++) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < STREAM.length; i += size) got.push(...p.feed(STREAM.slice(i, i + size)));
      expect(got, `chunks of ${size}`).toEqual(whole);
    }
  });

  it("keeps an unfinished event until its blank line arrives", () => {
    const p = new SseParser();
    expect(p.feed("event: x\ndata: 1\n")).toEqual([]);
    expect(p.feed("\n")).toEqual([{ event: "x", data: "1" }]);
  });
});
