/**
 * A remote issuer: the POS's online authorisation sent over HTTP to the cloud's issuer host
 * (`POST /api/v1/issuer/authorisations`, the JSON shapes of authorisation.ts, an acquirer API key in
 * `x-api-key`). A request that gets no answer (network error, timeout, 5xx) is sent again, unchanged: the
 * issuer answers a retry of the same terminal id + STAN + date with its first answer and charges once.
 * The answer is untrusted input: anything that is not a well-formed authorisation response is an error,
 * which the POS turns into a decline ("the issuer did not answer").
 *
 * `clear(batch)` uploads a clearing batch of offline approvals (`POST /api/v1/issuer/clearing`) the same way:
 * resending is safe, since the issuer clears each (token, ATC) once and answers a record sent again as a
 * duplicate.
 */
import { TapwalletError } from "../../core/errors.js";
import type { AuthorisationRequest, AuthorisationResponse, Issuer } from "../authorisation.js";
import {
  CLEARING_REASONS,
  type ClearingBatch,
  type ClearingReason,
  type ClearingResult,
} from "../clearing.js";

export const AUTHORISATION_PATH = "/api/v1/issuer/authorisations";
export const CLEARING_PATH = "/api/v1/issuer/clearing";

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

/** The issuer's answers to a clearing batch, one per record in its order, checked field by field. */
export function parseClearingResults(v: unknown, count: number): ClearingResult[] | null {
  const results = (v as { results?: unknown } | null)?.results;
  if (typeof v !== "object" || v === null || !Array.isArray(results) || results.length !== count) return null;
  const out: ClearingResult[] = [];
  for (const [i, x] of results.entries()) {
    const r = x as Record<string, unknown> | null;
    if (typeof r !== "object" || r === null || r["index"] !== i) return null;
    const status = r["status"];
    const reason = r["reason"];
    if (status !== "cleared" && status !== "duplicate" && status !== "refused") return null;
    if (!isText(reason) || !Object.hasOwn(CLEARING_REASONS, reason)) return null;
    const c: ClearingResult = {
      status,
      reason: reason as ClearingReason,
      message: { ...CLEARING_REASONS[reason as ClearingReason] },
    };
    if (isText(r["tokenLast4"])) c.tokenLast4 = r["tokenLast4"];
    for (const k of ["atc", "amount", "shortfall"] as const)
      if (Number.isSafeInteger(r[k])) c[k] = r[k] as number;
    if (isText(r["clearingId"])) c.clearingId = r["clearingId"];
    for (const k of ["paidAt", "clearedAt"] as const) {
      const t = r[k];
      if (isText(t) && !Number.isNaN(Date.parse(t))) c[k] = t;
    }
    out.push(c);
  }
  return out;
}

export class IssuerClient implements Issuer {
  private readonly base: URL;

  constructor(private readonly o: IssuerClientOptions) {
    this.base = new URL(o.url);
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:")
      throw new RangeError("the issuer URL must be http or https");
  }

  async authorise(request: AuthorisationRequest): Promise<AuthorisationResponse> {
    const extra: Record<string, string> = {};
    if (this.o.idempotencyKey) extra["idempotency-key"] = this.o.idempotencyKey(request);
    const json = await this.exchange(AUTHORISATION_PATH, request, extra);
    const parsed = parseAuthorisationResponse(json);
    if (!parsed) throw failure("发卡行应答格式错误", "the issuer's answer is malformed");
    return parsed;
  }

  /** Uploads a clearing batch; the issuer's answer per record, in the batch's order. */
  async clear(batch: ClearingBatch): Promise<ClearingResult[]> {
    const json = await this.exchange(CLEARING_PATH, batch, {});
    const parsed = parseClearingResults(json, batch.records.length);
    if (!parsed) throw failure("发卡行应答格式错误", "the issuer's answer is malformed");
    return parsed;
  }

  /** POSTs `request` and returns the 200 answer's JSON, resending while no answer comes (see the top). */
  private async exchange(path: string, request: unknown, extra: Record<string, string>): Promise<unknown> {
    const send = this.o.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
    const endpoint = new URL(path, this.base).toString();
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-api-key": this.o.apiKey,
      ...extra,
    };
    const body = JSON.stringify(request);
    const attempts = 1 + Math.max(0, this.o.retries ?? 2);
    let last: TapwalletError = failure("发卡行无应答", "the issuer did not answer");
    for (let i = 0; i < attempts; i++) {
      let res: Response;
      try {
        res = await send(endpoint, {
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
      return json;
    }
    throw last;
  }
}
