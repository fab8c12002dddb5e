/**
 * Opens the cloud database: SQLite (one file under `DATA_DIR`, the embedded default) or PostgreSQL
 * (`DATABASE_URL`). Both give the same typed Kysely handle; the few dialect differences (row locks,
 * transaction start) are handled in `tx.ts` and here.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase as SqliteDatabaseLike,
  type SqliteDialectConfig,
} from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";

export type Dialect = "sqlite" | "postgres";

export interface CloudDb {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Where the data lives, for logs (never a password). */
  readonly location: string;
  /** The PostgreSQL schema the tables live in (`public` unless told), undefined on SQLite. */
  readonly schema?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `postgres://…`; when absent, SQLite is used. */
  databaseUrl?: string;
  /** PostgreSQL schema to create (if missing) and use through `search_path`; default `public`. */
  schema?: string;
  /** Directory for the SQLite file (created if missing); default `./data`. */
  dataDir?: string;
  /** SQLite file name inside `dataDir`, or `:memory:`; default `tapwallet.sqlite`. */
  sqliteFile?: string;
  /** PostgreSQL pool size; default 10. */
  poolMax?: number;
  /** How long SQLite waits for another process's write lock before giving up (ms); default 5000. */
  busyTimeoutMs?: number;
  /**
   * SQLite `synchronous`: `full` (default) syncs the WAL at every commit, so a committed posting
   * survives power loss; `normal` survives a crashed process but may lose the last commits on power
   * loss, for several times the write rate.
   */
  sqliteSynchronous?: "full" | "normal";
}

export async function openDatabase(options: OpenOptions = {}): Promise<CloudDb> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options);
}

/**
 * SQLite transactions start with `BEGIN IMMEDIATE`, which takes the database's single write lock at the
 * start: a read-then-write transaction can then never fail half-way with SQLITE_BUSY when another process
 * writes the same file, and every transaction is serialised against every other writer.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/**
 * SQLite runs DDL inside transactions, though Kysely's adapter does not claim it. Claiming it makes the
 * Migrator apply migrations in one `BEGIN IMMEDIATE` transaction: two processes starting together on
 * one file migrate once (the second waits, then finds nothing pending), and a failed migration leaves
 * no half-made schema.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Kysely prepares every query anew; SQL text repeats, so keep the prepared statements (bounded, LRU). */
const STATEMENT_CACHE = 256;

function cachingStatements(raw: SqliteDatabase.Database): SqliteDatabaseLike {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = raw.prepare(sql);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

function openSqlite(options: OpenOptions): CloudDb {
  const file = options.sqliteFile ?? "tapwallet.sqlite";
  let path = ":memory:";
  if (file !== ":memory:") {
    const dir = resolve(options.dataDir ?? "./data");
    mkdirSync(dir, { recursive: true });
    path = join(dir, file);
  }
  const raw = new SqliteDatabase(path);
  raw.pragma("journal_mode = WAL");
  raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  raw.pragma("foreign_keys = ON");
  raw.pragma(`synchronous = ${options.sqliteSynchronous === "normal" ? "NORMAL" : "FULL"}`);
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: cachingStatements(raw) }),
  });
  return { db, dialect: "sqlite", location: path, close: () => db.destroy() };
}

/** PostgreSQL `bigint` and `numeric` arrive as strings; money and times fit a JS number, and we check that they do. */
function safeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`database integer out of JS safe range: ${text}`);
  return n;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

const typeParsers = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID || oid === NUMERIC_OID) return safeInteger;
    return pg.types.getTypeParser(oid, format);
  },
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function openPostgres(url: string, options: OpenOptions): Promise<CloudDb> {
  const schema = options.schema ?? "public";
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`invalid PostgreSQL schema name: ${schema}`);
  if (schema !== "public") {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists "${schema}"`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    types: typeParsers,
    options: `-c search_path=${schema}`,
  });
  // A connection that PostgreSQL or the network ends (restart, failover, pg_terminate_backend) emits 'error' on
  // its client (while a query runs) or on the pool (while idle); unheard, either would crash the server. The
  // query in flight fails on its own (the request answers 5xx and the caller may retry), the pool drops the
  // client and the next query opens a new connection (test/faults-db.test.ts).
  pool.on("connect", (client) => client.on("error", () => {}));
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", location: redactUrl(url), schema, close: () => db.destroy() };
}

/** `postgres://user:secret@host/db` → `postgres://user@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    return u.toString();
  } catch {
    return "postgres://(unparsable url)";
  }
}
