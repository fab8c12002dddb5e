/**
 * The POS's remote issuer over HTTP: the request as sent, retries of an unanswered request (unchanged, so
 * the issuer can recognise it), refusals not retried, and the issuer's answer treated as untrusted input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuthorisationRequest } from "../authorisation.js";
import { AUTHORISATION_PATH, IssuerClient, parseAuthorisationResponse } from "./issuer-client.js";

const request: AuthorisationRequest = {
  stan: 12,
  terminalId: "TW000001",
  merchantId: "898310048160001",
  amount: 1234,
  currency: "0156",
  track2: "6299770000000018D29122010000000000000F",
  panSequenceNumber: "00",
  posEntryMode: "07",
  field55: "9F2608AABBCCDDEEFF0011",
  cvm: "none",
  transmittedAt: "2026-03-01T08:00:00.000Z",
};

const approved = {
  responseCode: "00",
  approved: true,
  reason: "approved",
  message: { zh: "交易成功", en: "approved" },
  authorisationCode: "123456",
  issuerAuthenticationData: "0011223344556677" + "3030",
  replayed: false,
};

type Call = { url: string; init: RequestInit };

function fakeFetch(answers: (() => Response | Promise<Response>)[]) {
  const calls: Call[] = [];
  const f = async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (!next) throw new Error("no more answers");
    return next();
  };
  return { f, calls };
}

const jsonResponse = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("IssuerClient", () => {
  it("posts the request with the API key and returns the issuer's answer", async () => {
    const { f, calls } = fakeFetch([() => jsonResponse(200, approved)]);
    const client = new IssuerClient({
      url: "http://cloud.example:8080/",
      apiKey: "twk_key_for_tests_00000000",
      fetch: f,
    });
    const r = await client.authorise(request);
    expect(r).toEqual({
      responseCode: "00",
      approved: true,
      reason: "approved",
      message: { zh: "交易成功", en: "approved" },
      authorisationCode: "123456",
      issuerAuthenticationData: "00112233445566773030",
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(`http://cloud.example:8080${AUTHORISATION_PATH}`);
    const headers = calls[0]!.init.headers as Record<string, string>;
    expect(headers["x-api-key"]).toBe("twk_key_for_tests_00000000");
    expect(headers["idempotency-key"]).toBeUndefined();
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual(request);
  });

  it("sends an unanswered request again, byte for byte, and gives up after its retries", async () => {
    const { f, calls } = fakeFetch([
      () => Promise.reject(new TypeError("connection reset")),
      () => jsonResponse(503, { error: "x" }),
      () => jsonResponse(200, approved),
    ]);
    const client = new IssuerClient({
      url: "http://cloud.example",
      apiKey: "twk_key_for_tests_00000000",
      fetch: f,
      retries: 2,
      idempotencyKey: (r) => `${r.terminalId}-${r.stan}`,
    });
    expect((await client.authorise(request)).approved).toBe(true);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => String(c.init.body))).size).toBe(1);
    expect(
      calls.every((c) => (c.init.headers as Record<string, string>)["idempotency-key"] === "TW000001-12"),
    ).toBe(true);

    const down = fakeFetch([
      () => Promise.reject(new TypeError("refused")),
      () => Promise.reject(new TypeError("refused")),
    ]);
    const once = new IssuerClient({
      url: "http://cloud.example",
      apiKey: "twk_key_for_tests_00000000",
      fetch: down.f,
      retries: 1,
    });
    await expect(once.authorise(request)).rejects.toMatchObject({ code: "issuer_unavailable" });
    expect(down.calls).toHaveLength(2);
  });

  it("does not retry a refusal of the request itself, and says why", async () => {
    const { f, calls } = fakeFetch([
      () =>
        jsonResponse(401, {
          error: "api_key_invalid",
          message: { zh: "API 密钥无效", en: "Invalid API key" },
        }),
    ]);
    const client = new IssuerClient({
      url: "http://cloud.example",
      apiKey: "twk_key_for_tests_00000000",
      fetch: f,
    });
    const e = await client.authorise(request).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: "issuer_unavailable",
      details: { status: 401, error: "api_key_invalid" },
    });
    expect(String((e as Error).message)).toContain("Invalid API key");
    expect(calls).toHaveLength(1);
  });

  it("refuses a malformed answer and a non-HTTP URL", async () => {
    const { f } = fakeFetch([() => jsonResponse(200, { ...approved, approved: false })]);
    const client = new IssuerClient({
      url: "http://cloud.example",
      apiKey: "twk_key_for_tests_00000000",
      fetch: f,
    });
    await expect(client.authorise(request)).rejects.toMatchObject({ code: "issuer_unavailable" });
    expect(() => new IssuerClient({ url: "file:///etc/passwd", apiKey: "k" })).toThrow(RangeError);
  });

  it("parses any JSON without throwing, keeping only well-formed answers", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            responseCode: fc.oneof(fc.constantFrom("00", "05", "51"), fc.string()),
            approved: fc.oneof(fc.boolean(), fc.integer()),
            reason: fc.oneof(fc.string(), fc.integer()),
            message: fc.oneof(fc.record({ zh: fc.string(), en: fc.string() }), fc.string()),
            authorisationCode: fc.option(fc.string(), { nil: undefined }),
            issuerAuthenticationData: fc.option(fc.string(), { nil: undefined }),
          }),
        ),
        (v) => {
          const r = parseAuthorisationResponse(v);
          if (r) {
            expect(r.responseCode).toMatch(/^[0-9A-Z]{2}$/);
            expect(r.approved).toBe(r.responseCode === "00");
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
