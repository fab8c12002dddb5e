/**
 * The one place the web app talks HTTP to the server (the cloud's API and the simulator beside it).
 * `call(spec, …)` sends JSON, adds the session's bearer token as the route asks, and turns every failure into
 * an `ApiError`: the server's `{error, message: {zh, en}}`, or a local code (`network_error`,
 * `bad_response`) whose text lives in the i18n dictionary. It also counts requests in flight, for the
 * activity bar.
 */
import { routePath, type RouteSpec } from "./routes.js";
import type { ApiErrorBody } from "./types.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The server's message in both languages; absent for local codes. */
    readonly messages?: { zh: string; en: string },
    readonly details?: Record<string, unknown>,
  ) {
    super(messages ? `${code}: ${messages.en}` : code);
    this.name = "ApiError";
  }
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ApiClientOptions {
  /** Origin of the cloud; empty for the page's own origin (the server serves the app). */
  baseUrl?: string;
  /** The current session's bearer token. */
  token(): string | undefined;
  /** Called when the server says the session is no longer valid. */
  onSessionEnded?(error: ApiError): void;
  fetch?: typeof fetch;
}

const SESSION_ENDED = new Set(["session_expired", "session_invalid", "unauthenticated"]);

function isErrorBody(x: unknown): x is ApiErrorBody {
  if (typeof x !== "object" || x === null) return false;
  const o = x as Record<string, unknown>;
  const m = o["message"] as Record<string, unknown> | undefined;
  return typeof o["error"] === "string" && typeof m?.["zh"] === "string" && typeof m["en"] === "string";
}

export function queryString(query: CallOptions["query"]): string {
  if (!query) return "";
  const pairs = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined);
  if (pairs.length === 0) return "";
  return "?" + new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, String(v)])).toString();
}

export class ApiClient {
  private inFlight = 0;
  private readonly listeners = new Set<(n: number) => void>();

  constructor(private readonly options: ApiClientOptions) {}

  /** Requests in flight now; `subscribe` hears every change. */
  get pending(): number {
    return this.inFlight;
  }

  subscribe(listener: (n: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private track(delta: number): void {
    this.inFlight += delta;
    for (const l of this.listeners) l(this.inFlight);
  }

  /** Headers for a route's caller, plus the full URL. */
  prepare(
    spec: RouteSpec,
    opts: CallOptions = {},
  ): { url: string; headers: Record<string, string>; body?: string } {
    const path = routePath(spec, opts.params) + queryString(opts.query);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (spec.caller === "session") {
      const token = this.options.token();
      if (token) headers["authorization"] = `Bearer ${token}`;
    }
    return { url: (this.options.baseUrl ?? "") + path, headers, ...(body === undefined ? {} : { body }) };
  }

  /** Sends the request and returns the parsed JSON (undefined for 204). */
  async call<T>(spec: RouteSpec, opts: CallOptions = {}): Promise<T> {
    const doFetch = this.options.fetch ?? globalThis.fetch.bind(globalThis);
    this.track(1);
    try {
      const { url, headers, body } = this.prepare(spec, opts);
      let response: Response;
      try {
        response = await doFetch(url, { method: spec.method, headers, body, signal: opts.signal });
      } catch (e) {
        if (opts.signal?.aborted) throw new ApiError(0, "aborted");
        throw new ApiError(0, "network_error", undefined, {
          cause: e instanceof Error ? e.message : String(e),
        });
      }
      if (response.status === 204) return undefined as T;
      let parsed: unknown;
      try {
        parsed = await response.json();
      } catch {
        throw new ApiError(response.status, "bad_response");
      }
      if (!response.ok) {
        const error = isErrorBody(parsed)
          ? new ApiError(response.status, parsed.error, parsed.message, parsed.details)
          : new ApiError(response.status, "bad_response");
        if (response.status === 401 && spec.caller === "session" && SESSION_ENDED.has(error.code)) {
          this.options.onSessionEnded?.(error);
        }
        throw error;
      }
      return parsed as T;
    } finally {
      this.track(-1);
    }
  }
}
