/**
 * Acceptance: our C-7 kernel, replaying the card side of a real qPBOC online transaction (a UnionPay debit
 * card read on 2017-06-01 — github neil-pan-s/qpboc-kernel @9c6c0b6, QPboc-Kata-Run-Log.txt, MIT; our copy of
 * its APDUs in test/fixtures/emv/qpboc-online-trace.transcript.json), sends the same three commands and
 * builds an online request whose field 55 is the trace's `field55_sent_online`, given the same terminal
 * parameters (TTQ 36, 9F33 E0E9C8, 9F35 22, 9F1E "FFFFFFFF", 9F09 0000, 9F41 5) and unpredictable number.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { parseTlv } from "../src/core/tlv.js";
import { unionPayAid, defaultTerminalConfig } from "../src/emv/terminal/config.js";
import { startTransaction } from "../src/emv/terminal/entry-point.js";
import { AID } from "../src/emv/profile.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { TranscriptCard } from "../src/nfc/replay/index.js";
import { TracingLink } from "../src/nfc/trace.js";

const TRACE_FIELD55 =
  "9F2608AD03EE811AFAD4849F2701809F101307010103A00000010A010000038787868FD1FC9F37042B29EBE49F36020ADC95050000000000" +
  "9A031706019C01009F02060000000000015F2A02015682027C009F1A0201569F03060000000000009F3303E0E9C89F34030000009F3501" +
  "229F1E0846464646464646468408A0000003330101019F090200009F410400000005";

function traceCard() {
  const json = JSON.parse(
    readFileSync(new URL("./fixtures/emv/qpboc-online-trace.transcript.json", import.meta.url), "utf8"),
  );
  const card = TranscriptCard.fromJson(json);
  if (!card.ok) throw new Error(card.error);
  return { card: card.value, apdus: json.apdus as { command: string }[] };
}

const traceTerminal = () =>
  defaultTerminalConfig({
    ifdSerialNumber: "FFFFFFFF",
    capabilities: fromHex("E0E9C8"),
    terminalType: 0x22,
    aids: [unionPayAid(AID.debit, { ttq: fromHex("36000000"), appVersion: fromHex("0000"), floorLimit: 0 })],
  });

/** Taps the trace's card at the trace's terminal, at the time the trace was taken, with `unpredictableNumber`. */
async function tapTrace(link: MemoryLink | TracingLink, unpredictableNumber: string) {
  await link.fieldOn();
  return startTransaction(
    link,
    traceTerminal(),
    { amount: 1, sequenceCounter: 5, unpredictableNumber: fromHex(unpredictableNumber) },
    // 2017-06-01 16:36 China time, when the trace was taken.
    { clock: new ManualClock("2017-06-01T08:36:21Z"), random: () => fromHex("00000000") },
  );
}

describe("replaying the qPBOC online trace (real UnionPay debit card, 2017)", () => {
  it("sends the recorded commands and builds the same field 55", async () => {
    const { card, apdus } = traceCard();
    const link = new TracingLink(new MemoryLink(card));
    const outcome = await tapTrace(link, "2B29EBE4");
    expect(link.records.map((r) => toHex(r.command))).toEqual(apdus.map((a) => a.command));
    expect(outcome.kind).toBe("online-request");
    expect(outcome.cvm).toBe("none");
    expect(toHex(outcome.ttq!)).toBe("36800000");
    expect(outcome.card?.cryptogramType).toBe("ARQC");
    expect(outcome.card?.pan).toBe("6299999999999999");
    expect(toHex(outcome.field55!)).toBe(TRACE_FIELD55);
    // Same tags and values, independent of order:
    const ours = parseTlv(outcome.field55!);
    const theirs = parseTlv(fromHex(TRACE_FIELD55));
    expect(ours.ok && theirs.ok).toBe(true);
    if (ours.ok && theirs.ok) {
      const m = (l: typeof ours.value) => new Map(l.map((t) => [t.tag, toHex(t.value)]));
      expect(m(ours.value)).toEqual(m(theirs.value));
    }
  });

  it("takes 9F27 = 80 from the CVR in 9F10, since the card sent no 9F27", async () => {
    const outcome = await tapTrace(new MemoryLink(traceCard().card), "2B29EBE4");
    const f55 = parseTlv(outcome.field55!);
    expect(f55.ok && f55.value.find((t) => t.tag === 0x9f27)?.value).toEqual(Uint8Array.of(0x80));
  });

  it("does not get the recorded answer to a different unpredictable number (the replay is exact)", async () => {
    const outcome = await tapTrace(new MemoryLink(traceCard().card), "01020304");
    expect(outcome.kind).toBe("declined");
    expect(outcome.field55).toBeUndefined();
  });
});
