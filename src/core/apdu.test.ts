import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  type CommandApdu,
  apduCase,
  command,
  commandHex,
  encodeCommand,
  encodeResponse,
  parseCommand,
  parseResponse,
  response,
  swHex,
} from "./apdu.js";
import { equal, fromHex, toHex } from "./bytes.js";
import { SW } from "./sw.js";

const hex = (c: CommandApdu) => toHex(encodeCommand(c));
const data = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

describe("command APDU encoding (ISO/IEC 7816-4 §5.1)", () => {
  it("case 1: header only", () => {
    expect(hex(command(0x00, 0xa4, 0x00, 0x00))).toBe("00A40000");
    expect(apduCase(command(0, 0xa4, 0, 0))).toBe(1);
  });

  it("case 2S: Le of one byte, 00 meaning 256", () => {
    expect(hex(command(0x00, 0x84, 0x00, 0x00, undefined, 8))).toBe("0084000008");
    expect(hex(command(0x00, 0xb0, 0x95, 0x00, undefined, 256))).toBe("00B0950000");
    expect(apduCase(command(0, 0x84, 0, 0, undefined, 8))).toBe(2);
  });

  it("case 3S: Lc and data", () => {
    expect(hex(command(0x00, 0x20, 0x00, 0x00, fromHex("123456")))).toBe("0020000003123456");
    expect(apduCase(command(0, 0x20, 0, 0, fromHex("12")))).toBe(3);
  });

  it("case 4S: SELECT PPSE exactly as in the qPBOC trace (neil-pan-s/qpboc-kernel)", () => {
    const c = command(0x00, 0xa4, 0x04, 0x00, fromHex("325041592E5359532E4444463031"), 256);
    expect(hex(c)).toBe("00A404000E325041592E5359532E444446303100");
    expect(apduCase(c)).toBe(4);
  });

  it("case 2E: 00 then two Le bytes, 0000 meaning 65536", () => {
    expect(hex(command(0x00, 0xb0, 0x00, 0x00, undefined, 257))).toBe("00B00000000101");
    expect(hex(command(0x00, 0xb0, 0x00, 0x00, undefined, 65536))).toBe("00B00000000000");
    expect(hex({ ...command(0x00, 0xb0, 0x00, 0x00, undefined, 16), extended: true })).toBe("00B00000000010");
  });

  it("case 3E: 00, two Lc bytes, data", () => {
    const bytes = encodeCommand(command(0x00, 0xd6, 0x00, 0x00, data(300)));
    expect(toHex(bytes.subarray(0, 7))).toBe("00D6000000012C");
    expect(bytes.length).toBe(7 + 300);
    expect(toHex(encodeCommand({ ...command(0x80, 0xe2, 0x00, 0x00, fromHex("AB")), extended: true }))).toBe(
      "80E2000000000" + "1AB",
    );
  });

  it("case 4E: 00, Lc(2), data, Le(2) without a second 00", () => {
    const bytes = encodeCommand(command(0x00, 0x88, 0x00, 0x00, data(2), 65536));
    expect(toHex(bytes)).toBe("0088000000000200010000");
    const big = encodeCommand(command(0x00, 0x2a, 0x9e, 0x9a, data(256), 512));
    expect(toHex(big.subarray(0, 7))).toBe("002A9E9A000100");
    expect(toHex(big.subarray(big.length - 2))).toBe("0200");
    expect(big.length).toBe(7 + 256 + 2);
  });

  it("refuses impossible lengths when encoding", () => {
    expect(() => encodeCommand(command(0, 0, 0, 0, data(65536)))).toThrow(RangeError);
    expect(() => encodeCommand(command(0, 0, 0, 0, undefined, 0))).toThrow(RangeError);
    expect(() => encodeCommand(command(0, 0, 0, 0, undefined, 65537))).toThrow(RangeError);
  });
});

describe("command APDU parsing", () => {
  it("parses every short and extended case", () => {
    const p = (h: string) => {
      const r = parseCommand(fromHex(h));
      if (!r.ok) throw new Error(r.error.reason);
      return r.value;
    };
    expect(p("00A40000")).toMatchObject({ cla: 0, ins: 0xa4, p1: 0, p2: 0 });
    expect(p("00A40000").ne).toBeUndefined();
    expect(p("00A40000").data.length).toBe(0);
    expect(p("0084000008").ne).toBe(8);
    expect(p("0084000000").ne).toBe(256);
    const c3 = p("0020000003123456");
    expect(toHex(c3.data)).toBe("123456");
    expect(c3.ne).toBeUndefined();
    const c4 = p("80A8000023832136800000000000000001000000000000015600000000000156170601002B29EBE400");
    expect(c4.data.length).toBe(0x23);
    expect(c4.ne).toBe(256);
    expect(p("00B00000000101")).toMatchObject({ ne: 257, extended: true });
    expect(p("00B00000000000").ne).toBe(65536);
    const c3e = p("80E20000000001AB");
    expect(toHex(c3e.data)).toBe("AB");
    expect(c3e.extended).toBe(true);
    expect(c3e.ne).toBeUndefined();
    const c4e = p("0088000000000200010000");
    expect(toHex(c4e.data)).toBe("0001");
    expect(c4e).toMatchObject({ extended: true, ne: 65536 });
  });

  it("answers malformed APDUs with an error value carrying 6700", () => {
    for (const h of [
      "",
      "00",
      "00A404",
      "00A4040000FF",
      "00A40400020102030405",
      "00A404000000",
      "00A4040000000201",
      "00A40400000002010203",
    ]) {
      const r = parseCommand(fromHex(h));
      expect(r.ok, h).toBe(false);
      if (!r.ok) {
        expect(r.error.sw).toBe(SW.WRONG_LENGTH);
        expect(r.error.reason.length).toBeGreaterThan(0);
      }
    }
  });

  it("never throws on arbitrary bytes (100,000 runs)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = parseCommand(b);
        return r.ok ? r.value.cla === b[0] : typeof r.error.sw === "number";
      }),
      { numRuns: 100_000 },
    );
  });

  it("also never throws on lengths near the extended boundaries", () => {
    const header = fc.uint8Array({ minLength: 4, maxLength: 4 });
    const body = fc.oneof(
      fc
        .tuple(fc.constant(0), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 600 }))
        .map(([z, lc, d]) => Uint8Array.of(z, lc >> 8, lc & 0xff, ...d)),
      fc.uint8Array({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(header, body, (h, b) => {
        const r = parseCommand(Uint8Array.of(...h, ...b));
        return r.ok || r.error.sw === SW.WRONG_LENGTH;
      }),
      { numRuns: 20_000 },
    );
  });

  const validApdu: fc.Arbitrary<CommandApdu> = fc
    .record({
      cla: fc.integer({ min: 0, max: 255 }),
      ins: fc.integer({ min: 0, max: 255 }),
      p1: fc.integer({ min: 0, max: 255 }),
      p2: fc.integer({ min: 0, max: 255 }),
      data: fc.oneof(fc.uint8Array({ maxLength: 255 }), fc.uint8Array({ minLength: 256, maxLength: 300 })),
      ne: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
      extended: fc.boolean(),
    })
    .map((c) => (c.ne === undefined ? { ...c, ne: undefined } : c));

  it("encode(parse(x)) == x for every valid APDU, short or extended", () => {
    fc.assert(
      fc.property(validApdu, (c) => {
        const bytes = encodeCommand(c);
        const r = parseCommand(bytes);
        return (
          r.ok && equal(r.value.data, c.data) && r.value.ne === c.ne && equal(encodeCommand(r.value), bytes)
        );
      }),
      { numRuns: 10_000 },
    );
  });

  it("commandHex is the hex of the encoding", () => {
    expect(commandHex(command(0x80, 0x5c, 0x00, 0x02, undefined, 4))).toBe("805C000204");
  });
});

describe("response APDUs", () => {
  it("splits data and SW, and encodes back", () => {
    const r = parseResponse(fromHex("0000038787 9000"));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(toHex(r.value.data)).toBe("0000038787");
      expect(r.value.sw).toBe(0x9000);
      expect(toHex(encodeResponse(r.value))).toBe("00000387879000");
    }
    expect(toHex(encodeResponse(response(SW.FILE_NOT_FOUND)))).toBe("6A82");
    expect(parseResponse(fromHex("90")).ok).toBe(false);
    expect(parseResponse(new Uint8Array(0)).ok).toBe(false);
    expect(swHex(0x6a82)).toBe("6A82");
    expect(swHex(0x0061)).toBe("0061");
  });
});
