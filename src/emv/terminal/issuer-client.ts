/**
 * A remote issuer: the POS's online authorisation sent over HTTP to the cloud's issuer host
 * (`POST /api/v1/issuer/authorisations`, the JSON shapes of authorisation.ts, an acquirer API key in
 * `x-api-key`). A request that gets no answer (network error, timeout, 5xx) is sent again, unchanged: the
 * issuer answers a retry of the same terminal id + STAN + date with its first answer and charges once.
 * The answer is untrusted input: anything that is not a well-formed authorisation response is an error,
 * which the POS turns into a decline ("the issuer did not answer").
 */
import { TapwalletError } from "../../core/errors.js";
import type { AuthorisationRequest, AuthorisationResponse, Issuer } from "../authorisation.js";

export const AUTHORISATION_PATH = "/api/v1/issuer/authorisations";

export interface IssuerClientOptions {
  /** The cloud's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The acquirer's API key (twk_…). */
  apiKey: string;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Attempts after the first when no answer came (default 2). */
  retries?: number;
  /** An explicit idempotency key per request (default: none — the issuer keys on terminal, STAN, date). */
  idempotencyKey?: (request: AuthorisationRequest) => string;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

function failure(zh: string, en: string, details?: Record<string, unknown>): TapwalletError {
  return new TapwalletError("issuer_unavailable", zh, en, details);
}

const isText = (v: unknown): v is string => typeof v === "string";

/** The issuer's JSON, checked field by field. */
export function parseAuthorisationResponse(v: unknown): AuthorisationResponse | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  const message = o["message"] as Record<string, unknown> | undefined;
  if (!isText(o["responseCode"]) || !/^[0-9A-Z]{2}$/.test(o["responseCode"])) return null;
  if (typeof o["approved"] !== "boolean" || o["approved"] !== (o["responseCode"] === "00")) return null;
  if (!isText(o["reason"]) || typeof message !== "object" || message === null) return null;
  if (!isText(message["zh"]) || !isText(message["en"])) return null;
  const r: AuthorisationResponse = {
    responseCode: o["responseCode"],
    approved: o["approved"],
    reason: o["reason"],
    message: { zh: message["zh"], en: message["en"] },
  };
  if (o["authorisationCode"] !== undefined) {
    if (!isText(o["authorisationCode"]) || !/^[0-9A-Za-z ]{1,6}$/.test(o["authorisationCode"])) return null;
    r.authorisationCode = o["authorisationCode"];
  }
  if (o["issuerAuthenticationData"] !== undefined) {
    if (!isText(o["issuerAuthenticationData"]) || !/^[0-9A-Fa-f]{2,32}$/.test(o["issuerAuthenticationData"]))
      return null;
    r.issuerAuthenticationData = o["issuerAuthenticationData"].toUpperCase();
  }
  return r;
}

export class IssuerClient implements Issuer {
  private readonly endpoint: string;

  constructor(private readonly o: IssuerClientOptions) {
    const base = new URL(o.url);
    if (base.protocol !== "http:" && base.protocol !== "https:")
      throw new RangeError("the issuer URL must be http or https");
    this.endpoint = new URL(AUTHORISATION_PATH, base).toString();
  }

  async authorise(request: AuthorisationRequest): Promise<AuthorisationResponse> {
    const send = this.o.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-api-key": this.o.apiKey,
    };
    if (this.o.idempotencyKey) headers["idempotency-key"] = this.o.idempotencyKey(request);
    const body = JSON.stringify(request);
    const attempts = 1 + Math.max(0, this.o.retries ?? 2);
    let last: TapwalletError = failure("发卡行无应答", "the issuer did not answer");
    for (let i = 0; i < attempts; i++) {
      let res: Response;
      try {
        res = await send(this.endpoint, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        });
      } catch {
        last = failure("发卡行无应答", "the issuer did not answer");
        continue;
      }
      let json: unknown;
      try {
        json = await res.json();
      } catch {
        json = undefined;
      }
      if (res.status >= 500) {
        last = failure(`发卡行出错（HTTP ${res.status}）`, `the issuer failed (HTTP ${res.status})`);
        continue;
      }
      if (res.status !== 200) {
        // A refusal of the request itself (bad key, malformed, conflicting retry): sending it again won't help.
        const e = json as { error?: unknown; message?: { zh?: unknown; en?: unknown } } | undefined;
        const zh = isText(e?.message?.zh) ? e.message.zh : "";
        const en = isText(e?.message?.en) ? e.message.en : "";
        throw failure(
          `发卡行拒绝了请求（HTTP ${res.status}）${zh}`,
          `the issuer refused the request (HTTP ${res.status}) ${en}`.trim(),
          { status: res.status, error: isText(e?.error) ? e.error : null },
        );
      }
      const parsed = parseAuthorisationResponse(json);
      if (!parsed) throw failure("发卡行应答格式错误", "the issuer's answer is malformed");
      return parsed;
    }
    throw last;
  }
}
