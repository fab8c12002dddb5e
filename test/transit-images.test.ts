/**
 * The reader on card images written by hand from the layouts in reference/transit.md (test/fixtures/transit/,
 * one per system; the values are derived here by hand), through src/nfc's ImageCard, and on a transcript it
 * recorded itself, replayed through TranscriptCard.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/core/clock.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { ImageCard, TranscriptCard } from "../src/nfc/replay/index.js";
import { TracingLink } from "../src/nfc/trace.js";
import { seededRandom } from "../src/se/testing/random.js";
import { readTransitCard, readingJson } from "../src/transit/reader/reader.js";
import { TransitSandbox } from "../src/transit/sandbox.js";

async function readImage(name: string) {
  const json: unknown = JSON.parse(
    readFileSync(new URL(`fixtures/transit/${name}.json`, import.meta.url), "utf8"),
  );
  const card = ImageCard.fromJson(json);
  expect(card.ok).toBe(true);
  if (!card.ok) throw new Error(card.error);
  const link = new MemoryLink(card.value);
  await link.fieldOn();
  const r = await readTransitCard(link);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe("card images from the reference layouts", () => {
  it("T-Union: 19-digit number without EF15's first nibble, Beijing issuer, EF18 and EF1E", async () => {
    const r = await readImage("t-union");
    expect(readingJson(r)).toEqual({
      system: "t-union",
      product: "tu-jingjinji",
      cardNumber: "3105170000012345678",
      balance: 2755,
      validFrom: "2020-01-01",
      validTo: "2030-12-31",
      city: { code: "1000", name: "北京" },
      transactions: [
        { time: "2024-12-29T14:17:40", amount: -500, type: "compound-purchase", terminal: "300089000340" },
        { time: "2024-12-29T13:55:02", amount: 0, type: "compound-purchase", terminal: "300089000120" },
        { time: "2024-12-28T20:15:00", amount: 5000, type: "load", terminal: "000000000001" },
      ],
    });
    expect(r.trips).toEqual([
      {
        kind: 4,
        terminal: "0000300089000340",
        mode: 1,
        lineStation: "08001900300000",
        amount: 500,
        balanceAfter: 3585,
        time: "2024-12-29T14:17:40",
        city: "1000",
        institution: "01011000FFFFFFFF",
      },
    ]);
  });

  it("City Union Shanghai: the printed number from the big-endian serial 12345678", async () => {
    expect(readingJson(await readImage("city-union-shanghai"))).toEqual({
      system: "city-union",
      product: "shanghai",
      cardNumber: "99698410503",
      balance: 2650,
      validFrom: "2015-01-01",
      validTo: "2099-12-31",
      city: { code: "2000", name: "上海" },
      transactions: [
        { time: "2025-03-01T08:15:02", amount: -350, type: "purchase", terminal: "310000123456" },
        { time: "2025-02-28T19:00:00", amount: 3000, type: "load", terminal: "000000000009" },
      ],
    });
  });

  it("Shenzhen Tong: EF15 from the FCI's tag 8C, excess-2^31 balance, serial with its check digit", async () => {
    expect(readingJson(await readImage("shenzhen-tong"))).toEqual({
      system: "shenzhen-tong",
      product: "shenzhen-tong",
      cardNumber: "6897819903",
      balance: 2850,
      validFrom: "2017-12-01",
      validTo: "2027-12-01",
      city: { code: "5180", name: "深圳" },
      transactions: [
        { time: "2025-03-05T08:10:30", amount: -400, type: "purchase", terminal: "000062600123" },
      ],
    });
  });

  it("Wuhan Tong: serial in EF0A, validity in EF05 (valid-to first)", async () => {
    expect(readingJson(await readImage("wuhan-tong"))).toEqual({
      system: "wuhan-tong",
      product: "wuhan-tong",
      cardNumber: "0123456789",
      balance: 2000,
      validFrom: "2020-06-01",
      validTo: "2030-12-31",
      city: { code: "4300", name: "武汉" },
      transactions: [
        { time: "2025-03-07T17:30:00", amount: -150, type: "purchase", terminal: "000043000077" },
      ],
    });
  });

  it("Beijing: EF04 number and validity, the purse behind SELECT 1001", async () => {
    expect(readingJson(await readImage("beijing"))).toEqual({
      system: "beijing",
      product: "beijing-yikatong",
      cardNumber: "1000123456789012",
      balance: 6000,
      validFrom: "2019-01-01",
      validTo: "2029-12-31",
      city: { code: "1000", name: "北京" },
      transactions: [
        { time: "2025-03-10T18:30:00", amount: -300, type: "purchase", terminal: "300150000012" },
      ],
    });
  });

  it("Lingnan Pass: number from PAY.APPY's EF15 bytes 11..15, purse in PAY.TICL", async () => {
    expect(readingJson(await readImage("lingnan-pass"))).toEqual({
      system: "lingnan-pass",
      product: "lingnan-pass",
      cardNumber: "8801234567",
      balance: 800,
      validFrom: "2018-01-01",
      validTo: "2028-01-01",
      city: { code: "5100", name: "广州" },
      transactions: [
        { time: "2025-03-12T07:45:00", amount: -200, type: "purchase", terminal: "000051000001" },
      ],
    });
  });
});

describe("transcripts", () => {
  it("a recorded read of an emulated card replays to the same reading", async () => {
    const sb = new TransitSandbox({
      clock: new ManualClock("2026-03-02T00:30:00Z"),
      random: seededRandom(5),
    });
    const { aid } = sb.addCard("tu-qindaotong");
    expect((await sb.topUp(aid, 1234)).ok).toBe(true);
    const traced = new TracingLink(sb.field());
    await traced.fieldOn();
    const live = await readTransitCard(traced);
    expect(live.ok).toBe(true);

    const replay = new MemoryLink(new TranscriptCard(traced.transcript()));
    await replay.fieldOn();
    const again = await readTransitCard(replay);
    expect(again).toEqual(live);
    expect(again.ok && again.value.balance).toBe(1234);
  });
});
