/**
 * The in-memory transport: a terminal's `Link` straight onto a `ContactlessCard` in the same process. It can
 * take the card away at any moment, as a user pulls the phone off the reader — between two commands, or
 * while the card is answering (the card has processed the command, the terminal never gets the response).
 */
import type { Bytes } from "../core/bytes.js";
import { type Activation, CardGoneError, type ContactlessCard, type Link } from "./link.js";

export interface RemovalPlan {
  /** How many more exchanges complete before the card leaves. */
  afterExchanges: number;
  /**
   * true: the next command still reaches the card, which processes it (and commits what it writes), but
   * the response is lost — the torn transaction a terminal must recover from. false (default): the card
   * is gone before the command arrives.
   */
  tear?: boolean;
}

export class MemoryLink implements Link {
  private card: ContactlessCard | null;
  private current: Activation | null = null;
  private plan: { left: number; tear: boolean } | null = null;

  constructor(card: ContactlessCard | null = null) {
    this.card = card;
  }

  get activation(): Activation | null {
    return this.current;
  }

  /** Whether a card is in (or near) the field. */
  get hasCard(): boolean {
    return this.card !== null;
  }

  async fieldOn(): Promise<Activation> {
    if (this.current) return this.current;
    if (!this.card) throw new CardGoneError();
    this.current = this.card.activate();
    return this.current;
  }

  async transceive(command: Bytes): Promise<Bytes> {
    const card = this.card;
    if (!card || !this.current) throw new CardGoneError();
    if (this.plan && this.plan.left === 0) {
      const tear = this.plan.tear;
      if (tear) card.process(command.slice());
      this.removeCard();
      throw new CardGoneError();
    }
    if (this.plan) this.plan.left--;
    const answer = card.process(command.slice());
    if (answer.length < 2) {
      // A mute card (it lost power mid-command, e.g. a torn write) is gone as far as the terminal can tell.
      this.current = null;
      throw new CardGoneError();
    }
    return answer;
  }

  async fieldOff(): Promise<void> {
    if (this.current && this.card) this.card.deactivate();
    this.current = null;
  }

  /** Takes the card out of the field now: it loses power; later exchanges reject with `CardGoneError`. */
  removeCard(): ContactlessCard | null {
    const card = this.card;
    if (card && this.current) card.deactivate();
    this.card = null;
    this.current = null;
    this.plan = null;
    return card;
  }

  /** Brings a card (back) to the reader; the terminal activates it with `fieldOn()`. */
  insertCard(card: ContactlessCard): void {
    if (this.card) this.removeCard();
    this.card = card;
  }

  /** Schedules the card's removal mid-transaction (see `RemovalPlan`). */
  removeAfter(plan: RemovalPlan): void {
    if (!Number.isInteger(plan.afterExchanges) || plan.afterExchanges < 0)
      throw new RangeError(`afterExchanges must be a non-negative integer, got ${plan.afterExchanges}`);
    this.plan = { left: plan.afterExchanges, tear: plan.tear ?? false };
  }
}
