/** The `--pcsc [READER]` session around a terminal's taps, against a stand-in @pokusew/pcsclite. */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { isTapwalletError } from "../core/errors.js";
import { FakePcsc, FakeReader } from "../../test/pcsc-doubles.js";
import { describeAtr, eachPcscCard, withPcscCard } from "./pcsc-session.js";

const ISO_ATR = "3B8180018080";
const MIFARE_1K_ATR = "3B8F8001804F0CA000000306030001000000006A";

function world() {
  const native = new FakePcsc();
  const lines: string[] = [];
  // pcscd lists its readers once the context is up: after Pcsc.open has its listener.
  const add = (name: string) => {
    const r = new FakeReader(name);
    setImmediate(() => native.emit("reader", r));
    return r;
  };
  const base = {
    factory: () => native,
    skipServiceCheck: true,
    say: (_zh: string, en: string) => lines.push(en),
  };
  return { native, lines, add, base };
}

const later = (fn: () => void, ms = 5) => setTimeout(fn, ms);

describe("withPcscCard: one tap through a PC/SC reader", () => {
  it("picks the reader by a part of its name, says what happens, waits for the card and closes", async () => {
    const w = world();
    w.add("Virtual PCD 00 00");
    const acr = w.add("ACS ACR122U PICC Interface 00 00");
    later(() => acr.insert(ISO_ATR), 20);
    const out = await withPcscCard({ ...w.base, reader: "acr122", cardTimeoutMs: 2000 }, async (card) => {
      expect(card.reader).toBe("ACS ACR122U PICC Interface 00 00");
      expect(toHex(card.atr)).toBe(ISO_ATR);
      await card.link.fieldOn();
      return toHex(await card.link.transceive(fromHex("00A4040000")));
    });
    expect(out).toBe("9000");
    expect(w.lines).toEqual([
      "reader attached: Virtual PCD 00 00",
      "reader attached: ACS ACR122U PICC Interface 00 00",
      'put a card or the phone on "ACS ACR122U PICC Interface 00 00" (waiting 2 s)',
      "card in ACS ACR122U PICC Interface 00 00: ISO 14443-4 card, ATR 3B 81 80 01 80 80",
    ]);
    expect(w.native.closed).toBe(true);
  });

  it("times out without a card, and without the named reader, with a clear error", async () => {
    const w = world();
    w.add("Virtual PCD 00 00");
    const noCard = await withPcscCard({ ...w.base, cardTimeoutMs: 30 }, async () => "tapped").catch((e) => e);
    expect(isTapwalletError(noCard) && [noCard.code, noCard.en]).toEqual([
      "pcsc_no_card",
      'no card on "Virtual PCD 00 00" within 30 ms',
    ]);
    const w2 = world();
    w2.add("Virtual PCD 00 00");
    const noReader = await withPcscCard(
      { ...w2.base, reader: "omnikey", readerTimeoutMs: 20 },
      async () => 1,
    ).catch((e) => e);
    expect(isTapwalletError(noReader) && noReader.code).toBe("pcsc_no_reader");
    expect(w2.native.closed).toBe(true);
  });

  it("names what the ATR says", () => {
    expect(describeAtr(fromHex(MIFARE_1K_ATR)).en).toBe("MIFARE Classic 1K (storage card)");
    expect(describeAtr(fromHex("3B80800101")).zh).toBe("ISO 14443-4 卡");
    expect(describeAtr(fromHex("3B6800000073C84000009000")).en).toBe("contact or other card");
  });
});

describe("eachPcscCard: tap after tap", () => {
  it("serves each card once, waits for it to leave, and stops on abort", async () => {
    const w = world();
    const r = w.add("Virtual PCD 00 00");
    const abort = new AbortController();
    const seen: string[] = [];
    later(() => r.insert(ISO_ATR), 20);
    const taps = eachPcscCard({ ...w.base, cardTimeoutMs: 0, signal: abort.signal }, async (card) => {
      seen.push(toHex(card.atr));
      if (seen.length === 1)
        later(() => {
          r.removeCard();
          later(() => r.insert(MIFARE_1K_ATR));
        });
      else later(() => abort.abort(new Error("Ctrl-C")));
    });
    expect(await taps).toBe(2);
    expect(seen).toEqual([ISO_ATR, MIFARE_1K_ATR]);
    expect(w.lines).toContain("take the card away");
    expect(w.native.closed).toBe(true);
  });

  it("stops when the terminal says so", async () => {
    const w = world();
    const r = w.add("Virtual PCD 00 00");
    setImmediate(() => r.insert(ISO_ATR));
    expect(await eachPcscCard({ ...w.base }, async () => false)).toBe(1);
  });
});
