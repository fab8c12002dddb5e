/**
 * The virtual phone: a model and region, its SE (one file, `openSecureElement`), the host signals the SE
 * reads (lock state, last user verification), and what the NFC controller presents to a terminal.
 *
 * Made by `VirtualPhone.create` — the factory: a fresh 8-byte SE serial and the SE's static SCP03 keys
 * diversified from the factory master key by that serial (src/se/factory-keys.ts; the TSM holds the same
 * master, so it can open the SE's secure channel and nothing else can). Reopened by `VirtualPhone.open`.
 *
 * In the field the phone is one of two cards, and a terminal picks the link that matches it:
 * - `isoDep`: the SE as an ISO 14443-4 card (bank and transit cards; PPSE, SELECT…), for a `Link`;
 * - `door`: the active door card as a MIFARE Classic card at frame level (`doorFieldCard`), for a `FrameLink`.
 * `fieldMode` says which one the phone's NFC controller answers with first: the door card while one is
 * active (door readers poll for MIFARE Classic), otherwise ISO-DEP.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type Bytes, equal, fromHex, isHex, toHex } from "../core/bytes.js";
import { type Clock, systemClock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../se/factory-keys.js";
import type { SyncReport } from "../protocol/tsm-wire.js";
import { doorFieldCard } from "../mifare/phone.js";
import type { FrameCard } from "../nfc/frame.js";
import type { ContactlessCard } from "../nfc/link.js";
import type { AppletPackage } from "../se/applet.js";
import { registryError } from "../se/crs.js";
import { openSecureElement } from "../se/persistence.js";
import type { SecureElement } from "../se/secure-element.js";
import type { PhoneModelInfo } from "./models.js";
import { PHONE_PACKAGES } from "./packages.js";
import { PhoneSignals, type VerificationMethod } from "./signals.js";
import {
  type CardRecord,
  type CloudBinding,
  type PhoneFile,
  PHONE_FORMAT,
  SE_FILE,
  ensureStateDir,
  hasPhone,
  readPhoneFile,
  writePhoneFile,
} from "./state.js";

export interface PhoneOptions {
  clock?: Clock;
  /** Extra applet packages in the SE's ROM (tests). */
  packages?: readonly AppletPackage[];
  /** Random bytes for the SE (card challenges, UIDs); crypto-random by default. */
  random?: (n: number) => Bytes;
}

export interface CreateOptions extends PhoneOptions {
  name: string;
  model: PhoneModelInfo;
  region: string;
  /** The factory master key (default: the development master). */
  factoryMasterKey?: Bytes;
  /** The SE serial (default: random). */
  serial?: Bytes;
}

/** A card on the phone: the SE's registry joined with the names the TSM gave. */
export interface PhoneCard {
  /** 1-based position, as `phone cards` lists it. */
  index: number;
  aid: string;
  packageId: string;
  category: "payment" | "transit" | "access" | "other" | null;
  state: "activated" | "deactivated" | "non-activatable";
  defaultPayment: boolean;
  expressTransit: boolean;
  label: { zh: string; en: string } | null;
  owner: string | null;
  ref: string | null;
}

export class VirtualPhone {
  readonly signals: PhoneSignals;

  private constructor(
    readonly dir: string,
    private file: PhoneFile,
    readonly se: SecureElement,
    readonly clock: Clock,
    signals: PhoneSignals,
  ) {
    this.signals = signals;
  }

  /** The factory: a new phone in `dir` (which must not hold one). */
  static create(dir: string, options: CreateOptions): VirtualPhone {
    if (hasPhone(dir))
      throw new TapwalletError(
        "phone_exists",
        `这里已经有一部虚拟手机：${dir}`,
        `there is already a virtual phone in ${dir}`,
      );
    ensureStateDir(dir);
    const clock = options.clock ?? systemClock;
    const serial = options.serial ?? new Uint8Array(randomBytes(8));
    const file: PhoneFile = {
      format: PHONE_FORMAT,
      name: options.name,
      model: options.model,
      region: options.region,
      seId: toHex(serial),
      createdAt: clock.now().toISOString(),
      settings: { locked: false, verification: null },
      cloud: null,
      cards: [],
    };
    writePhoneFile(dir, file);
    const keys = diversifySeKeys(options.factoryMasterKey ?? DEV_SE_MASTER_KEY, serial);
    return VirtualPhone.build(dir, file, clock, options, { serial, keys });
  }

  static open(dir: string, options: PhoneOptions = {}): VirtualPhone {
    const file = readPhoneFile(dir);
    return VirtualPhone.build(dir, file, options.clock ?? systemClock, options);
  }

  private static build(
    dir: string,
    file: PhoneFile,
    clock: Clock,
    options: PhoneOptions,
    factory?: { serial: Bytes; keys: ReturnType<typeof diversifySeKeys> },
  ): VirtualPhone {
    const made: { phone?: VirtualPhone } = {};
    const signals = new PhoneSignals(file.settings, clock, () => made.phone?.save());
    const se = openSecureElement(join(dir, SE_FILE), {
      packages: [...PHONE_PACKAGES, ...(options.packages ?? [])],
      clock,
      host: signals,
      ...(options.random ? { random: options.random } : {}),
      ...(factory ?? {}),
    });
    if (toHex(se.serial) !== file.seId)
      throw new TapwalletError(
        "phone_state_invalid",
        `${SE_FILE} 的安全元件序列号与 phone.json 不符`,
        `the SE in ${SE_FILE} is not the one phone.json names`,
      );
    made.phone = new VirtualPhone(dir, file, se, clock, signals);
    return made.phone;
  }

  get name(): string {
    return this.file.name;
  }
  get model(): PhoneModelInfo {
    return this.file.model;
  }
  get region(): string {
    return this.file.region;
  }
  /** The SE serial (hex): the SE id the phone registers with. */
  get seId(): string {
    return this.file.seId;
  }
  get createdAt(): string {
    return this.file.createdAt;
  }
  get cloud(): CloudBinding | null {
    return this.file.cloud;
  }

  setCloud(cloud: CloudBinding | null): void {
    this.file.cloud = cloud;
    this.save();
  }

  save(): void {
    writePhoneFile(this.dir, this.file);
  }

  // ---- the user ----------------------------------------------------------------------------------

  verify(method: VerificationMethod): Date {
    return this.signals.verify(method);
  }
  lock(): void {
    this.signals.lock();
  }
  unlock(method: VerificationMethod): Date {
    return this.signals.unlock(method);
  }

  // ---- the field ---------------------------------------------------------------------------------

  /** The SE as an ISO-DEP card (for a `Link`: POS, gates, card readers). */
  get isoDep(): ContactlessCard {
    return this.se;
  }

  /** The active door card at frame level (for a `FrameLink`: door readers); silent when none is active. */
  get door(): FrameCard {
    return doorFieldCard(this.se);
  }

  /** What the NFC controller answers with first now. */
  fieldMode(): "door" | "iso-dep" {
    return this.se.registry.activeAccessInstance() ? "door" : "iso-dep";
  }

  // ---- cards -------------------------------------------------------------------------------------

  cards(): PhoneCard[] {
    return this.se.registry.list().map((e, i) => {
      const aid = toHex(e.aid);
      const record = this.file.cards.find((c) => c.aid === aid);
      return {
        index: i + 1,
        aid,
        packageId: e.packageId,
        category: e.category,
        state: e.state,
        defaultPayment: e.defaultPayment,
        expressTransit: e.expressTransit,
        label: record?.label ?? null,
        owner: record?.owner ?? null,
        ref: record?.ref ?? null,
      };
    });
  }

  /** The names the TSM gave the phone's cards (from a sync summary), or a local record. */
  rememberCards(records: CardRecord[]): void {
    this.file.cards = records;
    this.save();
  }

  addCardRecord(record: CardRecord): void {
    this.file.cards = [...this.file.cards.filter((c) => c.aid !== record.aid), record];
    this.save();
  }

  /** A card named by its number in `phone cards`, its AID (hex) or a part of its name. */
  findCard(query: string): PhoneCard {
    const cards = this.cards();
    const q = query.trim();
    const byIndex = /^\d{1,3}$/.test(q) ? cards.find((c) => c.index === Number(q)) : undefined;
    const byAid =
      isHex(q) && q.length >= 10 ? cards.find((c) => equal(fromHex(c.aid), fromHex(q))) : undefined;
    const byName = cards.filter(
      (c) => c.label && (c.label.zh.includes(q) || c.label.en.toLowerCase().includes(q.toLowerCase())),
    );
    const hit = byIndex ?? byAid ?? (byName.length === 1 ? byName[0] : undefined);
    if (!hit)
      throw new TapwalletError(
        "card_not_found",
        byName.length > 1 ? `「${q}」对应多张卡，请用序号或 AID` : `手机上没有卡「${q}」`,
        byName.length > 1
          ? `"${q}" matches several cards; use the number or the AID`
          : `no card "${q}" on this phone`,
      );
    return hit;
  }

  /** Makes a bank card the default payment card (listed first to POS terminals). */
  setDefault(query: string): PhoneCard {
    const card = this.findCard(query);
    const r = this.se.registry.setDefaultPayment(fromHex(card.aid));
    if (!r.ok) throw registryError(r.error, fromHex(card.aid));
    return this.findCard(card.aid);
  }

  /** Makes a transit card the express card (answers gates even while the phone is locked). */
  setExpress(query: string): PhoneCard {
    const card = this.findCard(query);
    const r = this.se.registry.setExpressTransit(fromHex(card.aid));
    if (!r.ok) throw registryError(r.error, fromHex(card.aid));
    return this.findCard(card.aid);
  }

  /** The phone's own view of its contactless registry, for the cloud (shown there, never trusted). */
  registryReport(): SyncReport {
    return {
      locked: this.signals.locked(),
      registry: this.cards().map((c) => ({
        aid: c.aid,
        packageId: c.packageId,
        category: c.category,
        state: c.state,
        defaultPayment: c.defaultPayment,
        expressTransit: c.expressTransit,
      })),
    };
  }
}
