/**
 * The cloud's limits in one place, each a named number (TigerBeetle style: explicit limits). Tests and
 * deployments override any of them through `buildServer({ policy })`.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface RateLimit {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

export interface CloudPolicy {
  /** A session token's lifetime from sign-in. */
  sessionTtlMs: number;
  /** A one-time code's lifetime from sending. */
  otpTtlMs: number;
  /** Minimum time between two codes sent to one number. */
  otpResendMs: number;
  /** Wrong codes in a row (per number) before the number is locked. */
  otpMaxFailures: number;
  /** How long a number stays locked after too many wrong codes. */
  otpLockMs: number;
  /** Codes sent per number per window (SMS cost and abuse). */
  otpSendsPerNumber: RateLimit;
  /** Code requests per client IP. */
  otpRequestsPerIp: RateLimit;
  /** Sign-in attempts per client IP (guessing across many numbers). */
  signInsPerIp: RateLimit;
  /** Device bindings per account per window. */
  bindsPerAccount: RateLimit;
  /** A signed request's timestamp may differ from the server's clock by at most this much. */
  signatureWindowMs: number;
  /** Active devices one account may have. */
  maxDevicesPerAccount: number;
  /** How often a notification stream looks for new events. */
  notificationPollMs: number;
  /** A comment line sent on an idle notification stream so proxies keep it open. */
  notificationHeartbeatMs: number;
  /** How often an open notification stream re-checks that its session or device is still valid. */
  notificationRecheckMs: number;
  /** How often each server instance deletes expired codes, sessions, nonces and rate-limit windows. */
  janitorIntervalMs: number;
  /** Phones' imported public keys each instance keeps (devices/key-cache.ts); 0 imports every time. */
  deviceKeyCacheSize: number;
}

const defaultPolicy: CloudPolicy = {
  sessionTtlMs: 30 * DAY,
  otpTtlMs: 5 * MINUTE,
  otpResendMs: 60 * SECOND,
  otpMaxFailures: 5,
  otpLockMs: 15 * MINUTE,
  otpSendsPerNumber: { limit: 10, windowMs: HOUR },
  otpRequestsPerIp: { limit: 30, windowMs: 10 * MINUTE },
  signInsPerIp: { limit: 60, windowMs: 10 * MINUTE },
  bindsPerAccount: { limit: 10, windowMs: HOUR },
  signatureWindowMs: 5 * MINUTE,
  maxDevicesPerAccount: 10,
  notificationPollMs: 1 * SECOND,
  notificationHeartbeatMs: 15 * SECOND,
  notificationRecheckMs: 30 * SECOND,
  janitorIntervalMs: 5 * MINUTE,
  deviceKeyCacheSize: 10_000,
};

export function resolvePolicy(overrides: Partial<CloudPolicy> = {}): CloudPolicy {
  return { ...defaultPolicy, ...overrides };
}
