import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { type Activation, CardGoneError, type ContactlessCard } from "./link.js";
import { MemoryLink } from "./memory.js";

/** A card that counts what happens to it and answers every command with its count. */
class CountingCard implements ContactlessCard {
  activations = 0;
  deactivations = 0;
  processed: string[] = [];
  activate(): Activation {
    this.activations++;
    return { uid: fromHex("08123456"), atqa: fromHex("0004"), sak: 0x20, ats: fromHex("0578807002") };
  }
  process(command: Uint8Array): Uint8Array {
    this.processed.push(toHex(command));
    return Uint8Array.of(this.processed.length, 0x90, 0x00);
  }
  deactivate(): void {
    this.deactivations++;
  }
}

describe("MemoryLink", () => {
  it("activates on field on, processes on transceive, deactivates on field off", async () => {
    const card = new CountingCard();
    const link = new MemoryLink(card);
    expect(link.activation).toBeNull();
    const act = await link.fieldOn();
    expect(toHex(act.uid)).toBe("08123456");
    expect(link.activation).toBe(act);
    expect(toHex(await link.transceive(fromHex("00A4040000")))).toBe("019000");
    expect(toHex(await link.transceive(fromHex("80CA9F3600")))).toBe("029000");
    expect(card.processed).toEqual(["00A4040000", "80CA9F3600"]);
    await link.fieldOff();
    expect(card.deactivations).toBe(1);
    expect(link.activation).toBeNull();
    await link.fieldOn();
    expect(card.activations).toBe(2);
  });

  it("rejects with CardGoneError when the field is off or no card is there", async () => {
    const card = new CountingCard();
    const link = new MemoryLink(card);
    await expect(link.transceive(fromHex("00B0950000"))).rejects.toBeInstanceOf(CardGoneError);
    expect(card.processed).toEqual([]);
    await expect(new MemoryLink().fieldOn()).rejects.toBeInstanceOf(CardGoneError);
  });

  it("rejects after the card is removed, and works again when it is put back", async () => {
    const card = new CountingCard();
    const link = new MemoryLink(card);
    await link.fieldOn();
    expect(link.removeCard()).toBe(card);
    expect(card.deactivations).toBe(1);
    expect(link.hasCard).toBe(false);
    await expect(link.transceive(fromHex("00B0950000"))).rejects.toMatchObject({ code: "card_gone" });
    link.insertCard(card);
    await expect(link.transceive(fromHex("00B0950000"))).rejects.toBeInstanceOf(CardGoneError);
    await link.fieldOn();
    expect(toHex(await link.transceive(fromHex("00B0950000")))).toBe("019000");
  });

  it("pulls the card away mid-transaction before the next command reaches it", async () => {
    const card = new CountingCard();
    const link = new MemoryLink(card);
    await link.fieldOn();
    link.removeAfter({ afterExchanges: 2 });
    await link.transceive(fromHex("01"));
    await link.transceive(fromHex("02"));
    await expect(link.transceive(fromHex("03"))).rejects.toBeInstanceOf(CardGoneError);
    expect(card.processed).toEqual(["01", "02"]);
    expect(link.activation).toBeNull();
    await expect(link.transceive(fromHex("04"))).rejects.toBeInstanceOf(CardGoneError);
  });

  it("tears: the card processes the command but the response is lost", async () => {
    const card = new CountingCard();
    const link = new MemoryLink(card);
    await link.fieldOn();
    link.removeAfter({ afterExchanges: 1, tear: true });
    await link.transceive(fromHex("805000020B"));
    await expect(link.transceive(fromHex("8052000000"))).rejects.toBeInstanceOf(CardGoneError);
    expect(card.processed).toEqual(["805000020B", "8052000000"]);
    expect(card.deactivations).toBe(1);
  });

  it("reports a card that goes mute mid-command (power lost) as gone", async () => {
    const card = new CountingCard();
    let mute = false;
    const muting: ContactlessCard = {
      activate: () => card.activate(),
      process: (c) => (mute ? new Uint8Array(0) : card.process(c)),
      deactivate: () => card.deactivate(),
    };
    const link = new MemoryLink(muting);
    await link.fieldOn();
    expect(toHex(await link.transceive(fromHex("0084000008")))).toBe("019000");
    mute = true;
    await expect(link.transceive(fromHex("0084000008"))).rejects.toBeInstanceOf(CardGoneError);
    expect(link.activation).toBeNull();
  });

  it("refuses a negative removal plan", () => {
    expect(() => new MemoryLink().removeAfter({ afterExchanges: -1 })).toThrow(RangeError);
  });
});
