/**
 * A door open in software against its air time. The door reader (sector-data mode: anticollision, AUTH A
 * sector 1, READ the credential block, HALT; UID mode: anticollision and HALT) taps our emulated card over the
 * in-memory frame link; the air time is the 106 kbit/s lower bound of the same frames (src/mifare/airtime.ts,
 * the model of docs/AIRTIME.md). Also: reading a whole card with the built-in dictionary.
 */
import { fromHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { MemoryFrameLink } from "../src/nfc/frame.js";
import { frameAirTime } from "../src/mifare/airtime.js";
import { blankCard, setBlock } from "../src/mifare/card.js";
import { type DoorConfig, DoorReader } from "../src/mifare/door-reader.js";
import { EmulatedClassic } from "../src/mifare/emulator.js";
import { readCard } from "../src/mifare/reader.js";
import type { TapFigure } from "./report.js";
import { fmt, table, timeIt } from "./stats.js";

const SITE_KEY = fromHex("5A1B3C7D9E0F");
const CREDENTIAL = fromHex("54415057414C4C455400000000000042");

function doorCard(uid: string) {
  const card = blankCard({ type: "1k", uid: fromHex(uid) });
  setBlock(card.memory!, 7, fromHex("5A1B3C7D9E0FFF078069FFFFFFFFFFFF"));
  setBlock(card.memory!, 4, CREDENTIAL);
  return card;
}

export async function run(): Promise<TapFigure[]> {
  const rows: (string | number)[][] = [];
  const figures: TapFigure[] = [];
  const modes: [string, DoorConfig][] = [
    ["UID whitelist", { mode: "uid", whitelist: [fromHex("01A062BD"), fromHex("04112233445566")] }],
    ["sector data", { mode: "sector", block: 4, keyType: "A", key: SITE_KEY, credentials: [CREDENTIAL] }],
  ];
  for (const [name, config] of modes) {
    for (const uid of ["01A062BD", "04112233445566"]) {
      const card = doorCard(uid);
      const door = new DoorReader(config, new ManualClock(), { maxLogEntries: 1 });
      const traced = new MemoryFrameLink(new EmulatedClassic(card), { trace: true });
      const decision = await door.tap(traced);
      if (!decision.granted) throw new Error(`bench door did not open: ${decision.en}`);
      const air = frameAirTime(traced.trace);
      const emulator = new EmulatedClassic(card);
      const link = new MemoryFrameLink(emulator);
      const t = await timeIt(() => door.tap(link), 2000);
      const sector = config.mode === "sector";
      figures.push({
        kind: "tap",
        tap: "door-open",
        key: `door-${sector ? "sector" : "uid"}${uid.length === 8 ? "" : "-7"}`,
        label: `${sector ? "sector-data reader (auth + read)" : "UID-whitelist reader"}, ${uid.length / 2}-byte UID`,
        transport: "memory",
        n: t.n,
        p50Us: t.p50,
        p99Us: t.p99,
        exchanges: air.frames,
        unit: "frames",
        air106Us: air.totalUs,
        air848Us: null, // MIFARE Classic frames run at 106 kbit/s only
      });
      rows.push([
        name,
        `${uid.length / 2}-byte UID`,
        air.frames,
        fmt(air.totalUs / 1000, 2),
        fmt(t.p50 / 1000, 3),
        fmt(t.p99 / 1000, 3),
        `${fmt((100 * t.p50) / air.totalUs, 1)} %`,
      ]);
    }
  }
  {
    const card = blankCard({ type: "1k", uid: fromHex("01A062BD") });
    const traced = new MemoryFrameLink(new EmulatedClassic(card), { trace: true });
    await readCard(traced);
    const air = frameAirTime(traced.trace);
    const t = await timeIt(() => readCard(new MemoryFrameLink(new EmulatedClassic(card))), 200, 20);
    rows.push([
      "read whole 1K (dictionary)",
      "4-byte UID",
      air.frames,
      fmt(air.totalUs / 1000, 2),
      fmt(t.p50 / 1000, 3),
      fmt(t.p99 / 1000, 3),
      `${fmt((100 * t.p50) / air.totalUs, 1)} %`,
    ]);
  }
  table(
    ["door open", "card", "frames", "air ms (106 kbit/s)", "software p50 ms", "p99 ms", "software/air"],
    rows,
  );
  console.log(
    "Air time: lower bound of the frames at 106 kbit/s (9.44 µs per bit, FDT n = 9, 1172/fc); software: reader + card in one process.",
  );
  return figures;
}
