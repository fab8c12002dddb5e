/**
 * Errors the cloud's services raise. Each has a stable code, a message in zh-CN and English, and a kind
 * the HTTP layer maps to a status. Messages never carry a key, a code, a token or a PAN.
 */
import { TapwalletError } from "../core/errors.js";

export type ErrorKind =
  | "invalid" // 400: the request is malformed or breaks a rule of its own
  | "unauthenticated" // 401: no valid session or device signature
  | "refused" // 403: a policy refuses it (unsupported model, region)
  | "not_found" // 404: absent, or belongs to someone else (we do not say which)
  | "conflict" // 409: clashes with the current state (already bound, idempotency key reused)
  | "too_large" // 413
  | "rate_limited" // 429: too many requests or attempts; `details.retryAfterSeconds` says when
  | "unavailable"; // 503: a dependency (SMS sender) failed

export class CloudError extends TapwalletError {
  constructor(
    readonly kind: ErrorKind,
    code: string,
    zh: string,
    en: string,
    details?: Record<string, unknown>,
  ) {
    super(code, zh, en, details);
    this.name = "CloudError";
  }
}

export function isCloudError(e: unknown): e is CloudError {
  return e instanceof CloudError;
}
