import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  type Frame,
  MemoryFrameLink,
  crcAValid,
  hasPlainParity,
  plainFrame,
  shortFrame,
  withCrcA,
} from "../nfc/frame.js";
import { encodeAccessBits } from "./access.js";
import {
  cardNonce,
  decryptFrame,
  decryptNibble,
  encryptFrame,
  readerAnswer,
  readerVerifyCard,
} from "./auth.js";
import { cuidOf } from "./block0.js";
import { type MifareCard, blankCard, blockData, setBlock, uidOnlyCard } from "./card.js";
import type { Crypto1 } from "./crypto1.js";
import { ACK, EmulatedClassic, NAK_INVALID, NAK_NOT_ALLOWED, NAK_TRANSMISSION } from "./emulator.js";
import { trailerOfSector } from "./geometry.js";
import { ClassicReader } from "./reader.js";
import { encodeValueBlock } from "./value.js";

const FF = fromHex("FFFFFFFFFFFF");
const counter = (start = 0x01200145) => {
  let n = start;
  return () => (n = (n + 0x1234567) >>> 0);
};

function card1k(uid = "01A062BD"): MifareCard {
  return blankCard({ type: "1k", uid: fromHex(uid) });
}

/** A field with the card in it and a reader talking to it. */
async function open(card: MifareCard, onChange?: (c: MifareCard) => void) {
  const emulator = new EmulatedClassic(card, { nonce: counter(), ...(onChange ? { onChange } : {}) });
  const link = new MemoryFrameLink(emulator, { trace: true });
  await link.fieldOn();
  const reader = new ClassicReader(link, { readerNonce: counter(0x12345678) });
  return { emulator, link, reader };
}

/** Direct frames, for what the reader class does not send. */
const send = (e: EmulatedClassic, f: Frame) => e.handle(f);

describe("activation (ISO/IEC 14443-3)", () => {
  it("REQA → ATQA (LSB first), anticollision → UID + BCC, SELECT → SAK with CRC, for a 4-byte UID", () => {
    const e = new EmulatedClassic(card1k());
    e.fieldOn();
    expect(toHex(send(e, shortFrame(0x26, 7))!.data)).toBe("0400");
    const cl = send(e, plainFrame(fromHex("9320")))!;
    expect(toHex(cl.data)).toBe("01A062BD7E");
    expect(hasPlainParity(cl)).toBe(true);
    const sak = send(e, plainFrame(withCrcA(fromHex("937001A062BD7E"))))!;
    expect(toHex(sak.data)).toBe("08B6DD");
  });

  it("a 7-byte UID over two cascade levels: CT 88, SAK 04 with the cascade bit, then the final SAK", async () => {
    const card = blankCard({ type: "4k", uid: fromHex("04112233445566") });
    const e = new EmulatedClassic(card);
    e.fieldOn();
    expect(toHex(send(e, shortFrame(0x52, 7))!.data)).toBe("4200");
    expect(toHex(send(e, plainFrame(fromHex("9320")))!.data)).toBe("88041122BF");
    expect(toHex(send(e, plainFrame(withCrcA(fromHex("937088041122BF"))))!.data.subarray(0, 1))).toBe("04");
    expect(toHex(send(e, plainFrame(fromHex("9520")))!.data)).toBe("3344556644");
    expect(send(e, plainFrame(withCrcA(fromHex("95703344556644"))))!.data[0]).toBe(0x18);

    const { reader } = await open(card);
    const act = (await reader.activate())!;
    expect(toHex(act.uid)).toBe("04112233445566");
    expect(toHex(act.atqa)).toBe("0042");
    expect(act.sak).toBe(0x18);
  });

  it("anticollision with known whole bytes answers the rest; a different prefix or SELECT stays silent", () => {
    const e = new EmulatedClassic(card1k());
    e.fieldOn();
    send(e, shortFrame(0x26, 7));
    expect(toHex(send(e, plainFrame(fromHex("933001")))!.data)).toBe("A062BD7E");
    expect(send(e, plainFrame(fromHex("933002")))).toBeNull();
    expect(send(e, plainFrame(withCrcA(fromHex("937001A062BD7F"))))).toBeNull();
    expect(send(e, plainFrame(fromHex("9325")))).toBeNull();
    expect(send(e, plainFrame(withCrcA(fromHex("937001A062BD7E"))))!.data[0]).toBe(0x08);
  });

  it("HALT: REQA no longer wakes the card, WUPA does; REQA/WUPA in another state send it to sleep", () => {
    const e = new EmulatedClassic(card1k());
    e.fieldOn();
    send(e, shortFrame(0x26, 7));
    send(e, plainFrame(fromHex("9320")));
    send(e, plainFrame(withCrcA(fromHex("937001A062BD7E"))));
    expect(send(e, plainFrame(withCrcA(fromHex("5000"))))).toBeNull();
    expect(send(e, shortFrame(0x26, 7))).toBeNull();
    expect(send(e, shortFrame(0x52, 7))).not.toBeNull();
    expect(send(e, shortFrame(0x52, 7))).toBeNull(); // READY + WUPA → back to HALT
    expect(send(e, shortFrame(0x26, 7))).toBeNull();
    expect(send(e, shortFrame(0x52, 7))).not.toBeNull();
  });

  it("field off loses everything; before field on the card says nothing", () => {
    const e = new EmulatedClassic(card1k());
    expect(send(e, shortFrame(0x26, 7))).toBeNull();
    e.fieldOn();
    expect(send(e, shortFrame(0x26, 7))).not.toBeNull();
    e.fieldOff();
    expect(send(e, shortFrame(0x52, 7))).toBeNull();
  });
});

describe("authentication and commands", () => {
  it("reads every block after AUTH A; trailer READ shows key A as zeros and key B where readable (FF0780)", async () => {
    const { reader } = await open(card1k());
    await reader.activate();
    expect(await reader.authenticate(7, "A", FF)).toBe(true);
    expect(toHex((await reader.readBlock(4))!)).toBe("00".repeat(16));
    expect(toHex((await reader.readBlock(7))!)).toBe("000000000000FF078069FFFFFFFFFFFF");
  });

  it("masks key B where the access bits keep it secret (787788: trailer 011)", async () => {
    const card = card1k();
    const trailer = fromHex("A0A1A2A3A4A5 787788 C1 B0B1B2B3B4B5");
    setBlock(card.memory!, 3, trailer);
    const { reader } = await open(card);
    await reader.activate();
    expect(await reader.authenticate(0, "A", fromHex("A0A1A2A3A4A5"))).toBe(true);
    expect(toHex((await reader.readBlock(3))!)).toBe("000000000000787788C1000000000000");
    // Key B (not readable here) may write data: cond 100 = read AB, write B.
    expect(await reader.authenticate(0, "B", fromHex("B0B1B2B3B4B5"))).toBe(true);
    expect(await reader.writeBlock(1, fromHex("11".repeat(16)))).toBe(true);
    expect(await reader.authenticate(0, "A", fromHex("A0A1A2A3A4A5"))).toBe(true);
    expect(await reader.writeBlock(1, fromHex("22".repeat(16)))).toBe(false);
  });

  it("a wrong key: the card answers the nonce, then stays silent and sleeps", async () => {
    const { reader, link } = await open(card1k());
    await reader.activate();
    expect(await reader.authenticate(4, "A", fromHex("000000000000"))).toBe(false);
    expect(reader.selected).toBeNull();
    const last = link.trace.at(-1)!;
    expect(last.from).toBe("reader"); // {nR}{aR} got no answer
    expect(await reader.activate()).not.toBeNull();
    expect(await reader.authenticate(4, "A", FF)).toBe(true);
  });

  it("with readable key B (transport FF0780), AUTH B succeeds but every access is refused", async () => {
    const { reader } = await open(card1k());
    await reader.activate();
    expect(await reader.authenticate(4, "B", FF)).toBe(true);
    expect(await reader.readBlock(4)).toBeNull();
  });

  it("WRITE (two parts) persists and reports the change; READ returns it", async () => {
    const changes: MifareCard[] = [];
    const { reader, emulator } = await open(card1k(), (c) => changes.push(c));
    await reader.activate();
    await reader.authenticate(5, "A", FF);
    expect(await reader.writeBlock(5, fromHex("00112233445566778899AABBCCDDEEFF"))).toBe(true);
    expect(toHex((await reader.readBlock(5))!)).toBe("00112233445566778899AABBCCDDEEFF");
    expect(changes).toHaveLength(1);
    expect(toHex(blockData(changes[0]!.memory!, 5))).toBe("00112233445566778899AABBCCDDEEFF");
    expect(toHex(blockData(emulator.image().memory!, 5))).toBe("00112233445566778899AABBCCDDEEFF");
  });

  it("block 0 is never writable; a trailer write keeps invalid access bits out", async () => {
    const { reader, emulator } = await open(card1k());
    await reader.activate();
    await reader.authenticate(0, "A", FF);
    expect(await reader.writeBlock(0, new Uint8Array(16))).toBe(false);
    await reader.activate();
    await reader.authenticate(3, "A", FF);
    expect(await reader.writeBlock(3, fromHex("FFFFFFFFFFFF 000000 69 FFFFFFFFFFFF"))).toBe(false);
    expect(toHex(blockData(emulator.image().memory!, 3).subarray(6, 9))).toBe("FF0780");
    await reader.activate();
    await reader.authenticate(3, "A", FF);
    const newTrailer = fromHex("A0A1A2A3A4A5 787788 C1 B0B1B2B3B4B5");
    expect(await reader.writeBlock(3, newTrailer)).toBe(true);
    expect(toHex(blockData(emulator.image().memory!, 3))).toBe(toHex(newTrailer));
    // The new key A is now in force.
    await reader.activate();
    expect(await reader.authenticate(0, "A", FF)).toBe(false);
    await reader.activate();
    expect(await reader.authenticate(0, "A", fromHex("A0A1A2A3A4A5"))).toBe(true);
  });

  it("trailer writes change only the parts the key may write (011: key B writes keys and access bits)", async () => {
    const card = card1k();
    const ac = toHex(encodeAccessBits([0, 0, 0, 0b011]));
    setBlock(card.memory!, 7, fromHex(`A0A1A2A3A4A5 ${ac} 69 B0B1B2B3B4B5`));
    const { reader, emulator } = await open(card);
    await reader.activate();
    await reader.authenticate(7, "A", fromHex("A0A1A2A3A4A5"));
    // Key A may write nothing in the trailer under 011.
    expect(await reader.writeBlock(7, fromHex(`111111111111 ${ac} 69 222222222222`))).toBe(false);
    await reader.activate();
    await reader.authenticate(7, "B", fromHex("B0B1B2B3B4B5"));
    expect(await reader.writeBlock(7, fromHex(`111111111111 ${ac} 00 222222222222`))).toBe(true);
    expect(toHex(blockData(emulator.image().memory!, 7))).toBe(`111111111111${ac}00222222222222`);
  });

  it("INCREMENT/DECREMENT/RESTORE then TRANSFER; a non-value block is refused", async () => {
    const card = card1k();
    setBlock(card.memory!, 8, encodeValueBlock(100, 8));
    const { reader, emulator } = await open(card);
    await reader.activate();
    await reader.authenticate(8, "A", FF);
    expect(await reader.valueOperation("increment", 8, 25)).toBe(true);
    expect(await reader.transfer(9)).toBe(true);
    expect(toHex(blockData(emulator.image().memory!, 9))).toBe(toHex(encodeValueBlock(125, 8)));
    expect(await reader.valueOperation("decrement", 9, 200)).toBe(true);
    expect(await reader.transfer(9)).toBe(true);
    expect(toHex(blockData(emulator.image().memory!, 9))).toBe(toHex(encodeValueBlock(-75, 8)));
    expect(await reader.valueOperation("restore", 8)).toBe(true);
    expect(await reader.transfer(10)).toBe(true);
    expect(toHex(blockData(emulator.image().memory!, 10))).toBe(toHex(encodeValueBlock(100, 8)));
    expect(await reader.valueOperation("increment", 4, 1)).toBe(false); // sector 1, not authenticated
  });

  it("value operations obey the access bits (001: decrement/transfer/restore only)", async () => {
    const card = card1k();
    setBlock(card.memory!, 12, encodeValueBlock(7, 12));
    const t = blockData(card.memory!, 15).slice();
    t.set(encodeAccessBits([0b001, 0b000, 0b000, 0b001]), 6);
    setBlock(card.memory!, 15, t);
    const { reader } = await open(card);
    await reader.activate();
    await reader.authenticate(12, "A", FF);
    expect(await reader.valueOperation("increment", 12, 1)).toBe(false);
    await reader.activate();
    await reader.authenticate(12, "A", FF);
    expect(await reader.valueOperation("decrement", 12, 1)).toBe(true);
    expect(await reader.transfer(12)).toBe(true);
    expect(await reader.writeBlock(12, new Uint8Array(16))).toBe(false);
  });

  it("TRANSFER without a value operation first is refused", async () => {
    const { reader } = await open(card1k());
    await reader.activate();
    await reader.authenticate(4, "A", FF);
    expect(await reader.transfer(5)).toBe(false);
  });

  it("nested authentication moves the session to another sector; reads outside it are refused", async () => {
    const { reader } = await open(card1k());
    await reader.activate();
    await reader.authenticate(0, "A", FF);
    expect(await reader.readBlock(4)).toBeNull();
    await reader.activate();
    await reader.authenticate(0, "A", FF);
    expect(await reader.authenticate(4, "A", FF)).toBe(true);
    expect(await reader.readBlock(4)).not.toBeNull();
    expect(await reader.readBlock(0)).toBeNull();
  });

  it("blocks beyond the card's size are refused with a NAK (1K: block 64; Mini: block 20)", async () => {
    for (const [type, first] of [
      ["1k", 64],
      ["mini", 20],
    ] as const) {
      const e = new EmulatedClassic(blankCard({ type, uid: fromHex("11223344") }), { nonce: counter() });
      const link = new MemoryFrameLink(e);
      await link.fieldOn();
      const reader = new ClassicReader(link);
      await reader.activate();
      const nak = await link.transceive(plainFrame(withCrcA(Uint8Array.of(0x60, first))));
      expect(nak?.bits).toBe(4);
      expect(nak?.data[0]).toBe(NAK_INVALID);
      await reader.activate();
      await reader.authenticate(3, "A", FF);
      expect(await reader.readBlock(first)).toBeNull();
    }
  });

  it("encrypted NAK codes: CRC error → 1, not allowed → 4; then the card sleeps", () => {
    const e = new EmulatedClassic(card1k(), { nonce: () => 0x01200145 });
    const s = sessionOn(e, 4);
    const bad = withCrcA(Uint8Array.of(0x30, 4));
    bad[3]! ^= 1;
    expect(decryptNibble(s.cipher, send(e, encryptFrame(s.cipher, bad))!)).toBe(NAK_TRANSMISSION);
    expect(send(e, shortFrame(0x26, 7))).not.toBeNull(); // asleep in IDLE: REQA wakes it
    const s2 = sessionOn(e, 4);
    expect(
      decryptNibble(s2.cipher, send(e, encryptFrame(s2.cipher, withCrcA(Uint8Array.of(0x30, 0))))!),
    ).toBe(NAK_NOT_ALLOWED);
  });

  it("commands before authentication get a plain NAK 4; a bad CRC a NAK 1; unknown commands silence", () => {
    const e = new EmulatedClassic(card1k());
    select(e);
    expect(send(e, plainFrame(withCrcA(Uint8Array.of(0x30, 4))))!.data[0]).toBe(NAK_NOT_ALLOWED);
    select(e);
    expect(send(e, plainFrame(Uint8Array.of(0x30, 4, 0, 0)))!.data[0]).toBe(NAK_TRANSMISSION);
    select(e);
    expect(send(e, plainFrame(withCrcA(Uint8Array.of(0xe0, 0x80))))).toBeNull(); // RATS: not ISO-DEP
  });

  it("a UID-only card answers anticollision and SELECT, and stays silent on AUTH", async () => {
    const card = uidOnlyCard({ uid: fromHex("08A1B2C3"), atqa: fromHex("0004"), sak: 0x08 });
    const { reader, link } = await open(card);
    expect(toHex((await reader.activate())!.uid)).toBe("08A1B2C3");
    expect(await link.transceive(plainFrame(withCrcA(Uint8Array.of(0x60, 0))))).toBeNull();
  });

  it("a key the dump does not know never authenticates", async () => {
    const card = card1k();
    card.memory!.known.fill(0, trailerOfSector(1) * 16, trailerOfSector(1) * 16 + 6);
    const { reader } = await open(card);
    await reader.activate();
    expect(await reader.authenticate(4, "A", new Uint8Array(6))).toBe(false);
    await reader.activate();
    expect(await reader.authenticate(0, "A", FF)).toBe(true);
  });

  it("ACK is the encrypted nibble A", () => {
    const e = new EmulatedClassic(card1k(), { nonce: () => 0x01200145 });
    const s = sessionOn(e, 4);
    expect(decryptNibble(s.cipher, send(e, encryptFrame(s.cipher, withCrcA(Uint8Array.of(0xa0, 5))))!)).toBe(
      ACK,
    );
  });
});

/** REQA + anticollision + SELECT of the 4-byte card 01A062BD. */
function select(e: EmulatedClassic): void {
  e.fieldOn();
  send(e, shortFrame(0x26, 7));
  send(e, plainFrame(fromHex("9320")));
  send(e, plainFrame(withCrcA(fromHex("937001A062BD7E"))));
}

/** Selects and authenticates with key A FF…FF for `block`, synchronously; returns the reader's cipher. */
function sessionOn(e: EmulatedClassic, block: number): { cipher: Crypto1 } {
  select(e);
  const nonce = send(e, plainFrame(withCrcA(Uint8Array.of(0x60, block))))!;
  const answer = readerAnswer(FF, cuidOf(fromHex("01A062BD")), nonce, false, 0x12345678)!;
  expect(readerVerifyCard(answer.cipher, answer.nT, send(e, answer.frame))).toBe(true);
  return { cipher: answer.cipher };
}

describe("a recorded session: nonce 01200145 and nR 12345678 give the same frames every time", () => {
  it("the encrypted READ of block 4 decrypts to 16 zero bytes and a valid CRC", () => {
    const e = new EmulatedClassic(card1k(), { nonce: () => 0x01200145 });
    const s = sessionOn(e, 4);
    const reply = send(e, encryptFrame(s.cipher, withCrcA(Uint8Array.of(0x30, 4))))!;
    const d = decryptFrame(s.cipher, reply);
    expect(d.parityOk).toBe(true);
    expect(crcAValid(d.data)).toBe(true);
    expect(toHex(d.data.subarray(0, 16))).toBe("00".repeat(16));
  });

  it("the card's nonce frame for AUTH A 4 is 01 20 01 45 in clear", () => {
    const e = new EmulatedClassic(card1k(), { nonce: () => 0x01200145 });
    select(e);
    const nonce = send(e, plainFrame(withCrcA(Uint8Array.of(0x60, 4))))!;
    expect(toHex(nonce.data)).toBe("01200145");
    expect(toHex(nonce.data)).toBe(
      toHex(cardNonce(FF, cuidOf(fromHex("01A062BD")), 0x01200145, false).frame.data),
    );
  });
});
