import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bytes, ascii, concat, fromHex, toHex } from "../core/bytes.js";
import type { Activation, Link } from "./link.js";
import { Acr122uDirect, directTransmit, isAcr122u } from "./pcsc-acr122u.js";

/** An ACR122U as PC/SC shows it, answering direct transmits from a script (hex in → hex out). */
function reader(answers: Record<string, string>, firmware1x = false) {
  const sent: string[] = [];
  let pending: Bytes | null = null;
  const link: Link = {
    activation: { uid: fromHex("A1B2C3D4"), atqa: fromHex("0004"), sak: 8 } as Activation,
    fieldOn: async () => link.activation!,
    fieldOff: async () => {},
    async transceive(c) {
      const hex = toHex(c);
      sent.push(hex);
      if (hex.startsWith("FFC00000") && pending) {
        const r = pending;
        pending = null;
        return r;
      }
      const a = fromHex(answers[hex] ?? "6A81");
      if (firmware1x && a.length > 2) {
        pending = a;
        return Uint8Array.of(0x61, a.length);
      }
      return a;
    },
  };
  return { direct: new Acr122uDirect(link), sent };
}

// Byte layouts: shared/reference/mifare.md §4.2 (ACR122U direct transmit, firmware version) and the PN532
// user manual's InListPassiveTarget / InDataExchange / InCommunicateThru frames.
describe("ACR122U direct transmit", () => {
  it("recognises ACR122-compatible reader names", () => {
    expect(isAcr122u("ACS ACR122U PICC Interface 00 00")).toBe(true);
    expect(isAcr122u("ACS ACR1252 1S CL Reader [ACR1252 Dual Reader PICC] 00 00")).toBe(true);
    expect(isAcr122u("Virtual PCD 00 00")).toBe(false);
  });

  it("wraps PN53x commands in FF 00 00 00", () => {
    expect(toHex(directTransmit(0x4a, fromHex("0100")))).toBe("FF00000004D44A0100");
    expect(() => directTransmit(0x42, new Uint8Array(254))).toThrow(RangeError);
  });

  it("lists the target: ATQA, SAK, UID, and the ATS of an ISO-DEP card", async () => {
    const mfc = reader({ FF00000004D44A0100: "D54B0101000408 04A1B2C3D4 9000" });
    expect(await mfc.direct.inListPassiveTarget()).toEqual({
      ok: true,
      value: { uid: fromHex("A1B2C3D4"), atqa: fromHex("0004"), sak: 0x08 },
    });
    const desfire = reader({ FF00000004D44A0100: "D54B0101034420 07 04112233445566 067577810280 9000" });
    const r = await desfire.direct.inListPassiveTarget();
    expect(r.ok && [toHex(r.value.atqa), r.value.sak, toHex(r.value.ats!)]).toEqual([
      "0344",
      0x20,
      "067577810280",
    ]);
    const none = reader({ FF00000004D44A0100: "D54B00 9000" });
    expect(await none.direct.inListPassiveTarget()).toMatchObject({
      ok: false,
      error: { reason: "no type A target in the field" },
    });
  });

  it("exchanges data with the target and reports PN53x errors", async () => {
    const { direct } = reader({
      FF00000005D440013004: `D54100${"00".repeat(16)}9000`, // MIFARE READ block 4
      FF00000005D440013008: "D541149000", // authentication error
      FF00000004D4423000: "D543000102039000",
    });
    expect(await direct.inDataExchange(fromHex("3004"))).toEqual({ ok: true, value: new Uint8Array(16) });
    expect(await direct.inDataExchange(fromHex("3008"))).toMatchObject({
      ok: false,
      error: { status: 0x14, reason: "MIFARE authentication error" },
    });
    expect(await direct.inCommunicateThru(fromHex("3000"))).toEqual({ ok: true, value: fromHex("010203") });
    expect(await direct.inCommunicateThru(fromHex("3001"))).toMatchObject({
      ok: false,
      error: { sw: 0x6a81 },
    });
  });

  it("fetches 61 XX answers with GET RESPONSE (firmware 1.x)", async () => {
    const { direct, sent } = reader({ FF00000004D4423000: "D543000102039000" }, true);
    expect(await direct.inCommunicateThru(fromHex("3000"))).toEqual({ ok: true, value: fromHex("010203") });
    expect(sent).toEqual(["FF00000004D4423000", "FFC0000008"]);
  });

  it("reads the firmware version, with or without a status word", async () => {
    expect(await reader({ FF00480000: toHex(ascii("ACR122U207")) }).direct.firmwareVersion()).toBe(
      "ACR122U207",
    );
    expect(
      await reader({
        FF00480000: toHex(concat(ascii("ACR122U215"), fromHex("9000"))),
      }).direct.firmwareVersion(),
    ).toBe("ACR122U215");
  });

  it("never throws on arbitrary answers (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 40 }), async (answer) => {
        const { direct } = reader({ FF00000004D44A0100: toHex(answer), FF00000004D4423000: toHex(answer) });
        await direct.inListPassiveTarget();
        await direct.inCommunicateThru(fromHex("3000"));
      }),
      { numRuns: 500 },
    );
  });
});
