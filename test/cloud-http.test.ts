/**
 * The HTTP surface: OpenAPI at /docs and /docs/json with a schema on every route, and errors as 4xx
 * `{error, message: {zh, en}}` for oversized, malformed and invalid requests (never a stack, never a
 * secret). On SQLite and PostgreSQL.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { backends, json, makeCloud, type TestCloud } from "./cloud-harness.js";

interface Operation {
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  security?: unknown[];
}

const errorShape = {
  error: expect.stringMatching(/^[a-z_]+$/),
  message: { zh: expect.any(String), en: expect.any(String) },
};

for (const backend of backends) {
  describe.skipIf(backend.skip)(`http surface on ${backend.name}`, () => {
    let cloud!: TestCloud;
    freshEachTest(
      () => makeCloud(backend, { bodyLimit: 4096 }),
      (c) => (cloud = c),
    );

    it("serves the OpenAPI UI at /docs and its JSON at /docs/json", async () => {
      const ui = await cloud.app.inject({ method: "GET", url: "/docs" });
      expect([200, 302]).toContain(ui.statusCode);
      const page =
        ui.statusCode === 302
          ? await cloud.app.inject({ method: "GET", url: `/docs/${ui.headers.location}` })
          : ui;
      expect(page.body).toMatch(/swagger/i);
      const doc = await cloud.app.inject({ method: "GET", url: "/docs/json" });
      expect(doc.statusCode).toBe(200);
      const spec = json<{ openapi: string; paths: Record<string, Record<string, Operation>> }>(doc);
      expect(spec.openapi).toBe("3.0.3");
      expect(Object.keys(spec.paths)).toEqual(
        expect.arrayContaining([
          "/healthz",
          "/api/v1/auth/code",
          "/api/v1/auth/session",
          "/api/v1/me",
          "/api/v1/models",
          "/api/v1/devices",
          "/api/v1/devices/{deviceId}",
          "/api/v1/devices/{deviceId}/lost",
          "/api/v1/device",
          "/api/v1/device/checkin",
          "/api/v1/notifications",
          "/api/v1/notifications/stream",
        ]),
      );
    });

    it("documents a schema for every route: responses (success and errors) and every request body", async () => {
      const spec = json<{ paths: Record<string, Record<string, Operation>> }>(
        await cloud.app.inject({ method: "GET", url: "/docs/json" }),
      );
      let operations = 0;
      for (const [path, methods] of Object.entries(spec.paths)) {
        if (!path.startsWith("/api/v1/") && path !== "/healthz") continue;
        for (const [method, op] of Object.entries(methods)) {
          operations++;
          const codes = Object.keys(op.responses ?? {});
          expect(
            codes.some((c) => /^2\d\d$/.test(c)),
            `${method} ${path} success`,
          ).toBe(true);
          expect(codes, `${method} ${path} errors`).toEqual(expect.arrayContaining(["4XX", "5XX"]));
          if ((method === "post" || method === "patch") && !/\/lost$/.test(path)) {
            expect(op.requestBody, `${method} ${path} body`).toBeDefined();
          }
          const protectedRoute =
            path !== "/api/v1/auth/code" &&
            path !== "/api/v1/auth/session" &&
            path !== "/api/v1/models" &&
            path !== "/healthz";
          const publicSignIn = path === "/api/v1/auth/session" && method === "post";
          if (protectedRoute && !publicSignIn)
            expect(op.security, `${method} ${path} security`).toBeDefined();
        }
      }
      expect(operations).toBeGreaterThanOrEqual(14);
      // And the documented paths are the ones Fastify actually serves.
      for (const [method, url] of [
        ["POST", "/api/v1/auth/code"],
        ["POST", "/api/v1/devices/:deviceId/lost"],
        ["GET", "/api/v1/notifications/stream"],
      ] as const) {
        expect(cloud.app.hasRoute({ method, url })).toBe(true);
      }
    });

    it("answers health with the database in use", async () => {
      const r = await cloud.app.inject({ method: "GET", url: "/healthz" });
      expect(json(r)).toEqual({ status: "ok", database: backend.name });
    });

    it("refuses oversized, malformed, empty, mistyped and invalid bodies with a reason", async () => {
      const post = (payload: string, contentType = "application/json") =>
        cloud.app.inject({
          method: "POST",
          url: "/api/v1/auth/code",
          payload,
          headers: { "content-type": contentType },
        });

      const big = await post(JSON.stringify({ phone: "1".repeat(5000) }));
      expect(big.statusCode).toBe(413);
      expect(json(big)).toEqual({
        error: "body_too_large",
        message: { zh: "请求体过大", en: "Request body is too large" },
      });

      const broken = await post('{"phone":');
      expect(broken.statusCode).toBe(400);
      expect(json(broken).error).toBe("malformed_json");

      const poisoned = await post('{"phone":"13800138000","__proto__":{"admin":true}}');
      expect(poisoned.statusCode).toBe(400);
      expect(json(poisoned).error).toBe("malformed_json");

      const empty = await post("");
      expect(empty.statusCode).toBe(400);
      expect(json(empty).error).toBe("empty_body");

      const text = await post("phone=13800138000", "text/plain");
      expect(text.statusCode).toBe(415);
      expect(json(text).error).toBe("unsupported_media_type");

      const missing = await post("{}");
      expect(missing.statusCode).toBe(400);
      expect(json(missing)).toMatchObject({ error: "invalid_request", details: { field: "body" } });
      expect(json<{ message: { en: string } }>(missing).message.en).toContain("phone");

      const extra = await post(JSON.stringify({ phone: "13800138000", admin: true }));
      expect(extra.statusCode).toBe(400);
      expect(json(extra).error).toBe("invalid_request");

      const wrongType = await post(JSON.stringify({ phone: 13800138000 }));
      expect(wrongType.statusCode).toBe(400);

      const badQuery = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/notifications?after=-1",
        headers: { authorization: "Bearer x" },
      });
      expect(badQuery.statusCode).toBe(400);
      expect(json(badQuery)).toMatchObject({
        error: "invalid_request",
        details: { field: "querystring/after" },
      });

      const nowhere = await cloud.app.inject({ method: "GET", url: "/api/v2/anything" });
      expect(nowhere.statusCode).toBe(404);
      expect(json(nowhere)).toEqual({
        error: "not_found",
        message: { zh: "请求的资源不存在", en: "No such resource" },
      });
    });

    it("never answers arbitrary JSON bodies with a 5xx, and never echoes a request's value back", async () => {
      // Values to look for in the answers carry a marker of digits between symbols ("~482913#") that no fixed
      // text of the server contains, so finding one in an answer can only mean the request's value was echoed
      // (a plain random string such as "oper" may sit inside a word of an error message: "properties").
      const marked = fc
        .tuple(fc.string({ maxLength: 8 }), fc.stringMatching(/^[0-9]{6}$/), fc.string({ maxLength: 8 }))
        .map(([before, digits, after]) => ({ value: `${before}~${digits}#${after}`, marker: `~${digits}#` }));
      const anyJson = fc.jsonValue({ maxDepth: 3 });
      const field = fc.oneof(
        marked.map((m) => ({ value: m.value as unknown, marker: m.marker as string | null })),
        fc.oneof(fc.string(), fc.integer(), anyJson).map((value) => ({ value, marker: null })),
      );
      const body = fc.oneof(
        anyJson.map((payload) => ({ payload, markers: [] as string[] })),
        fc.record({ phone: field, code: field }, { requiredKeys: [] }).map((f) => ({
          payload: {
            ...(f.phone ? { phone: f.phone.value } : {}),
            ...(f.code ? { code: f.code.value } : {}),
          } as unknown,
          markers: [f.phone?.marker, f.code?.marker].filter((m): m is string => typeof m === "string"),
        })),
      );
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("/api/v1/auth/code", "/api/v1/auth/session"),
          body,
          fc.nat(255),
          async (url, { payload, markers }, octet) => {
            const r = await cloud.app.inject({
              method: "POST",
              url,
              payload: JSON.stringify(payload),
              headers: { "content-type": "application/json" },
              remoteAddress: `192.0.2.${octet}`,
            });
            expect(r.statusCode, r.body).toBeLessThan(500);
            if (r.statusCode >= 400) {
              expect(json(r)).toMatchObject(errorShape);
              expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
              for (const marker of markers) {
                expect(r.body).not.toContain(marker);
                checked++;
              }
            }
          },
        ),
        { numRuns: 150 },
      );
      // The markers were really sent and looked for (not a property that holds by never checking).
      expect(checked).toBeGreaterThan(20);
    });

    it("answers an internal failure with 500 internal_error and nothing else", async () => {
      const lone = await makeCloud(backend);
      await lone.db.close();
      try {
        const r = await lone.app.inject({ method: "GET", url: "/healthz" });
        expect(r.statusCode).toBe(500);
        expect(json(r)).toEqual({
          error: "internal_error",
          message: { zh: "服务器内部错误", en: "Internal server error" },
        });
      } finally {
        await lone.app.close();
      }
    });
  });
}
