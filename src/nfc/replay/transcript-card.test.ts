import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromHex, toHex } from "../../core/bytes.js";
import { QPBOC_ONLINE_HEX } from "../fixtures/qpboc-online.js";
import { TranscriptCard } from "./transcript-card.js";

const make = (json: unknown) => {
  const r = TranscriptCard.fromJson(json);
  if (!r.ok) throw new Error(r.error);
  r.value.activate();
  return r.value;
};
const send = (c: TranscriptCard, h: string) => toHex(c.process(fromHex(h)));

describe("TranscriptCard", () => {
  it("replays the qPBOC trace by exact command match", () => {
    const c = make({ apdus: QPBOC_ONLINE_HEX });
    for (const e of [...QPBOC_ONLINE_HEX].reverse()) expect(send(c, e.command)).toBe(e.response);
  });

  it("answers a repeated command in recorded order, then repeats the last; a new tap starts again", () => {
    const c = make({
      apdus: [
        { command: "805C000204", response: "000003E89000" },
        { command: "00B201C400", response: "6A83" },
        { command: "805C000204", response: "000003849000" },
      ],
    });
    expect(send(c, "805C000204")).toBe("000003E89000");
    expect(send(c, "805C000204")).toBe("000003849000");
    expect(send(c, "805C000204")).toBe("000003849000");
    c.deactivate();
    c.activate();
    expect(send(c, "805C000204")).toBe("000003E89000");
  });

  it("answers unknown commands with 6A82 (SELECT), 6D00, or 6700 when shorter than a header", () => {
    const c = make({ apdus: QPBOC_ONLINE_HEX });
    expect(send(c, "00A4040007A000000333010200")).toBe("6A82");
    expect(send(c, "00B2010C00")).toBe("6D00");
    expect(send(c, "00A404")).toBe("6700");
    expect(send(c, "")).toBe("6700");
  });

  it("uses the transcript's activation, or a default one", () => {
    const a = make({ activation: { uid: "04A1B2C3D4E5F6", atqa: "0044", sak: 32 }, apdus: [] }).activate();
    expect(toHex(a.uid)).toBe("04A1B2C3D4E5F6");
    expect(a.sak).toBe(0x20);
    expect(make({ apdus: [] }).activate().uid.length).toBe(4);
  });

  it("rejects malformed transcripts with the field named", () => {
    const e = (j: unknown) => {
      const r = TranscriptCard.fromJson(j);
      return r.ok ? "" : r.error;
    };
    expect(e([])).toContain("JSON object");
    expect(e({})).toBe('"apdus" must be an array');
    expect(e({ apdus: [{ command: "00A4", response: "90" }] })).toContain("apdus[0].response");
    expect(e({ apdus: [{ command: "zz", response: "9000" }] })).toContain("apdus[0].command is not hex");
    expect(e({ apdus: [{ command: "00", response: "9000", us: -1 }] })).toContain("apdus[0].us");
    expect(e({ activation: { uid: "01", atqa: "0004", sak: "20" }, apdus: [] })).toContain("not 4, 7 or 10");
    expect(e({ activation: { uid: "01020304", atqa: "0004", sak: 300 }, apdus: [] })).toContain("one byte");
  });

  it("never throws and always ends its answer with a status word (100,000 arbitrary commands)", () => {
    const c = make({ apdus: QPBOC_ONLINE_HEX });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const r = c.process(b);
        return r.length >= 2 && (r[r.length - 2]! === 0x90 || r[r.length - 2]! >> 4 === 6);
      }),
      { numRuns: 100_000 },
    );
  });
});
