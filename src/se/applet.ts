/**
 * The applet contract of the virtual secure element. The SE routes each command APDU to the selected
 * applet inside a store transaction: all of the applet's writes during one command land, or none do.
 * Applets answer with a status word and never throw; if one does, the SE rolls back and answers 6F00.
 */
import type { CommandApdu, ResponseApdu } from "../core/apdu.js";
import type { Bytes } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Persistent (EEPROM-like) storage of one applet instance. Writes are buffered until the command ends. */
export interface AppletStore {
  get<T extends Json = Json>(key: string): T | undefined;
  put(key: string, value: Json): void;
  delete(key: string): void;
  /** Keys of this instance starting with `prefix`. */
  keys(prefix?: string): string[];
}

/** What the phone tells its SE (the SE itself has no screen or fingerprint reader). */
export interface HostSignals {
  /** When the user last verified on the phone (fingerprint or passcode), or null. */
  lastUserVerification(): Date | null;
  /** Whether the phone is locked (only the express transit card answers then). */
  locked(): boolean;
}

export interface AppletContext {
  store: AppletStore;
  clock: Clock;
  host: HostSignals;
  /** The SE's random number generator (seedable in tests). */
  random(length: number): Bytes;
  /** The AID by which this applet was selected (may be a partial or public AID). */
  selectedAid: Bytes;
}

export interface Applet {
  /** Called when a SELECT picks this applet; answers with the FCI (or an error SW to refuse). */
  select(command: CommandApdu, ctx: AppletContext): ResponseApdu;
  /** Every other command while selected. */
  process(command: CommandApdu, ctx: AppletContext): ResponseApdu;
  /** Another applet was selected or the field went off; drop transient state. */
  deselect?(ctx: AppletContext): void;
  /**
   * Called once when the card manager installs the instance, inside the INSTALL transaction: set up the
   * instance's persistent state (files, counters) here. Throwing aborts the installation (6F00).
   */
  install?(ctx: AppletContext): void;
  /**
   * GlobalPlatform STORE DATA relayed by the card manager under a secure channel: one DGI (data grouping
   * identifier) and its value. Returns a status word.
   */
  personalize?(dgi: number, data: Bytes, ctx: AppletContext): number;
}

/** Contactless attributes of an instance, as GlobalPlatform's Contactless Registry Service keeps them. */
export interface ContactlessInfo {
  /** payment (bank cards), transit, access (door cards) or other. */
  category: "payment" | "transit" | "access" | "other";
  /** Listed in the PPSE answer with this label and priority (1 = highest). */
  ppse?: { label: string; priority: number; kernelId?: number; aid?: Bytes }[];
  /** Extra AIDs this instance answers besides its own (e.g. the public A000000632010105 of a T-Union card). */
  selectionAids?: Bytes[];
}

/** An applet package: code the card manager can instantiate under an AID with install parameters. */
export interface AppletPackage {
  /** Stable identifier, e.g. "transit.epurse", "emv.qpboc", "mifare.door". */
  id: string;
  /** Builds the applet object for an installed instance (its persistent state lives in the store). */
  create(instance: { aid: Bytes; params: Json }): Applet;
  /** Contactless attributes of an instance; `undefined` for contact-only applets. */
  contactless?(instance: { aid: Bytes; params: Json }): ContactlessInfo | undefined;
}
