/** The API client: paths, headers for each caller, and every failure turned into an ApiError. */
import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, queryString } from "./client.js";
import { ROUTES, routePath } from "./routes.js";

function fakeFetch(
  status: number,
  body: unknown,
  seen: { url?: string; init?: RequestInit } = {},
): typeof fetch {
  return (async (url: string, init: RequestInit) => {
    seen.url = url;
    seen.init = init;
    return new Response(body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  }) as unknown as typeof fetch;
}

describe("routes", () => {
  it("fills and encodes path parameters under the API's or the simulator's prefix", () => {
    expect(routePath(ROUTES.removeDevice, { deviceId: "dev_1/../x" })).toBe("/api/v1/devices/dev_1%2F..%2Fx");
    expect(() => routePath(ROUTES.removeDevice)).toThrow(/deviceId/);
    expect(routePath(ROUTES.simTap, { phoneId: "sim_0123" })).toBe("/sim/v1/phones/sim_0123/taps");
    expect(routePath(ROUTES.transitProducts)).toBe("/api/v1/transit/products");
    expect(queryString({ after: 0, limit: 100, skip: undefined })).toBe("?after=0&limit=100");
  });
});

describe("ApiClient", () => {
  it("sends the session token on session routes only", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const client = new ApiClient({ token: () => "tws_abc", fetch: fakeFetch(200, { ok: 1 }, seen) });
    await client.call(ROUTES.me);
    expect((seen.init?.headers as Record<string, string>)["authorization"]).toBe("Bearer tws_abc");
    await client.call(ROUTES.requestCode, { body: { phone: "13800138000" } });
    expect((seen.init?.headers as Record<string, string>)["authorization"]).toBeUndefined();
    expect(seen.init?.body).toBe('{"phone":"13800138000"}');
  });

  it("turns the server's error body into an ApiError with both languages", async () => {
    const body = {
      error: "otp_wrong",
      message: { zh: "验证码错误", en: "Wrong code" },
      details: { attemptsRemaining: 4 },
    };
    const client = new ApiClient({ token: () => undefined, fetch: fakeFetch(400, body) });
    const e = await client.call(ROUTES.signIn, { body: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({
      status: 400,
      code: "otp_wrong",
      messages: body.message,
      details: body.details,
    });
  });

  it("reports an ended session once, and only for session routes", async () => {
    const ended: string[] = [];
    const body = { error: "session_expired", message: { zh: "登录已过期", en: "Session expired" } };
    const client = new ApiClient({
      token: () => "tws_old",
      fetch: fakeFetch(401, body),
      onSessionEnded: (e) => ended.push(e.code),
    });
    await expect(client.call(ROUTES.me)).rejects.toThrow(ApiError);
    await expect(client.call(ROUTES.signIn, { body: {} })).rejects.toThrow(ApiError);
    expect(ended).toEqual(["session_expired"]);
  });

  it("names network failures and answers that are not our JSON", async () => {
    const down = new ApiClient({
      token: () => undefined,
      fetch: (async () => {
        throw new TypeError("fetch failed");
      }) as unknown as typeof fetch,
    });
    await expect(down.call(ROUTES.models)).rejects.toMatchObject({ code: "network_error", status: 0 });
    const proxy = new ApiClient({
      token: () => undefined,
      fetch: fakeFetch(502, "<html>bad gateway</html>"),
    });
    await expect(proxy.call(ROUTES.models)).rejects.toMatchObject({ code: "bad_response", status: 502 });
  });

  it("counts requests in flight for the activity bar", async () => {
    const counts: number[] = [];
    const client = new ApiClient({ token: () => undefined, fetch: fakeFetch(204, undefined) });
    client.subscribe((n) => counts.push(n));
    await client.call(ROUTES.signOut);
    expect(counts).toEqual([1, 0]);
    expect(client.pending).toBe(0);
  });
});
