/**
 * Tearing, enumerated: the power is cut after every physical NVM write of CREDIT FOR LOAD, DEBIT FOR PURCHASE
 * and DEBIT FOR CAPP PURCHASE (with its compound and trip records), for each card layout. After every cut
 * and reboot the card is exactly as before the command or exactly as after it — balance, counters, records,
 * compound file — and GET TRANSACTION PROVE returns that transaction's MAC2 ‖ TAC if and only if it happened.
 */
import { describe, expect, it } from "vitest";
import { concat, fromHex, toHex, uintBE } from "../src/core/bytes.js";
import type { SecureElement } from "../src/se/secure-element.js";
import { atomicityViolations, enumerateTearing } from "../src/se/testing/tearing.js";
import { TxType, loadMac2, loadSessionKey } from "../src/transit/epurse-crypto.js";
import {
  TERMINAL,
  TEXTBOOK_KEY,
  TEXTBOOK_RANDOM,
  type TextbookCard,
  textbookCard,
} from "../src/transit/testing/textbook-card.js";

/** CREDIT FOR LOAD of `amount` as the card's first load (MAC2 from the textbook key). */
function credit(amount: number): string {
  const ses = loadSessionKey(TEXTBOOK_KEY, TEXTBOOK_RANDOM, 0, "3des");
  const f = { amount, type: TxType.EP_LOAD, terminal: TERMINAL };
  return `805200000B20260302083000${toHex(loadMac2(ses, "3des", f, fromHex("20260302"), fromHex("083000")))}`;
}

interface Scenario {
  name: string;
  prepare(card: TextbookCard): void;
  command(card: TextbookCard): string;
  /** GET TRANSACTION PROVE of the transaction. */
  prove: string;
  /** GET BALANCE answers before and after. */
  balances: [string, string];
  /** MAC2 ‖ TAC from the command and its (uninterrupted) answer. */
  proof(command: string, answer: string): string;
  /** READ RECORD of the file the command writes, before: 6A83 (nothing) or a record. */
  record: string;
}

const lenHex = (h: string) => (h.length / 2).toString(16).toUpperCase().padStart(2, "0");

function scenarios(card: TextbookCard): Scenario[] {
  // Shenzhen Tong answers GET BALANCE in excess-2^31.
  const excess = card.product.system === "shenzhen-tong" ? 0x80000000 : 0;
  const bal = (fen: number) => toHex(uintBE(fen + excess, 4)) + "9000";
  const purchaseProof = (_c: string, a: string) => a.slice(8, 16) + a.slice(0, 8);
  const list: Scenario[] = [
    {
      name: "load (CREDIT FOR LOAD)",
      prepare: (c) => void c.send("805000020B0100000BB8001122334455"),
      command: () => credit(3000),
      prove: "805A0002020001",
      balances: [bal(0), bal(3000)],
      proof: (c, a) => c.slice(-8) + a.slice(0, 8),
      record: "00B201C400",
    },
    {
      name: "purchase (DEBIT FOR PURCHASE)",
      prepare: (c) => {
        c.load(3000, 0);
        c.send("805001020B01000000C8001122334455");
      },
      command: (c) => c.debitCommand(200, 0x06, 0),
      prove: "805A0006020001",
      balances: [bal(3000), bal(2800)],
      proof: purchaseProof,
      record: "00B202C400",
    },
  ];
  const compound =
    card.product.system === "t-union"
      ? { p1p2: "01D4", data: toHex(concat(Uint8Array.of(0x27, 0x01, 0x7d), new Uint8Array(125).fill(0x5a))) }
      : card.product.system === "beijing"
        ? null
        : { p1p2: "02B8", data: toHex(concat(Uint8Array.of(0x02, 0x2e), new Uint8Array(46).fill(0x5a))) };
  if (compound) {
    const trip = toHex(
      concat(Uint8Array.of(0x03), new Uint8Array(24), uintBE(0x20260302, 4), new Uint8Array(19)),
    );
    list.push({
      name: "compound purchase (DEBIT FOR CAPP PURCHASE with its cached records)",
      prepare: (c) => {
        c.load(3000, 0);
        c.send("805003020B01000001F4001122334455");
        expect(c.send(`80DC${compound.p1p2}${lenHex(compound.data)}${compound.data}`)[0]).toBe("9000");
        if (c.product.system === "t-union") expect(c.send(`80DC00F3${lenHex(trip)}${trip}`)[0]).toBe("9000");
      },
      command: (c) => c.debitCommand(500, 0x09, 0),
      prove: "805A0009020001",
      balances: [bal(3000), bal(2500)],
      proof: purchaseProof,
      record: card.product.system === "t-union" ? "00B201D400" : "00B202B800",
    });
  }
  return list;
}

for (const productId of ["tu-jingjinji", "shanghai", "beijing-yikatong", "shenzhen-tong"]) {
  describe(`tearing: ${productId}`, () => {
    for (const s of scenarios(textbookCard({ productId }))) {
      it(`${s.name}: every cut point leaves the card before or after, and the proof follows`, () => {
        // The uninterrupted run, for the answers the "after" state must prove.
        const ref = textbookCard({ productId });
        s.prepare(ref);
        const recordBefore = ref.send(s.record)[0]!;
        const command = s.command(ref);
        const answer = ref.send(command)[0]!;
        expect(answer.endsWith("9000")).toBe(true);
        const proof = s.proof(command, answer) + "9000";
        const recordAfter = ref.send(s.record)[0]!;
        expect(recordAfter).not.toBe(recordBefore);

        const cards = new Map<SecureElement, TextbookCard>();
        const seen = { before: 0, after: 0 };
        const report = enumerateTearing({
          create: () => {
            const c = textbookCard({ productId });
            cards.set(c.se, c);
            return c.se;
          },
          prepare: (se) => s.prepare(cards.get(se)!),
          command: (se) => fromHex(cards.get(se)!.send(command)[0]!),
          afterReboot: (se, cut) => {
            const c = cards.get(se)!;
            c.select();
            const [balance, proved, record] = c.send("805C000204", s.prove, s.record);
            if (cut.outcome === "after") {
              seen.after++;
              expect([balance, proved, record]).toEqual([s.balances[1], proof, recordAfter]);
            } else {
              seen.before++;
              expect([balance, proved, record]).toEqual([s.balances[0], "9406", recordBefore]);
            }
          },
        });
        expect(atomicityViolations(report)).toEqual([]);
        // Cuts after 0, 1, … every write: the last one lands everything and only loses the answer.
        expect(report.cuts).toHaveLength(report.writes + 1);
        expect(report.writes).toBeGreaterThanOrEqual(8);
        expect(seen.before).toBeGreaterThan(0);
        expect(seen.after).toBeGreaterThan(0);
        expect(seen.before + seen.after).toBe(report.cuts.length);
      });
    }
  });
}
