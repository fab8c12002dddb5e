/**
 * The field between a terminal and a card. A terminal (POS, gate, door reader, card reader) only ever talks
 * through a `Link`; transports (in-memory, PC/SC, vpcd) implement it. A card (the phone's SE, a replay card)
 * implements `ContactlessCard` and is put behind a transport.
 */
import type { Bytes } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";

/** ISO/IEC 14443-A activation data of the card in the field. */
export interface Activation {
  /** 4, 7 or 10 bytes. */
  uid: Bytes;
  /** ATQA as two bytes, most significant byte first (e.g. 0x0004 → [00, 04]). */
  atqa: Bytes;
  sak: number;
  /** Answer To Select (ISO 14443-4), absent for cards without ISO-DEP (MIFARE Classic). */
  ats?: Bytes;
}

/** What a terminal talks through. */
export interface Link {
  /** Powers the field and activates the card; rejects with `CardGoneError` if none answers. */
  fieldOn(): Promise<Activation>;
  /** Sends a command APDU and returns the response APDU (data ‖ SW1 SW2). */
  transceive(command: Bytes): Promise<Bytes>;
  /** Switches the field off (the card loses power and its transient state). */
  fieldOff(): Promise<void>;
  /** The activation data of the card in the field, or null when the field is off. */
  readonly activation: Activation | null;
}

/** An ISO 14443-4 card as a transport presents it. Processing is synchronous and never throws. */
export interface ContactlessCard {
  /** Field on: the card powers up and answers activation. */
  activate(): Activation;
  /** One C-APDU in, one R-APDU (data ‖ SW) out; an empty answer means the card went mute (lost power). */
  process(command: Bytes): Bytes;
  /** Field off: transient state is lost. */
  deactivate(): void;
}

export class CardGoneError extends TapwalletError {
  constructor(detail = "") {
    super(
      "card_gone",
      `卡片已离开感应区${detail ? `：${detail}` : ""}`,
      `the card left the field${detail ? `: ${detail}` : ""}`,
    );
  }
}
