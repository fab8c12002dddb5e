/**
 * The token service (TSP) for bank cards on phones, as Mi Pay adds a UnionPay card:
 *
 * 1. `startEnrolment`: the user types card number, expiry, CVN2 (credit cards) and accepts the terms. We
 *    check what we can (Luhn, a UnionPay BIN of our table, the range's length, not expired, at most 8 cards
 *    on the phone, not already on it), then the bank checks the card (number, expiry, CVN2) and we send its
 *    one-time code to the number the bank keeps for the card. The PAN waits sealed in the enrolment.
 * 2. `verifyEnrolment`: the right code issues a token (Luhn-valid number from our token BIN, its keys
 *    derived from the issuer master key, its PAR linking it to the funding account) and queues its install
 *    on the phone's SE with the TSM (`emv.qpboc`, the personalisation DGIs of src/emv's builder); the first
 *    card on a phone becomes its default payment card. Five wrong codes in a row lock the funding card.
 * 3. The TSM tells us when the install landed (card active, token active) or failed; later deletes the same.
 * 4. Lifecycle: the user and the issuer suspend, resume and delete; whoever suspended resumes (Thales TSH,
 *    emv.md §3), the wallet suspends every card of a phone reported lost and the phone wipes them at its
 *    next contact (TSM delete scripts).
 * 5. Every authorisation of one of our tokens is recorded for the card's owner and pushed to the phone.
 *
 * The funding PAN lives only in the vault (sealed); views show the bank, the kind, the funding card's and the
 * token's last four digits. Every query is scoped by the caller's account (and phone, for a phone's own
 * requests): another account's card answers 404 exactly as an unknown one does.
 */
import type { Transaction } from "kysely";
import { fromHex, toHex } from "../../core/bytes.js";
import { QPBOC_PACKAGE_ID } from "../../emv/card/package.js";
import { defaultLabel } from "../../emv/card/personalisation.js";
import type { TokenStatus } from "../../emv/issuer/store.js";
import type { TokenVault } from "../../emv/issuer/vault.js";
import { AID } from "../../emv/profile.js";
import { maskPhone } from "../accounts/phone.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { forUpdate, isUniqueViolation, transaction, type Executor } from "../db/tx.js";
import type { DeviceService, DeviceView } from "../devices/service.js";
import { CloudError } from "../errors.js";
import type { AuthorisationEvent, IssuerService } from "../issuer/service.js";
import type { Notifications } from "../notifications/service.js";
import { randomDigits, randomId } from "../random.js";
import type { RateLimits } from "../ratelimit/service.js";
import { hmacSha256Hex, sameDigest, sha256Hex } from "../secrets.js";
import type { InstanceEvent, ScriptEvent, TsmService } from "../tsm/service.js";
import type { BankOtpSender } from "./bank-otp.js";
import { BANKS, type Bank, type BankCode, type CardKind } from "./bins.js";
import { isCvn2, isExpired, parseExpiry, parseFundingPan, type PanProblem } from "./card-input.js";
import { PAR_PREFIX, TOKEN_REQUESTOR_ID, type TspPolicy } from "./policy.js";
import type {
  BankCardEnrolmentsTable,
  BankCardsTable,
  BankCardTransactionsTable,
  CardStatus,
  SeState,
  SuspendedBy,
} from "./tables.js";

/** Scripts the TSP queues carry this owner name. */
export const TSP_OWNER = "tsp";

/** Who asks: a signed-in user (any of their phones) or a phone for itself. */
export interface CardCaller {
  accountId: string;
  /** Set when the phone itself calls: it sees and changes only its own cards. */
  deviceId?: string;
}

export interface BankView {
  code: string;
  zh: string;
  en: string;
}

export interface BankCardView {
  id: string;
  deviceId: string;
  bank: BankView;
  kind: CardKind;
  tokenLast4: string;
  fundingLast4: string;
  /** pending (being put on the phone), active, suspended, deleted. */
  status: CardStatus;
  suspendedBy: SuspendedBy | null;
  /** The card on the phone's SE: installing, installed, failed, removing, removed. */
  seState: SeState;
  default: boolean;
  createdAt: string;
  activatedAt: string | null;
}

export interface EnrolmentView {
  id: string;
  deviceId: string;
  bank: BankView;
  kind: CardKind;
  fundingLast4: string;
  /** Where the bank sent its code, masked. */
  codeSentTo: string;
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

export interface EnrolmentInput {
  deviceId?: string;
  cardNumber: string;
  /** MM/YY */
  expiry: string;
  cvn2?: string;
  termsVersion: string;
}

export interface CardTransactionView {
  id: string;
  cardId: string;
  amount: number;
  currency: string;
  merchantId: string;
  merchantName: string | null;
  terminalId: string;
  approved: boolean;
  responseCode: string;
  reason: string;
  authorisationCode: string | null;
  at: string;
}

export interface IssuerTokenView {
  tokenReferenceId: string;
  par: string;
  tokenRequestorId: string;
  kind: CardKind;
  tokenLast4: string;
  fundingLast4: string;
  status: CardStatus;
  suspendedBy: SuspendedBy | null;
  createdAt: string;
}

export type LifecycleAction = "suspend" | "resume" | "delete";

type Trx = Transaction<Database>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const bankOf = (code: string): Bank => BANKS[code as BankCode] ?? { code, zh: code, en: code };
const KIND_ZH: Record<CardKind, string> = { debit: "借记卡", credit: "信用卡" };

function cardNotFound(): CloudError {
  return new CloudError("not_found", "bank_card_not_found", "银行卡不存在", "No such bank card");
}

function enrolmentNotFound(): CloudError {
  return new CloudError("not_found", "enrolment_not_found", "添加请求不存在", "No such card enrolment");
}

function panProblem(p: PanProblem): CloudError {
  if (p === "not_supported")
    return new CloudError(
      "invalid",
      "card_not_supported",
      "暂不支持该卡：仅支持所列银行的银联借记卡和信用卡",
      "This card is not supported: only UnionPay debit and credit cards of the listed banks",
    );
  return new CloudError(
    "invalid",
    "invalid_card_number",
    "请输入正确的银行卡号",
    "Enter a valid card number",
    {
      reason: p,
    },
  );
}

function lockedError(retryAfterMs: number): CloudError {
  const minutes = Math.ceil(retryAfterMs / 60_000);
  return new CloudError(
    "rate_limited",
    "otp_locked",
    `验证码错误次数过多，该卡已锁定，请 ${minutes} 分钟后再试`,
    `Too many wrong codes; this card is locked, try again in ${minutes} min`,
    { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) },
  );
}

function tooManyCards(max: number): CloudError {
  return new CloudError(
    "conflict",
    "too_many_bank_cards",
    `每台手机最多添加 ${max} 张银行卡，请先删除一张`,
    `A phone holds at most ${max} bank cards; delete one first`,
    { max },
  );
}

function deviceLost(): CloudError {
  return new CloudError(
    "conflict",
    "device_lost",
    "该手机已挂失，其银行卡已暂停并将被清除",
    "This phone is reported lost; its bank cards are suspended and will be wiped",
  );
}

/** The EMVCo token status the issuer enforces for a card state. */
const tokenStatusOf = (s: CardStatus): TokenStatus =>
  s === "active" ? "active" : s === "deleted" ? "deleted" : "suspended";

export class TspService {
  private readonly bankOtp: BankOtpSender;
  /** Key of the bank codes' HMAC (derived from the vault key: the same on every instance). */
  private readonly codeKey: string;

  constructor(
    private readonly ctx: CloudContext,
    private readonly deps: {
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
    },
  ) {
    this.bankOtp = deps.bankOtp;
    this.codeKey = deps.codeKey;
    deps.issuer.onAuthorisation((trx, e) => this.recordAuthorisation(trx, e));
    deps.tsm.subscribe(TSP_OWNER, {
      scriptFinished: (event, trx) => this.scriptFinished(event, trx),
      instanceLost: (event, trx) => this.instanceLost(event, trx),
    });
    deps.devices.onLost((trx, device) => this.deviceLost(trx, device));
    deps.devices.onRemoved((trx, device) => this.deviceRemoved(trx, device));
  }

  get policy(): TspPolicy {
    return this.deps.policy;
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  private codeHmac(enrolmentId: string, code: string): string {
    return hmacSha256Hex(this.codeKey, `${enrolmentId}:${code}`);
  }

  /** EMVCo PAR: controller prefix + 25 characters derived from the funding account's keyed fingerprint. */
  private parOf(fundingRef: string): string {
    const digest = BigInt(`0x${sha256Hex(`tapwallet par v1:${fundingRef}`)}`);
    return PAR_PREFIX + digest.toString(36).toUpperCase().padStart(25, "0").slice(0, 25);
  }

  // ---- views ------------------------------------------------------------------------------------------

  private view(r: BankCardsTable): BankCardView {
    const bank = bankOf(r.bank_code);
    return {
      id: r.id,
      deviceId: r.device_id,
      bank: { code: bank.code, zh: bank.zh, en: bank.en },
      kind: r.kind,
      tokenLast4: r.token_last4,
      fundingLast4: r.funding_last4,
      status: r.status,
      suspendedBy: r.suspended_by,
      seState: r.se_state,
      default: r.is_default === 1,
      createdAt: new Date(r.created_at).toISOString(),
      activatedAt: iso(r.activated_at),
    };
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
      resendAfterSeconds: Math.max(0, Math.ceil((e.last_sent_at + this.policy.bankOtpResendMs - now) / 1000)),
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
      throw new CloudError("not_found", "device_not_found", "设备不存在", "No such device");
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
  async startEnrolment(caller: CardCaller, input: EnrolmentInput): Promise<EnrolmentView> {
    const device = await this.targetDevice(caller, input.deviceId);
    if (device.lost) throw deviceLost();
    await this.deps.rateLimits.hit(`bank-card-add:${caller.accountId}`, this.policy.enrolmentsPerAccount);

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
    if (input.termsVersion !== this.policy.termsVersion)
      throw new CloudError(
        "invalid",
        "terms_not_accepted",
        "请阅读并同意最新的银行卡服务条款",
        "Read and accept the current bank card terms",
        { termsVersion: this.policy.termsVersion },
      );

    const fundingRef = this.deps.vault.fingerprint(card.value.pan);
    const max = this.policy.maxBankCardsPerDevice;
    if ((await this.liveCardCount(this.ctx.db.db, device.id)) >= max) throw tooManyCards(max);
    if (await this.alreadyOnDevice(this.ctx.db.db, device.id, fundingRef))
      throw new CloudError(
        "conflict",
        "card_already_added",
        "该卡已在这台手机上",
        "This card is already on this phone",
      );
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
      code_expires_at: now + this.policy.bankOtpTtlMs,
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
      await this.bankOtp.send({ bank: bankOf(e.bank_code), phone, code, cardLast4: e.funding_last4 });
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
    if (now - e.last_sent_at < this.policy.bankOtpResendMs) {
      const wait = Math.ceil((e.last_sent_at + this.policy.bankOtpResendMs - now) / 1000);
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
      code_expires_at: now + this.policy.bankOtpTtlMs,
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
    if (state === "locked") return lockedError(this.policy.bankOtpLockMs);
    return new CloudError(
      "invalid",
      "otp_expired",
      "验证码已过期或该添加请求已结束，请重新添加",
      "The code has expired or this enrolment has ended; add the card again",
    );
  }

  /** Step 2: the bank's code; the right one issues the token and queues it for the phone. */
  async verifyEnrolment(caller: CardCaller, enrolmentId: string, code: string): Promise<BankCardView> {
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
        return { kind: "card", card: await this.get(caller, e.card_id, trx) };
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
        const max = this.policy.bankOtpMaxFailures;
        if (failures >= max) {
          await trx
            .updateTable("bank_card_otp_guards")
            .set({ failures: 0, locked_until: now + this.policy.bankOtpLockMs })
            .where("funding_ref", "=", e.funding_ref)
            .execute();
          await this.endEnrolment(trx, e.id, "locked");
          return { kind: "locked", retryAfterMs: this.policy.bankOtpLockMs };
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
    if (device.removed_at !== null)
      return new CloudError("not_found", "device_not_found", "设备不存在", "No such device");
    if (device.lost_at !== null) return deviceLost();
    const max = this.policy.maxBankCardsPerDevice;
    if ((await this.liveCardCount(trx, e.device_id)) >= max) return tooManyCards(max);
    if (await this.alreadyOnDevice(trx, e.device_id, e.funding_ref))
      return new CloudError(
        "conflict",
        "card_already_added",
        "该卡已在这台手机上",
        "This card is already on this phone",
      );
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
      if (isUniqueViolation(err))
        throw new CloudError(
          "conflict",
          "card_already_added",
          "该卡已在这台手机上",
          "This card is already on this phone",
        );
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
    const view = this.view(row);
    await this.deps.notifications.publish(e.account_id, "bank_card.adding", this.eventOf(view), trx);
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

  private eventOf(v: BankCardView): Record<string, unknown> {
    return {
      cardId: v.id,
      deviceId: v.deviceId,
      bank: v.bank.code,
      kind: v.kind,
      tokenLast4: v.tokenLast4,
      fundingLast4: v.fundingLast4,
      status: v.status,
      suspendedBy: v.suspendedBy,
      seState: v.seState,
      default: v.default,
    };
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

  // ---- reading ----------------------------------------------------------------------------------------

  private ownCard(exec: Executor, caller: CardCaller, cardId: string, lock = false) {
    return exec
      .selectFrom("bank_cards")
      .selectAll()
      .where("id", "=", cardId)
      .where("account_id", "=", caller.accountId)
      .$if(caller.deviceId !== undefined, (qb) => qb.where("device_id", "=", caller.deviceId!))
      .$if(lock, (qb) => qb.$call(forUpdate(this.ctx.db.dialect)))
      .executeTakeFirst();
  }

  async list(caller: CardCaller, filter: { deviceId?: string; includeDeleted?: boolean } = {}) {
    const rows = await this.ctx.db.db
      .selectFrom("bank_cards")
      .selectAll()
      .where("account_id", "=", caller.accountId)
      .$if(caller.deviceId !== undefined, (qb) => qb.where("device_id", "=", caller.deviceId!))
      .$if(filter.deviceId !== undefined, (qb) => qb.where("device_id", "=", filter.deviceId!))
      .$if(!filter.includeDeleted, (qb) => qb.where("status", "<>", "deleted"))
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => this.view(r));
  }

  async get(caller: CardCaller, cardId: string, exec: Executor = this.ctx.db.db): Promise<BankCardView> {
    const row = await this.ownCard(exec, caller, cardId);
    if (!row) throw cardNotFound();
    return this.view(row);
  }

  async transactions(caller: CardCaller, cardId: string, limit = 50): Promise<CardTransactionView[]> {
    const card = await this.ownCard(this.ctx.db.db, caller, cardId);
    if (!card) throw cardNotFound();
    const rows = await this.ctx.db.db
      .selectFrom("bank_card_transactions")
      .selectAll()
      .where("card_id", "=", card.id)
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(Math.min(Math.max(1, limit), 100))
      .execute();
    return rows.map((r) => transactionView(r));
  }

  // ---- the user's lifecycle actions ------------------------------------------------------------------

  /** Suspends, resumes or deletes one of the caller's cards (see the file comment for who may resume). */
  async userAction(caller: CardCaller, cardId: string, action: LifecycleAction): Promise<BankCardView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownCard(trx, caller, cardId, true);
      if (!row || row.status === "deleted") throw cardNotFound();
      return this.applyAction(trx, row, action, "user");
    });
  }

  /** Makes a card the phone's default payment card (on the phone at its next sync). */
  async setDefault(caller: CardCaller, cardId: string): Promise<BankCardView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownCard(trx, caller, cardId, true);
      if (!row || row.status === "deleted") throw cardNotFound();
      if (row.status !== "active")
        throw new CloudError(
          "conflict",
          "card_not_active",
          "只有可用的银行卡能设为默认卡",
          "Only an active card can be the default card",
          { status: row.status },
        );
      if (row.is_default === 1) return this.view(row);
      await this.makeDefault(trx, row);
      const view = this.view({ ...row, is_default: 1 });
      await this.deps.notifications.publish(row.account_id, "bank_card.default", this.eventOf(view), trx);
      return view;
    });
  }

  private async makeDefault(trx: Trx, row: BankCardsTable): Promise<void> {
    await trx
      .updateTable("bank_cards")
      .set({ is_default: 0, updated_at: this.now() })
      .where("device_id", "=", row.device_id)
      .where("id", "<>", row.id)
      .execute();
    await trx
      .updateTable("bank_cards")
      .set({ is_default: 1, updated_at: this.now() })
      .where("id", "=", row.id)
      .execute();
    await this.deps.tsm.enqueueRegistry(
      row.device_id,
      { owner: TSP_OWNER, ref: row.id, aid: fromHex(row.aid), action: "default-payment" },
      trx,
    );
  }

  // ---- the issuer's side -----------------------------------------------------------------------------

  /** The bank's tokens (optionally of one PAR), newest first. */
  async issuerTokens(bankCode: string, par?: string): Promise<IssuerTokenView[]> {
    const rows = await this.ctx.db.db
      .selectFrom("bank_cards")
      .selectAll()
      .where("bank_code", "=", bankCode)
      .$if(par !== undefined, (qb) => qb.where("par", "=", par!))
      .orderBy("created_at", "desc")
      .limit(500)
      .execute();
    return rows.map((r) => issuerTokenView(r));
  }

  /** The issuer suspends, resumes or deletes one of its tokens; another bank's token is 404. */
  async issuerAction(bankCode: string, cardId: string, action: LifecycleAction): Promise<IssuerTokenView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await trx
        .selectFrom("bank_cards")
        .selectAll()
        .where("id", "=", cardId)
        .where("bank_code", "=", bankCode)
        .$call(forUpdate(this.ctx.db.dialect))
        .executeTakeFirst();
      if (!row || row.status === "deleted") throw cardNotFound();
      await this.applyAction(trx, row, action, "issuer");
      const after = await trx
        .selectFrom("bank_cards")
        .selectAll()
        .where("id", "=", row.id)
        .executeTakeFirstOrThrow();
      return issuerTokenView(after);
    });
  }

  /**
   * The lifecycle rules, for `by` = user or issuer:
   *   suspend: active → suspended (by whoever asked); already suspended stays as it is, except that the
   *            issuer's suspension replaces the user's (the user may then no longer resume);
   *   resume:  only the party that suspended; never while the phone is reported lost;
   *   delete:  any state → deleted (final): token deleted, the instance removed from the SE.
   */
  private async applyAction(
    trx: Trx,
    row: BankCardsTable,
    action: LifecycleAction,
    by: "user" | "issuer",
  ): Promise<BankCardView> {
    switch (action) {
      case "suspend": {
        if (row.status === "pending")
          throw new CloudError(
            "conflict",
            "card_not_active",
            "银行卡尚未添加完成",
            "The card is not on the phone yet",
            { status: row.status },
          );
        if (row.status === "suspended" && !(by === "issuer" && row.suspended_by === "user"))
          return this.view(row);
        return this.setStatus(trx, row, "suspended", by, "bank_card.suspended");
      }
      case "resume": {
        if (row.status === "active") return this.view(row);
        if (row.status !== "suspended")
          throw new CloudError(
            "conflict",
            "card_not_suspended",
            "银行卡未被暂停",
            "The card is not suspended",
            {
              status: row.status,
            },
          );
        if (row.suspended_by === "wallet") throw deviceLost();
        if (row.suspended_by !== by)
          throw by === "user"
            ? new CloudError(
                "refused",
                "suspended_by_issuer",
                "该卡已被发卡行暂停，请联系发卡行恢复",
                "The bank suspended this card; only the bank can resume it",
              )
            : new CloudError(
                "refused",
                "suspended_by_user",
                "该卡由持卡人暂停，只能由持卡人恢复",
                "The cardholder suspended this card; only the cardholder can resume it",
              );
        return this.setStatus(trx, row, "active", null, "bank_card.resumed");
      }
      case "delete":
        return this.deleteCard(trx, row, by);
    }
  }

  private async setStatus(
    trx: Trx,
    row: BankCardsTable,
    status: "active" | "suspended",
    by: SuspendedBy | null,
    event: string,
  ): Promise<BankCardView> {
    const now = this.now();
    await trx
      .updateTable("bank_cards")
      .set({ status, suspended_by: by, updated_at: now })
      .where("id", "=", row.id)
      .execute();
    await this.deps.issuer.setTokenStatus(trx, row.token, tokenStatusOf(status));
    const view = this.view({ ...row, status, suspended_by: by, updated_at: now });
    await this.deps.notifications.publish(row.account_id, event, this.eventOf(view), trx);
    return view;
  }

  /** Deletes a card for good: token deleted at once, the instance removed at the phone's next sync. */
  private async deleteCard(trx: Trx, row: BankCardsTable, by: SuspendedBy): Promise<BankCardView> {
    const now = this.now();
    const onSe = row.se_state === "installing" || row.se_state === "installed";
    const seState: SeState = onSe ? "removing" : row.se_state;
    await trx
      .updateTable("bank_cards")
      .set({ status: "deleted", se_state: seState, is_default: 0, deleted_at: now, updated_at: now })
      .where("id", "=", row.id)
      .execute();
    await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
    if (onSe)
      await this.deps.tsm.enqueueDelete(
        row.device_id,
        { owner: TSP_OWNER, ref: row.id, aid: fromHex(row.aid) },
        trx,
      );
    if (row.is_default === 1) await this.promoteDefault(trx, row.device_id);
    const view = this.view({ ...row, status: "deleted", se_state: seState, is_default: 0, deleted_at: now });
    await this.deps.notifications.publish(
      row.account_id,
      "bank_card.deleted",
      { ...this.eventOf(view), by },
      trx,
    );
    return view;
  }

  /** After the default card goes, the oldest active card of the phone takes the role. */
  private async promoteDefault(trx: Trx, deviceId: string): Promise<void> {
    const next = await trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("status", "=", "active")
      .orderBy("created_at")
      .orderBy("id")
      .executeTakeFirst();
    if (next) await this.makeDefault(trx, next);
  }

  // ---- hooks: the TSM, the devices, the issuer ------------------------------------------------------

  private async cardByRef(trx: Trx, ref: string) {
    return trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("id", "=", ref)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
  }

  private async scriptFinished(event: ScriptEvent, trx: Trx): Promise<void> {
    const row = await this.cardByRef(trx, event.ref);
    if (!row) return;
    const now = this.now();
    if (event.kind === "install") {
      if (event.state === "done") {
        if (row.status === "deleted") return; // deleted while installing: its delete script follows
        await trx
          .updateTable("bank_cards")
          .set({ se_state: "installed", status: "active", activated_at: now, updated_at: now })
          .where("id", "=", row.id)
          .execute();
        await this.deps.issuer.setTokenStatus(trx, row.token, "active");
        const view = this.view({ ...row, se_state: "installed", status: "active", activated_at: now });
        await this.deps.notifications.publish(row.account_id, "bank_card.added", this.eventOf(view), trx);
        return;
      }
      // Failed or cancelled (the phone was reported lost or removed first): nothing is on the SE.
      await trx
        .updateTable("bank_cards")
        .set({
          se_state: "failed",
          status: "deleted",
          is_default: 0,
          deleted_at: row.deleted_at ?? now,
          updated_at: now,
        })
        .where("id", "=", row.id)
        .execute();
      if (row.status !== "deleted") await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
      if (row.is_default === 1 && row.status !== "deleted") await this.promoteDefault(trx, row.device_id);
      await this.deps.notifications.publish(
        row.account_id,
        "bank_card.failed",
        {
          ...this.eventOf(this.view({ ...row, se_state: "failed", status: "deleted" })),
          error: event.error?.code ?? event.state,
        },
        trx,
      );
      return;
    }
    if (event.kind === "delete") {
      const seState: SeState = event.state === "done" ? "removed" : "failed";
      await trx
        .updateTable("bank_cards")
        .set({ se_state: seState, status: "deleted", deleted_at: row.deleted_at ?? now, updated_at: now })
        .where("id", "=", row.id)
        .execute();
      // A lost phone's cards are suspended until its wipe lands; then their tokens are gone for good.
      if (row.status !== "deleted") await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
      await this.deps.notifications.publish(
        row.account_id,
        event.state === "done" ? "bank_card.removed" : "bank_card.remove_failed",
        this.eventOf(this.view({ ...row, se_state: seState, status: "deleted" })),
        trx,
      );
    }
  }

  /** The SE no longer has a card we installed (the phone was reset): the token goes too. */
  private async instanceLost(event: InstanceEvent, trx: Trx): Promise<void> {
    const row = await this.cardByRef(trx, event.ref);
    if (!row || row.se_state === "removed") return;
    const now = this.now();
    await trx
      .updateTable("bank_cards")
      .set({
        se_state: "removed",
        status: "deleted",
        is_default: 0,
        deleted_at: row.deleted_at ?? now,
        updated_at: now,
      })
      .where("id", "=", row.id)
      .execute();
    if (row.status !== "deleted") {
      await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
      if (row.is_default === 1) await this.promoteDefault(trx, row.device_id);
    }
    await this.deps.notifications.publish(
      row.account_id,
      "bank_card.removed",
      this.eventOf(this.view({ ...row, se_state: "removed", status: "deleted" })),
      trx,
    );
  }

  /** A phone reported lost: every card suspended now, and wiped from its SE at its next contact. */
  private async deviceLost(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    const rows = await trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("device_id", "=", device.id)
      .where("status", "<>", "deleted")
      .orderBy("id")
      .$call(forUpdate(this.ctx.db.dialect))
      .execute();
    const now = this.now();
    for (const row of rows) {
      await trx
        .updateTable("bank_cards")
        .set({ status: "suspended", suspended_by: "wallet", se_state: "removing", updated_at: now })
        .where("id", "=", row.id)
        .execute();
      await this.deps.issuer.setTokenStatus(trx, row.token, "suspended");
      await this.deps.tsm.enqueueDelete(
        device.id,
        { owner: TSP_OWNER, ref: row.id, aid: fromHex(row.aid) },
        trx,
      );
    }
    if (rows.length > 0)
      await this.deps.notifications.publish(
        device.accountId,
        "bank_cards.suspended",
        { deviceId: device.id, reason: "device_lost", cardIds: rows.map((r) => r.id) },
        trx,
      );
  }

  /** A removed phone cannot sync again: its tokens are deleted (nothing can reach its SE any more). */
  private async deviceRemoved(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    const rows = await trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("device_id", "=", device.id)
      .where("status", "<>", "deleted")
      .orderBy("id")
      .$call(forUpdate(this.ctx.db.dialect))
      .execute();
    const now = this.now();
    for (const row of rows) {
      await trx
        .updateTable("bank_cards")
        .set({ status: "deleted", se_state: "removed", is_default: 0, deleted_at: now, updated_at: now })
        .where("id", "=", row.id)
        .execute();
      await this.deps.issuer.setTokenStatus(trx, row.token, "deleted");
    }
  }

  /** Records an authorisation of one of our tokens (or its reversal) for the card's owner and tells the phone. */
  private async recordAuthorisation(trx: Trx, e: AuthorisationEvent): Promise<void> {
    const card = await trx
      .selectFrom("bank_cards")
      .selectAll()
      .where("token", "=", e.token)
      .executeTakeFirst();
    if (!card) return;
    if (e.kind === "reversal") return this.recordReversal(trx, card, e);
    const row: BankCardTransactionsTable = {
      id: randomId(this.ctx.rng, "btx"),
      card_id: card.id,
      account_id: card.account_id,
      device_id: card.device_id,
      amount: e.request.amount,
      currency: e.request.currency,
      merchant_id: e.request.merchantId,
      merchant_name: e.request.merchantName ?? null,
      terminal_id: e.request.terminalId,
      stan: e.request.stan,
      response_code: e.response.responseCode,
      approved: e.response.approved ? 1 : 0,
      reason: e.response.reason,
      authorisation_code: e.response.authorisationCode ?? null,
      request_key: e.requestKey,
      posting_id: e.postingId,
      at: this.now(),
    };
    await trx.insertInto("bank_card_transactions").values(row).execute();
    const t = transactionView(row);
    await this.deps.notifications.publish(
      card.account_id,
      e.response.approved ? "bank_card.payment" : "bank_card.payment_declined",
      {
        cardId: card.id,
        deviceId: card.device_id,
        tokenLast4: card.token_last4,
        transactionId: t.id,
        amount: t.amount,
        currency: t.currency,
        merchantName: t.merchantName,
        approved: t.approved,
        responseCode: t.responseCode,
        reason: t.reason,
        message: e.response.message,
      },
      trx,
    );
  }

  /** A reversal shows on the card as the original payment given back (a negative amount). */
  private async recordReversal(trx: Trx, card: BankCardsTable, e: AuthorisationEvent): Promise<void> {
    const original = await trx
      .selectFrom("bank_card_transactions")
      .selectAll()
      .where("request_key", "=", e.requestKey)
      .executeTakeFirst();
    if (!original) return;
    const row: BankCardTransactionsTable = {
      ...original,
      id: randomId(this.ctx.rng, "btx"),
      amount: -original.amount,
      reason: "reversal",
      request_key: `${e.requestKey}:reversal`,
      posting_id: e.postingId,
      at: this.now(),
    };
    await trx.insertInto("bank_card_transactions").values(row).execute();
    await this.deps.notifications.publish(
      card.account_id,
      "bank_card.payment_reversed",
      {
        cardId: card.id,
        deviceId: card.device_id,
        tokenLast4: card.token_last4,
        transactionId: row.id,
        reverses: original.id,
        amount: original.amount,
        currency: original.currency,
        merchantName: original.merchant_name,
      },
      trx,
    );
  }
}

function transactionView(r: BankCardTransactionsTable): CardTransactionView {
  return {
    id: r.id,
    cardId: r.card_id,
    amount: r.amount,
    currency: r.currency,
    merchantId: r.merchant_id,
    merchantName: r.merchant_name,
    terminalId: r.terminal_id,
    approved: r.approved === 1,
    responseCode: r.response_code,
    reason: r.reason,
    authorisationCode: r.authorisation_code,
    at: new Date(r.at).toISOString(),
  };
}

function issuerTokenView(r: BankCardsTable): IssuerTokenView {
  return {
    tokenReferenceId: r.id,
    par: r.par,
    tokenRequestorId: r.token_requestor_id,
    kind: r.kind,
    tokenLast4: r.token_last4,
    fundingLast4: r.funding_last4,
    status: r.status,
    suspendedBy: r.suspended_by,
    createdAt: new Date(r.created_at).toISOString(),
  };
}
