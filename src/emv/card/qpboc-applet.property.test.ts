/**
 * The qPBOC applet against malformed and hostile commands: ≥ 100,000 generated command sequences in CI.
 * Every command gets a status word (never an exception); the ATC only moves forward, by one per GPO; the
 * offline balance never goes negative and only drops by the amount of an offline approval; the log keeps
 * at most 10 entries.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CommandApdu, parseCommand } from "../../core/apdu.js";
import { MemoryStore, personalisedApplet, selectCommand } from "../../../test/emv-support.js";
import { AID } from "../profile.js";
import { amountOf, commandArb } from "../testing/qpboc-commands.js";

const { applet, ctx } = personalisedApplet();
const personalised = new Map(ctx.store.cells);

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
