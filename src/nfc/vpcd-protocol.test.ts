import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { FrameDecoder, classifyMessage, encodeFrame, parseVpcdAddress } from "./vpcd-protocol.js";

describe("vpcd framing", () => {
  it("prefixes the payload with its 2-byte big-endian length in one buffer", () => {
    expect(toHex(encodeFrame(fromHex("04")))).toBe("000104");
    expect(toHex(encodeFrame(new Uint8Array(0x0102)).subarray(0, 2))).toBe("0102");
    expect(() => encodeFrame(new Uint8Array(0x10000))).toThrow(RangeError);
  });

  it("classifies control bytes and APDUs as vsmartcard's vpcd sends them", () => {
    expect(classifyMessage(fromHex("00")).kind).toBe("power-off");
    expect(classifyMessage(fromHex("01")).kind).toBe("power-on");
    expect(classifyMessage(fromHex("02")).kind).toBe("reset");
    expect(classifyMessage(fromHex("04")).kind).toBe("get-atr");
    expect(classifyMessage(fromHex("03")).kind).toBe("unknown");
    expect(classifyMessage(new Uint8Array(0)).kind).toBe("unknown");
    expect(classifyMessage(fromHex("00A4")).kind).toBe("apdu");
  });

  it("reassembles messages however TCP splits them (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const d = new FrameDecoder();
          const got: Uint8Array[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            got.push(...d.push(stream.subarray(at, at + n)));
            at += n;
          }
          expect(got.map(toHex)).toEqual(payloads.map(toHex));
          expect(d.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps a partial message pending and drops it on reset", () => {
    const d = new FrameDecoder();
    expect(d.push(fromHex("0005 0102"))).toEqual([]);
    expect(d.pending).toBe(4);
    d.reset();
    expect(d.push(fromHex("0001 04")).map(toHex)).toEqual(["04"]);
  });
});

describe("parseVpcdAddress", () => {
  it.each([
    [undefined, "127.0.0.1", 35963],
    ["", "127.0.0.1", 35963],
    ["35964", "127.0.0.1", 35964],
    [":35964", "127.0.0.1", 35964],
    ["localhost", "localhost", 35963],
    ["10.0.0.2:4000", "10.0.0.2", 4000],
    ["[::1]:35963", "::1", 35963],
    ["[::1]", "::1", 35963],
  ])("%s → %s:%d", (text, host, port) => {
    expect(parseVpcdAddress(text)).toEqual({ ok: true, value: { host, port } });
  });

  it.each(["host:0", "host:65536", "host:abc", "::1:35963", "a b:1", "[::1]:x"])("rejects %s", (text) => {
    expect(parseVpcdAddress(text).ok).toBe(false);
  });

  it("never throws on arbitrary text (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const r = parseVpcdAddress(s);
        if (r.ok) expect(r.value.port).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });
});
