/**
 * Test support: fuzzing an e-purse card on the SE with random and mutated commands while keeping a model of
 * the money it moved. Genuine loads and purchases (MACs from the textbook key) move money between the fuzzed
 * commands; each fuzzed command is random bytes, a structured command with random parameters, or a genuine
 * INITIALIZE / CREDIT / 80DC / DEBIT with one byte, its length or its header mutated. `FuzzModel.send` throws
 * when an answer has no ISO 7816 status word or is 6F00 (what the SE answers when an applet throws).
 */
import fc from "fast-check";
import { concat, fromHex, readUintBE, toHex, uintBE } from "../../core/bytes.js";
import { describeSw, isSuccess } from "../../core/sw.js";
import { TxType, loadMac2, loadSessionKey } from "../epurse-crypto.js";
import { TERMINAL, TEXTBOOK_KEY, TEXTBOOK_RANDOM, type TextbookCard } from "./textbook-card.js";

type Mutation = { at: number; kind: "flip" | "truncate" | "extend" | "header"; value: number };

/** One fuzzed command, with the genuine commands that set it up. */
type Fuzz =
  | { kind: "random"; bytes: Uint8Array }
  | {
      kind: "structured";
      cla: number;
      ins: number;
      p1: number;
      p2: number;
      data: Uint8Array;
      le: number | null;
    }
  | { kind: "load"; amount: number; mutate: Mutation; target: "init" | "credit" }
  | {
      kind: "purchase";
      amount: number;
      compound: boolean;
      mutate: Mutation;
      target: "init" | "update" | "debit";
    };

/** Genuine money movement between fuzzed commands (not counted as fuzz). */
type Genuine =
  | { kind: "none" }
  | { kind: "load"; amount: number }
  | { kind: "purchase"; amount: number; compound: boolean };

const INS = [0xa4, 0xb0, 0xb2, 0x84, 0x5c, 0x50, 0x52, 0x54, 0x5a, 0xdc, 0xca, 0x20, 0xc0, 0xe2, 0xd6];

const mutation = fc.record({
  at: fc.nat(40),
  kind: fc.constantFrom("flip" as const, "truncate" as const, "extend" as const, "header" as const),
  value: fc.nat(255),
});

const fuzz: fc.Arbitrary<Fuzz> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("random" as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("structured" as const),
      cla: fc.constantFrom(0x00, 0x80, 0x04, 0x84, 0x90, 0x01),
      ins: fc.constantFrom(...INS),
      p1: fc.nat(255),
      p2: fc.nat(255),
      data: fc.uint8Array({ maxLength: 140 }),
      le: fc.option(fc.nat(255), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("load" as const),
      amount: fc.integer({ min: 0, max: 30000 }),
      mutate: mutation,
      target: fc.constantFrom("init" as const, "credit" as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("purchase" as const),
      amount: fc.integer({ min: 0, max: 3000 }),
      compound: fc.boolean(),
      mutate: mutation,
      target: fc.constantFrom("init" as const, "update" as const, "debit" as const),
    }),
  },
);

const genuine: fc.Arbitrary<Genuine> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("load" as const), amount: fc.integer({ min: 1, max: 20000 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("purchase" as const),
      amount: fc.integer({ min: 0, max: 3000 }),
      compound: fc.boolean(),
    }),
  },
);

/** A step: maybe a genuine load or purchase, maybe a re-SELECT, then one fuzzed command. */
export const fuzzStep = fc.record({ before: genuine, fuzz, reselect: fc.nat(15) });
export type FuzzStep = { before: Genuine; fuzz: Fuzz; reselect: number };

function mutate(apdu: Uint8Array, m: Mutation | undefined): Uint8Array {
  if (!m) return apdu;
  const out = apdu.slice();
  const i = m.at % Math.max(1, out.length);
  switch (m.kind) {
    case "flip":
      out[i] = out[i]! ^ (1 << (m.value & 7));
      return out;
    case "truncate":
      return out.slice(0, i);
    case "extend":
      return concat(out, Uint8Array.of(m.value));
    case "header":
      out[i % 4] = m.value;
      return out;
  }
}

const compoundUpdate = (c: TextbookCard): string | null => {
  if (c.product.system === "t-union")
    return "80DC01D480" + toHex(concat(Uint8Array.of(0x27, 0x01, 0x7d), new Uint8Array(125).fill(0x11)));
  if (c.product.system === "beijing") return null;
  return "80DC02B830" + toHex(concat(Uint8Array.of(0x02, 0x2e), new Uint8Array(46).fill(0x22)));
};

/** Drives one card and keeps the model: the loads and purchases it accepted. */
export class FuzzModel {
  loads = 0;
  purchases = 0;
  /** Fuzzed (random, structured or mutated) commands sent. */
  fuzzed = 0;
  /** The last INITIALIZE that succeeded: a CREDIT/DEBIT can only succeed on it. */
  private lastInit: { p1: number; amount: number } | null = null;

  constructor(readonly card: TextbookCard) {}

  send(apdu: Uint8Array, fuzzed = false): string {
    if (fuzzed) this.fuzzed++;
    const raw = this.card.se.process(apdu);
    // Plain checks (this runs 100,000s of times): the answer has a status word of ISO 7816, never 6F00.
    const sw = raw.length >= 2 ? readUintBE(raw, raw.length - 2, 2) : -1;
    if (sw === -1 || sw === 0x6f00 || describeSw(sw).en === "unknown status word")
      throw new Error(`the card answered ${toHex(raw)} to ${toHex(apdu)}`);
    // 61XX: done, and the answer is longer than the Le asked for (the rest via GET RESPONSE).
    if (isSuccess(sw) && apdu.length >= 5 && apdu[0] === 0x80) {
      if (apdu[1] === 0x50 && apdu.length >= 10)
        this.lastInit = { p1: apdu[2]!, amount: readUintBE(apdu, 6, 4) };
      if (apdu[1] === 0x52 && this.lastInit?.p1 === 0x00) this.loads += this.lastInit.amount;
      if (apdu[1] === 0x54 && (this.lastInit?.p1 === 0x01 || this.lastInit?.p1 === 0x03))
        this.purchases += this.lastInit.amount;
    }
    return toHex(raw);
  }

  /** SELECT the instance again (and Beijing's purse DF) with APDUs, as a reader does. */
  reselect(): void {
    const aid = this.card.aid;
    this.send(concat(fromHex("00A40400"), Uint8Array.of(aid.length), aid, fromHex("00")));
    if (this.card.product.system === "beijing") this.send(fromHex("00A40000021001"));
  }

  load(amount: number, m?: Mutation, target?: "init" | "credit"): void {
    const initCmd = fromHex(`805000020B01${toHex(uintBE(amount, 4))}${toHex(TERMINAL)}`);
    const init = this.send(target === "init" ? mutate(initCmd, m) : initCmd, target === "init");
    if (target === "init" || (!m && !init.endsWith("9000"))) return;
    // A mutated CREDIT goes out even when the INITIALIZE failed: the card must refuse it cleanly.
    const atc = init.endsWith("9000") ? parseInt(init.slice(8, 12), 16) : 0;
    const ses = loadSessionKey(TEXTBOOK_KEY, TEXTBOOK_RANDOM, atc, "3des");
    const f = { amount, type: TxType.EP_LOAD, terminal: TERMINAL };
    const mac2 = loadMac2(ses, "3des", f, fromHex("20260302"), fromHex("083000"));
    this.send(mutate(fromHex(`805200000B20260302083000${toHex(mac2)}`), m), m !== undefined);
  }

  purchase(amount: number, compound: boolean, m?: Mutation, target?: "init" | "update" | "debit"): void {
    const update = compound ? compoundUpdate(this.card) : null;
    const initCmd = fromHex(`8050${update ? "03" : "01"}020B01${toHex(uintBE(amount, 4))}${toHex(TERMINAL)}`);
    const init = this.send(target === "init" ? mutate(initCmd, m) : initCmd, target === "init");
    const initOk = init.endsWith("9000") && init.length === 34;
    if (target === "init" || (!m && !initOk)) return;
    const atc = initOk ? parseInt(init.slice(8, 12), 16) : 0;
    if (update)
      this.send(target === "update" ? mutate(fromHex(update), m) : fromHex(update), target === "update");
    if (target === "update") return;
    const type = update ? TxType.CAPP_PURCHASE : TxType.EP_PURCHASE;
    const debit = fromHex(this.card.debitCommand(amount, type, atc));
    this.send(target === "debit" ? mutate(debit, m) : debit, target === "debit");
  }

  run(s: FuzzStep): void {
    if (s.reselect === 0) this.reselect();
    if (s.before.kind === "load") this.load(s.before.amount);
    if (s.before.kind === "purchase") this.purchase(s.before.amount, s.before.compound);
    const f = s.fuzz;
    switch (f.kind) {
      case "random":
        this.send(f.bytes, true);
        return;
      case "structured": {
        const body = f.data.length > 0 ? concat(Uint8Array.of(f.data.length), f.data) : new Uint8Array(0);
        const le = f.le === null ? new Uint8Array(0) : Uint8Array.of(f.le);
        this.send(concat(Uint8Array.of(f.cla, f.ins, f.p1, f.p2), body, le), true);
        return;
      }
      case "load":
        this.load(f.amount, f.mutate, f.target);
        return;
      case "purchase": {
        // Without a compound record to send (a plain purchase, or Beijing), "update" mutates the DEBIT.
        const hasUpdate = f.compound && compoundUpdate(this.card) !== null;
        this.purchase(
          f.amount,
          f.compound,
          f.mutate,
          f.target === "update" && !hasUpdate ? "debit" : f.target,
        );
        return;
      }
    }
  }

  /** The card's net balance through a fresh selection. */
  balance(): number {
    this.card.select();
    const [b0, b1] = this.card.send("805C000204", "805C010204");
    if (!b0!.endsWith("9000")) throw new Error(`GET BALANCE answered ${b0}`);
    const raw = parseInt(b0!.slice(0, 8), 16);
    if (this.card.product.system === "shenzhen-tong") return raw - 0x80000000;
    const overdraft = this.card.product.system === "t-union" ? parseInt(b1!.slice(0, 8), 16) : 0;
    return raw - overdraft;
  }
}
