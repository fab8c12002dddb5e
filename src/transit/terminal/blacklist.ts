/** Cards a terminal refuses (reported lost, refunded, or fraudulent), by system and card number. */
import type { TransitSystem } from "../catalogue.js";

export class Blacklist {
  private readonly entries = new Set<string>();

  constructor(cards: Iterable<{ system: TransitSystem; cardNumber: string }> = []) {
    for (const c of cards) this.add(c.system, c.cardNumber);
  }

  add(system: TransitSystem, cardNumber: string): void {
    this.entries.add(`${system}:${cardNumber}`);
  }

  has(system: TransitSystem, cardNumber: string): boolean {
    return this.entries.has(`${system}:${cardNumber}`);
  }

  get size(): number {
    return this.entries.size;
  }
}
