import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { CardGoneError } from "./link.js";
import { Pcsc, openPcscLink } from "./pcsc.js";
import { FakePcsc, FakeReader } from "../../test/pcsc-doubles.js";
import { checkPcscdRunning, loadNativePcsc, pcscCodeOf } from "./pcsc-native.js";

async function open() {
  const native = new FakePcsc();
  const pcsc = await Pcsc.open({ factory: () => native, skipServiceCheck: true });
  const events: string[] = [];
  pcsc.on("reader-attached", (n) => events.push(`attached ${n}`));
  pcsc.on("reader-removed", (n) => events.push(`removed ${n}`));
  pcsc.on("card-inserted", (e) => events.push(`inserted ${e.reader} ${toHex(e.atr)}`));
  pcsc.on("card-removed", (e) => events.push(`card-removed ${e.reader}`));
  const add = (name: string) => {
    const r = new FakeReader(name);
    native.emit("reader", r);
    return r;
  };
  return { native, pcsc, events, add };
}

const ISO_ATR = "3B8180018080";
const MIFARE_1K_ATR = "3B8F8001804F0CA000000306030001000000006A";
const gone = (what: string) => `SCardTransmit error: ${what}`;

describe("Pcsc: readers and card events", () => {
  it("reports readers and cards coming and going, and finds readers by name substring", async () => {
    const { pcsc, events, add } = await open();
    const acr = add("ACS ACR122U PICC Interface 00 00");
    add("Virtual PCD 00 00");
    expect(pcsc.readers()).toEqual(["ACS ACR122U PICC Interface 00 00", "Virtual PCD 00 00"]);
    expect(pcsc.findReader("acr122")).toBe("ACS ACR122U PICC Interface 00 00");
    expect(pcsc.findReader("virtual")).toBe("Virtual PCD 00 00");
    expect(pcsc.findReader()).toBe("ACS ACR122U PICC Interface 00 00");
    expect(pcsc.findReader("omnikey")).toBeNull();
    acr.insert(MIFARE_1K_ATR);
    expect(pcsc.cardPresent(acr.name)).toBe(true);
    expect(toHex(pcsc.atr(acr.name))).toBe(MIFARE_1K_ATR);
    acr.removeCard();
    acr.emit("end");
    expect(events).toEqual([
      "attached ACS ACR122U PICC Interface 00 00",
      "attached Virtual PCD 00 00",
      `inserted ACS ACR122U PICC Interface 00 00 ${MIFARE_1K_ATR}`,
      "card-removed ACS ACR122U PICC Interface 00 00",
      "removed ACS ACR122U PICC Interface 00 00",
    ]);
  });

  it("waits for a reader and a card, or says what is missing", async () => {
    const { pcsc, add } = await open();
    const waiting = pcsc.waitForReader("Virtual", 1000);
    const r = add("Virtual PCD 00 00");
    expect(await waiting).toBe("Virtual PCD 00 00");
    const card = pcsc.waitForCard(r.name, 1000);
    r.insert(ISO_ATR);
    expect(toHex(await card)).toBe(ISO_ATR);
    await expect(pcsc.waitForReader("ACR122", 30)).rejects.toMatchObject({ code: "pcsc_no_reader" });
    r.removeCard();
    await expect(pcsc.waitForCard(r.name, 30)).rejects.toBeInstanceOf(CardGoneError);
  });
});

describe("PcscLink", () => {
  it("activates an ISO 14443-4 card: UID and ATS from the reader, SAK 20", async () => {
    const { pcsc, add } = await open();
    const r = add("Virtual PCD 00 00");
    r.insert(ISO_ATR);
    r.answer = (c) => ({
      data: c === "FFCA000000" ? "04A1B2C3D4E5F69000" : c === "FFCA010000" ? "0675778102809000" : "9000",
    });
    const link = pcsc.link(r.name);
    const a = await link.fieldOn();
    expect(toHex(a.uid)).toBe("04A1B2C3D4E5F6");
    expect(toHex(a.ats!)).toBe("067577810280");
    expect([a.sak, toHex(a.atqa)]).toEqual([0x20, "0044"]);
    expect(toHex(link.atr)).toBe(ISO_ATR);
    expect(toHex(await link.transceive(fromHex("00A4040000")))).toBe("9000");
    await link.fieldOff();
    expect(r.dispositions).toEqual([r.SCARD_UNPOWER_CARD]);
    expect(link.activation).toBeNull();
  });

  it("activates a MIFARE Classic from its storage-card ATR, and rebuilds an ATS the reader does not give", async () => {
    const { pcsc, add } = await open();
    const r = add("ACS ACR122U");
    r.insert(MIFARE_1K_ATR);
    r.answer = (c) => ({ data: c === "FFCA000000" ? "A1B2C3D49000" : "6A81" });
    const a = await pcsc.link(r.name).fieldOn();
    expect([toHex(a.uid), toHex(a.atqa), a.sak, a.ats]).toEqual(["A1B2C3D4", "0004", 0x08, undefined]);
    expect(r.sent).toEqual(["FFCA000000"]);
    r.removeCard();
    r.insert(ISO_ATR);
    const b = await pcsc.link(r.name).fieldOn();
    expect(toHex(b.ats!)).toBe("030880");
  });

  it("skips the FF CA queries when asked", async () => {
    const { pcsc, add } = await open();
    const r = add("Virtual PCD 00 00");
    r.insert(ISO_ATR);
    await pcsc.link(r.name, { queryActivation: false }).fieldOn();
    expect(r.sent).toEqual([]);
  });

  it("rejects with CardGoneError when the card leaves mid-transaction, and stays gone until field on", async () => {
    const { pcsc, add } = await open();
    const r = add("Virtual PCD 00 00");
    r.insert(ISO_ATR);
    const link = pcsc.link(r.name, { queryActivation: false });
    await link.fieldOn();
    r.answer = () => ({ error: gone("Transaction failed.(0x80100016)") });
    await expect(link.transceive(fromHex("8010000000"))).rejects.toBeInstanceOf(CardGoneError);
    expect(link.activation).toBeNull();
    r.answer = () => ({ data: "9000" });
    await expect(link.transceive(fromHex("8010000000"))).rejects.toBeInstanceOf(CardGoneError);
    await link.fieldOn();
    expect(toHex(await link.transceive(fromHex("8010000000")))).toBe("9000");
    r.answer = () => ({ error: gone("Card was removed.(0x80100069)") });
    await expect(link.transceive(fromHex("8010000000"))).rejects.toBeInstanceOf(CardGoneError);
  });

  it("treats a card that does not answer in time as gone, and ignores its late answer", async () => {
    const { pcsc, add } = await open();
    const r = add("Virtual PCD 00 00");
    r.insert(ISO_ATR);
    const link = pcsc.link(r.name, { queryActivation: false, timeoutMs: 20 });
    await link.fieldOn();
    r.answer = () => ({ data: "9000", delayMs: 80 });
    await expect(link.transceive(fromHex("8010000000"))).rejects.toMatchObject({ code: "card_gone" });
    expect(link.activation).toBeNull();
  });

  it("maps other PC/SC errors to readable errors", async () => {
    const { pcsc, add } = await open();
    const r = add("Virtual PCD 00 00");
    r.insert(ISO_ATR);
    r.connectError = "SCardConnect error: Sharing violation.(0x8010000B)";
    await expect(pcsc.link(r.name).fieldOn()).rejects.toMatchObject({ code: "pcsc_reader_busy" });
    r.connectError = "SCardConnect error: No smart card inserted.(0x8010000C)";
    await expect(pcsc.link(r.name).fieldOn()).rejects.toBeInstanceOf(CardGoneError);
    r.connectError = null;
    const link = pcsc.link(r.name, { queryActivation: false });
    await link.fieldOn();
    r.answer = () => ({ error: "SCardTransmit error: Invalid parameter given.(0x80100004)" });
    await expect(link.transceive(fromHex("00"))).rejects.toMatchObject({ code: "pcsc_error" });
    expect(link.activation).not.toBeNull();
  });

  it("sends one APDU at a time even when called concurrently", async () => {
    const { pcsc, add } = await open();
    const r = add("Virtual PCD 00 00");
    r.insert(ISO_ATR);
    const link = pcsc.link(r.name, { queryActivation: false });
    await link.fieldOn();
    r.answer = (c) => ({ data: `${c.slice(4, 6)}9000`, delayMs: 5 });
    const all = await Promise.all(
      [1, 2, 3].map((i) => link.transceive(fromHex(`8010${i.toString(16).padStart(2, "0")}00`))),
    );
    expect(all.map(toHex)).toEqual(["019000", "029000", "039000"]);
    expect(r.maxInFlight).toBe(1);
  });

  it("close() disconnects links and closes every reader and the context", async () => {
    const { pcsc, native, add } = await open();
    const a = add("Virtual PCD 00 00");
    const b = add("Virtual PCD 00 01");
    a.insert(ISO_ATR);
    await pcsc.link(a.name, { queryActivation: false }).fieldOn();
    await pcsc.close();
    expect([a.closed, b.closed, native.closed, a.connected]).toEqual([true, true, true, false]);
    expect(pcsc.readers()).toEqual([]);
  });
});

describe("PC/SC availability", () => {
  it("says what to install when @pokusew/pcsclite cannot be loaded", async () => {
    const e = await loadNativePcsc("@tapwallet/no-such-pcsc-module").catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "pcsc_unavailable" });
    const { zh, en } = e as { zh: string; en: string };
    expect(zh).toContain("sudo bash scripts/setup-pcsc.sh");
    expect(en).toContain("npm rebuild @pokusew/pcsclite");
  });

  it("says pcscd is not running before the addon could spin on it", async () => {
    await expect(checkPcscdRunning("/nonexistent/pcscd.comm", "linux")).rejects.toMatchObject({
      code: "pcscd_not_running",
    });
    await expect(checkPcscdRunning("/nonexistent/pcscd.comm", "darwin")).resolves.toBeUndefined();
  });

  it("reads the PC/SC code out of the addon's messages", () => {
    expect(pcscCodeOf(new Error("SCardTransmit error: Transaction failed.(0x80100016)"))).toBe(0x80100016);
    expect(pcscCodeOf("no code")).toBeNull();
  });
});

describe("openPcscLink (--pcsc [READER])", () => {
  it("picks the reader by substring, waits for the card, and closes everything", async () => {
    const native = new FakePcsc();
    const reader = new FakeReader("ACS ACR122U PICC Interface 00 00");
    setTimeout(() => {
      native.emit("reader", new FakeReader("Virtual PCD 00 00"));
      native.emit("reader", reader);
      setTimeout(() => reader.insert(ISO_ATR), 10);
    }, 10);
    const opened = await openPcscLink("acr122", {
      factory: () => native,
      skipServiceCheck: true,
      queryActivation: false,
    });
    expect(opened.reader).toBe(reader.name);
    await opened.link.fieldOn();
    await opened.close();
    expect([reader.connected, reader.closed, native.closed]).toEqual([false, true, true]);
  });

  it("closes PC/SC again when no card comes", async () => {
    const native = new FakePcsc();
    setTimeout(() => native.emit("reader", new FakeReader("Virtual PCD 00 00")), 5);
    await expect(
      openPcscLink(true, { factory: () => native, skipServiceCheck: true, cardTimeoutMs: 30 }),
    ).rejects.toBeInstanceOf(CardGoneError);
    expect(native.closed).toBe(true);
  });
});
