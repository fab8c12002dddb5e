/** The card manager's GET STATUS as the TSM parses it: real answers, and anything at all (property). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex } from "../../core/bytes.js";
import { SecureElement } from "../../se/secure-element.js";
import { ChannelReplay } from "./channel.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../../se/factory-keys.js";
import { isBuiltIn, parseStatusEntries } from "./status.js";

describe("GET STATUS entries", () => {
  it("reads E3 templates: AID, life cycle and package; the CRS is built in", () => {
    const crs = "E3144F09A00000015143525300" + "9F700107" + "C503000000";
    const door = "E3214F09F0544150444F4F5201" + "9F70010F" + "C503000000" + "C40B6D69666172652E646F6F72";
    const r = parseStatusEntries(fromHex(crs + door));
    expect(r).toEqual({
      ok: true,
      value: [
        { aid: "A00000015143525300", lifecycle: 0x07, packageId: null },
        { aid: "F0544150444F4F5201", lifecycle: 0x0f, packageId: "mifare.door" },
      ],
    });
    expect(isBuiltIn("A00000015143525300")).toBe(true);
    expect(isBuiltIn("F0544150444F4F5201")).toBe(false);
    expect(parseStatusEntries(fromHex("E1024F00")).ok).toBe(false);
    expect(parseStatusEntries(fromHex("E3034F0100")).ok).toBe(false); // an AID of 1 byte
    expect(parseStatusEntries(fromHex("E30B4F05A0000000019F7000")).ok).toBe(false); // empty life cycle
  });

  it("never throws, whatever the bytes (property)", () => {
    const entry = fc
      .tuple(
        fc.uint8Array({ minLength: 0, maxLength: 18 }),
        fc.uint8Array({ maxLength: 2 }),
        fc.uint8Array({ maxLength: 70 }),
      )
      .map(([aid, lc, file]) =>
        Uint8Array.of(
          0xe3,
          aid.length + lc.length + file.length + 8,
          0x4f,
          aid.length,
          ...aid,
          0x9f,
          0x70,
          lc.length,
          ...lc,
          0xc4,
          file.length,
          ...file,
        ),
      );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), entry), (bytes) => {
        const r = parseStatusEntries(bytes);
        if (r.ok) for (const e of r.value) expect(e.aid).toMatch(/^([0-9A-F]{2}){5,16}$/);
      }),
      { numRuns: 20_000 },
    );
  });

  it("an answer that is not the SE's (no or wrong R-MAC) is refused by the TSM's channel (property)", () => {
    const keys = diversifySeKeys(DEV_SE_MASTER_KEY, fromHex("0102030405060708"));
    // The host side opens on a real SE's INITIALIZE UPDATE answer.
    const hc = fromHex("1122334455667788");
    const se = SecureElement.manufacture({ packages: [], keys, serial: fromHex("0102030405060708") });
    se.host.transmit(fromHex("00A4040008A000000151000000"));
    const iu = se.host.transmit(fromHex("8050300008112233445566778800"));
    const channel = ChannelReplay.open(keys, hc, iu);
    if (!channel.ok) throw new Error(channel.error);
    channel.value.wrap("80F24002024F0000");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (junk) => {
        const answer = Uint8Array.of(...junk, 0x90, 0x00);
        const r = channel.value.unwrap(answer);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
