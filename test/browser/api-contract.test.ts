/**
 * The web app's hand-written API table (web/src/api/routes.ts) against the server's OpenAPI document — the
 * cloud's API and the simulator served beside it, as `npm start` serves them: every endpoint the app calls
 * exists with that method and asks for the caller the app sends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES, routePrefix } from "../../web/src/api/routes.js";
import { startWalletServer, type WalletServer } from "./harness.js";

interface Operation {
  security?: Record<string, unknown>[];
}

describe("web API table matches the server's OpenAPI document", () => {
  let server: WalletServer;
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    server = await startWalletServer(false);
    const doc = await server.app.inject({ method: "GET", url: "/docs/json" });
    paths = (doc.json() as { paths: typeof paths }).paths;
  });
  afterAll(async () => {
    await server.close();
  });

  for (const [name, spec] of Object.entries(ROUTES)) {
    it(`${name}: ${spec.method} ${spec.path}`, () => {
      const openApiPath = routePrefix(spec) + spec.path.replace(/:(\w+)/g, "{$1}");
      const op = paths[openApiPath]?.[spec.method.toLowerCase()];
      expect(op, `${spec.method} ${openApiPath} in /docs/json`).toBeDefined();
      const schemes = (op?.security ?? []).flatMap((s) => Object.keys(s));
      if (spec.caller === "none") expect(schemes).toEqual([]);
      if (spec.caller === "session") expect(schemes).toContain("session");
    });
  }
});
