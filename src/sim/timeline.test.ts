import { describe, expect, it } from "vitest";
import { doorOpenTrace } from "../mifare/testing/door-card.js";
import { frameTimeline } from "./timeline.js";

describe("a MIFARE frame timeline", () => {
  it("gives the air time of the frames (a UID open is a few milliseconds at 106 kbit/s)", async () => {
    const t = frameTimeline(await doorOpenTrace("uid", "5A17E3C0"));
    expect(t.air).toHaveLength(1);
    expect(t.air[0]!.bitRate).toBe(106);
    expect(t.air[0]!.frames).toBe(7);
    expect(t.air[0]!.totalUs).toBeGreaterThan(2000);
    expect(t.air[0]!.totalUs).toBeLessThan(4000);
  });
});
