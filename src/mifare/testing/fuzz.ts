/**
 * Test support: generators and a reader-side driver for fuzzing the emulated MIFARE Classic card's frame handler
 * (src/mifare/emulator.property.test.ts runs them in CI, bench/fuzz.ts for longer). Cards of every size and
 * UID length with random access conditions; reader steps that reach every state, authenticated ones included,
 * and arbitrary frames. The driver throws when the card answers a malformed frame.
 */
import fc from "fast-check";
import { type Bytes, equal, fromHex } from "../../core/bytes.js";
import { type Frame, isWellFormed, plainFrame, shortFrame, withCrcA } from "../../nfc/frame.js";
import { type AccessConditions, decodeAccessBits, encodeAccessBits } from "../access.js";
import { decryptFrame, decryptNibble, encryptFrame, readerAnswer, readerVerifyCard } from "../auth.js";
import { bcc, cuidOf } from "../block0.js";
import { type MifareCard, blankCard, blockData, setBlock } from "../card.js";
import type { Crypto1 } from "../crypto1.js";
import { EmulatedClassic } from "../emulator.js";
import {
  type CardType,
  blockCount,
  blocksInSector,
  firstBlockOfSector,
  sectorCount,
  sectorOfBlock,
  trailerOfSector,
} from "../geometry.js";
import { encodeValueBlock } from "../value.js";

const KEY = fromHex("FFFFFFFFFFFF");
const WRONG = fromHex("A0A1A2A3A4A5");

export const cardArb: fc.Arbitrary<MifareCard> = fc
  .record({
    type: fc.constantFrom<CardType>("mini", "1k", "4k"),
    uid: fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 7, maxLength: 7 }),
    ),
    conditions: fc.array(fc.tuple(fc.nat(7), fc.nat(7), fc.nat(7), fc.nat(7)), {
      minLength: 40,
      maxLength: 40,
    }),
    values: fc.array(fc.integer(), { minLength: 8, maxLength: 8 }),
  })
  .map(({ type, uid, conditions, values }) => {
    const card = blankCard({ type, uid });
    const m = card.memory!;
    for (let s = 0; s < sectorCount(type); s++) {
      // Half the sectors keep the transport conditions so that most sequences can do something.
      if (s % 2 === 0) continue;
      const t = blockData(m, trailerOfSector(s)).slice();
      t.set(encodeAccessBits(conditions[s] as unknown as AccessConditions), 6);
      setBlock(m, trailerOfSector(s), t);
    }
    values.forEach((v, i) => {
      const s = i % sectorCount(type);
      const b = firstBlockOfSector(s) + (s === 0 ? 1 : 0);
      setBlock(m, b, encodeValueBlock(v, b));
    });
    return card;
  });

export type Step =
  | { k: "reqa" | "wupa" | "select" | "halt" | "field" }
  | { k: "auth"; block: number; keyB: boolean; right: boolean }
  | { k: "open"; block: number; keyB: boolean }
  | { k: "cmd"; cmd: number; block: number }
  | { k: "op"; cmd: number; offset: number; payload: Bytes }
  | { k: "data"; bytes: Bytes }
  | { k: "raw"; frame: Frame };

export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    data: fc.uint8Array({ minLength: 1, maxLength: 1 }),
    bits: fc.integer({ min: 0, max: 9 }),
    parity: fc.constant(new Uint8Array(0)),
  }),
  fc.uint8Array({ minLength: 0, maxLength: 24 }).map((d) => plainFrame(d)),
  fc.uint8Array({ minLength: 0, maxLength: 20 }).map((d) => plainFrame(withCrcA(d))),
  fc
    .tuple(fc.uint8Array({ minLength: 0, maxLength: 24 }), fc.uint8Array({ minLength: 0, maxLength: 24 }))
    .map(([data, parity]) => ({ data, parity: parity.map((p) => p & 3) })),
);

/** Mostly blocks of a Mini's range (so sessions find something to do), sometimes anywhere up to 260. */
const blockArb = fc.oneof({ weight: 4, arbitrary: fc.nat(19) }, { weight: 1, arbitrary: fc.nat(260) });

/** Steps that bring a card to each state before one arbitrary frame: idle, ready, active, authenticated, writing. */
export const STATE_PREFIXES: readonly Step[][] = [
  [],
  [{ k: "reqa" }],
  [{ k: "select" }],
  [{ k: "select" }, { k: "auth", block: 4, keyB: false, right: true }],
  [{ k: "select" }, { k: "auth", block: 0, keyB: false, right: true }, { k: "cmd", cmd: 0xa0, block: 1 }],
  [{ k: "select" }, { k: "auth", block: 8, keyB: false, right: false }],
  [{ k: "select" }, { k: "halt" }],
];

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom<Step>({ k: "reqa" }, { k: "wupa" }, { k: "halt" }, { k: "field" }),
  },
  { weight: 3, arbitrary: fc.constant<Step>({ k: "select" }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant("open" as const),
      block: blockArb,
      keyB: fc.oneof(
        { weight: 3, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant("auth" as const),
      block: blockArb,
      keyB: fc.boolean(),
      right: fc.oneof(
        { weight: 3, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant("cmd" as const),
      cmd: fc.constantFrom(0x30, 0x30, 0xa0, 0xc0, 0xc1, 0xc2, 0xb0, 0x50, 0x60, 0x61, 0x00, 0xff),
      block: blockArb,
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      k: fc.constant("op" as const),
      cmd: fc.constantFrom(0x30, 0xa0, 0xc0, 0xc1, 0xc2, 0xb0),
      offset: fc.nat(15),
      payload: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("data" as const), bytes: fc.uint8Array({ maxLength: 18 }) }),
  },
  { weight: 3, arbitrary: frameArb.map((frame) => ({ k: "raw" as const, frame })) },
);

/** Drives the card like a reader would, keeping the reader side of the cipher while it can. */
export class Driver {
  cipher: Crypto1 | null = null;
  /** The sector of the last successful authentication. */
  sector = 0;
  /** How deep the sequences got: authentications, encrypted READ answers and ACKs seen. */
  static authenticated = 0;
  static reads = 0;
  static acks = 0;
  private nR = 0x12345678;
  constructor(
    readonly card: EmulatedClassic,
    private readonly image: MifareCard,
  ) {}

  send(f: Frame): Frame | null {
    const answer = this.card.handle(f);
    if (answer !== null && !isWellFormed(answer)) throw new Error("the card answered a malformed frame");
    return answer;
  }

  /** Sends a command, encrypted while a session is believed open; follows the card's answer. */
  command(plain: Bytes): Frame | null {
    if (!this.cipher) return this.send(plainFrame(withCrcA(plain)));
    const c = this.cipher;
    const answer = this.send(encryptFrame(c, withCrcA(plain)));
    if (answer?.bits === 4) {
      if (decryptNibble(c, answer) !== 0xa) this.cipher = null;
      else Driver.acks++;
    } else if (answer) {
      decryptFrame(c, answer);
      if (answer.data.length === 18) Driver.reads++;
    }
    return answer;
  }

  step(s: Step): void {
    switch (s.k) {
      case "reqa":
      case "wupa":
        this.cipher = null;
        this.send(shortFrame(s.k === "reqa" ? 0x26 : 0x52, 7));
        return;
      case "field":
        this.cipher = null;
        this.card.fieldOff();
        this.card.fieldOn();
        return;
      case "select":
        this.cipher = null;
        this.select();
        return;
      case "halt":
        this.command(Uint8Array.of(0x50, 0));
        this.cipher = null;
        return;
      case "open":
        this.cipher = null;
        this.select();
        this.step({ k: "auth", block: s.block, keyB: s.keyB, right: true });
        return;
      case "auth": {
        const nested = this.cipher !== null;
        const nonce = this.command(Uint8Array.of(s.keyB ? 0x61 : 0x60, s.block));
        this.cipher = null;
        if (!nonce || nonce.bits !== undefined) return;
        const a = readerAnswer(
          s.right ? KEY : WRONG,
          cuidOf(this.image.uid),
          nonce,
          nested,
          (this.nR += 0x9e3779b9) >>> 0,
        );
        if (!a) return;
        if (readerVerifyCard(a.cipher, a.nT, this.send(a.frame))) {
          this.cipher = a.cipher;
          this.sector = sectorOfBlock(s.block);
          Driver.authenticated++;
        }
        return;
      }
      case "cmd":
        this.command(Uint8Array.of(s.cmd, s.block));
        return;
      case "op": {
        // A command on a block of the authenticated sector, with its second part where it has one.
        const block = firstBlockOfSector(this.sector) + (s.offset % blocksInSector(this.sector));
        const ack = this.command(Uint8Array.of(s.cmd, block));
        if (!this.cipher || ack?.bits !== 4) return;
        if (s.cmd === 0xa0) this.command(s.payload);
        else if (s.cmd !== 0xb0) this.command(s.payload.subarray(0, 4));
        return;
      }
      case "data":
        this.command(s.bytes);
        return;
      case "raw":
        this.send(s.frame);
        return;
    }
  }

  select(): void {
    if (!this.send(shortFrame(0x52, 7))) this.send(shortFrame(0x52, 7));
    const uid = this.image.uid;
    const levels =
      uid.length === 4 ? [uid] : [Uint8Array.of(0x88, uid[0]!, uid[1]!, uid[2]!), uid.subarray(3)];
    levels.forEach((cl, i) => {
      const sel = [0x93, 0x95][i]!;
      this.send(plainFrame(Uint8Array.of(sel, 0x20)));
      this.send(plainFrame(withCrcA(Uint8Array.of(sel, 0x70, ...cl, bcc(cl)))));
    });
  }
}

/**
 * Runs reader `steps` against a fresh emulation of `card` (its nonces drawn from `seed`) and checks every
 * change the card reports with `invariants`. Throws on the first failure.
 */
export function driveChecked(card: MifareCard, steps: readonly Step[], seed: number): void {
  let nonce = seed >>> 0;
  const changes: MifareCard[] = [];
  const e = new EmulatedClassic(card, {
    nonce: () => (nonce = (nonce * 1103515245 + 12345) >>> 0),
    onChange: (c) => changes.push(c),
  });
  e.fieldOn();
  const d = new Driver(e, card);
  for (const s of steps) d.step(s);
  for (const c of changes) invariants(card, c);
}

/** What every change the card reports must keep: its size, block 0, decodable access bits. Throws if not. */
export function invariants(before: MifareCard, after: MifareCard): void {
  const m0 = before.memory!;
  const m1 = after.memory!;
  if (m1.data.length !== blockCount(before.type) * 16) throw new Error("the card changed size");
  if (!equal(blockData(m1, 0), blockData(m0, 0))) throw new Error("block 0 changed");
  for (let s = 0; s < sectorCount(before.type); s++)
    if (decodeAccessBits(blockData(m1, trailerOfSector(s)).subarray(6, 9)) === null)
      throw new Error(`sector ${s}: access bits no longer decode`);
}
