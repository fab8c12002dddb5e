/**
 * Sign-up and sign-in by mainland mobile number and one-time code, and the sessions that follow.
 *
 * - A code is 6 digits, lives `otpTtlMs`, is used once, and a newer code replaces older ones. Only its
 *   HMAC (keyed with the server's pepper and salted with the code's id) is stored.
 * - Guessing: each number has a guard row. `otpMaxFailures` wrong codes in a row lock the number for
 *   `otpLockMs`: no code is accepted and none is sent until it ends. Per-IP and per-number request
 *   limits sit in front (RateLimits). All of it lives in the database, so every server instance agrees.
 * - Sessions: an opaque 256-bit bearer token, stored as its SHA-256; it expires after `sessionTtlMs` and
 *   sign-out revokes it.
 */
import type { Transaction } from "kysely";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { forUpdate, transaction } from "../db/tx.js";
import { CloudError } from "../errors.js";
import type { Notifications } from "../notifications/service.js";
import { randomDigits, randomId, randomToken } from "../random.js";
import type { RateLimits } from "../ratelimit/service.js";
import { hmacSha256Hex, sameDigest, sha256Hex } from "../secrets.js";
import type { OtpSender } from "./otp-sender.js";
import { maskPhone, parseMainlandMobile } from "./phone.js";

const OTP_DIGITS = 6;
const SESSION_TOKEN_PREFIX = "tws";
const SESSION_TOKEN = /^tws_[A-Za-z0-9_-]{43}$/;

export interface AccountView {
  id: string;
  phone: string;
  createdAt: string;
}

export interface SignedIn {
  /** The bearer token: shown once, never stored. */
  token: string;
  expiresAt: string;
  account: AccountView;
  /** True when this sign-in created the account (sign-up). */
  created: boolean;
}

export interface SessionPrincipal {
  kind: "session";
  accountId: string;
  sessionId: string;
  expiresAt: number;
}

export interface CodeSent {
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

type VerifyOutcome =
  | { kind: "ok"; signedIn: SignedIn }
  | { kind: "wrong"; attemptsRemaining: number }
  | { kind: "locked"; retryAfterMs: number; justNow: boolean }
  | { kind: "no_code" };

function invalidPhone(): CloudError {
  return new CloudError(
    "invalid",
    "invalid_phone",
    "请输入中国大陆 11 位手机号码",
    "Enter an 11-digit mainland China mobile number",
  );
}

function lockedError(retryAfterMs: number): CloudError {
  const minutes = Math.ceil(retryAfterMs / 60_000);
  return new CloudError(
    "rate_limited",
    "otp_locked",
    `验证码错误次数过多，该号码已锁定，请 ${minutes} 分钟后再试`,
    `Too many wrong codes; this number is locked, try again in ${minutes} min`,
    { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) },
  );
}

export class AccountService {
  constructor(
    private readonly ctx: CloudContext,
    private readonly sender: OtpSender,
    private readonly rateLimits: RateLimits,
    private readonly notifications: Notifications,
    /** Key for the codes' HMAC; the same on every instance. */
    private readonly otpPepper: string,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  private codeHash(id: string, phone: string, code: string): string {
    return hmacSha256Hex(this.otpPepper, `${id}:${phone}:${code}`);
  }

  /** Locks (creating if needed) the number's guard row for the rest of the transaction. */
  private async lockGuard(trx: Transaction<Database>, phone: string) {
    await trx
      .insertInto("otp_guards")
      .values({ phone, failures: 0 })
      .onConflict((oc) => oc.column("phone").doNothing())
      .execute();
    return trx
      .selectFrom("otp_guards")
      .selectAll()
      .where("phone", "=", phone)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
  }

  /** Sends a new code to `phoneInput` (sign-up and sign-in alike; it does not say whether an account exists). */
  async requestCode(phoneInput: string, clientIp: string): Promise<CodeSent> {
    const parsed = parseMainlandMobile(phoneInput);
    if (!parsed.ok) throw invalidPhone();
    const phone = parsed.value;
    const policy = this.ctx.policy;
    await this.rateLimits.hit(`otp-ip:${clientIp}`, policy.otpRequestsPerIp);

    const code = await transaction(this.ctx.db.db, async (trx) => {
      const now = this.now();
      const guard = await this.lockGuard(trx, phone);
      if (guard.locked_until !== null && guard.locked_until > now)
        throw lockedError(guard.locked_until - now);
      if (guard.last_sent_at !== null && now - guard.last_sent_at < policy.otpResendMs) {
        const wait = Math.ceil((guard.last_sent_at + policy.otpResendMs - now) / 1000);
        throw new CloudError(
          "rate_limited",
          "otp_resend_too_soon",
          `验证码已发送，请 ${wait} 秒后再获取`,
          `A code was just sent; ask again in ${wait} s`,
          { retryAfterSeconds: wait },
        );
      }
      await this.rateLimits.hit(`otp-phone:${phone}`, policy.otpSendsPerNumber, trx);
      await trx
        .updateTable("otp_codes")
        .set({ consumed_at: now })
        .where("phone", "=", phone)
        .where("consumed_at", "is", null)
        .execute();
      const id = randomId(this.ctx.rng, "otp");
      const digits = randomDigits(this.ctx.rng, OTP_DIGITS);
      await trx
        .insertInto("otp_codes")
        .values({
          id,
          phone,
          code_hash: this.codeHash(id, phone, digits),
          created_at: now,
          expires_at: now + policy.otpTtlMs,
        })
        .execute();
      await trx.updateTable("otp_guards").set({ last_sent_at: now }).where("phone", "=", phone).execute();
      return digits;
    });

    // Sent after the commit: an SMS gateway is slow I/O and must not hold the guard's lock.
    try {
      await this.sender.send(phone, code);
    } catch (e) {
      this.ctx.log.error(
        { phone: maskPhone(phone), err: e instanceof Error ? e.message : "unknown" },
        "OTP send failed",
      );
      throw new CloudError(
        "unavailable",
        "otp_send_failed",
        "验证码发送失败，请稍后再试",
        "Could not send the code; try again later",
      );
    }
    return {
      expiresInSeconds: Math.floor(policy.otpTtlMs / 1000),
      resendAfterSeconds: Math.ceil(policy.otpResendMs / 1000),
    };
  }

  /** Checks the code; on success signs in (creating the account on first use) and returns a session. */
  async signIn(phoneInput: string, code: string, clientIp: string): Promise<SignedIn> {
    const parsed = parseMainlandMobile(phoneInput);
    if (!parsed.ok) throw invalidPhone();
    if (!new RegExp(`^\\d{${OTP_DIGITS}}$`).test(code)) {
      throw new CloudError("invalid", "invalid_code_format", "验证码应为 6 位数字", "The code is 6 digits");
    }
    const phone = parsed.value;
    const policy = this.ctx.policy;
    await this.rateLimits.hit(`signin-ip:${clientIp}`, policy.signInsPerIp);

    // The transaction commits a wrong guess before the error is thrown: a failure must count.
    const outcome = await transaction(this.ctx.db.db, async (trx): Promise<VerifyOutcome> => {
      const now = this.now();
      const guard = await this.lockGuard(trx, phone);
      if (guard.locked_until !== null && guard.locked_until > now) {
        return { kind: "locked", retryAfterMs: guard.locked_until - now, justNow: false };
      }
      // A run of failures ends when a lock ends, or when the last failure is older than a lock would be.
      const stale = guard.last_failure_at === null || now - guard.last_failure_at >= policy.otpLockMs;
      const failures = guard.locked_until !== null || stale ? 0 : guard.failures;

      const live = await trx
        .selectFrom("otp_codes")
        .select(["id", "code_hash"])
        .where("phone", "=", phone)
        .where("consumed_at", "is", null)
        .where("expires_at", ">", now)
        .orderBy("created_at", "desc")
        .executeTakeFirst();
      if (!live) return { kind: "no_code" };

      if (!sameDigest(live.code_hash, this.codeHash(live.id, phone, code))) {
        const total = failures + 1;
        if (total >= policy.otpMaxFailures) {
          await trx
            .updateTable("otp_guards")
            .set({ failures: total, last_failure_at: now, locked_until: now + policy.otpLockMs })
            .where("phone", "=", phone)
            .execute();
          await trx.updateTable("otp_codes").set({ consumed_at: now }).where("id", "=", live.id).execute();
          return { kind: "locked", retryAfterMs: policy.otpLockMs, justNow: true };
        }
        await trx
          .updateTable("otp_guards")
          .set({ failures: total, last_failure_at: now, locked_until: null })
          .where("phone", "=", phone)
          .execute();
        return { kind: "wrong", attemptsRemaining: policy.otpMaxFailures - total };
      }

      await trx.updateTable("otp_codes").set({ consumed_at: now }).where("id", "=", live.id).execute();
      await trx
        .updateTable("otp_guards")
        .set({ failures: 0, last_failure_at: null, locked_until: null })
        .where("phone", "=", phone)
        .execute();
      let account = await trx
        .selectFrom("accounts")
        .selectAll()
        .where("phone", "=", phone)
        .executeTakeFirst();
      const created = !account;
      if (!account) {
        account = { id: randomId(this.ctx.rng, "acc"), phone, created_at: now };
        await trx.insertInto("accounts").values(account).execute();
      }
      const token = randomToken(this.ctx.rng, SESSION_TOKEN_PREFIX);
      const expiresAt = now + policy.sessionTtlMs;
      await trx
        .insertInto("sessions")
        .values({
          id: randomId(this.ctx.rng, "ses"),
          account_id: account.id,
          token_hash: sha256Hex(token),
          created_at: now,
          expires_at: expiresAt,
        })
        .execute();
      await this.notifications.publish(
        account.id,
        created ? "account.created" : "account.signed_in",
        {},
        trx,
      );
      return {
        kind: "ok",
        signedIn: {
          token,
          expiresAt: new Date(expiresAt).toISOString(),
          account: { id: account.id, phone, createdAt: new Date(account.created_at).toISOString() },
          created,
        },
      };
    });

    switch (outcome.kind) {
      case "ok":
        return outcome.signedIn;
      case "no_code":
        throw new CloudError(
          "invalid",
          "otp_expired",
          "验证码已失效或未获取，请重新获取",
          "The code has expired or was never sent; ask for a new one",
        );
      case "wrong":
        throw new CloudError(
          "invalid",
          "otp_wrong",
          `验证码错误，还可尝试 ${outcome.attemptsRemaining} 次`,
          `Wrong code; ${outcome.attemptsRemaining} attempt(s) left`,
          { attemptsRemaining: outcome.attemptsRemaining },
        );
      case "locked":
        if (outcome.justNow)
          this.ctx.log.warn({ phone: maskPhone(phone) }, "number locked after wrong codes");
        throw lockedError(outcome.retryAfterMs);
    }
  }

  /** Resolves a bearer token to its session; throws `unauthenticated` if unknown, revoked or expired. */
  async authenticate(token: string): Promise<SessionPrincipal> {
    const invalid = () =>
      new CloudError(
        "unauthenticated",
        "session_invalid",
        "登录状态无效，请重新登录",
        "Not signed in; sign in again",
      );
    if (!SESSION_TOKEN.test(token)) throw invalid();
    const row = await this.ctx.db.db
      .selectFrom("sessions")
      .select(["id", "account_id", "expires_at", "revoked_at"])
      .where("token_hash", "=", sha256Hex(token))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) throw invalid();
    if (row.expires_at <= this.now()) {
      throw new CloudError(
        "unauthenticated",
        "session_expired",
        "登录已过期，请重新登录",
        "The session has expired; sign in again",
      );
    }
    return { kind: "session", accountId: row.account_id, sessionId: row.id, expiresAt: row.expires_at };
  }

  /** True while the session is neither revoked nor expired. */
  async isSessionLive(sessionId: string): Promise<boolean> {
    const row = await this.ctx.db.db
      .selectFrom("sessions")
      .select(["revoked_at", "expires_at"])
      .where("id", "=", sessionId)
      .executeTakeFirst();
    return row !== undefined && row.revoked_at === null && row.expires_at > this.now();
  }

  async signOut(sessionId: string): Promise<void> {
    await this.ctx.db.db
      .updateTable("sessions")
      .set({ revoked_at: this.now() })
      .where("id", "=", sessionId)
      .where("revoked_at", "is", null)
      .execute();
  }

  async get(accountId: string): Promise<AccountView> {
    const row = await this.ctx.db.db
      .selectFrom("accounts")
      .selectAll()
      .where("id", "=", accountId)
      .executeTakeFirst();
    if (!row) throw new CloudError("not_found", "account_not_found", "账户不存在", "No such account");
    return { id: row.id, phone: row.phone, createdAt: new Date(row.created_at).toISOString() };
  }

  /** Deletes codes and sessions that can no longer be used. */
  async purgeExpired(): Promise<number> {
    const now = this.now();
    const codes = await this.ctx.db.db
      .deleteFrom("otp_codes")
      .where("expires_at", "<=", now)
      .executeTakeFirst();
    const sessions = await this.ctx.db.db
      .deleteFrom("sessions")
      .where("expires_at", "<=", now)
      .executeTakeFirst();
    return Number(codes.numDeletedRows) + Number(sessions.numDeletedRows);
  }
}
