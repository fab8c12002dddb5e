/**
 * Air-time lower bound of the qPBOC online transaction at each ISO 14443-A bit rate, with and without the
 * activation (REQA … ATS, PPS above 106 kbit/s), and how fast the model itself runs.
 *
 * Fixture: src/nfc/fixtures/qpboc-online.ts — our copy of the APDU hex of a real UnionPay debit card read
 * by an Android reader (github neil-pan-s/qpboc-kernel @9c6c0b6, QPboc-Kata-Run-Log.txt, MIT); 3 APDUs,
 * 75 command bytes, 228 response bytes. Reference: shared/reference/emv.md §5 (27.9 / 14.2 / 7.4 / 3.9 ms).
 */
import { BIT_RATES, airTime } from "../src/nfc/airtime.js";
import { qpbocOnline } from "../src/nfc/fixtures/qpboc-online.js";
import { fmt, table, timeIt } from "./stats.js";

export async function run(): Promise<void> {
  const trace = qpbocOnline();
  const ms = (us: number) => fmt(us / 1000, 2);
  const rows = BIT_RATES.map((bitRate) => {
    const plain = airTime(trace, { bitRate });
    const act4 = airTime(trace, { bitRate, includeActivation: true, uidLength: 4 });
    const act7 = airTime(trace, { bitRate, includeActivation: true, uidLength: 7 });
    const b = plain.breakdown;
    return [
      `${bitRate} kbit/s`,
      ms(plain.totalUs),
      ms(act4.totalUs),
      ms(act7.totalUs),
      ms(b.commandAirUs),
      ms(b.responseAirUs),
      ms(b.delayUs),
      `${fmt((100 * b.delayUs) / plain.totalUs, 1)} %`,
    ];
  });
  console.log("qPBOC online (3 APDUs, 303 bytes), FSC = FSD = 256, no CID — milliseconds");
  table(
    [
      "bit rate",
      "APDUs",
      "+activation (4-byte UID)",
      "+activation (7-byte UID)",
      "PCD frames",
      "PICC frames",
      "frame delays",
      "delay share",
    ],
    rows,
  );

  const chained = airTime(trace, { bitRate: 106, fsc: 32, fsd: 64 });
  console.log(
    `\nsame trace with FSC 32 / FSD 64 at 106 kbit/s: ${ms(chained.totalUs)} ms, ${chained.breakdown.chainedBlocks} chained blocks, ${chained.breakdown.framingBytes} framing bytes`,
  );

  const t = await timeIt(() => airTime(trace, { bitRate: 848, includeActivation: true }), 20_000);
  console.log(
    `\nmodel cost: airTime() of the trace with activation, p50 ${fmt(t.p50, 2)} µs, p99 ${fmt(t.p99, 2)} µs (n = ${t.n})`,
  );
}
