/**
 * PostgreSQL for the cloud benchmarks, as the tests reach it (test/cloud-harness.ts: TEST_DATABASE_URL,
 * probed once), and the raw driver's transaction the benchmarks measure the cloud against.
 */
import type pg from "pg";
import { PG_URL } from "../test/cloud-harness.js";

export { PG_URL, pgReachable } from "../test/cloud-harness.js";

/** Why a PostgreSQL figure is missing (the URL without its password). */
export const PG_UNREACHABLE = `PostgreSQL not reachable at ${PG_URL.replace(/:[^:@/]*@/, "@")}`;

/** `body` on one pooled connection between BEGIN and COMMIT (ROLLBACK if it throws). */
export async function inTransaction<T>(pool: pg.Pool, body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query("begin");
    const result = await body(c);
    await c.query("commit");
    return result;
  } catch (e) {
    await c.query("rollback");
    throw e;
  } finally {
    c.release();
  }
}
