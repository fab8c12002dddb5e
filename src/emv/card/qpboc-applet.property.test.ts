/**
 * The qPBOC applet against malformed and hostile commands: ≥ 100,000 generated command sequences in CI.
 * Every command gets a status word (never an exception); the ATC only moves forward, by one per GPO; the
 * offline balance never goes negative and only drops by the amount of an offline approval; the log keeps
 * at most 10 entries.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CommandApdu, command, parseCommand } from "../../core/apdu.js";
import { type Bytes, bcd, concat, fromHex, readBcd } from "../../core/bytes.js";
import { parseTlv, tlv } from "../../core/tlv.js";
import { MemoryStore, personalisedApplet, selectCommand } from "../../../test/emv-support.js";
import { AID } from "../profile.js";

const { applet, ctx } = personalisedApplet();
const personalised = new Map(ctx.store.cells);

const ttqArb = fc.oneof(
  fc
    .constantFrom("3200C080", "3280C080", "32C0C080", "30000000", "36800000", "3A000080", "10000000")
    .map(fromHex),
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
);

const bcdOrJunk = (max: number) =>
  fc.oneof(
    { arbitrary: fc.integer({ min: 0, max }).map((a) => bcd(a, 6)), weight: 5 },
    { arbitrary: fc.uint8Array({ minLength: 6, maxLength: 6 }), weight: 1 },
  );

/** GPO with PDOL data that is right in shape (33 bytes) but random in content, or wrong in shape. */
const gpoArb: fc.Arbitrary<CommandApdu> = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        ttqArb,
        bcdOrJunk(2000_00),
        bcdOrJunk(100),
        fc.constantFrom(fromHex("0156"), fromHex("0978"), fromHex("FFFF")),
        fc.uint8Array({ minLength: 15, maxLength: 15 }),
      )
      .map(([ttq, amount, other, currency, rest]) => {
        // 9F66 4 | 9F02 6 | 9F03 6 | 9F1A 2 | 95 5 | 5F2A 2 | 9A 3 | 9C 1 | 9F37 4
        const data = concat(
          ttq,
          amount,
          other,
          rest.subarray(0, 2),
          rest.subarray(2, 7),
          currency,
          rest.subarray(7, 17),
        );
        return command(0x80, 0xa8, 0, 0, tlv(0x83, data), 256);
      }),
    weight: 4,
  },
  { arbitrary: fc.uint8Array({ maxLength: 60 }).map((d) => command(0x80, 0xa8, 0, 0, d, 256)), weight: 1 },
  {
    arbitrary: fc.uint8Array({ maxLength: 60 }).map((d) => command(0x80, 0xa8, 0, 0, tlv(0x83, d), 256)),
    weight: 1,
  },
);

const commandArb: fc.Arbitrary<CommandApdu | Bytes | "select"> = fc.oneof(
  { arbitrary: gpoArb, weight: 4 },
  {
    arbitrary: fc
      .tuple(fc.nat(255), fc.nat(255), fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }))
      .map(([p1, p2, ne]) => command(0x00, 0xb2, p1, p2, new Uint8Array(0), ne)),
    weight: 3,
  },
  {
    arbitrary: fc
      .tuple(fc.nat(255), fc.nat(255))
      .map(([p1, p2]) => command(0x80, 0xca, p1, p2, new Uint8Array(0), 256)),
    weight: 1,
  },
  {
    arbitrary: fc.uint8Array({ maxLength: 12 }).map((d) => command(0x00, 0x82, 0, 0, d)),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 40 }))
      .map(([cla, ins, p1, p2, d]) => command(cla, ins, p1, p2, d)),
    weight: 2,
  },
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 2 },
  { arbitrary: fc.constant("select" as const), weight: 1 },
);

function amountOf(c: CommandApdu): number | null {
  const t = parseTlv(c.data, { recurse: false, skipPadding: false });
  if (!t.ok || t.value.length !== 1 || t.value[0]!.value.length !== 33) return null;
  const digits = readBcd(t.value[0]!.value.subarray(4, 10));
  return digits === null ? null : Number(digits);
}

/** A plain check: 100,000 cases × several commands make `expect` the main cost. */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

describe("QpbocApplet against hostile commands", () => {
  it("answers 100,000 generated command sequences with status words and keeps its invariants", () => {
    let gpos = 0;
    let offline = 0;
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 6 }), (cmds) => {
        ctx.store = new MemoryStore();
        for (const [k, v] of personalised) ctx.store.cells.set(k, v);
        check(applet.select(selectCommand(AID.debit), ctx).sw === 0x9000, "SELECT");
        for (const raw of cmds) {
          const atc = ctx.store.get<number>("atc")!;
          const balance = ctx.store.get<number>("offlineBalance")!;
          let r;
          let c: CommandApdu | null = null;
          if (raw === "select") r = applet.select(selectCommand(AID.debit), ctx);
          else if (raw instanceof Uint8Array) {
            const parsed = parseCommand(raw);
            if (!parsed.ok) continue;
            c = parsed.value;
            r = applet.process(c, ctx);
          } else {
            c = raw;
            r = applet.process(c, ctx);
          }
          check(r.sw >= 0x6000 && r.sw <= 0x9fff, `status word ${r.sw.toString(16)}`);
          check(r.sw === 0x9000 || r.data.length === 0, "data with an error status word");
          const atcAfter = ctx.store.get<number>("atc")!;
          const balanceAfter = ctx.store.get<number>("offlineBalance")!;
          const isGpo = c !== null && c.ins === 0xa8 && r.sw === 0x9000;
          if (isGpo) gpos++;
          check(atcAfter === (isGpo ? atc + 1 : atc), `ATC ${atc} → ${atcAfter}`);
          check(balanceAfter >= 0, "negative offline balance");
          check(
            balanceAfter === balance || (isGpo && balance - balanceAfter === amountOf(c!)),
            "offline balance moved",
          );
          if (balanceAfter !== balance) offline++;
          check((ctx.store.get<string[]>("log") ?? []).length <= 10, "log longer than 10");
        }
      }),
      { numRuns: 100_000 },
    );
    // The generated commands reach the card's real work, not only its refusals.
    expect(gpos).toBeGreaterThan(10_000);
    expect(offline).toBeGreaterThan(100);
  });
});
