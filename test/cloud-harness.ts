/**
 * Shared set-up for the cloud tests: every suite runs once on SQLite and once on PostgreSQL.
 *
 * PostgreSQL: `TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test). Each test gets a
 * fresh schema (dropped afterwards), so test files running in parallel never see each other's rows.
 * When PostgreSQL is unreachable the PostgreSQL variant is skipped, except under CI (`CI` set), where
 * it runs and fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, type KeyObject } from "node:crypto";
import pg from "pg";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { ManualClock } from "../src/core/clock.js";
import { MemoryOtpSender } from "../src/cloud/accounts/otp-sender.js";
import { openDatabase, type CloudDb } from "../src/cloud/db/open.js";
import { buildServer } from "../src/cloud/http/server.js";
import type { CloudPolicy } from "../src/cloud/policy.js";
import { seededRng } from "../src/cloud/random.js";
import { generateDeviceKeyPair, signRequest } from "../src/protocol/request-signing.js";

export const PG_URL = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const pgReachable = await probePostgres();

export interface Backend {
  name: "sqlite" | "postgres";
  /** True only when PostgreSQL is unreachable outside CI. */
  skip: boolean;
  /** A fresh, empty database; `close()` also deletes it. */
  open(): Promise<CloudDb>;
}

export function freshSchemaName(): string {
  return `tw_test_${process.pid}_${randomBytes(6).toString("hex")}`;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export const sqliteBackend: Backend = {
  name: "sqlite",
  skip: false,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), "tw-cloud-"));
    const db = await openDatabase({ dataDir: dir });
    return {
      ...db,
      close: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const postgresBackend: Backend = {
  name: "postgres",
  skip: !pgReachable && !process.env["CI"],
  async open() {
    const schema = freshSchemaName();
    const db = await openDatabase({ databaseUrl: PG_URL, schema, poolMax: 12 });
    return {
      ...db,
      close: async () => {
        await db.close();
        await dropSchema(schema);
      },
    };
  },
};

export const backends: Backend[] = [sqliteBackend, postgresBackend];

export interface TestCloud {
  app: FastifyInstance;
  db: CloudDb;
  clock: ManualClock;
  otp: MemoryOtpSender;
  close(): Promise<void>;
}

export const TEST_PEPPER = "test-pepper";

export async function makeCloud(
  backend: Backend,
  options: { policy?: Partial<CloudPolicy>; bodyLimit?: number; seed?: string } = {},
): Promise<TestCloud> {
  const db = await backend.open();
  const clock = new ManualClock("2026-03-01T08:00:00Z");
  const otp = new MemoryOtpSender();
  const app = await buildServer({
    db,
    clock,
    rng: seededRng(options.seed ?? "cloud-test"),
    otpSender: otp,
    otpPepper: TEST_PEPPER,
    policy: options.policy,
    bodyLimit: options.bodyLimit,
    janitor: false,
  });
  return {
    app,
    db,
    clock,
    otp,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

/** The headers of a signed-in user's request. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The account's events from the start, as its signed-in user reads them. */
export async function accountEvents<P = Record<string, unknown>>(
  cloud: TestCloud,
  token: string,
): Promise<{ type: string; payload: P }[]> {
  const r = await cloud.app.inject({
    method: "GET",
    url: "/api/v1/notifications?after=0",
    headers: bearer(token),
  });
  return (r.json() as { events: { type: string; payload: P }[] }).events;
}

export const json = <T = Record<string, unknown>>(r: LightMyRequestResponse): T => r.json() as T;

/** Signs up (or in) `phone` through the API; returns the bearer token and account id. */
export async function signIn(
  cloud: TestCloud,
  phone: string,
  ip = "198.51.100.1",
): Promise<{ token: string; accountId: string }> {
  const sent = await cloud.app.inject({
    method: "POST",
    url: "/api/v1/auth/code",
    payload: { phone },
    remoteAddress: ip,
  });
  if (sent.statusCode !== 202) throw new Error(`code request failed: ${sent.statusCode} ${sent.body}`);
  const code = cloud.otp.last(phone.replace(/^\+86/, "").replace(/[\s-]/g, ""));
  const r = await cloud.app.inject({
    method: "POST",
    url: "/api/v1/auth/session",
    payload: { phone, code },
    remoteAddress: ip,
  });
  if (r.statusCode !== 200) throw new Error(`sign-in failed: ${r.statusCode} ${r.body}`);
  const body = json<{ token: string; account: { id: string } }>(r);
  return { token: body.token, accountId: body.account.id };
}

export interface Phone {
  privateKey: KeyObject;
  publicKey: string;
  seId: string;
  deviceId?: string;
}

export function newPhone(): Phone {
  return { ...generateDeviceKeyPair(), seId: randomBytes(16).toString("hex").toUpperCase() };
}

let nonceCounter = 0;
export function freshNonce(): string {
  return `n${String(nonceCounter++).padStart(6, "0")}${randomBytes(12).toString("base64url")}`;
}

export interface SignedCall {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: string;
  body?: unknown;
  timestamp?: number;
  nonce?: string;
  headers?: Record<string, string>;
}

/** Builds an inject request signed by `phone` (with its device id, unless binding). */
export function signed(cloud: TestCloud, phone: Phone, call: SignedCall): InjectOptions {
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
  const sig = signRequest(
    phone.privateKey,
    {
      method: call.method,
      path: call.url,
      timestamp: call.timestamp ?? cloud.clock.now().getTime(),
      nonce: call.nonce ?? freshNonce(),
      body: payload,
    },
    phone.deviceId,
  );
  return {
    method: call.method,
    url: call.url,
    payload,
    headers: {
      ...(payload === undefined ? {} : { "content-type": "application/json" }),
      ...sig,
      ...call.headers,
    },
  };
}

/** Binds `phone` to the account behind `token`; sets `phone.deviceId`. */
export async function bind(
  cloud: TestCloud,
  token: string,
  phone: Phone,
  fields: { model?: string; region?: string; name?: string } = {},
): Promise<LightMyRequestResponse> {
  const body = {
    model: fields.model ?? "sagit",
    region: fields.region ?? "CN",
    publicKey: phone.publicKey,
    seId: phone.seId,
    ...(fields.name ? { name: fields.name } : {}),
  };
  const req = signed(
    cloud,
    { ...phone, deviceId: undefined },
    { method: "POST", url: "/api/v1/devices", body },
  );
  const r = await cloud.app.inject({
    ...req,
    headers: { ...(req.headers as Record<string, string>), authorization: `Bearer ${token}` },
  });
  if (r.statusCode === 201) phone.deviceId = json<{ id: string }>(r).id;
  return r;
}
