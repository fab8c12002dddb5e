/**
 * `tapwallet issuer-key`: keys created on the server's database (SQLite file or PostgreSQL schema, from the
 * same environment the server reads) work at once against the issuer endpoints, are stored only hashed, and
 * stop when revoked; wrong usage says what is wrong.
 */
import { dirname } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKey, revokeKey } from "../src/cli/commands/issuer.js";
import { PG_URL, backends, json } from "./cloud-harness.js";
import { type PaymentsCloud, makePaymentsCloud } from "./cloud-tsp-harness.js";

for (const backend of backends) {
  describe.skipIf(backend.skip)(`tapwallet issuer-key on ${backend.name}`, () => {
    let cloud: PaymentsCloud;
    let env: NodeJS.ProcessEnv;
    beforeEach(async () => {
      cloud = await makePaymentsCloud(backend);
      env =
        backend.name === "sqlite"
          ? { DATA_DIR: dirname(cloud.db.location) }
          : { DATABASE_URL: PG_URL, DATABASE_SCHEMA: cloud.db.schema };
    });
    afterEach(async () => {
      await cloud.close();
    });

    const tokens = (key: string) =>
      cloud.app.inject({ method: "GET", url: "/api/v1/issuer/tokens", headers: { "x-api-key": key } });

    it("creates a bank's key that works at once, stored only as its hash, and revokes it", async () => {
      const k = await createKey({ role: "issuer", name: "工商银行 ICBC ops", bank: "icbc" }, env);
      expect(k).toMatchObject({ role: "issuer", bankCode: "ICBC" });
      expect(k.key).toMatch(/^twk_[A-Za-z0-9_-]{43}$/);
      expect((await tokens(k.key)).statusCode).toBe(200);
      const rows = await cloud.db.db
        .selectFrom("issuer_api_keys")
        .selectAll()
        .where("id", "=", k.id)
        .execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(k.key);
      expect(await revokeKey(k.id, env)).toBe(true);
      expect(json(await tokens(k.key)).error).toBe("api_key_invalid");
      expect(await revokeKey(k.id, env)).toBe(false);
      const acquirer = await createKey({ role: "acquirer", name: "商户收单 POS" }, env);
      expect(acquirer.bankCode).toBeNull();
      expect(json(await tokens(acquirer.key)).error).toBe("api_key_role");
    });

    it("says what is wrong with its options", async () => {
      await expect(createKey({ role: "admin", name: "x" }, env)).rejects.toMatchObject({
        code: "issuer_key_usage",
      });
      await expect(createKey({ role: "issuer", name: "x" }, env)).rejects.toThrow(/--bank/);
      await expect(createKey({ role: "issuer", name: "x", bank: "HSBC" }, env)).rejects.toThrow(/--bank/);
      await expect(createKey({ role: "acquirer", name: "  " }, env)).rejects.toThrow(/--name/);
    });
  });
}
