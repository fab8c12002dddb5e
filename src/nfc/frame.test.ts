import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  type Frame,
  type FrameCard,
  MemoryFrameLink,
  crcAValid,
  formatFrame,
  frameBits,
  hasPlainParity,
  isWellFormed,
  oddParity,
  plainFrame,
  shortFrame,
  withCrcA,
} from "./frame.js";

describe("parity and frames", () => {
  it("odd parity makes the number of ones in byte + parity odd", () => {
    for (let b = 0; b < 256; b++) {
      let ones = oddParity(b);
      for (let v = b; v; v >>= 1) ones += v & 1;
      expect(ones % 2).toBe(1);
    }
    expect(oddParity(0x00)).toBe(1);
    expect(oddParity(0x01)).toBe(0);
  });

  it("short frames carry their bits and no parity; full frames one parity bit per byte", () => {
    const reqa = shortFrame(0x26, 7);
    expect(reqa).toEqual({ data: Uint8Array.of(0x26), bits: 7, parity: new Uint8Array(0) });
    expect(isWellFormed(reqa)).toBe(true);
    expect(frameBits(reqa)).toBe(7);
    expect(shortFrame(0xfa, 4).data[0]).toBe(0x0a);
    expect(() => shortFrame(0, 8)).toThrow(RangeError);
    const f = plainFrame(fromHex("9320"));
    expect(frameBits(f)).toBe(18);
    expect(hasPlainParity(f)).toBe(true);
    expect(isWellFormed({ data: Uint8Array.of(1, 2), parity: Uint8Array.of(1) })).toBe(false);
    expect(isWellFormed({ data: Uint8Array.of(0x80), bits: 7, parity: new Uint8Array(0) })).toBe(false);
    expect(isWellFormed({ data: new Uint8Array(0), parity: new Uint8Array(0) })).toBe(false);
  });

  it("formats frames as proxmark3 traces do: ! after a parity bit that is not the byte's odd parity", () => {
    expect(formatFrame(shortFrame(0x26, 7))).toBe("26(7)");
    expect(
      formatFrame({ data: fromHex("B142"), parity: Uint8Array.of(oddParity(0xb1), oddParity(0x42) ^ 1) }),
    ).toBe("B1 42!");
  });

  it("CRC_A appended and checked (60 00 → F5 7B)", () => {
    expect(toHex(withCrcA(fromHex("6000")))).toBe("6000F57B");
    expect(crcAValid(fromHex("6000F57B"))).toBe(true);
    expect(crcAValid(fromHex("6000F57C"))).toBe(false);
    expect(crcAValid(fromHex("F57B"))).toBe(false);
  });

  it("a frame with a CRC appended always checks; one flipped bit never does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat(), (data, flip) => {
        const framed = withCrcA(data);
        expect(crcAValid(framed)).toBe(true);
        const bit = flip % (framed.length * 8);
        framed[bit >> 3]! ^= 1 << (bit & 7);
        expect(crcAValid(framed)).toBe(false);
      }),
    );
  });
});

describe("MemoryFrameLink", () => {
  const echo = (): FrameCard & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      fieldOn: () => calls.push("on"),
      fieldOff: () => calls.push("off"),
      handle: (f: Frame) => plainFrame(f.data),
    };
  };

  it("powers the card with the field, records a trace, refuses to transmit with the field off", async () => {
    const card = echo();
    const link = new MemoryFrameLink(card, { trace: true });
    await expect(link.transceive(plainFrame(Uint8Array.of(1)))).rejects.toThrow(/field is off/);
    await link.fieldOn();
    expect(toHex((await link.transceive(plainFrame(Uint8Array.of(7))))!.data)).toBe("07");
    await link.fieldOff();
    expect(card.calls).toEqual(["on", "off"]);
    expect(link.trace.map((e) => e.from)).toEqual(["reader", "card"]);
  });

  it("an empty field answers nothing; presenting a card while the field is on powers it", async () => {
    const link = new MemoryFrameLink(null);
    await link.fieldOn();
    expect(await link.transceive(plainFrame(Uint8Array.of(1)))).toBeNull();
    const card = echo();
    link.present(card);
    expect(card.calls).toEqual(["on"]);
    link.present(null);
    expect(card.calls).toEqual(["on", "off"]);
  });
});
