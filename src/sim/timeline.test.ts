import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { concat, fromHex, toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import { addDoorCardLocally } from "../device/door-cards.js";
import { resolveModel } from "../device/models.js";
import { VirtualPhone } from "../device/phone.js";
import { frameAirTime } from "../mifare/airtime.js";
import { blankCard, setBlock } from "../mifare/card.js";
import { EmulatedClassic } from "../mifare/emulator.js";
import { readCard } from "../mifare/reader.js";
import { doorOpenTrace } from "../mifare/testing/door-card.js";
import { type Frame, type FrameCard, MemoryFrameLink, formatFrame } from "../nfc/frame.js";
import { IssuerKeyStore } from "../transit/index.js";
import { SimStore } from "./store.js";
import { type TerminalDeps, tap } from "./terminals.js";
import { frameTimeline } from "./timeline.js";

/** A card that keeps every exchange: the reader's frame and the card's answer, as they went on the air. */
function recording(card: FrameCard): {
  card: FrameCard;
  exchanges: { command: Frame; answer: Frame | null }[];
} {
  const exchanges: { command: Frame; answer: Frame | null }[] = [];
  return {
    exchanges,
    card: {
      fieldOn: () => card.fieldOn(),
      fieldOff: () => card.fieldOff(),
      handle(command) {
        const answer = card.handle(command);
        exchanges.push({ command, answer });
        return answer;
      },
    },
  };
}

/**
 * The frames of every authentication, found by the protocol and not by the decoder: nT is the only answer of
 * four whole bytes to a 4-byte command (the AUTH, in clear or encrypted when nested: a READ answers 18 bytes,
 * the other commands a 4-bit ACK/NAK), {nR}{aR} the only 8-byte reader frame, {aT} the answer to it. A reader
 * that cannot decrypt a nested nT (a wrong key) sends no {nR}{aR}; that nT still counts.
 */
function authenticationFrames(exchanges: { command: Frame; answer: Frame | null }[]): Frame[] {
  const whole = (f: Frame | null, n: number): f is Frame =>
    f !== null && f.bits === undefined && f.data.length === n;
  return exchanges.flatMap(({ command, answer }) =>
    whole(command, 4) && whole(answer, 4)
      ? [answer]
      : whole(command, 8)
        ? [command, ...(answer ? [answer] : [])]
        : [],
  );
}

/** Every way a frame's bytes could show in an answer: spaced as proxmark3 prints them, or run together. */
const spellings = (f: Frame): string[] => {
  const hex = toHex(f.data);
  return [formatFrame(f), hex, hex.replace(/(..)(?!$)/g, "$1 ")];
};

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe("a MIFARE frame timeline", () => {
  it("gives the air time of the frames (a UID open is a few milliseconds at 106 kbit/s)", async () => {
    const t = frameTimeline(await doorOpenTrace("uid", "5A17E3C0"));
    expect(t.air).toHaveLength(1);
    expect(t.air[0]!.bitRate).toBe(106);
    expect(t.air[0]!.frames).toBe(7);
    expect(t.air[0]!.totalUs).toBeGreaterThan(2000);
    expect(t.air[0]!.totalUs).toBeLessThan(4000);
    expect(t.steps.some((s) => s.hidden)).toBe(false);
  });

  it("a door tap's answer never holds the authentication frames: nT, {nR}{aR}, {aT} as ??, names, lengths and air time kept", async () => {
    dir = mkdtempSync(join(tmpdir(), "tw-sim-timeline-"));
    const clock = new ManualClock();
    const phone = VirtualPhone.create(join(dir, "phone"), {
      name: "测试手机",
      model: resolveModel("小米9"),
      region: "CN",
      clock,
    });
    addDoorCardLocally(phone, blankCard({ type: "1k", uid: fromHex("5A17E3C0") }));
    const field = recording(phone.door);
    // The simulator's door terminal, holding this phone's door card (the tap only touches the field).
    const held = Object.create(phone, { door: { get: () => field.card } }) as VirtualPhone;
    const deps: TerminalDeps = {
      store: new SimStore(join(dir, "sim")),
      clock,
      cloudUrl: "http://cloud.test",
      fetch: () => Promise.reject(new Error("a door tap does not reach the cloud")),
      acquirerKey: "",
      operatorKey: () => Promise.resolve(null),
      transitKeys: new IssuerKeyStore("test"),
    };
    const enrol = await tap(held, { kind: "door", mode: "sector", enrol: true }, "acct", deps);
    expect(enrol).toMatchObject({ ok: true, code: "enrolled" });
    field.exchanges.length = 0;
    const open = await tap(held, { kind: "door", mode: "sector" }, "acct", deps);
    expect(open).toMatchObject({ ok: true, code: "granted" });

    // What /sim/v1/phones/{id}/taps answers: the tap result as JSON.
    const answer = JSON.stringify(open);
    const secret = authenticationFrames(field.exchanges);
    expect(secret).toHaveLength(3);
    for (const f of secret) for (const s of spellings(f)) expect(answer).not.toContain(s);

    if (open.timeline.kind !== "frames") throw new Error("a door tap has a frame timeline");
    const steps = open.timeline.steps;
    const auth = steps.findIndex((s) => s.name.en === "AUTH key A, block 4");
    expect(steps.slice(auth + 1, auth + 4).map((s) => [s.name.en, s.hex, s.hidden, s.bits])).toEqual([
      ["card nonce nT", "?? ?? ?? ??", true, 32],
      ["reader answer {nR}{aR}", "?? ?? ?? ?? ?? ?? ?? ??", true, 64],
      ["card answer {aT}", "?? ?? ?? ??", true, 32],
    ]);
    expect(steps.filter((s) => s.hidden)).toHaveLength(3);
    // The rest stays as it went on the air, and the air time is the real frames'.
    expect(steps[auth]!.hex).toBe("60 04 D1 3D");
    expect(steps.some((s) => s.name.en === "encrypted block data" && s.hex.length > 0)).toBe(true);
    const onAir = field.exchanges.flatMap((e) => [
      { from: "reader" as const, frame: e.command },
      ...(e.answer ? [{ from: "card" as const, frame: e.answer }] : []),
    ]);
    expect(steps).toHaveLength(onAir.length);
    expect(open.timeline.air[0]!.totalUs).toBeCloseTo(frameAirTime(onAir).totalUs, 6);
  });

  it("a dictionary read hides every authentication, nested ones included", async () => {
    const card = blankCard({ type: "1k", uid: fromHex("04A1B2C3") });
    // Sector 3 under a site key the dictionary does not hold: failed authentications too.
    setBlock(card.memory!, 15, concat(fromHex("A0A1A2A3A4A5"), fromHex("FF078069B0B1B2B3B4B5")));
    const field = recording(new EmulatedClassic(card));
    const link = new MemoryFrameLink(field.card, { trace: true });
    expect((await readCard(link)).ok).toBe(true);
    const timeline = frameTimeline(link.trace);
    const answer = JSON.stringify(timeline);
    const secret = authenticationFrames(field.exchanges);
    expect(secret.length).toBeGreaterThan(16 * 3);
    for (const f of secret) for (const s of spellings(f)) expect(answer).not.toContain(s);
    expect(timeline.steps.filter((s) => s.hidden)).toHaveLength(secret.length);
    expect(timeline.steps.map((s) => s.name.en)).toContain("encrypted card nonce nT (nested)");
  });
});
