/** Serving the web app: files, app paths answered with index.html, API paths never, headers, no build. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_CSP, webApp } from "./web.js";

const INDEX = '<!doctype html><div id="root"></div>';

async function serve(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.get("/api/v1/models", async () => ({ models: [] }));
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: "not_found" }));
  await app.register(webApp, { root });
  return app;
}

describe("web app serving", () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tw-webdist-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), INDEX);
    writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log(1)");
    writeFileSync(join(dir, "favicon.svg"), "<svg/>");
    app = await serve(dir);
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers / and every app path with index.html, uncached, under a strict CSP", async () => {
    for (const url of ["/", "/cards", "/phone", "/settings?x=1", "/some/deep/path"]) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toBe(INDEX);
      expect(r.headers["content-type"], url).toMatch(/text\/html/);
      expect(r.headers["cache-control"], url).toBe("no-cache");
      expect(r.headers["content-security-policy"], url).toBe(APP_CSP);
    }
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).toContain("frame-ancestors 'none'");
  });

  it("serves hashed assets as immutable and other files as they are", async () => {
    const js = await app.inject({ url: "/assets/index-abc123.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.headers["x-content-type-options"]).toBe("nosniff");
    const icon = await app.inject({ url: "/favicon.svg" });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers["content-type"]).toMatch(/image\/svg\+xml/);
  });

  it("never answers API, docs or missing files with the app", async () => {
    for (const url of [
      "/api/v1/nope",
      "/api",
      "/docs/nothing",
      "/healthz/x",
      "/assets/missing.js",
      "/robots.txt",
    ]) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json(), url).toEqual({ error: "not_found" });
    }
    expect((await app.inject({ url: "/api/v1/models" })).json()).toEqual({ models: [] });
  });

  it("does not serve files outside its folder", async () => {
    writeFileSync(join(dir, "..", "tw-secret.txt"), "secret");
    try {
      for (const url of ["/../tw-secret.txt", "/%2e%2e/tw-secret.txt", "/assets/..%2f..%2ftw-secret.txt"]) {
        const r = await app.inject({ url });
        expect(r.body, url).not.toContain("secret");
      }
    } finally {
      rmSync(join(dir, "..", "tw-secret.txt"), { force: true });
    }
  });

  it("says how to build the app when there is no build", async () => {
    const empty = mkdtempSync(join(tmpdir(), "tw-webdist-empty-"));
    const bare = await serve(empty);
    try {
      const r = await bare.inject({ url: "/" });
      expect(r.statusCode).toBe(503);
      expect(r.body).toContain("npm run build:web");
      expect((await bare.inject({ url: "/api/v1/models" })).statusCode).toBe(200);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
