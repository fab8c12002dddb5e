/**
 * The virtual secure element: the applet runtime behind the NFC field (`ContactlessCard`) and behind the
 * phone's own interface to its SE (`host`, what OMAPI gives the wallet app and the TSM's scripts).
 *
 * - Basic logical channel only (6881 for others). SELECT by DF name (00 A4 04 P2) is the SE's: full or
 *   partial AID, own AID or `selectionAids`, first/last/next/previous occurrence in install order, P2 FCI or
 *   no response data; 6A82 when nothing matches (the current application then stays selected). Every other
 *   command goes to the selected application (SELECT by FID and path included: see files.ts).
 * - Every command runs in a store transaction: all of its writes land or none. An applet that throws is
 *   rolled back and answered 6F00. The SE answers every byte string with a status word and never throws.
 * - Answers longer than Ne go out in pieces: 61XX, then GET RESPONSE (00 C0 00 00 Le). A command without Le
 *   may receive up to 256 bytes (as contactless cards do).
 * - Contactless: only contactless-ACTIVATED instances answer, only the express transit card when the phone
 *   is locked; the SE answers the PPSE itself. Host: every selectable instance, the card manager (ISD,
 *   selected by default) and the CRS; the ISD and CRS are not reachable from the field.
 * - A power cut (fault injection, see store.ts) makes the SE mute (empty answers) until the next power-up:
 *   `activate()` (field on) or `reboot()`, which recover the NVM journal.
 */
import { randomBytes } from "node:crypto";
import { type CommandApdu, type ResponseApdu, encodeResponse, parseCommand, response } from "../core/apdu.js";
import { type Bytes, concat, fromHex, startsWith, toHex } from "../core/bytes.js";
import { type Clock, systemClock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import { SW } from "../core/sw.js";
import type { Activation, ContactlessCard } from "../nfc/link.js";
import type { Applet, AppletContext, AppletPackage, HostSignals } from "./applet.js";
import { CardManager } from "./card-manager.js";
import { ContactlessRegistry, CrsApplet } from "./crs.js";
import { CRS_AID, ISD_AID, PPSE_NAME } from "./gp.js";
import { AbortCommand, type Instance, InstanceTable, type Kernel, SYS, isSelectable } from "./instances.js";
import { PpseApplet, ppseEntries, ppseFci } from "./ppse.js";
import type { Scp03Keys } from "./scp03.js";
import { Nvm, type NvmImage, PowerCut, Transaction, appletStore } from "./store.js";

export const SE_IMAGE_FORMAT = "tapwallet.se/1";

/** An SE as its file holds it (see persistence.ts for the layout). */
export interface SeImage {
  format: typeof SE_IMAGE_FORMAT;
  serial: string;
  cardManager: { keyVersion: number; enc: string; mac: string; dek: string };
  nvm: NvmImage;
}

/** Where an SE's image goes after each committed transaction. */
export interface SeStorage {
  save(image: SeImage): void;
}

export interface SecureElementOptions {
  /** The applet packages this SE can instantiate (its "ROM"): a list, or a map by package id. */
  packages: Iterable<AppletPackage> | ReadonlyMap<string, AppletPackage>;
  clock?: Clock;
  /** Random bytes (card challenges, UIDs, applets' `ctx.random`); seed it in tests. */
  random?: (length: number) => Bytes;
  /** What the phone tells its SE (default: unlocked, never verified). */
  host?: HostSignals;
  /** Saves the image after each committed transaction (default: none, the SE lives in memory). */
  storage?: SeStorage;
  /** A fixed ISO 14443 UID (4, 7 or 10 bytes); default: a random 4-byte UID (08 …) per activation. */
  uid?: Bytes;
}

export interface ManufactureOptions extends SecureElementOptions {
  /** 8 bytes; random by default. */
  serial?: Bytes;
  /** The card manager's static SCP03 keys; random by default (pass them when a TSM must know them). */
  keys?: Scp03Keys;
}

/** The phone's own channel to its SE (OMAPI's basic channel). */
export interface HostInterface {
  /** One C-APDU in, one R-APDU out (empty when the SE has no power). Never throws. */
  transmit(command: Bytes): Bytes;
  /** Closes the channel: the selected application is deselected, the card manager selected again. */
  reset(): void;
}

const EMPTY = new Uint8Array(0);
const SW_CHAINING_NOT_SUPPORTED = 0x6884;
/** ATS: TL 05, T0 78 (FSCI 8 = 256 bytes; TA, TB, TC follow), TA 80, TB 70 (FWI 7), TC 02 (CID). */
const ATS = Uint8Array.of(0x05, 0x78, 0x80, 0x70, 0x02);
const ISO_DEP_SAK = 0x20;

const defaultRandom = (n: number): Bytes => new Uint8Array(randomBytes(n));
const unlocked: HostSignals = { lastUserVerification: () => null, locked: () => false };

/** A built-in application (card manager, CRS, PPSE): keyed like instances by the hex of its AID. */
interface Builtin {
  builtin: true;
  aid: Bytes;
  hex: string;
  names: Bytes[];
  applet: Applet;
  namespace: string;
}
type Target = Instance | Builtin;

class Session {
  /** Hex AID of the selected application, or null. */
  selected: string | null;
  selectedAid: Bytes = EMPTY;
  pending: { data: Bytes; sw: number; offset: number } | null = null;

  constructor(
    readonly iface: "contactless" | "host",
    selected: string | null = null,
  ) {
    this.selected = selected;
  }
}

const answersWithData = (sw: number): boolean => sw === SW.OK || [0x61, 0x62, 0x63].includes(sw >> 8);
const isResponse = (r: unknown): r is ResponseApdu =>
  typeof r === "object" &&
  r !== null &&
  (r as ResponseApdu).data instanceof Uint8Array &&
  Number.isInteger((r as ResponseApdu).sw) &&
  (r as ResponseApdu).sw >= 0x6000 &&
  (r as ResponseApdu).sw <= 0x9fff;

export class SecureElement implements ContactlessCard {
  readonly serial: Bytes;
  readonly nvm: Nvm;
  readonly registry: ContactlessRegistry;
  readonly host: HostInterface;
  /** The last error saving the image (the SE keeps working from memory), or null. */
  storageError: unknown = null;

  private readonly keys: Scp03Keys;
  private readonly packages: ReadonlyMap<string, AppletPackage>;
  private readonly instances: InstanceTable;
  private readonly kernel: Kernel;
  private readonly clock: Clock;
  private readonly random: (length: number) => Bytes;
  private readonly signals: HostSignals;
  private readonly storage: SeStorage | undefined;
  private readonly uid: Bytes | undefined;
  private builtins = new Map<string, Builtin>();
  private contactless = new Session("contactless");
  private hostSession = new Session("host");
  private txn: Transaction | null = null;
  private powered = false;
  private fieldOn = false;
  private ppseCache: { locked: boolean; fci: Bytes | null } | null = null;

  private constructor(serial: Bytes, keys: Scp03Keys, nvm: Nvm, options: SecureElementOptions) {
    this.serial = serial;
    this.keys = keys;
    this.nvm = nvm;
    const list =
      options.packages instanceof Map
        ? [...options.packages.values()]
        : [...(options.packages as Iterable<AppletPackage>)];
    this.packages = new Map(list.map((p) => [p.id, p]));
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? defaultRandom;
    this.signals = options.host ?? unlocked;
    this.storage = options.storage;
    this.uid = options.uid;
    this.instances = new InstanceTable(this.packages);
    this.kernel = {
      instances: this.instances,
      packages: this.packages,
      locked: () => this.signals.locked(),
      transact: (fn) => this.transact(fn),
      contextFor: (txn, inst, selectedAid) => this.context(txn, inst, selectedAid),
      forget: (hex) => {
        for (const s of [this.contactless, this.hostSession]) if (s.selected === hex) s.selected = null;
      },
    };
    this.registry = new ContactlessRegistry(this.kernel);
    this.host = {
      transmit: (command) => this.exchange(this.hostSession, command),
      reset: () => {
        this.endSession(this.hostSession);
        this.hostSession = new Session("host", toHex(ISD_AID));
      },
    };
  }

  /** A new SE with a fresh identity and empty NVM. */
  static manufacture(options: ManufactureOptions): SecureElement {
    const random = options.random ?? defaultRandom;
    const serial = options.serial ?? random(8);
    if (serial.length !== 8) throw new RangeError("the SE serial is 8 bytes");
    const keys = options.keys ?? { enc: random(16), mac: random(16), dek: random(16), version: 0x30 };
    const se = new SecureElement(serial.slice(), keys, new Nvm(), options);
    se.powerUp();
    se.persist();
    return se;
  }

  /** An SE from its image (a torn transaction is recovered). Unknown packages throw `TapwalletError`. */
  static fromImage(image: SeImage, options: SecureElementOptions): SecureElement {
    const cm = image.cardManager;
    const keys = { enc: fromHex(cm.enc), mac: fromHex(cm.mac), dek: fromHex(cm.dek), version: cm.keyVersion };
    const se = new SecureElement(fromHex(image.serial), keys, Nvm.fromImage(image.nvm), options);
    se.powerUp();
    return se;
  }

  toImage(): SeImage {
    return {
      format: SE_IMAGE_FORMAT,
      serial: toHex(this.serial),
      cardManager: {
        keyVersion: this.keys.version,
        enc: toHex(this.keys.enc),
        mac: toHex(this.keys.mac),
        dek: toHex(this.keys.dek),
      },
      nvm: this.nvm.toImage(),
    };
  }

  /** Whether the SE has power (false after a power cut until `activate()` or `reboot()`). */
  get poweredOn(): boolean {
    return this.powered;
  }

  // ---- ContactlessCard ---------------------------------------------------------------------------

  activate(): Activation {
    if (!this.powered) this.powerUp();
    else if (this.fieldOn) this.endSession(this.contactless);
    this.fieldOn = true;
    this.contactless = new Session("contactless");
    const uid = this.uid ?? concat(Uint8Array.of(0x08), this.random(3));
    const atqa = Uint8Array.of(0x00, uid.length === 4 ? 0x04 : uid.length === 7 ? 0x44 : 0x84);
    return { uid: uid.slice(), atqa, sak: ISO_DEP_SAK, ats: ATS.slice() };
  }

  process(command: Bytes): Bytes {
    if (!this.fieldOn) return EMPTY;
    return this.exchange(this.contactless, command);
  }

  deactivate(): void {
    if (!this.fieldOn) return;
    this.fieldOn = false;
    this.endSession(this.contactless);
    this.contactless = new Session("contactless");
  }

  /** Power cycle: RAM is lost, the NVM journal recovered, applets rebuilt from their packages. */
  reboot(): void {
    this.powerDown();
    this.powerUp();
  }

  // ---- power --------------------------------------------------------------------------------------

  private powerDown(): void {
    this.powered = false;
    this.fieldOn = false;
    this.txn = null;
    this.persist();
  }

  private powerUp(): void {
    this.powered = false;
    this.contactless = new Session("contactless");
    this.hostSession = new Session("host", toHex(ISD_AID));
    this.installBuiltins();
    const pending = this.nvm.journalPending;
    try {
      this.nvm.recover();
    } catch (e) {
      if (!(e instanceof PowerCut)) throw e;
      this.persist();
      return;
    }
    this.instances.rebuild(new Transaction(this.nvm), true);
    this.ppseCache = null;
    this.powered = true;
    if (pending) this.persist();
  }

  private installBuiltins(): void {
    const serial10 = concat(this.serial, new Uint8Array(2));
    const make = (aid: Bytes, applet: Applet, namespace: string): Builtin => ({
      builtin: true,
      aid,
      hex: toHex(aid),
      names: [aid],
      applet,
      namespace,
    });
    const list = [
      make(ISD_AID, new CardManager(this.kernel, this.keys, serial10), "cm"),
      make(CRS_AID, new CrsApplet(this.kernel, this.registry), "crs"),
      make(PPSE_NAME, new PpseApplet(() => this.ppse()), "ppse"),
    ];
    this.builtins = new Map(list.map((b) => [b.hex, b]));
  }

  // ---- command processing -------------------------------------------------------------------------

  private exchange(s: Session, command: Bytes): Bytes {
    if (!this.powered) return EMPTY;
    try {
      return encodeResponse(this.handle(s, command));
    } catch (e) {
      if (e instanceof PowerCut) {
        this.powerDown();
        return EMPTY;
      }
      return Uint8Array.of(0x6f, 0x00);
    }
  }

  private handle(s: Session, bytes: Bytes): ResponseApdu {
    const parsed = parseCommand(bytes);
    if (!parsed.ok) {
      s.pending = null;
      return response(parsed.error.sw);
    }
    const c = parsed.value;
    if (c.cla === 0xff) return response(SW.CLA_NOT_SUPPORTED);
    if (c.cla & 0x10) return response(SW_CHAINING_NOT_SUPPORTED);
    const channel = c.cla & 0x40 ? 4 + (c.cla & 0x0f) : c.cla & 0x03;
    if (channel !== 0) return response(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
    const iso = (c.cla & 0x80) === 0;
    if (iso && c.ins === 0xc0) return this.getResponse(s, c);
    s.pending = null;
    if (iso && c.ins === 0x70) return response(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
    const r = iso && c.ins === 0xa4 && c.p1 === 0x04 ? this.select(s, c) : this.dispatch(s, c);
    return this.deliver(s, r, c.ne);
  }

  private dispatch(s: Session, c: CommandApdu): ResponseApdu {
    const t = this.current(s);
    if (!t) return response(c.ins === 0xa4 ? SW.FILE_NOT_FOUND : SW.INS_NOT_SUPPORTED);
    return this.run((txn) => t.applet.process(c, this.context(txn, t, s.selectedAid)));
  }

  private select(s: Session, c: CommandApdu): ResponseApdu {
    if ((c.p2 & 0xf0) !== 0) return response(SW.INCORRECT_P1P2);
    const name = c.data;
    if (name.length > 16 || (name.length === 0 && s.iface === "contactless"))
      return response(SW.FILE_NOT_FOUND);
    const candidates = this.candidates(s).filter((t) => t.names.some((n) => startsWith(n, name)));
    const at = s.selected === null ? -1 : candidates.findIndex((t) => t.hex === s.selected);
    const occurrence = c.p2 & 0x03;
    const index =
      occurrence === 0
        ? 0
        : occurrence === 1
          ? candidates.length - 1
          : occurrence === 2
            ? at + 1
            : at < 0
              ? candidates.length - 1
              : at - 1;
    const target = candidates[index];
    if (!target) return response(SW.FILE_NOT_FOUND);
    const previous = this.current(s);
    const previousAid = s.selectedAid;
    s.selected = null;
    s.selectedAid = EMPTY;
    const r = this.run((txn) => {
      if (previous?.applet.deselect) previous.applet.deselect(this.context(txn, previous, previousAid));
      return target.applet.select(c, this.context(txn, target, name));
    });
    if (answersWithData(r.sw)) {
      s.selected = target.hex;
      s.selectedAid = name.slice();
    }
    return (c.p2 & 0x0c) === 0x0c ? response(r.sw) : r;
  }

  /** What a SELECT by DF name may pick on this interface now, in selection order. */
  private candidates(s: Session): Target[] {
    const b = (aid: Bytes) => this.builtins.get(toHex(aid))!;
    const ppse = this.ppse() ? [b(PPSE_NAME)] : [];
    if (s.iface === "contactless") return [...ppse, ...this.registry.fieldInstances()];
    return [b(ISD_AID), b(CRS_AID), ...ppse, ...this.instances.list.filter(isSelectable)];
  }

  /** The selected application if it may still answer (lock, deactivation, deletion end a selection). */
  private current(s: Session): Target | null {
    if (s.selected === null) return null;
    const b = this.builtins.get(s.selected);
    if (b) return s.iface === "host" || b.hex === toHex(PPSE_NAME) ? b : null;
    const i = this.instances.get(s.selected);
    if (i && (s.iface === "host" ? isSelectable(i) : this.registry.reachesField(i))) return i;
    s.selected = null;
    return null;
  }

  private ppse(): Bytes | null {
    const locked = this.signals.locked();
    if (this.ppseCache?.locked !== locked) {
      const entries = ppseEntries(this.registry.fieldInstances(), this.instances.defaultPayment);
      this.ppseCache = { locked, fci: ppseFci(entries) };
    }
    return this.ppseCache.fci;
  }

  private endSession(s: Session): void {
    if (!this.powered) return;
    const t = this.current(s);
    s.selected = null;
    if (!t?.applet.deselect) return;
    const deselect = t.applet.deselect.bind(t.applet);
    try {
      this.run((txn) => {
        deselect(this.context(txn, t, s.selectedAid));
        return response(SW.OK);
      });
    } catch (e) {
      if (!(e instanceof PowerCut)) throw e;
      this.powerDown();
    }
  }

  // ---- response chaining --------------------------------------------------------------------------

  private deliver(s: Session, r: ResponseApdu, ne: number | undefined): ResponseApdu {
    const data = answersWithData(r.sw) ? r.data : EMPTY;
    const max = ne ?? 256;
    if (data.length <= max) return data === r.data ? r : response(r.sw, data);
    s.pending = { data, sw: r.sw, offset: max };
    return this.more(data.subarray(0, max), data.length - max);
  }

  private getResponse(s: Session, c: CommandApdu): ResponseApdu {
    const p = s.pending;
    if (!p) return response(SW.CONDITIONS_NOT_SATISFIED);
    if (c.p1 !== 0 || c.p2 !== 0) return response(SW.INCORRECT_P1P2);
    const chunk = p.data.subarray(p.offset, p.offset + (c.ne ?? 256));
    p.offset += chunk.length;
    const rest = p.data.length - p.offset;
    if (rest > 0) return this.more(chunk, rest);
    s.pending = null;
    return response(p.sw, chunk);
  }

  private more(chunk: Bytes, rest: number): ResponseApdu {
    return response(SW.BYTES_REMAINING | (rest > 255 ? 0 : rest), chunk);
  }

  // ---- transactions -------------------------------------------------------------------------------

  /** Runs one command's work in a transaction: commit on an answer, roll back (6F00) when it throws. */
  private run(fn: (txn: Transaction) => ResponseApdu): ResponseApdu {
    const txn = new Transaction(this.nvm);
    this.txn = txn;
    let r: ResponseApdu;
    try {
      r = fn(txn);
      if (!isResponse(r)) throw new TypeError("an applet returned something other than a response APDU");
    } catch (e) {
      this.instances.discardPrepared();
      if (e instanceof PowerCut) throw e;
      return response(e instanceof AbortCommand ? e.sw : SW.UNKNOWN);
    } finally {
      this.txn = null;
    }
    this.commit(txn);
    return r;
  }

  /** The kernel's transaction: the running command's, or a new one (typed API). */
  private transact<T>(fn: (txn: Transaction) => T): T {
    if (this.txn) return fn(this.txn);
    if (!this.powered)
      throw new TapwalletError("se_powered_off", "安全元件未上电", "the secure element has no power");
    const txn = new Transaction(this.nvm);
    this.txn = txn;
    try {
      const out = fn(txn);
      this.txn = null;
      this.commit(txn);
      return out;
    } catch (e) {
      this.txn = null;
      this.instances.discardPrepared();
      if (!(e instanceof PowerCut)) throw e;
      this.powerDown();
      throw new TapwalletError(
        "se_power_lost",
        "安全元件在写入时断电",
        "the secure element lost power while writing",
      );
    }
  }

  private commit(txn: Transaction): void {
    if (!txn.touched()) return;
    const sys = txn.touched(SYS);
    txn.commit();
    if (sys) {
      this.instances.rebuild(new Transaction(this.nvm));
      this.ppseCache = null;
    }
    this.persist();
  }

  private persist(): void {
    if (!this.storage) return;
    try {
      this.storage.save(this.toImage());
      this.storageError = null;
    } catch (e) {
      this.storageError = e;
    }
  }

  private context(
    txn: Transaction,
    t: { aid: Bytes; namespace: string },
    selectedAid?: Bytes,
  ): AppletContext {
    return {
      store: appletStore(txn, t.namespace),
      clock: this.clock,
      host: this.signals,
      random: this.random,
      selectedAid: selectedAid && selectedAid.length > 0 ? selectedAid : t.aid,
    };
  }
}
