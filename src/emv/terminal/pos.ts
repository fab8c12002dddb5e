/**
 * A QuickPass POS: one payment from tap to receipt. It powers the field, runs the entry point and the C-7
 * kernel, sends an online request to the issuer (any `Issuer`: the local host, or the cloud over HTTP),
 * checks the issuer's answer, and — when the card is still in the field, supports issuer authentication and
 * the reader offers issuer update processing — gives the ARPC to the card (EXTERNAL AUTHENTICATE), which
 * verifies it with its session key. qPBOC's approval does not wait for that check (the card has usually
 * left); a failure is printed on the receipt and recorded by the card, whose next CVR tells the issuer.
 */
import { command } from "../../core/apdu.js";
import { type Bytes, ascii, fromHex, isHex, toHex } from "../../core/bytes.js";
import type { Clock } from "../../core/clock.js";
import type { Fen } from "../../core/money.js";
import { type Link } from "../../nfc/link.js";
import type { AuthorisationRequest, AuthorisationResponse, Issuer } from "../authorisation.js";
import { TTQ, hasBit } from "../profile.js";
import { CardIo } from "./card-io.js";
import type { TerminalConfig } from "./config.js";
import { type TransactionInput, startTransaction } from "./entry-point.js";
import { type KernelOutcome, R, type Reason } from "./outcome.js";

export type PaymentStatus = "approved" | "declined" | "try-again" | "try-another-interface";

export interface PaymentResult {
  status: PaymentStatus;
  /** Why, in zh-CN and English. */
  reason: Reason;
  /** "online" when the issuer decided, "offline" when the card and kernel did. */
  decidedBy: "issuer" | "card" | "terminal";
  amount: Fen;
  outcome: KernelOutcome;
  authorisation?: { request: AuthorisationRequest; response: AuthorisationResponse };
  /** The card's check of the ARPC. */
  issuerAuthentication: "verified" | "failed" | "not-performed";
  /** When the payment happened (terminal clock). */
  at: Date;
  stan: number;
}

export interface PosOptions {
  config: TerminalConfig;
  /** Where online requests go; without one, online requests are declined as "unable to go online". */
  issuer?: Issuer;
  clock: Clock;
  random(length: number): Bytes;
  /** First system trace audit number / transaction sequence counter (default 1). */
  firstStan?: number;
}

/** AIP byte 1 b3: the card supports issuer authentication. */
const AIP_ISSUER_AUTH = 0x04;

const REASONS = {
  noIssuer: { code: "no-issuer", zh: "无法联机，交易拒绝", en: "unable to go online, declined" },
  issuerError: { code: "issuer-unavailable", zh: "发卡行无应答", en: "the issuer did not answer" },
  badIssuerData: {
    code: "bad-issuer-data",
    zh: "发卡行应答数据错误",
    en: "the issuer's answer is malformed",
  },
  pinNotAvailable: { code: "no-pin-pad", zh: "本终端不支持联机密码", en: "this terminal has no PIN pad" },
} as const satisfies Record<string, Reason>;

export class Pos {
  private stan: number;

  constructor(private readonly o: PosOptions) {
    this.stan = o.firstStan ?? 1;
  }

  /** One payment with the card in (or brought to) the field of `link`. */
  async pay(link: Link, amount: Fen, extra: Partial<TransactionInput> = {}): Promise<PaymentResult> {
    const stan = this.stan;
    this.stan = (this.stan % 999999) + 1;
    const at = this.o.clock.now();
    const base = { amount, at, stan, issuerAuthentication: "not-performed" as const };
    try {
      await link.fieldOn();
    } catch {
      const outcome: KernelOutcome = { kind: "try-again", reason: R.cardGone, cvm: "none" };
      return { ...base, status: "try-again", reason: R.cardGone, decidedBy: "terminal", outcome };
    }
    const outcome = await startTransaction(
      link,
      this.o.config,
      { amount, sequenceCounter: stan, ...extra },
      this.o,
    );
    try {
      return await this.conclude(link, outcome, base);
    } finally {
      await link.fieldOff().catch(() => undefined);
    }
  }

  private async conclude(
    link: Link,
    outcome: KernelOutcome,
    base: { amount: Fen; at: Date; stan: number; issuerAuthentication: "not-performed" },
  ): Promise<PaymentResult> {
    switch (outcome.kind) {
      case "approved":
        return { ...base, status: "approved", reason: outcome.reason, decidedBy: "card", outcome };
      case "declined":
        return {
          ...base,
          status: "declined",
          reason: outcome.message ?? outcome.reason,
          decidedBy: "card",
          outcome,
        };
      case "try-again":
      case "try-another-interface":
        return { ...base, status: outcome.kind, reason: outcome.reason, decidedBy: "terminal", outcome };
      case "online-request":
        break;
    }
    const declined = (reason: Reason): PaymentResult => ({
      ...base,
      status: "declined",
      reason,
      decidedBy: "terminal",
      outcome,
    });
    if (outcome.cvm === "online-pin") return declined(REASONS.pinNotAvailable);
    if (!this.o.issuer) return declined(REASONS.noIssuer);
    const card = outcome.card!;
    const request: AuthorisationRequest = {
      stan: base.stan,
      terminalId: this.o.config.terminalId,
      merchantId: this.o.config.merchantId,
      merchantName: this.o.config.merchantName,
      amount: base.amount,
      currency: toHex(this.o.config.currencyCode),
      track2: toHex(card.track2),
      panSequenceNumber: card.psn,
      posEntryMode: "07",
      field55: toHex(outcome.field55!),
      cvm: outcome.cvm,
      transmittedAt: base.at.toISOString(),
    };
    let response: AuthorisationResponse;
    try {
      response = await this.o.issuer.authorise(request);
    } catch {
      return declined(REASONS.issuerError);
    }
    const authorisation = { request, response };
    const iad = response.issuerAuthenticationData;
    // Issuer authentication data is ARPC (8) ‖ ARC (2), the ARC being the response code in ASCII.
    if (
      iad !== undefined &&
      (!isHex(iad) || iad.length !== 20 || iad.slice(16) !== toHex(ascii(response.responseCode)))
    )
      return { ...declined(REASONS.badIssuerData), authorisation };

    let issuerAuthentication: PaymentResult["issuerAuthentication"] = "not-performed";
    const ttq = outcome.ttq;
    if (
      iad !== undefined &&
      link.activation !== null &&
      (card.aip[0]! & AIP_ISSUER_AUTH) !== 0 &&
      ttq !== undefined &&
      hasBit(ttq, TTQ.issuerUpdate)
    ) {
      const r = await new CardIo(link).send(command(0x00, 0x82, 0x00, 0x00, fromHex(iad)));
      if (r.ok) issuerAuthentication = r.value.sw === 0x9000 ? "verified" : "failed";
    }
    return {
      ...base,
      status: response.approved ? "approved" : "declined",
      reason: { code: response.reason, zh: response.message.zh, en: response.message.en },
      decidedBy: "issuer",
      outcome,
      authorisation,
      issuerAuthentication,
    };
  }
}
