/**
 * The C-7 kernel against hostile cards: ≥ 100,000 generated cards in CI. Each case takes a genuine
 * conversation of our token card (an online and an fDDA-offline transaction, recorded once) and damages
 * the answers — flipped bits, wrong lengths, truncation, inserted bytes, huge answers, missing records,
 * random status words, the card leaving the field — or answers with random TLV built from EMV tags. The
 * kernel must always end in an outcome (never throw), and approve offline only with fDDA passed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concat, fromHex } from "../../core/bytes.js";
import { HostileLink, KINDS, mutationArb, tlvArb } from "../testing/hostile-card.js";
import { ManualClock } from "../../core/clock.js";
import { parseTlv, tlv } from "../../core/tlv.js";
import { GENUINE_UN, genuineAnswers, genuineBases } from "../../../test/emv-support.js";
import { defaultTerminalConfig, unionPayAid } from "./config.js";
import { startTransaction } from "./entry-point.js";
import { AID } from "../profile.js";

const UN = GENUINE_UN;
const clock = new ManualClock("2026-03-01T04:00:00Z");

describe("C-7 kernel against hostile cards", () => {
  it("ends every one of 100,000 damaged transactions in an outcome, never an exception", async () => {
    const bases = await genuineBases();
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
    const answers = await genuineAnswers(config, 100_00);
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
