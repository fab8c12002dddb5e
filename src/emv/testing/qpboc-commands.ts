/**
 * Test support: generated commands for the qPBOC applet (src/emv/card/qpboc-applet.property.test.ts runs them in
 * CI, bench/fuzz.ts for longer): GPOs with PDOL data right in shape and random in content, or wrong in shape;
 * READ RECORD and GET DATA with any P1/P2; other instructions; raw bytes; re-SELECT.
 */
import fc from "fast-check";
import { type CommandApdu, command } from "../../core/apdu.js";
import { type Bytes, bcd, concat, fromHex, readBcd } from "../../core/bytes.js";
import { parseTlv, tlv } from "../../core/tlv.js";

const ttqArb = fc.oneof(
  fc
    .constantFrom("3200C080", "3280C080", "32C0C080", "30000000", "36800000", "3A000080", "10000000")
    .map(fromHex),
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
);

const bcdOrJunk = (max: number) =>
  fc.oneof(
    { arbitrary: fc.integer({ min: 0, max }).map((a) => bcd(a, 6)), weight: 5 },
    { arbitrary: fc.uint8Array({ minLength: 6, maxLength: 6 }), weight: 1 },
  );

/** GPO with PDOL data that is right in shape (33 bytes) but random in content, or wrong in shape. */
const gpoArb: fc.Arbitrary<CommandApdu> = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        ttqArb,
        bcdOrJunk(2000_00),
        bcdOrJunk(100),
        fc.constantFrom(fromHex("0156"), fromHex("0978"), fromHex("FFFF")),
        fc.uint8Array({ minLength: 15, maxLength: 15 }),
      )
      .map(([ttq, amount, other, currency, rest]) => {
        // 9F66 4 | 9F02 6 | 9F03 6 | 9F1A 2 | 95 5 | 5F2A 2 | 9A 3 | 9C 1 | 9F37 4
        const data = concat(
          ttq,
          amount,
          other,
          rest.subarray(0, 2),
          rest.subarray(2, 7),
          currency,
          rest.subarray(7, 17),
        );
        return command(0x80, 0xa8, 0, 0, tlv(0x83, data), 256);
      }),
    weight: 4,
  },
  { arbitrary: fc.uint8Array({ maxLength: 60 }).map((d) => command(0x80, 0xa8, 0, 0, d, 256)), weight: 1 },
  {
    arbitrary: fc.uint8Array({ maxLength: 60 }).map((d) => command(0x80, 0xa8, 0, 0, tlv(0x83, d), 256)),
    weight: 1,
  },
);

/** One command to the selected applet: mostly GPOs and READ RECORDs, raw bytes, or a re-SELECT. */
export const commandArb: fc.Arbitrary<CommandApdu | Bytes | "select"> = fc.oneof(
  { arbitrary: gpoArb, weight: 4 },
  {
    arbitrary: fc
      .tuple(fc.nat(255), fc.nat(255), fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }))
      .map(([p1, p2, ne]) => command(0x00, 0xb2, p1, p2, new Uint8Array(0), ne)),
    weight: 3,
  },
  {
    arbitrary: fc
      .tuple(fc.nat(255), fc.nat(255))
      .map(([p1, p2]) => command(0x80, 0xca, p1, p2, new Uint8Array(0), 256)),
    weight: 1,
  },
  {
    arbitrary: fc.uint8Array({ maxLength: 12 }).map((d) => command(0x00, 0x82, 0, 0, d)),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 40 }))
      .map(([cla, ins, p1, p2, d]) => command(cla, ins, p1, p2, d)),
    weight: 2,
  },
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 2 },
  { arbitrary: fc.constant("select" as const), weight: 1 },
);

/** The amount (9F02) of a GPO whose PDOL data has the right shape, else null. */
export function amountOf(c: CommandApdu): number | null {
  const t = parseTlv(c.data, { recurse: false, skipPadding: false });
  if (!t.ok || t.value.length !== 1 || t.value[0]!.value.length !== 33) return null;
  const digits = readBcd(t.value[0]!.value.subarray(4, 10));
  return digits === null ? null : Number(digits);
}
