import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { QPBOC_ONLINE_HEX, qpbocOnline } from "./fixtures/qpboc-online.js";
import { CardGoneError } from "./link.js";
import { MemoryLink } from "./memory.js";
import { TranscriptCard } from "./replay/transcript-card.js";
import { type MonotonicClock, TracingLink } from "./trace.js";
import { parseTranscriptText } from "./transcript.js";

/** A clock that advances 1,500 µs every time it is read. */
const steppingClock = (): MonotonicClock => {
  let t = 1_000_000;
  return { nowUs: () => (t += 1_500) };
};

const recordedCard = () =>
  new TranscriptCard({
    activation: { uid: fromHex("08A1B2C3"), atqa: fromHex("0004"), sak: 0x20, ats: fromHex("0578807002") },
    apdus: qpbocOnline(),
  });

describe("TracingLink", () => {
  it("records activation, each exchange's command, response, start and duration", async () => {
    const link = new TracingLink(new MemoryLink(recordedCard()), steppingClock());
    await link.fieldOn();
    for (const e of QPBOC_ONLINE_HEX)
      expect(toHex(await link.transceive(fromHex(e.command)))).toBe(e.response);
    await link.fieldOff();
    expect(link.records).toHaveLength(3);
    expect(link.records.map((r) => r.us)).toEqual([1500, 1500, 1500]);
    expect(link.records.map((r) => r.startUs)).toEqual([1500, 4500, 7500]);
    const json = link.toJson();
    expect(json.activation).toEqual({ uid: "08A1B2C3", atqa: "0004", sak: "20", ats: "0578807002" });
    expect(json.apdus.map((a) => ({ command: a.command, response: a.response }))).toEqual(QPBOC_ONLINE_HEX);
    expect(json.apdus[0]!.us).toBe(1500);
  });

  it("keeps a failed exchange in its records but out of the replayable transcript", async () => {
    const memory = new MemoryLink(recordedCard());
    const link = new TracingLink(memory, steppingClock());
    await link.fieldOn();
    await link.transceive(fromHex(QPBOC_ONLINE_HEX[0]!.command));
    memory.removeCard();
    await expect(link.transceive(fromHex(QPBOC_ONLINE_HEX[1]!.command))).rejects.toBeInstanceOf(
      CardGoneError,
    );
    expect(link.records[1]).toMatchObject({ error: "card_gone" });
    expect(link.records[1]!.response).toBeUndefined();
    expect(link.transcript().apdus).toHaveLength(1);
  });

  it("saves a trace that a TranscriptCard replays exactly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tapwallet-trace-"));
    try {
      const link = new TracingLink(new MemoryLink(recordedCard()), steppingClock());
      await link.fieldOn();
      for (const e of QPBOC_ONLINE_HEX) await link.transceive(fromHex(e.command));
      const file = join(dir, "trace.json");
      await link.save(file);
      const loaded = parseTranscriptText(await readFile(file, "utf8"));
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      const replay = new MemoryLink(new TranscriptCard(loaded.value));
      expect(toHex((await replay.fieldOn()).uid)).toBe("08A1B2C3");
      for (const e of QPBOC_ONLINE_HEX)
        expect(toHex(await replay.transceive(fromHex(e.command)))).toBe(e.response);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
