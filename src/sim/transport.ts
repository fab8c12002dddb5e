/**
 * How the simulator's phones and terminals reach the cloud: over HTTP (`fetch`), exactly as a phone or a POS
 * does. Served beside the API by `npm start`, the simulator is given `injectFetch(app)`: the same HTTP
 * requests (method, path, headers, body bytes) dispatched through the server's router in memory, so no port
 * has to be known and every request still passes the cloud's schemas, authentication and signatures.
 *
 * `SessionClient` is the user's side: the web app's session token, passed on per request (the simulator
 * never keeps it), for the few user actions a phone's wallet makes on its user's behalf.
 */
import type { FastifyInstance } from "fastify";
import { TapwalletError } from "../core/errors.js";
import { CloudRequestError, type Fetch } from "../device/index.js";

/** A `fetch` that answers through `app.inject` (the host of the URL is ignored: it is this server). */
export function injectFetch(app: Pick<FastifyInstance, "inject">): Fetch {
  return async (url, init) => {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const method = (init.method ?? "GET").toUpperCase() as "GET" | "POST" | "PATCH" | "DELETE";
    const res = await app.inject({
      method,
      url: target.pathname + target.search,
      headers,
      ...(typeof init.body === "string" ? { payload: init.body } : {}),
    });
    const out = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      out.set(name, Array.isArray(value) ? value.join(", ") : String(value));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304 || res.rawPayload.length === 0;
    return new Response(empty ? null : new Uint8Array(res.rawPayload), {
      status: res.statusCode,
      headers: out,
    });
  };
}

export interface Account {
  id: string;
  /** The account's mobile number, as the cloud returns it. */
  phone: string;
}

/** The cloud's answer as the simulator passes it on: the cloud's own error, or the JSON. */
async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (response.ok) return json as T;
  const e = json as { error?: unknown; message?: { zh?: unknown; en?: unknown }; details?: unknown } | null;
  if (
    e &&
    typeof e.error === "string" &&
    typeof e.message?.zh === "string" &&
    typeof e.message.en === "string"
  )
    throw new CloudRequestError(
      e.error,
      e.message.zh,
      e.message.en,
      response.status,
      typeof e.details === "object" && e.details !== null
        ? (e.details as Record<string, unknown>)
        : undefined,
    );
  throw new TapwalletError(
    "cloud_bad_answer",
    `钱包云端的应答无法识别（HTTP ${response.status}）`,
    `the wallet cloud's answer was not understood (HTTP ${response.status})`,
  );
}

/** User actions with the caller's session token (`Authorization: Bearer …`), never stored. */
export class SessionClient {
  constructor(
    private readonly cloudUrl: string,
    private readonly fetchFn: Fetch,
    readonly token: string,
  ) {}

  async call<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchFn(this.cloudUrl.replace(/\/+$/, "") + path, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
    } catch {
      throw new TapwalletError("cloud_unreachable", "无法连接钱包云端", "cannot reach the wallet cloud");
    }
    return parse<T>(response);
  }

  /** Who the token belongs to (the cloud's 401 when it does not belong to anyone any more). */
  me(): Promise<Account> {
    return this.call<Account>("GET", "/api/v1/me");
  }
}
