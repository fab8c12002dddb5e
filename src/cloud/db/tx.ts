/**
 * Transactions that serialise the same way on both databases.
 *
 * - SQLite: one writer at a time; our driver starts every transaction with `BEGIN IMMEDIATE`, so a
 *   transaction holds the write lock from its first statement (see `open.ts`).
 * - PostgreSQL: READ COMMITTED plus explicit row locks (`SELECT … FOR UPDATE`, through `forUpdate`) on
 *   the rows a transaction will change, taken in a fixed order (sorted ids) so two transactions never
 *   wait on each other in a cycle. Serialisation failures and deadlocks, should they happen anyway
 *   (or when a caller asks for SERIALIZABLE), are retried from the start.
 *
 * A service method takes an optional executor: given a transaction, it joins it (so a top-up can post to
 * the ledger and record the load in one commit); otherwise it opens its own.
 */
import type { IsolationLevel, Kysely, SelectQueryBuilder, Transaction } from "kysely";
import type { Dialect } from "./open.js";
import type { Database } from "./schema.js";

/** The database handle or an open transaction on it. */
export type Executor = Kysely<Database>;

export interface TransactionOptions {
  /** Attempts after the first when the database reports a serialisation failure or deadlock; default 8. */
  retries?: number;
  /** PostgreSQL isolation level; default READ COMMITTED (row locks do the serialising). Ignored by SQLite. */
  isolation?: IsolationLevel;
}

const RETRYABLE_CODES = new Set([
  "40001", // PostgreSQL serialization_failure
  "40P01", // PostgreSQL deadlock_detected
  "SQLITE_BUSY", // another process held the write lock past busy_timeout
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_LOCKED",
]);

/** True for errors that mean "run the whole transaction again". */
export function isRetryableDbError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE_CODES.has(code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` in a transaction (joining `exec` if it already is one), retrying the whole function when the
 * database asks for it. `fn` must do its database work through the transaction it is given and keep
 * other I/O (sending an SMS, calling a bank) outside: it may run more than once.
 */
export async function transaction<T>(
  exec: Executor,
  fn: (trx: Transaction<Database>) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  if (exec.isTransaction) return fn(exec as Transaction<Database>);
  const retries = options.retries ?? 8;
  for (let attempt = 0; ; attempt++) {
    try {
      const builder = exec.transaction();
      return await (options.isolation ? builder.setIsolationLevel(options.isolation) : builder).execute(fn);
    } catch (e) {
      if (attempt >= retries || !isRetryableDbError(e)) throw e;
      // Exponential backoff with jitter so retrying transactions do not collide again in step.
      await sleep(Math.min(200, 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

/**
 * `qb.$call(forUpdate(dialect))` adds `FOR UPDATE` on PostgreSQL. SQLite has no row locks and needs none:
 * its transactions already hold the single write lock.
 */
export function forUpdate(dialect: Dialect) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return <QB extends SelectQueryBuilder<any, any, any>>(qb: QB): QB =>
    dialect === "postgres" ? (qb.forUpdate() as QB) : qb;
}

/**
 * Locks the account's row for the rest of the transaction: one account's writers that check a per-account
 * limit (phones, door cards) then run one after another, so the limit holds under concurrency.
 */
export async function lockAccount(trx: Executor, dialect: Dialect, accountId: string): Promise<void> {
  await trx
    .selectFrom("accounts")
    .select("id")
    .where("id", "=", accountId)
    .$call(forUpdate(dialect))
    .executeTakeFirstOrThrow();
}

/** True for a unique or primary-key violation on either database. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
