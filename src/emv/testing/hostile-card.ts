/**
 * Test support: hostile cards for the POS kernel (src/emv/terminal/hostile-card.test.ts runs them in CI,
 * bench/fuzz.ts for longer). A genuine conversation's answers damaged — flipped bits, wrong lengths, truncation,
 * inserted bytes, huge answers, missing records, random status words, the card leaving the field — or random
 * TLV built from EMV tags.
 */
import fc from "fast-check";
import { type Bytes, concat, fromHex } from "../../core/bytes.js";
import { tlv } from "../../core/tlv.js";
import { type Activation, CardGoneError, type Link } from "../../nfc/link.js";

export type Mutation =
  | { kind: "none" }
  | { kind: "flip"; pos: number; bit: number }
  | { kind: "set"; pos: number; value: number }
  | { kind: "truncate"; keep: number }
  | { kind: "insert"; pos: number; bytes: Uint8Array }
  | { kind: "sw"; sw: number }
  | { kind: "huge"; size: number; head: Uint8Array }
  | { kind: "empty" }
  | { kind: "missing" }
  | { kind: "gone" }
  | { kind: "random"; bytes: Uint8Array }
  | { kind: "tlv"; data: Uint8Array };

const EMV_TAGS = [
  0x4f, 0x50, 0x57, 0x5a, 0x61, 0x6f, 0x70, 0x77, 0x80, 0x82, 0x84, 0x87, 0x8f, 0x90, 0x92, 0x94, 0xa5,
  0x5f24, 0x5f25, 0x5f34, 0x9f10, 0x9f26, 0x9f27, 0x9f32, 0x9f36, 0x9f38, 0x9f46, 0x9f47, 0x9f48, 0x9f4a,
  0x9f4b, 0x9f5d, 0x9f69, 0x9f6c, 0xbf0c, 0x9f2a,
];

/** Random TLV from EMV tags, nested up to 3 levels, value lengths around the real ones. */
export const tlvArb: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array; list: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    fc.tuple(fc.constantFrom(...EMV_TAGS), fc.uint8Array({ maxLength: 40 })).map(([tag, v]) => tlv(tag, v)),
    fc
      .tuple(fc.constantFrom(0x6f, 0xa5, 0xbf0c, 0x61, 0x77, 0x70), tie("list") as fc.Arbitrary<Uint8Array>)
      .map(([tag, v]) => tlv(tag, v)),
  ),
  list: fc.array(tie("node") as fc.Arbitrary<Uint8Array>, { maxLength: 6 }).map((l) => concat(...l)),
})).list;

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("flip" as const), pos: fc.nat(), bit: fc.nat(7) }), weight: 4 },
  {
    arbitrary: fc.record({ kind: fc.constant("set" as const), pos: fc.nat(), value: fc.nat(255) }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      pos: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("sw" as const), sw: fc.nat(0xffff) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("huge" as const),
      size: fc.integer({ min: 250, max: 70_000 }),
      head: fc.constantFrom(fromHex("7082FFFF"), fromHex("7781FE"), fromHex("6F84FFFFFFFF"), fromHex("70")),
    }),
    weight: 1,
  },
  { arbitrary: fc.constant({ kind: "empty" as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: "missing" as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: "gone" as const }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant("random" as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant("tlv" as const), data: tlvArb }), weight: 2 },
);

/** The damaged answer: data mutations touch the data part and keep the status word. */
function mutate(genuine: Bytes | undefined, m: Mutation): Bytes | "gone" {
  const base = genuine ?? fromHex("6D00");
  const data = base.subarray(0, base.length - 2);
  const sw = base.subarray(base.length - 2);
  const at = (pos: number) => (data.length === 0 ? 0 : pos % data.length);
  switch (m.kind) {
    case "none":
      return base;
    case "flip": {
      if (data.length === 0) return base;
      const d = data.slice();
      d[at(m.pos)]! ^= 1 << m.bit;
      return concat(d, sw);
    }
    case "set": {
      if (data.length === 0) return base;
      const d = data.slice();
      d[at(m.pos)] = m.value;
      return concat(d, sw);
    }
    case "truncate":
      return concat(data.subarray(0, at(m.keep)), sw);
    case "insert": {
      const p = at(m.pos);
      return concat(data.subarray(0, p), m.bytes, data.subarray(p), sw);
    }
    case "sw":
      return concat(data, Uint8Array.of(m.sw >> 8, m.sw & 0xff));
    case "huge": {
      const d = new Uint8Array(m.size).fill(0x5a);
      d.set(m.head.subarray(0, m.size));
      return concat(d, fromHex("9000"));
    }
    case "empty":
      return new Uint8Array(0);
    case "missing":
      return fromHex("6A83");
    case "gone":
      return "gone";
    case "random":
      return m.bytes;
    case "tlv":
      return concat(m.data, fromHex("9000"));
  }
}

/** A field with a hostile card in it: the n-th command gets the n-th genuine answer, damaged. */
export class HostileLink implements Link {
  private n = 0;
  get commands(): number {
    return this.n;
  }
  activation: Activation | null = null;
  constructor(
    private readonly answers: Bytes[],
    private readonly mutations: Mutation[],
  ) {}
  async fieldOn(): Promise<Activation> {
    this.activation = { uid: fromHex("08010203"), atqa: fromHex("0004"), sak: 0x20 };
    return this.activation;
  }
  async transceive(): Promise<Bytes> {
    const i = this.n++;
    const r = mutate(this.answers[i], this.mutations[i] ?? { kind: "none" });
    if (r === "gone") {
      this.activation = null;
      throw new CardGoneError();
    }
    return r;
  }
  async fieldOff(): Promise<void> {
    this.activation = null;
  }
}

/** The outcomes a transaction may end in. */
export const KINDS = new Set([
  "online-request",
  "approved",
  "declined",
  "try-again",
  "try-another-interface",
]);
