/**
 * Adding a UnionPay card to a phone (Mi Pay's four steps), the enrolment half of the token service:
 *
 * 1. `start`: the user types card number, expiry, CVN2 (credit cards) and accepts the terms. We check what we
 *    can (Luhn, a UnionPay BIN of our table, the range's length, not expired, at most 8 cards on the phone, not
 *    already on it), then the bank checks the card (number, expiry, CVN2) and sends its one-time code to the
 *    number it keeps for the card. The PAN waits sealed in the enrolment (vault, AAD `enrolment:<id>`).
 * 2. `verify`: the right code issues a token (Luhn-valid number from our token BIN, its keys derived from the
 *    issuer master key, its PAR linking it to the funding account) and queues its install on the phone's SE
 *    with the TSM (`emv.qpboc`, the personalisation DGIs of src/emv's builder) and a registry change (the
 *    phone's first card becomes its default payment card). Five wrong codes in a row lock the funding card.
 * The sealed PAN is dropped when the enrolment ends (verified, locked, expired, or abandoned: `purgeExpired`).
 */
import type { Transaction } from "kysely";
import { fromHex, toHex } from "../../core/bytes.js";
import { QPBOC_PACKAGE_ID } from "../../emv/card/package.js";
import { defaultLabel } from "../../emv/card/personalisation.js";
import type { TokenVault } from "../../emv/issuer/vault.js";
import { AID } from "../../emv/profile.js";
import { maskPhone } from "../accounts/phone.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { forUpdate, isUniqueViolation, transaction, type Executor } from "../db/tx.js";
import { type DeviceService, type DeviceView, deviceNotFound } from "../devices/service.js";
import { CloudError } from "../errors.js";
import type { IssuerService } from "../issuer/service.js";
import type { Notifications } from "../notifications/service.js";
import { randomDigits, randomId } from "../random.js";
import type { RateLimits } from "../ratelimit/service.js";
import { hmacSha256Hex, sameDigest, sha256Hex } from "../secrets.js";
import type { TsmService } from "../tsm/service.js";
import type { BankOtpSender } from "./bank-otp.js";
import type { CardKind } from "./bins.js";
import { isCvn2, isExpired, parseExpiry, parseFundingPan } from "./card-input.js";
import {
  alreadyAdded,
  deviceLost,
  enrolmentNotFound,
  lockedError,
  panProblem,
  tooManyCards,
} from "./errors.js";
import { PAR_PREFIX, TOKEN_REQUESTOR_ID, TSP_OWNER, type TspPolicy } from "./policy.js";
import type { BankCardEnrolmentsTable, BankCardsTable } from "./tables.js";
import {
  type BankCardView,
  type CardCaller,
  type EnrolmentInput,
  type EnrolmentView,
  KIND_ZH,
  bankOf,
  cardView,
  eventOf,
} from "./views.js";

type Trx = Transaction<Database>;

export interface EnrolmentDeps {
  devices: DeviceService;
  notifications: Notifications;
  rateLimits: RateLimits;
  issuer: IssuerService;
  tsm: TsmService;
  vault: TokenVault;
  bankOtp: BankOtpSender;
  /** Key of the bank codes' HMAC; the same on every instance (derived from the vault key). */
  codeKey: string;
  policy: TspPolicy;
}

export class CardEnrolments {
  constructor(
    private readonly ctx: CloudContext,
    private readonly deps: EnrolmentDeps,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  private codeHmac(enrolmentId: string, code: string): string {
    return hmacSha256Hex(this.deps.codeKey, `${enrolmentId}:${code}`);
  }

  /** EMVCo PAR: controller prefix + 25 characters derived from the funding account's keyed fingerprint. */
  private parOf(fundingRef: string): string {
    const digest = BigInt(`0x${sha256Hex(`tapwallet par v1:${fundingRef}`)}`);
    return PAR_PREFIX + digest.toString(36).toUpperCase().padStart(25, "0").slice(0, 25);
  }

  private enrolmentView(e: BankCardEnrolmentsTable): EnrolmentView {
    const bank = bankOf(e.bank_code);
    const now = this.now();
    return {
      id: e.id,
      deviceId: e.device_id,
      bank: { code: bank.code, zh: bank.zh, en: bank.en },
      kind: e.kind,
      fundingLast4: e.funding_last4,
      codeSentTo: e.phone_masked,
      expiresInSeconds: Math.max(0, Math.ceil((e.code_expires_at - now) / 1000)),
      resendAfterSeconds: Math.max(
        0,
        Math.ceil((e.last_sent_at + this.deps.policy.bankOtpResendMs - now) / 1000),
      ),
    };
  }

  /** The phone a request is about: its own for a phone; the named one (of the account) for a user. */
  private async targetDevice(caller: CardCaller, deviceId: string | undefined): Promise<DeviceView> {
    const id = caller.deviceId ?? deviceId;
    if (id === undefined)
      throw new CloudError(
        "invalid",
        "device_required",
        "请指定要添加银行卡的手机",
        "Name the phone to add the card to",
        {
          field: "deviceId",
        },
      );
    if (caller.deviceId !== undefined && deviceId !== undefined && deviceId !== caller.deviceId)
      throw deviceNotFound();
    return this.deps.devices.get(caller.accountId, id);
  }

  private async liveCardCount(exec: Executor, deviceId: string): Promise<number> {
    const r = await exec
      .selectFrom("bank_cards")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("device_id", "=", deviceId)
      .where("status", "<>", "deleted")
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  private async alreadyOnDevice(exec: Executor, deviceId: string, fundingRef: string): Promise<boolean> {
    const r = await exec
      .selectFrom("bank_cards")
      .select("id")
      .where("device_id", "=", deviceId)
      .where("funding_ref", "=", fundingRef)
      .where("status", "<>", "deleted")
      .executeTakeFirst();
    return r !== undefined;
  }

  // ---- adding a card ----------------------------------------------------------------------------------

  /** Step 1: checks the card, asks the bank, sends the bank's code (see the file comment). */
  async start(caller: CardCaller, input: EnrolmentInput): Promise<EnrolmentView> {
    const device = await this.targetDevice(caller, input.deviceId);
    if (device.lost) throw deviceLost();
    await this.deps.rateLimits.hit(
      `bank-card-add:${caller.accountId}`,
      this.deps.policy.enrolmentsPerAccount,
    );

    const card = parseFundingPan(input.cardNumber, this.deps.issuer.options.tokenBin);
    if (!card.ok) throw panProblem(card.error);
    const expiry = parseExpiry(input.expiry);
    if (!expiry.ok)
      throw new CloudError(
        "invalid",
        "invalid_expiry",
        "有效期格式应为 MM/YY",
        "The expiry date must be MM/YY",
      );
    if (isExpired(expiry.value, this.ctx.clock.now()))
      throw new CloudError("invalid", "card_expired", "该卡已过有效期", "This card has expired");
    const kind = card.value.range.kind;
    if (kind === "credit" && (input.cvn2 === undefined || !isCvn2(input.cvn2)))
      throw new CloudError(
        "invalid",
        "invalid_cvn2",
        "请输入信用卡背面的 3 位安全码（CVN2）",
        "Enter the 3-digit security code (CVN2) on the back of the credit card",
      );
    if (input.termsVersion !== this.deps.policy.termsVersion)
      throw new CloudError(
        "invalid",
        "terms_not_accepted",
        "请阅读并同意最新的银行卡服务条款",
        "Read and accept the current bank card terms",
        { termsVersion: this.deps.policy.termsVersion },
      );

    const fundingRef = this.deps.vault.fingerprint(card.value.pan);
    const max = this.deps.policy.maxBankCardsPerDevice;
    if ((await this.liveCardCount(this.ctx.db.db, device.id)) >= max) throw tooManyCards(max);
    if (await this.alreadyOnDevice(this.ctx.db.db, device.id, fundingRef)) throw alreadyAdded();
    const guard = await this.ctx.db.db
      .selectFrom("bank_card_otp_guards")
      .select("locked_until")
      .where("funding_ref", "=", fundingRef)
      .executeTakeFirst();
    const now = this.now();
    if (guard?.locked_until != null && guard.locked_until > now) throw lockedError(guard.locked_until - now);

    // The bank's check: one answer for every wrong detail. CVN2 is compared and forgotten.
    const check = await this.deps.issuer.checkCard(
      card.value.pan,
      expiry.value.yymm,
      kind === "credit" ? input.cvn2 : undefined,
    );
    if (!check.ok)
      throw new CloudError(
        "invalid",
        "card_not_verified",
        "银行未能验证该卡，请核对卡号、有效期和安全码",
        "The bank could not verify this card; check the number, expiry date and security code",
      );

    const id = randomId(this.ctx.rng, "enr");
    const code = randomDigits(this.ctx.rng, 6);
    const sealed = this.deps.vault.seal(card.value.pan, `enrolment:${id}`);
    const row: BankCardEnrolmentsTable = {
      id,
      account_id: caller.accountId,
      device_id: device.id,
      bank_code: card.value.bank.code,
      kind,
      funding_ref: fundingRef,
      funding_last4: card.value.pan.slice(-4),
      pan_iv: sealed.iv,
      pan_data: sealed.data,
      pan_tag: sealed.tag,
      expiry: expiry.value.yymm,
      phone_masked: maskPhone(check.account.reservedPhone),
      terms_version: input.termsVersion,
      code_hmac: this.codeHmac(id, code),
      code_expires_at: now + this.deps.policy.bankOtpTtlMs,
      last_sent_at: now,
      failures: 0,
      state: "pending",
      card_id: null,
      created_at: now,
      updated_at: now,
    };
    await this.ctx.db.db.insertInto("bank_card_enrolments").values(row).execute();
    await this.sendCode(row, check.account.reservedPhone, code);
    return this.enrolmentView(row);
  }

  private async sendCode(e: BankCardEnrolmentsTable, phone: string, code: string): Promise<void> {
    try {
      await this.deps.bankOtp.send({ bank: bankOf(e.bank_code), phone, code, cardLast4: e.funding_last4 });
    } catch {
      await this.endEnrolment(this.ctx.db.db, e.id, "expired");
      throw new CloudError(
        "unavailable",
        "bank_otp_send_failed",
        "银行验证码发送失败，请稍后再试",
        "The bank's one-time code could not be sent; try again later",
      );
    }
  }

  /** Ends an enrolment; its sealed PAN is dropped. */
  private async endEnrolment(
    exec: Executor,
    id: string,
    state: "completed" | "locked" | "expired",
    cardId?: string,
  ) {
    await exec
      .updateTable("bank_card_enrolments")
      .set({ state, pan_iv: "", pan_data: "", pan_tag: "", card_id: cardId ?? null, updated_at: this.now() })
      .where("id", "=", id)
      .execute();
  }

  private ownEnrolment(exec: Executor, caller: CardCaller, id: string) {
    return exec
      .selectFrom("bank_card_enrolments")
      .selectAll()
      .where("id", "=", id)
      .where("account_id", "=", caller.accountId)
      .$if(caller.deviceId !== undefined, (qb) => qb.where("device_id", "=", caller.deviceId!))
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
  }

  /** Sends a new code for a pending enrolment (at most one per `bankOtpResendMs`). */
  async resendCode(caller: CardCaller, enrolmentId: string): Promise<EnrolmentView> {
    const e = await this.ownEnrolment(this.ctx.db.db, caller, enrolmentId);
    if (!e) throw enrolmentNotFound();
    if (e.state !== "pending") throw this.enrolmentOver(e.state);
    const now = this.now();
    const guard = await this.ctx.db.db
      .selectFrom("bank_card_otp_guards")
      .select("locked_until")
      .where("funding_ref", "=", e.funding_ref)
      .executeTakeFirst();
    if (guard?.locked_until != null && guard.locked_until > now) throw lockedError(guard.locked_until - now);
    if (now - e.last_sent_at < this.deps.policy.bankOtpResendMs) {
      const wait = Math.ceil((e.last_sent_at + this.deps.policy.bankOtpResendMs - now) / 1000);
      throw new CloudError(
        "rate_limited",
        "otp_resend_too_soon",
        `验证码已发送，请 ${wait} 秒后再获取`,
        `A code was just sent; ask again in ${wait} s`,
        { retryAfterSeconds: wait },
      );
    }
    const account = await this.deps.issuer.fundingAccount(e.funding_ref);
    if (!account) throw enrolmentNotFound();
    const code = randomDigits(this.ctx.rng, 6);
    const updated = {
      ...e,
      code_hmac: this.codeHmac(e.id, code),
      code_expires_at: now + this.deps.policy.bankOtpTtlMs,
      last_sent_at: now,
      updated_at: now,
    };
    await this.ctx.db.db
      .updateTable("bank_card_enrolments")
      .set({
        code_hmac: updated.code_hmac,
        code_expires_at: updated.code_expires_at,
        last_sent_at: now,
        updated_at: now,
      })
      .where("id", "=", e.id)
      .execute();
    await this.sendCode(updated, account.reservedPhone, code);
    return this.enrolmentView(updated);
  }

  private enrolmentOver(state: string): CloudError {
    if (state === "locked") return lockedError(this.deps.policy.bankOtpLockMs);
    return new CloudError(
      "invalid",
      "otp_expired",
      "验证码已过期或该添加请求已结束，请重新添加",
      "The code has expired or this enrolment has ended; add the card again",
    );
  }

  /** Step 2: the bank's code; the right one issues the token and queues it for the phone. */
  async verify(caller: CardCaller, enrolmentId: string, code: string): Promise<BankCardView> {
    type Outcome =
      | { kind: "card"; card: BankCardView }
      | { kind: "wrong"; attemptsRemaining: number }
      | { kind: "locked"; retryAfterMs: number }
      | { kind: "over"; state: string }
      | { kind: "error"; error: CloudError };
    const outcome = await transaction(this.ctx.db.db, async (trx): Promise<Outcome> => {
      const e = await this.ownEnrolment(trx, caller, enrolmentId);
      if (!e) throw enrolmentNotFound();
      if (e.state === "completed" && e.card_id) {
        // A retried verify (the answer was lost): the same card.
        const card = await trx
          .selectFrom("bank_cards")
          .selectAll()
          .where("id", "=", e.card_id)
          .executeTakeFirstOrThrow();
        return { kind: "card", card: cardView(card) };
      }
      const now = this.now();
      if (e.state === "pending" && now > e.code_expires_at) {
        await this.endEnrolment(trx, e.id, "expired");
        return { kind: "over", state: "expired" };
      }
      if (e.state !== "pending") return { kind: "over", state: e.state };
      const guard = await this.lockGuard(trx, e.funding_ref);
      if (guard.locked_until !== null && guard.locked_until > now)
        return { kind: "locked", retryAfterMs: guard.locked_until - now };

      if (!/^\d{6}$/.test(code) || !sameDigest(this.codeHmac(e.id, code), e.code_hmac)) {
        const failures = guard.failures + 1;
        const max = this.deps.policy.bankOtpMaxFailures;
        if (failures >= max) {
          await trx
            .updateTable("bank_card_otp_guards")
            .set({ failures: 0, locked_until: now + this.deps.policy.bankOtpLockMs })
            .where("funding_ref", "=", e.funding_ref)
            .execute();
          await this.endEnrolment(trx, e.id, "locked");
          return { kind: "locked", retryAfterMs: this.deps.policy.bankOtpLockMs };
        }
        await trx
          .updateTable("bank_card_otp_guards")
          .set({ failures })
          .where("funding_ref", "=", e.funding_ref)
          .execute();
        await trx
          .updateTable("bank_card_enrolments")
          .set({ failures: e.failures + 1, updated_at: now })
          .where("id", "=", e.id)
          .execute();
        return { kind: "wrong", attemptsRemaining: max - failures };
      }
      await trx
        .updateTable("bank_card_otp_guards")
        .set({ failures: 0, locked_until: null })
        .where("funding_ref", "=", e.funding_ref)
        .execute();
      // A refusal found now (the phone filled up or was reported lost meanwhile) leaves the enrolment
      // pending, so the code still works once the user makes room. It is found before anything is written.
      const refusal = await this.refusal(trx, e);
      if (refusal) return { kind: "error", error: refusal };
      const card = await this.provision(trx, e);
      await this.endEnrolment(trx, e.id, "completed", card.id);
      return { kind: "card", card };
    });
    switch (outcome.kind) {
      case "card":
        return outcome.card;
      case "wrong":
        throw new CloudError(
          "invalid",
          "otp_wrong",
          `验证码错误，还可尝试 ${outcome.attemptsRemaining} 次`,
          `Wrong code; ${outcome.attemptsRemaining} attempts left`,
          { attemptsRemaining: outcome.attemptsRemaining },
        );
      case "locked":
        throw lockedError(outcome.retryAfterMs);
      case "over":
        throw this.enrolmentOver(outcome.state);
      case "error":
        throw outcome.error;
    }
  }

  private async lockGuard(trx: Trx, fundingRef: string) {
    await trx
      .insertInto("bank_card_otp_guards")
      .values({ funding_ref: fundingRef, failures: 0, locked_until: null })
      .onConflict((oc) => oc.column("funding_ref").doNothing())
      .execute();
    return trx
      .selectFrom("bank_card_otp_guards")
      .selectAll()
      .where("funding_ref", "=", fundingRef)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
  }

  /**
   * Why the phone cannot take the card now, checked with its row locked: this serialises card additions on
   * one phone, so the limit holds under concurrency.
   */
  private async refusal(trx: Trx, e: BankCardEnrolmentsTable): Promise<CloudError | undefined> {
    const device = await trx
      .selectFrom("devices")
      .select(["id", "lost_at", "removed_at"])
      .where("id", "=", e.device_id)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
    if (device.removed_at !== null) return deviceNotFound();
    if (device.lost_at !== null) return deviceLost();
    const max = this.deps.policy.maxBankCardsPerDevice;
    if ((await this.liveCardCount(trx, e.device_id)) >= max) return tooManyCards(max);
    if (await this.alreadyOnDevice(trx, e.device_id, e.funding_ref)) return alreadyAdded();
    return undefined;
  }

  /** Issues the token and queues it for the phone, in the enrolment's transaction (after `refusal`). */
  private async provision(trx: Trx, e: BankCardEnrolmentsTable): Promise<BankCardView> {
    const pan = this.deps.vault.open({ iv: e.pan_iv, data: e.pan_data, tag: e.pan_tag }, `enrolment:${e.id}`);
    if (!pan.ok) throw new Error("an enrolment's sealed card number does not open");

    const par = this.parOf(e.funding_ref);
    const issued = await this.deps.issuer.issueToken(trx, {
      fundingPan: pan.value,
      kind: e.kind,
      deviceId: e.device_id,
      label: defaultLabel(e.kind),
      par,
    });
    const aid = await this.freeAid(trx, e.device_id, e.kind);
    const isDefault = !(await trx
      .selectFrom("bank_cards")
      .select("id")
      .where("device_id", "=", e.device_id)
      .where("status", "<>", "deleted")
      .where("is_default", "=", 1)
      .executeTakeFirst());
    const now = this.now();
    const id = randomId(this.ctx.rng, "bc");
    const row: BankCardsTable = {
      id,
      account_id: e.account_id,
      device_id: e.device_id,
      token: issued.token,
      token_last4: issued.token.slice(-4),
      par,
      token_requestor_id: TOKEN_REQUESTOR_ID,
      bank_code: e.bank_code,
      kind: e.kind,
      funding_ref: e.funding_ref,
      funding_last4: e.funding_last4,
      aid,
      status: "pending",
      suspended_by: null,
      se_state: "installing",
      is_default: isDefault ? 1 : 0,
      terms_version: e.terms_version,
      created_at: now,
      updated_at: now,
      activated_at: null,
      deleted_at: null,
    };
    try {
      await trx.insertInto("bank_cards").values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyAdded();
      throw err;
    }
    const bank = bankOf(e.bank_code);
    const owner = { owner: TSP_OWNER, ref: id };
    await this.deps.tsm.enqueueInstall(
      e.device_id,
      {
        ...owner,
        packageId: QPBOC_PACKAGE_ID,
        aid: fromHex(aid),
        params: { label: defaultLabel(e.kind), priority: 1 },
        personalization: issued.personalisation,
        label: {
          zh: `${bank.zh}${KIND_ZH[e.kind]}（${e.funding_last4}）`,
          en: `${bank.en} ${e.kind} card (${e.funding_last4})`,
        },
      },
      trx,
    );
    await this.deps.tsm.enqueueRegistry(
      e.device_id,
      { ...owner, aid: fromHex(aid), action: isDefault ? "default-payment" : "activate" },
      trx,
    );
    const view = cardView(row);
    await this.deps.notifications.publish(e.account_id, "bank_card.adding", eventOf(view), trx);
    return view;
  }

  /**
   * An instance AID for a new card: the UnionPay debit or credit AID followed by a one-byte slot, the first
   * slot neither on the SE (nor queued for it) nor held by another card of the phone (docs/DECISIONS.md
   * "Bank cards: instance AIDs"). The PPSE lists it; the POS selects it by its UnionPay prefix.
   */
  private async freeAid(trx: Trx, deviceId: string, kind: CardKind): Promise<string> {
    const occupied = await this.deps.tsm.occupiedAids(deviceId, trx);
    const held = await trx
      .selectFrom("bank_cards")
      .select("aid")
      .where("device_id", "=", deviceId)
      .where("se_state", "<>", "removed")
      .execute();
    for (const h of held) occupied.add(h.aid);
    const base = toHex(kind === "debit" ? AID.debit : AID.credit);
    for (let slot = 1; slot <= 0xff; slot++) {
      const aid = base + slot.toString(16).padStart(2, "0").toUpperCase();
      if (!occupied.has(aid)) return aid;
    }
    throw new Error("no free instance AID on this SE");
  }

  /**
   * Ends enrolments whose code expired an hour ago and were never verified, dropping their sealed card
   * numbers: an abandoned enrolment keeps no PAN, even encrypted. Returns how many ended.
   */
  async purgeExpired(): Promise<number> {
    const now = this.now();
    const r = await this.ctx.db.db
      .updateTable("bank_card_enrolments")
      .set({ state: "expired", pan_iv: "", pan_data: "", pan_tag: "", updated_at: now })
      .where("state", "=", "pending")
      .where("code_expires_at", "<", now - 60 * 60_000)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
