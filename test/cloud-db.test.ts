/**
 * The database layer: transactions that join or open, retries on serialisation failures (a real one on
 * PostgreSQL SERIALIZABLE), row locks only where they exist, money columns read back as safe JS numbers,
 * and the purge of expired rows. On SQLite and PostgreSQL.
 */
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRetryableDbError, isUniqueViolation, forUpdate, transaction } from "../src/cloud/db/tx.js";
import { redactUrl } from "../src/cloud/db/open.js";
import { purgeExpired } from "../src/cloud/services.js";
import { backends, bind, makeCloud, newPhone, signIn, type TestCloud } from "./cloud-harness.js";

describe("retry classification and URL redaction", () => {
  it("retries serialisation failures and deadlocks, nothing else", () => {
    for (const code of ["40001", "40P01", "SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"])
      expect(isRetryableDbError({ code })).toBe(true);
    for (const e of [
      { code: "23505" },
      { code: "SQLITE_CONSTRAINT_UNIQUE" },
      new Error("x"),
      null,
      undefined,
      "40001",
    ]) {
      expect(isRetryableDbError(e)).toBe(false);
    }
    expect(isUniqueViolation({ code: "23505" })).toBe(true);
    expect(isUniqueViolation({ code: "SQLITE_CONSTRAINT_PRIMARYKEY" })).toBe(true);
    expect(isUniqueViolation({ code: "40001" })).toBe(false);
  });

  it("never shows a database password", () => {
    expect(redactUrl("postgres://app:s3cret@db.internal:5432/wallet")).toBe(
      "postgres://app@db.internal:5432/wallet",
    );
    expect(redactUrl("not a url")).not.toContain("not a url");
  });
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`database layer on ${backend.name}`, () => {
    let cloud: TestCloud;
    beforeEach(async () => {
      cloud = await makeCloud(backend);
      await cloud.db.db.schema
        .createTable("counter")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("n", "bigint", (c) => c.notNull())
        .execute();
      await sql`insert into counter (id, n) values (1, 0)`.execute(cloud.db.db);
    });
    afterEach(async () => {
      await cloud.close();
    });

    const read = async () =>
      Number((await sql<{ n: number }>`select n from counter where id = 1`.execute(cloud.db.db)).rows[0]!.n);

    it("joins an outer transaction instead of opening a second one", async () => {
      await expect(
        transaction(cloud.db.db, async (outer) => {
          await transaction(outer, async (inner) => {
            expect(inner).toBe(outer);
            await sql`update counter set n = n + 1`.execute(inner);
          });
          throw new Error("roll back both");
        }),
      ).rejects.toThrow("roll back both");
      expect(await read()).toBe(0);
    });

    it("runs the whole function again on a retryable error, and gives up after the limit", async () => {
      let attempts = 0;
      const result = await transaction(cloud.db.db, async (trx) => {
        attempts++;
        await sql`update counter set n = n + 1`.execute(trx);
        if (attempts < 3) throw Object.assign(new Error("could not serialize access"), { code: "40001" });
        return "done";
      });
      expect(result).toBe("done");
      expect(attempts).toBe(3);
      expect(await read()).toBe(1); // the failed attempts rolled back

      let tries = 0;
      await expect(
        transaction(
          cloud.db.db,
          async () => {
            tries++;
            throw Object.assign(new Error("busy"), { code: "SQLITE_BUSY" });
          },
          { retries: 2 },
        ),
      ).rejects.toThrow("busy");
      expect(tries).toBe(3);

      let once = 0;
      await expect(
        transaction(cloud.db.db, async () => {
          once++;
          throw new Error("not retryable");
        }),
      ).rejects.toThrow("not retryable");
      expect(once).toBe(1);
    });

    it("locks rows with FOR UPDATE on PostgreSQL only", () => {
      const q = cloud.db.db
        .selectFrom("accounts")
        .selectAll()
        .$call(forUpdate(cloud.db.dialect))
        .compile().sql;
      if (backend.name === "postgres") expect(q).toMatch(/for update$/);
      else expect(q).not.toMatch(/for update/);
    });

    it("reads bigint money as JS numbers, and refuses values beyond 2^53", async () => {
      await sql`update counter set n = 900719925474099`.execute(cloud.db.db);
      const row = await cloud.db.db
        .selectFrom("ledger_accounts")
        .select((eb) => eb.fn.countAll<number>().as("c"))
        .executeTakeFirstOrThrow();
      expect(row.c).toBe(0); // count(*) is bigint on PostgreSQL: still a number here
      expect(await read()).toBe(900719925474099);
      const sum = await sql<{ s: number }>`select sum(n) as s from counter`.execute(cloud.db.db);
      expect(sum.rows[0]!.s).toBe(900719925474099);
      if (backend.name === "postgres") {
        // Beyond Number.MAX_SAFE_INTEGER a silent rounding would corrupt money: it must fail instead.
        await expect(sql`select 9007199254740993::bigint as big`.execute(cloud.db.db)).rejects.toThrow(
          /safe range/,
        );
      }
    });

    if (backend.name === "postgres") {
      it("retries real serialisation failures under SERIALIZABLE until every writer commits", async () => {
        let attempts = 0;
        const increment = () =>
          transaction(
            cloud.db.db,
            async (trx) => {
              attempts++;
              const { rows } = await sql<{ n: number }>`select n from counter where id = 1`.execute(trx);
              await new Promise((r) => setTimeout(r, 20)); // overlap the transactions
              await sql`update counter set n = ${rows[0]!.n + 1} where id = 1`.execute(trx);
            },
            { isolation: "serializable" },
          );
        await Promise.all(Array.from({ length: 6 }, increment));
        expect(await read()).toBe(6); // read-modify-write without locks, yet no lost update
        expect(attempts).toBeGreaterThan(6); // some attempts failed with 40001 and ran again
      });
    }

    it("purges expired codes, sessions, nonces and rate-limit windows, and nothing live", async () => {
      const { token } = await signIn(cloud, "13800138000");
      const phone = newPhone();
      await bind(cloud, token, phone);
      const count = async (table: "otp_codes" | "sessions" | "signature_nonces" | "rate_limit_windows") =>
        Number(
          (
            await cloud.db.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as("c"))
              .executeTakeFirstOrThrow()
          ).c,
        );
      expect(await purgeExpired(cloud.app.cloud)).toBe(0);
      expect(await count("sessions")).toBe(1);
      expect(await count("signature_nonces")).toBe(1);

      cloud.clock.advance(61 * 60_000); // past codes, nonces and every rate window; the session lives on
      const purged = await purgeExpired(cloud.app.cloud);
      expect(purged).toBeGreaterThanOrEqual(3);
      expect(await count("otp_codes")).toBe(0);
      expect(await count("signature_nonces")).toBe(0);
      expect(await count("rate_limit_windows")).toBe(0);
      expect(await count("sessions")).toBe(1);

      cloud.clock.advance(30 * 24 * 3600_000);
      await purgeExpired(cloud.app.cloud);
      expect(await count("sessions")).toBe(0);
    });
  });
}
