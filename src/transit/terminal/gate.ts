/**
 * Metro gates and bus validators. A tap: open the card (the systems this terminal accepts, in order), check
 * validity and the blacklist, settle a purchase torn at the card's previous tap, then
 * - entry gate: the card must hold at least the minimum fare; a zero-amount compound purchase writes the
 *   entry into the metro record (and, on T-Union cards, an entry trip record into EF1E);
 * - exit gate: the fare from the entry station by distance — the maximum fare when the entry is missing or
 *   older than the longest trip allowed — charged as a compound purchase that closes the metro record;
 * - bus validator: a flat fare as a plain purchase.
 * Each charge is logged with its TAC for clearing. A terminal never throws at a card's fault: it refuses
 * with a reason in zh-CN and English.
 */
import { toHex } from "../../core/bytes.js";
import type { Clock } from "../../core/clock.js";
import { type Fen, formatCny } from "../../core/money.js";
import { CardGoneError, type Link } from "../../nfc/link.js";
import type { TransitSystem } from "../catalogue.js";
import type { PsamClient } from "../psam.js";
import { TripKind, TripMode, chinaIso, encodeTripRecord } from "../records.js";
import type { Bilingual } from "../../core/text.js";
import { type OpenedCard, openCard, readBalance } from "./access.js";
import type { Blacklist } from "./blacklist.js";
import { CardChannel } from "./channel.js";
import { type FareRule, type FareTable, distanceFare, minimumFare, station } from "./fares.js";
import type { GateLog, GateLogRecord, TerminalKind } from "./log.js";
import { type MetroState, decodeMetroRecord, metroRecordRead, metroRecordUpdate } from "./metro-record.js";
import {
  type CappUpdate,
  type PendingPurchase,
  type PurchaseDone,
  type UpdateContext,
  productOf,
  provePending,
  purchase,
} from "./purchase.js";

export interface Operator {
  id: string;
  name: Bilingual;
  /** GB/T 13497 city code (4 hex digits) written into T-Union trip records. */
  city: string;
  /** 8-byte acquiring institution (hex) written into T-Union trip records. */
  institution: string;
}

export interface TerminalConfig {
  id: string;
  operator: Operator;
  /** Systems this terminal accepts, in the order it tries them. */
  accepts: readonly TransitSystem[];
  psam: PsamClient;
  blacklist: Blacklist;
  log: GateLog;
  clock: Clock;
  /** Record the APDUs of each tap (benchmarks, air-time bound). */
  recordExchanges?: boolean;
}

export type RefusalReason =
  | "no_card"
  | "not_accepted"
  | "unreadable"
  | "blacklisted"
  | "expired"
  | "not_yet_valid"
  | "insufficient_balance"
  | "card_error"
  | "card_gone"
  | "torn"
  | "mac2_invalid"
  | "psam_error";

export type TapOutcome =
  | {
      ok: true;
      kind: TerminalKind;
      system: TransitSystem;
      product?: string;
      cardNumber: string;
      amount: Fen;
      balanceAfter: Fen;
      fareRule?: FareRule;
      record: GateLogRecord;
      /** This tap only settled the previous, torn one (GET TRANSACTION PROVE). */
      recovered?: boolean;
      exchanges: { command: Uint8Array; response: Uint8Array }[];
    }
  | {
      ok: false;
      reason: RefusalReason;
      message: Bilingual;
      system?: TransitSystem;
      cardNumber?: string;
      balance?: Fen;
      exchanges: { command: Uint8Array; response: Uint8Array }[];
    };

const MESSAGES: Record<RefusalReason, Bilingual> = {
  no_card: { zh: "未检测到卡片", en: "no card in the field" },
  not_accepted: { zh: "本机不受理此卡", en: "this card is not accepted here" },
  unreadable: { zh: "读卡失败", en: "the card could not be read" },
  blacklisted: { zh: "此卡已列入黑名单", en: "this card is blacklisted" },
  expired: { zh: "卡片已过有效期", en: "the card has expired" },
  not_yet_valid: { zh: "卡片尚未启用", en: "the card is not valid yet" },
  insufficient_balance: { zh: "余额不足，请充值", en: "insufficient balance, please top up" },
  card_error: { zh: "卡片交易失败", en: "the card refused the transaction" },
  card_gone: { zh: "请重新刷卡", en: "please tap again" },
  torn: { zh: "交易中断，请重新刷卡", en: "the transaction was interrupted, please tap again" },
  mac2_invalid: { zh: "卡片验证失败", en: "the card failed verification" },
  psam_error: { zh: "终端安全模块故障", en: "terminal security module fault" },
};

abstract class Terminal {
  private readonly pending = new Map<
    string,
    PendingPurchase & { kind: TerminalKind; location: string; card: OpenedCard }
  >();

  constructor(protected readonly cfg: TerminalConfig) {}

  protected abstract readonly kind: TerminalKind;
  protected abstract readonly location: string;

  /** One tap of a card already in the field. */
  async tap(link: Link): Promise<TapOutcome> {
    const ch = new CardChannel(link, this.cfg.recordExchanges ?? false);
    try {
      return await this.run(ch);
    } catch (e) {
      if (e instanceof CardGoneError) return this.refuse(ch, "card_gone");
      throw e;
    }
  }

  private async run(ch: CardChannel): Promise<TapOutcome> {
    const opened = await openCard(ch, this.cfg.accepts);
    if (!opened.ok)
      return this.refuse(ch, opened.error.reason === "no_system" ? "not_accepted" : "unreadable");
    const card = opened.value;
    const who = { system: card.access.system, cardNumber: card.identity.cardNumber };
    if (this.cfg.blacklist.has(who.system, who.cardNumber)) return this.refuse(ch, "blacklisted", who);
    const today = chinaIso(this.cfg.clock.now()).slice(0, 10);
    if (today > card.identity.validTo) return this.refuse(ch, "expired", who);
    if (today < card.identity.validFrom) return this.refuse(ch, "not_yet_valid", who);

    const settled = await this.settlePending(ch, card);
    if (settled) return settled;
    return this.charge(ch, card);
  }

  protected abstract charge(ch: CardChannel, card: OpenedCard): Promise<TapOutcome>;

  /** Runs the purchase and logs it; a torn DEBIT is kept pending for the card's next tap. */
  protected async pay(
    ch: CardChannel,
    card: OpenedCard,
    amount: Fen,
    updates: ((ctx: UpdateContext) => CappUpdate[]) | undefined,
    fareRule?: FareRule,
  ): Promise<TapOutcome> {
    const who = { system: card.access.system, cardNumber: card.identity.cardNumber };
    const r = await purchase(ch, this.cfg.psam, card, {
      amount,
      at: this.cfg.clock.now(),
      ...(updates ? { updates } : {}),
    });
    if (!r.ok) {
      const f = r.error;
      if (f.reason === "torn") {
        this.pending.set(f.pending.asn, { ...f.pending, kind: this.kind, location: this.location, card });
        return this.refuse(ch, "torn", who);
      }
      if (f.reason === "insufficient_balance")
        return this.refuse(ch, "insufficient_balance", {
          ...who,
          ...(f.balance !== undefined ? { balance: f.balance } : {}),
        });
      return this.refuse(ch, f.reason, who);
    }
    return this.accept(ch, card, r.value, this.kind, this.location, fareRule);
  }

  private async settlePending(ch: CardChannel, card: OpenedCard): Promise<TapOutcome | null> {
    const key = toHex(card.identity.asn);
    const p = this.pending.get(key);
    if (!p) return null;
    this.pending.delete(key);
    const proof = await provePending(ch, p);
    if (!proof) return null; // the card never debited: charge afresh
    const out = this.accept(ch, card, { ...p, ...proof }, p.kind, p.location, undefined, true);
    return out;
  }

  private accept(
    ch: CardChannel,
    card: OpenedCard,
    d: PurchaseDone,
    kind: TerminalKind,
    location: string,
    fareRule?: FareRule,
    recovered = false,
  ): TapOutcome {
    const product = productOf(card)?.id;
    const balanceAfter = d.init.balance - d.amount;
    const record = this.cfg.log.append({
      kind,
      location,
      system: card.access.system,
      ...(product ? { product } : {}),
      cardNumber: card.identity.cardNumber,
      asn: toHex(card.identity.asn),
      algorithm: d.algorithm,
      type: d.type,
      amount: d.amount,
      ...(fareRule ? { fareRule } : {}),
      balanceBefore: d.init.balance,
      balanceAfter,
      cardAtc: d.atc,
      psamTerminal: toHex(d.psamTerminal),
      psamSeq: toHex(d.terminalSeq),
      date: toHex(d.date4),
      time: toHex(d.time3),
      tac: toHex(d.tac),
      mac2: toHex(d.mac2),
      ...(recovered ? { recovered } : {}),
    });
    return {
      ok: true,
      kind,
      system: card.access.system,
      ...(product ? { product } : {}),
      cardNumber: card.identity.cardNumber,
      amount: d.amount,
      balanceAfter,
      ...(fareRule ? { fareRule } : {}),
      record,
      ...(recovered ? { recovered } : {}),
      exchanges: ch.exchanges,
    };
  }

  protected refuse(
    ch: CardChannel,
    reason: RefusalReason,
    who: { system?: TransitSystem; cardNumber?: string; balance?: Fen } = {},
  ): TapOutcome {
    const message =
      reason === "insufficient_balance" && who.balance !== undefined
        ? {
            zh: `${MESSAGES[reason].zh}（余额 ${formatCny(who.balance)}）`,
            en: `${MESSAGES[reason].en} (balance ${formatCny(who.balance)})`,
          }
        : MESSAGES[reason];
    return { ok: false, reason, message, ...who, exchanges: ch.exchanges };
  }

  /** A T-Union trip record (EF1E) for this terminal, as an 80DC "new cyclic record". */
  protected tripUpdate(
    card: OpenedCard,
    ctx: UpdateContext,
    trip: { kind: number; mode: number; lineStation: string; amount: Fen; balanceAfter: Fen },
  ): CappUpdate[] {
    const sfi = card.access.tripSfi;
    if (sfi === undefined) return [];
    const { kind, mode, lineStation, amount, balanceAfter } = trip;
    const data = encodeTripRecord({
      kind,
      terminal: `0000${toHex(ctx.psamTerminal)}`,
      mode,
      lineStation: lineStation.padEnd(14, "0"),
      amount,
      balanceAfter,
      time: chinaIso(this.cfg.clock.now()),
      city: this.cfg.operator.city,
      institution: this.cfg.operator.institution,
    });
    return [{ p1: 0x00, p2: (sfi << 3) | 0b011, data }];
  }
}

export interface GateConfig extends TerminalConfig {
  station: string;
  direction: "entry" | "exit";
  fares: FareTable;
}

export class MetroGate extends Terminal {
  protected readonly kind: TerminalKind;
  protected readonly location: string;

  constructor(private readonly gate: GateConfig) {
    super(gate);
    if (!station(gate.fares, gate.station))
      throw new RangeError(`station ${gate.station} is not in the fare table`);
    this.kind = gate.direction === "entry" ? "metro-entry" : "metro-exit";
    this.location = gate.station;
  }

  protected async charge(ch: CardChannel, card: OpenedCard): Promise<TapOutcome> {
    const compound = card.access.compound;
    const who = { system: card.access.system, cardNumber: card.identity.cardNumber };
    if (!compound) return this.refuse(ch, "not_accepted", who);
    const now = chinaIso(this.cfg.clock.now());

    if (this.gate.direction === "entry") {
      const balance = await readBalance(ch, card.access);
      if (!balance.ok) return this.refuse(ch, "unreadable", who);
      if (balance.value < minimumFare(this.gate.fares))
        return this.refuse(ch, "insufficient_balance", { ...who, balance: balance.value });
      return this.pay(ch, card, 0, (ctx) => [
        metroRecordUpdate(compound, {
          status: "entered",
          city: this.cfg.operator.city,
          entryStation: this.gate.station,
          entryTerminal: toHex(ctx.psamTerminal),
          entryTime: now,
        }),
        ...this.tripUpdate(card, ctx, {
          kind: TripKind.ENTRY,
          mode: TripMode.METRO,
          lineStation: this.gate.station,
          amount: 0,
          balanceAfter: ctx.init.balance,
        }),
      ]);
    }

    const read = metroRecordRead(compound);
    const rec = await ch.readRecord(compound.sfi, read.p1, read.mode);
    const entry = rec.sw === 0x9000 ? decodeMetroRecord(compound, rec.data) : null;
    const { fare, rule } = this.fare(entry, now);
    const exit: MetroState = {
      ...(entry ?? {
        city: this.cfg.operator.city,
        entryStation: "0000",
        entryTerminal: "000000000000",
        entryTime: now,
      }),
      status: "exited",
      exitStation: this.gate.station,
      exitTime: now,
      fare,
    };
    return this.pay(
      ch,
      card,
      fare,
      (ctx) => [
        metroRecordUpdate(compound, exit),
        ...this.tripUpdate(card, ctx, {
          kind: TripKind.EXIT,
          mode: TripMode.METRO,
          lineStation: this.gate.station,
          amount: fare,
          balanceAfter: ctx.init.balance - fare,
        }),
      ],
      rule,
    );
  }

  private fare(entry: MetroState | null, nowIso: string): { fare: Fen; rule: FareRule } {
    const t = this.gate.fares;
    if (!entry || entry.status !== "entered") return { fare: t.maxFare, rule: "max-fare-no-entry" };
    const minutes = (Date.parse(`${nowIso}+08:00`) - Date.parse(`${entry.entryTime}+08:00`)) / 60_000;
    if (!(minutes >= 0) || minutes > t.maxTripMinutes)
      return { fare: t.maxFare, rule: "max-fare-stale-entry" };
    const from = station(t, entry.entryStation);
    const to = station(t, this.gate.station)!;
    if (!from) return { fare: t.maxFare, rule: "max-fare-no-entry" };
    return { fare: distanceFare(t, from, to), rule: "distance" };
  }
}

export interface ValidatorConfig extends TerminalConfig {
  /** Bus line (4 hex digits), logged as the location. */
  line: string;
  fare: Fen;
}

export class BusValidator extends Terminal {
  protected readonly kind: TerminalKind = "bus";
  protected readonly location: string;

  constructor(private readonly bus: ValidatorConfig) {
    super(bus);
    this.location = bus.line;
  }

  protected charge(ch: CardChannel, card: OpenedCard): Promise<TapOutcome> {
    return this.pay(ch, card, this.bus.fare, undefined);
  }
}
