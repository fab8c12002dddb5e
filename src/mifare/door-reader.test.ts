import { describe, expect, it } from "vitest";
import { fromHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import { MemoryFrameLink } from "../nfc/frame.js";
import { type MifareCard, blankCard, setBlock } from "./card.js";
import { DoorReader } from "./door-reader.js";
import { EmulatedClassic } from "./emulator.js";

const SITE_KEY = fromHex("5A1B3C7D9E0F");
const CREDENTIAL = fromHex("5441505741 4C4C4554 00000042 0000 00".replace(/ /g, ""));

function siteCard(uid: string, credential = CREDENTIAL): MifareCard {
  const card = blankCard({ type: "1k", uid: fromHex(uid) });
  // Sector 1 encoded by the site: its own key A, credential in block 4.
  setBlock(card.memory!, 7, fromHex("5A1B3C7D9E0F FF078069 FFFFFFFFFFFF"));
  setBlock(card.memory!, 4, credential);
  return card;
}

const tap = (reader: DoorReader, card: MifareCard | null) =>
  reader.tap(new MemoryFrameLink(card ? new EmulatedClassic(card) : null));

describe("door reader", () => {
  it("UID-whitelist mode: enrolled UIDs open, others do not; every tap is logged with the clock's time", async () => {
    const clock = new ManualClock("2026-03-01T08:00:00Z");
    const door = new DoorReader(
      { mode: "uid", whitelist: [fromHex("01A062BD"), fromHex("04112233445566")] },
      clock,
      {
        id: "lobby",
      },
    );
    expect((await tap(door, blankCard({ type: "1k", uid: fromHex("01A062BD") }))).granted).toBe(true);
    clock.advance(5_000);
    expect((await tap(door, blankCard({ type: "4k", uid: fromHex("04112233445566") }))).granted).toBe(true);
    clock.advance(5_000);
    const denied = await tap(door, blankCard({ type: "1k", uid: fromHex("DEADBEEF") }));
    expect(denied).toMatchObject({
      granted: false,
      outcome: "uid_not_enrolled",
      uid: "DEADBEEF",
      zh: "卡号未登记",
    });
    clock.advance(1_000);
    expect((await tap(door, null)).outcome).toBe("no_card");
    expect(door.log().map((e) => [e.at, e.uid, e.outcome, e.reader])).toEqual([
      ["2026-03-01T08:00:00.000Z", "01A062BD", "granted", "lobby"],
      ["2026-03-01T08:00:05.000Z", "04112233445566", "granted", "lobby"],
      ["2026-03-01T08:00:10.000Z", "DEADBEEF", "uid_not_enrolled", "lobby"],
      ["2026-03-01T08:00:11.000Z", null, "no_card", "lobby"],
    ]);
  });

  it("sector-data mode: site key and enrolled credential open; wrong key or credential do not; keys never logged", async () => {
    const door = new DoorReader(
      { mode: "sector", block: 4, keyType: "A", key: SITE_KEY, credentials: [CREDENTIAL] },
      new ManualClock(),
    );
    expect((await tap(door, siteCard("11223344"))).outcome).toBe("granted");
    expect((await tap(door, blankCard({ type: "1k", uid: fromHex("11223344") }))).outcome).toBe(
      "auth_failed",
    );
    expect((await tap(door, siteCard("11223344", new Uint8Array(16)))).outcome).toBe(
      "credential_not_enrolled",
    );
    const log = JSON.stringify(door.log());
    expect(log).not.toContain("5A1B3C7D9E0F");
    expect(log).not.toContain("544150574");
  });

  it("a cloned UID alone does not pass a sector-data reader", async () => {
    const door = new DoorReader(
      { mode: "sector", block: 4, keyType: "A", key: SITE_KEY, credentials: [CREDENTIAL] },
      new ManualClock(),
    );
    const clone = blankCard({ type: "1k", uid: fromHex("11223344") });
    expect((await tap(door, clone)).granted).toBe(false);
  });

  it("the log keeps the newest entries up to its limit", async () => {
    const door = new DoorReader({ mode: "uid", whitelist: [] }, new ManualClock(), { maxLogEntries: 2 });
    for (const uid of ["01020304", "05060708", "090A0B0C"])
      await tap(door, blankCard({ type: "mini", uid: fromHex(uid) }));
    expect(door.log().map((e) => e.uid)).toEqual(["05060708", "090A0B0C"]);
  });
});
