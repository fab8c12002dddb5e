/**
 * A door reader (门禁读卡器) in the two ways installations check MIFARE Classic cards (reference mifare.md
 * §1.6): by UID against a whitelist (the commonest cheap installation), or by sector data: authenticate a
 * sector with the site key and compare a credential block with the enrolled ones. Each tap is logged with
 * the injected clock; keys and credential contents never enter the log.
 */
import { type Bytes, equal, equalConstantTime, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import type { FrameLink } from "../nfc/frame.js";
import type { Activation } from "../nfc/link.js";
import type { KeyType } from "./access.js";
import { type ReaderOptions, ClassicReader } from "./reader.js";

/**
 * What a door check needs of the reader chip: `ClassicReader` over frames, or the PC/SC pseudo-APDUs of a
 * reader that does Crypto1 itself (`PcscClassicReader`, storage-card.ts).
 */
export interface ClassicSession {
  activate(): Promise<Activation | null>;
  authenticate(block: number, keyType: KeyType, key: Bytes): Promise<boolean>;
  readBlock(block: number): Promise<Bytes | null>;
  halt(): Promise<void>;
}

export type DoorConfig =
  | { mode: "uid"; whitelist: readonly Bytes[] }
  | {
      mode: "sector";
      /** The credential block; the reader authenticates its sector with the site key. */
      block: number;
      keyType: KeyType;
      key: Bytes;
      /** Enrolled credential blocks (16 bytes each). */
      credentials: readonly Bytes[];
    };

export type DoorOutcome =
  "granted" | "no_card" | "uid_not_enrolled" | "auth_failed" | "read_failed" | "credential_not_enrolled";

export interface DoorDecision {
  granted: boolean;
  outcome: DoorOutcome;
  /** The card's UID (hex), null when no card answered. */
  uid: string | null;
  zh: string;
  en: string;
}

export interface DoorLogEntry extends DoorDecision {
  /** ISO 8601 time of the tap, from the injected clock. */
  at: string;
  reader: string;
  mode: DoorConfig["mode"];
}

const TEXT: Record<DoorOutcome, [string, string]> = {
  granted: ["开门", "access granted"],
  no_card: ["未检测到卡片", "no card answered"],
  uid_not_enrolled: ["卡号未登记", "UID not enrolled"],
  auth_failed: ["扇区认证失败（站点密钥不符）", "sector authentication failed (not the site key)"],
  read_failed: ["读取凭证块失败", "could not read the credential block"],
  credential_not_enrolled: ["凭证未登记", "credential not enrolled"],
};

export class DoorReader {
  private readonly entries: DoorLogEntry[] = [];

  constructor(
    private readonly config: DoorConfig,
    private readonly clock: Clock,
    private readonly options: ReaderOptions & { id?: string; maxLogEntries?: number } = {},
  ) {}

  /** The taps so far, oldest first (at most `maxLogEntries`, default 10,000). */
  log(): readonly DoorLogEntry[] {
    return this.entries;
  }

  /** One tap: field on, select the card, check it, halt it, field off. */
  tap(link: FrameLink): Promise<DoorDecision> {
    return this.tapVia(link, new ClassicReader(link, this.options));
  }

  /**
   * One tap through any reader chip (`field` powers the field, `reader` talks to the card in it). A card
   * that leaves mid-check rejects as the transport does (`CardGoneError` over PC/SC); nothing is logged then.
   */
  async tapVia(
    field: { fieldOn(): Promise<unknown>; fieldOff(): Promise<void> },
    reader: ClassicSession,
  ): Promise<DoorDecision> {
    const at = this.clock.now().toISOString();
    await field.fieldOn();
    let decision: DoorDecision;
    try {
      decision = await this.check(reader);
    } finally {
      await field.fieldOff();
    }
    this.entries.push({ ...decision, at, reader: this.options.id ?? "door", mode: this.config.mode });
    const max = this.options.maxLogEntries ?? 10_000;
    if (this.entries.length > max) this.entries.splice(0, this.entries.length - max);
    return decision;
  }

  private async check(reader: ClassicSession): Promise<DoorDecision> {
    const card = await reader.activate();
    if (!card) return decide("no_card", null);
    const uid = toHex(card.uid);
    const c = this.config;
    if (c.mode === "uid") {
      const enrolled = c.whitelist.some((w) => equal(w, card.uid));
      await reader.halt();
      return decide(enrolled ? "granted" : "uid_not_enrolled", uid);
    }
    if (!(await reader.authenticate(c.block, c.keyType, c.key))) return decide("auth_failed", uid);
    const block = await reader.readBlock(c.block);
    if (!block) return decide("read_failed", uid);
    await reader.halt();
    const enrolled = c.credentials.some((cred) => equalConstantTime(cred, block));
    return decide(enrolled ? "granted" : "credential_not_enrolled", uid);
  }
}

function decide(outcome: DoorOutcome, uid: string | null): DoorDecision {
  const [zh, en] = TEXT[outcome];
  return { granted: outcome === "granted", outcome, uid, zh, en };
}
