/**
 * The C-7 kernel against hostile cards: ≥ 100,000 generated cards in CI. Each case takes a genuine
 * conversation of our token card (an online and an fDDA-offline transaction, recorded once) and damages
 * the answers — flipped bits, wrong lengths, truncation, inserted bytes, huge answers, missing records,
 * random status words, the card leaving the field — or answers with random TLV built from EMV tags. The
 * kernel must always end in an outcome (never throw), and approve offline only with fDDA passed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, concat, fromHex } from "../../core/bytes.js";
import { ManualClock } from "../../core/clock.js";
import { parseTlv, tlv } from "../../core/tlv.js";
import { type Activation, CardGoneError, type Link } from "../../nfc/link.js";
import { TracingLink } from "../../nfc/trace.js";
import { quickPassWorld } from "../../../test/emv-support.js";
import { type TerminalConfig, defaultTerminalConfig, unionPayAid } from "./config.js";
import { startTransaction } from "./entry-point.js";
import { AID } from "../profile.js";

const UN = fromHex("0A0B0C0D");
const clock = new ManualClock("2026-03-01T04:00:00Z");

/** Records a genuine transaction of our token card with this terminal configuration. */
async function genuine(config: TerminalConfig, amount: number): Promise<Bytes[]> {
  const w = await quickPassWorld();
  const link = new TracingLink(w.link);
  await link.fieldOn();
  await startTransaction(
    link,
    config,
    { amount, sequenceCounter: 1, unpredictableNumber: UN },
    { clock, random: () => UN },
  );
  return link.records.map((r) => r.response!);
}

type Mutation =
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
const tlvArb: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array; list: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    fc.tuple(fc.constantFrom(...EMV_TAGS), fc.uint8Array({ maxLength: 40 })).map(([tag, v]) => tlv(tag, v)),
    fc
      .tuple(fc.constantFrom(0x6f, 0xa5, 0xbf0c, 0x61, 0x77, 0x70), tie("list") as fc.Arbitrary<Uint8Array>)
      .map(([tag, v]) => tlv(tag, v)),
  ),
  list: fc.array(tie("node") as fc.Arbitrary<Uint8Array>, { maxLength: 6 }).map((l) => concat(...l)),
})).list;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
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
class HostileLink implements Link {
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

const KINDS = new Set(["online-request", "approved", "declined", "try-again", "try-another-interface"]);

describe("C-7 kernel against hostile cards", () => {
  it("ends every one of 100,000 damaged transactions in an outcome, never an exception", async () => {
    const online = defaultTerminalConfig();
    const offline = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit: 300_00 })] });
    const bases = {
      online: { config: online, answers: await genuine(online, 12_34), amount: 12_34 },
      offline: { config: offline, answers: await genuine(offline, 100_00), amount: 100_00 },
    };
    expect(bases.offline.answers.length).toBeGreaterThan(3); // PPSE, SELECT, GPO, READ RECORDs
    const env = { clock, random: () => UN };
    let approvedOffline = 0;
    let onlineRequests = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("online" as const, "offline" as const),
        fc.array(mutationArb, { minLength: 1, maxLength: 8 }),
        async (which, mutations) => {
          const b = bases[which];
          const link = new HostileLink(b.answers, mutations);
          await link.fieldOn();
          const o = await startTransaction(
            link,
            b.config,
            { amount: b.amount, sequenceCounter: 1, unpredictableNumber: UN },
            env,
          );
          if (!KINDS.has(o.kind)) throw new Error(`outcome ${o.kind}`);
          if (!(o.reason.zh.length > 0 && o.reason.en.length > 0)) throw new Error("reason without text");
          if (o.kind === "approved") {
            approvedOffline++;
            if (o.card?.fdda !== "passed") throw new Error("approved offline without fDDA");
          }
          if (o.kind === "online-request") {
            onlineRequests++;
            if (!o.field55?.length) throw new Error("online request without field 55");
          }
        },
      ),
      { numRuns: 100_000 },
    );
    // Undamaged offline cases still approve: the genuine path is exercised, not only the failures.
    expect(approvedOffline).toBeGreaterThan(1000);
    expect(onlineRequests).toBeGreaterThan(1000);
  });

  it("never approves or goes online with a card that answers random TLV to everything", async () => {
    const config = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit: 300_00 })] });
    await fc.assert(
      fc.asyncProperty(fc.array(tlvArb, { minLength: 1, maxLength: 8 }), async (answers) => {
        const link = new HostileLink(
          answers.map((a) => concat(a, fromHex("9000"))),
          [],
        );
        await link.fieldOn();
        const o = await startTransaction(
          link,
          config,
          { amount: 100_00, sequenceCounter: 1 },
          { clock, random: () => UN },
        );
        expect(["declined", "try-again", "try-another-interface"]).toContain(o.kind);
      }),
      { numRuns: 5_000 },
    );
  });

  it("declines a card whose AFL asks for more records than a transaction may read", async () => {
    const config = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit: 300_00 })] });
    const answers = await genuine(config, 100_00);
    const gpo = parseTlv(answers[2]!.subarray(0, answers[2]!.length - 2));
    if (!gpo.ok) throw new Error(gpo.error);
    const afl = fromHex("0801FF00".repeat(4)); // 4 × 255 records
    const fields = gpo.value[0]!.children!.map((t) => (t.tag === 0x94 ? { tag: 0x94, value: afl } : t));
    const record = answers[3]!;
    const link = new HostileLink(
      [answers[0]!, answers[1]!, concat(tlv(0x77, fields), fromHex("9000")), record],
      [],
    );
    await link.fieldOn();
    const o = await startTransaction(
      link,
      config,
      { amount: 100_00, sequenceCounter: 1, unpredictableNumber: UN },
      { clock, random: () => UN },
    );
    expect(o.reason.code).toBe("bad-card-data");
    expect(link.commands).toBe(3); // refused before the first READ RECORD
    expect(o.kind).toBe("declined");
  });
});
