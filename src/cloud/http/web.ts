/**
 * Serves the wallet web app (`web/`, built by `npm run build:web` into `web/dist`) from the cloud's own
 * origin, so the app calls `/api/v1` with no CORS. Hashed files under `/assets/` are cached for a year;
 * `index.html` is never cached, and every app path (`/cards`, `/phone`, …) answers with it so the
 * app's router takes over. `/api/…` and `/docs…` are never answered with the app: an unknown API path
 * keeps the API's JSON 404. Without a build, `/` says how to make one.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply } from "fastify";

/** `web/dist` of this package, from `src/cloud/http/` and `dist/cloud/http/` alike. */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

export interface WebAppOptions {
  /** The built app's folder; `DEFAULT_WEB_ROOT` when absent. */
  root?: string;
}

/** Paths the app never answers: they belong to the API, its documentation and health checks. */
const NOT_APP = /^\/(api|docs|healthz)(\/|$)/;

/**
 * Only our own scripts, styles and the same-origin API; no framing. Inline styles set through the DOM
 * by React are not affected by `style-src`.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("cache-control", "no-cache")
    .header("content-security-policy", APP_CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer");
}

export const webApp: FastifyPluginAsync<WebAppOptions> = async (app, opts) => {
  const root = opts.root ?? DEFAULT_WEB_ROOT;

  if (!existsSync(`${root}/index.html`)) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send(
          "钱包网页尚未构建，请运行 npm run build:web\n" +
            "The wallet web app is not built: run `npm run build:web` (API docs at /docs)\n",
        ),
    );
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    // Routes for the files present at start; the catch-all below handles app paths.
    wildcard: false,
    index: false,
    setHeaders(reply, path) {
      if (path.endsWith(".html")) htmlHeaders(reply);
      else if (/[\\/]assets[\\/]/.test(path)) {
        reply.header("cache-control", "public, max-age=31536000, immutable");
      }
      reply.header("x-content-type-options", "nosniff");
    },
  });

  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    // API and docs paths, and file-like paths that are not in the build, stay 404s.
    if (NOT_APP.test(path) || /\.[A-Za-z0-9]+$/.test(path)) return reply.callNotFound();
    return htmlHeaders(reply).sendFile("index.html", { cacheControl: false });
  });
};
