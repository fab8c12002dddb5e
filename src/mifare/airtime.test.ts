import { describe, expect, it } from "vitest";
import { fromHex } from "../core/bytes.js";
import { airTime } from "../nfc/airtime.js";
import { MemoryFrameLink, shortFrame } from "../nfc/frame.js";
import { frameAirTime } from "./airtime.js";
import { blankCard } from "./card.js";
import { EmulatedClassic } from "./emulator.js";
import { ClassicReader } from "./reader.js";

async function tracedActivation(uid: string) {
  const card = blankCard({ type: "1k", uid: fromHex(uid) });
  const link = new MemoryFrameLink(new EmulatedClassic(card), { trace: true });
  await link.fieldOn();
  await new ClassicReader(link).activate();
  return { link, card };
}

describe("frame air time at 106 kbit/s", () => {
  it("REQA alone: start bit, 7 data bits, 2 end bits = 10 × 128/fc", () => {
    const r = frameAirTime([{ from: "reader", frame: shortFrame(0x52, 7) }]);
    expect(r.totalUs).toBeCloseTo((10 * 128 * 1e6) / 13.56e6, 6);
    expect(r.delayUs).toBeCloseTo(0, 9);
  });

  it.each(["01A062BD", "04112233445566"])(
    "activation of UID %s ends exactly where the APDU air-time model's SAK ends",
    async (uid) => {
      const { link, card } = await tracedActivation(uid);
      const ours = frameAirTime(link.trace);
      const model = airTime([], {
        bitRate: 106,
        includeActivation: true,
        activation: { uid: card.uid, atqa: card.atqa, sak: card.sak },
      });
      const sak = model.frames.filter((f) => f.kind === "SAK").at(-1)!;
      expect(ours.frames).toBe(uid.length === 8 ? 6 : 10);
      expect(ours.totalUs).toBeCloseTo(sak.startUs + sak.airUs, 6);
    },
  );

  it("more bits take longer; delays are counted between frames only", async () => {
    const { link } = await tracedActivation("01A062BD");
    const r = frameAirTime(link.trace);
    expect(r.readerUs + r.cardUs + r.delayUs).toBeCloseTo(r.totalUs, 6);
    expect(r.delayUs).toBeGreaterThan(5 * 60);
    expect(frameAirTime(link.trace.slice(0, 2)).totalUs).toBeLessThan(r.totalUs);
  });
});
