/**
 * MAC forgery at the terminals, beside the card's and the cloud's own checks (docs/SECURITY.md lists them all):
 * a phone (or a cloned card) answering a purchase with a forged MAC2 is refused by the gate's PSAM, whatever
 * byte is changed; a load's MAC2 replayed on the card credits nothing twice.
 */
import { describe, expect, it } from "vitest";
import { type Bytes, concat, fromHex, toHex, uintBE } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import type { Activation, Link } from "../src/nfc/link.js";
import { seededRandom } from "../src/se/testing/random.js";
import { TxType, loadMac2, loadSessionKey } from "../src/transit/epurse-crypto.js";
import { TransitSandbox } from "../src/transit/sandbox.js";
import {
  TERMINAL,
  TEXTBOOK_KEY,
  TEXTBOOK_RANDOM,
  textbookCard,
} from "../src/transit/testing/textbook-card.js";

/** A field that changes one byte of the card's answer to DEBIT FOR PURCHASE (80 54): its MAC2 or TAC. */
function forging(inner: Link, at: number): Link {
  return {
    get activation(): Activation | null {
      return inner.activation;
    },
    fieldOn: () => inner.fieldOn(),
    fieldOff: () => inner.fieldOff(),
    async transceive(command: Bytes) {
      const r = await inner.transceive(command);
      if (command[0] !== 0x80 || command[1] !== 0x54 || r.length < 10) return r;
      const forged = r.slice();
      forged[at] = forged[at]! ^ 0x01;
      return forged;
    },
  };
}

describe("forged MACs at the terminal", () => {
  for (const [what, at] of [
    ["MAC2 byte 1", 4],
    ["MAC2 byte 4", 7],
  ] as const) {
    it(`a bus validator refuses a purchase whose ${what} was changed: mac2_invalid, the gate stays shut`, async () => {
      const sb = new TransitSandbox({
        clock: new ManualClock("2026-03-02T00:30:00Z"),
        random: seededRandom(3),
      });
      const { aid, card } = sb.addCard("tu-jingjinji");
      expect((await sb.topUp(aid, 50_00)).ok).toBe(true);
      const bus = sb.busValidator({ line: "0071", fare: 200, accepts: [card.product.system] });
      const link = forging(sb.field(), at);
      await link.fieldOn();
      const r = await bus.tap(link);
      expect(r.ok).toBe(false);
      expect(r.ok ? "" : r.reason).toBe("mac2_invalid");
      // The same card through an honest field pays.
      const honest = sb.field();
      await honest.fieldOn();
      expect((await bus.tap(honest)).ok).toBe(true);
    });
  }
});

describe("replayed MACs at the card", () => {
  it("CREDIT FOR LOAD replayed with the same MAC2: 9302 or 6985, credited once", () => {
    const card = textbookCard({ productId: "tu-jingjinji" });
    expect(card.send("805000020B0100000BB8001122334455")[0]!.endsWith("9000")).toBe(true);
    const ses = loadSessionKey(TEXTBOOK_KEY, TEXTBOOK_RANDOM, 0, "3des");
    const mac2 = loadMac2(
      ses,
      "3des",
      { amount: 3000, type: TxType.EP_LOAD, terminal: TERMINAL },
      fromHex("20260302"),
      fromHex("083000"),
    );
    const credit = `805200000B20260302083000${toHex(mac2)}`;
    expect(card.send(credit)[0]!.endsWith("9000")).toBe(true);
    const again = card.send(credit)[0]!;
    expect(["6985", "9302"]).toContain(again.slice(-4));
    // A fresh INITIALIZE (new online counter) does not make the old MAC2 valid either.
    expect(card.send("805000020B0100000BB8001122334455")[0]!.endsWith("9000")).toBe(true);
    expect(card.send(credit)[0]!.slice(-4)).toBe("9302");
    expect(card.send("805C000204")[0]).toBe(toHex(concat(uintBE(3000, 4))) + "9000");
  });
});
