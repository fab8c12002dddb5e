import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../core/bytes.js";
import { ImageCard } from "./image-card.js";
import { TranscriptCard } from "./transcript-card.js";

/** The JSON examples of docs/REPLAY.md load and behave as the page says. */
const blocks = [
  ...readFileSync(new URL("../../../docs/REPLAY.md", import.meta.url), "utf8").matchAll(
    /```json\n([\s\S]*?)```/g,
  ),
].map((m) => JSON.parse(m[1]!) as unknown);

describe("docs/REPLAY.md examples", () => {
  it("has a transcript and an image example", () => expect(blocks).toHaveLength(2));

  it("the transcript example replays as described", () => {
    const r = TranscriptCard.fromJson(blocks[0]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    r.value.activate();
    const send = (h: string) => toHex(r.value.process(fromHex(h)));
    expect(send("805C000204")).toBe("000003E89000");
    expect(send("805C000204")).toBe("000003849000");
    expect(send("805C000204")).toBe("000003849000");
  });

  it("the image example loads and answers its files", () => {
    const r = ImageCard.fromJson(blocks[1]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    r.value.activate();
    const send = (h: string) => toHex(r.value.process(fromHex(h)));
    expect(send("00A404000E325041592E5359532E444446303100").endsWith("9000")).toBe(true);
    expect(send("00A4040008A00000063201010500")).toBe("6F0A8408A0000006320101059000");
    expect(send("00B0950000")).toHaveLength(30 * 2 + 4);
    expect(send("00B201C400")).toHaveLength(23 * 2 + 4);
    expect(send("00B202C400")).toBe("6A83");
    expect(send("805C000204")).toBe("00000B229000");
  });
});
