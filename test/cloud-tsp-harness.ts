/**
 * Shared set-up for the token-service and issuer tests (not a test file): a cloud with the bank-code sender
 * in memory, its own test cards and captured logs; phones whose SE the TSM can reach (keys diversified from
 * the development factory master, as the virtual phone's factory makes them) and that sync through the
 * signed TSM routes; a POS whose issuer is the cloud's authorisation endpoint (through `IssuerClient`).
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { type Bytes, concat, fromHex, toHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { MemoryOtpSender } from "../src/cloud/accounts/otp-sender.js";
import { buildServer } from "../src/cloud/http/server.js";
import type { CloudPolicy } from "../src/cloud/policy.js";
import { seededRng } from "../src/cloud/random.js";
import type { IssuerOptions } from "../src/cloud/issuer/config.js";
import type { TestCard } from "../src/cloud/issuer/test-cards.js";
import { testPan } from "../src/cloud/issuer/test-cards.js";
import { cvn2 } from "../src/cloud/issuer/cvn2.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../src/se/factory-keys.js";
import type { Operation, OperationResult } from "../src/protocol/tsm-wire.js";
import { MemoryBankOtpSender } from "../src/cloud/tsp/bank-otp.js";
import type { TspPolicy } from "../src/cloud/tsp/policy.js";
import type { AuthorisationRequest, Issuer } from "../src/emv/authorisation.js";
import { qpbocPackage } from "../src/emv/card/package.js";
import { AID } from "../src/emv/profile.js";
import { IssuerClient } from "../src/emv/terminal/issuer-client.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { SecureElement } from "../src/se/secure-element.js";
import type { SeStorage } from "../src/se/secure-element.js";
import { generateDeviceKeyPair } from "../src/protocol/request-signing.js";
import {
  type Backend,
  type Phone,
  type TestCloud,
  TEST_PEPPER,
  bearer,
  bind,
  json,
  signed,
  signIn,
} from "./cloud-harness.js";

/** The issuer's card verification key in these tests. */
export const TEST_CVK = fromHex("0123456789ABCDEF0123456789ABCDEF");

/** A debit card of a given range, numbered `serial`, its code going to `phone`. */
export function card(
  prefix: string,
  serial: number,
  kind: "debit" | "credit",
  phone: string,
  bank: TestCard["bank"],
) {
  return {
    pan: testPan(prefix, serial),
    bank,
    kind,
    holder: `测试 ${serial}`,
    expiry: "3012",
    reservedPhone: phone,
    available: 1_000_00,
  } satisfies TestCard;
}

/** Ten ICBC debit cards (for the 8-card limit), a CCB credit card and a BOC debit card. */
export const CARDS = {
  icbc: Array.from({ length: 10 }, (_, i) => card("622202", 100 + i, "debit", `1390013900${i}`, "ICBC")),
  ccbCredit: card("625964", 200, "credit", "13900139100", "CCB"),
  bocDebit: card("621661", 300, "debit", "13900139200", "BOC"),
};
export const ALL_CARDS: TestCard[] = [...CARDS.icbc, CARDS.ccbCredit, CARDS.bocDebit];

export const cvn2Of = (c: TestCard): string => cvn2(TEST_CVK, c.pan, c.expiry);

export interface PaymentsCloud extends TestCloud {
  bankOtp: MemoryBankOtpSender;
  /** Every log line the server wrote. */
  logs: string[];
  /** Every response body the server gave through `app.inject`. */
  responses: string[];
  acquirerKey: string;
  issuerKey(bank: TestCard["bank"]): Promise<string>;
}

export async function makePaymentsCloud(
  backend: Backend,
  options: {
    policy?: Partial<CloudPolicy>;
    tsp?: Partial<TspPolicy>;
    seed?: string;
    cards?: TestCard[];
    issuer?: Partial<IssuerOptions>;
    /** The clock's start (default 2026-03-01T08:00:00Z). */
    now?: string;
    /** No logs and no copies of the answers (benchmarks). */
    quiet?: boolean;
  } = {},
): Promise<PaymentsCloud> {
  const db = await backend.open();
  const clock = new ManualClock(options.now ?? "2026-03-01T08:00:00Z");
  const otp = new MemoryOtpSender();
  const bankOtp = new MemoryBankOtpSender();
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString("utf8"));
      done();
    },
  });
  const app = await buildServer({
    db,
    clock,
    rng: seededRng(options.seed ?? "tsp-test"),
    otpSender: otp,
    otpPepper: TEST_PEPPER,
    policy: options.policy,
    janitor: false,
    webRoot: false,
    logger: options.quiet ? false : { level: "info", stream },
    tsp: {
      vaultKey: fromHex("5EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A1"),
      bankOtpSender: bankOtp,
      ...(options.tsp ? { policy: options.tsp } : {}),
    },
    issuer: {
      dki: 1,
      imk3des: fromHex("00112233445566778899AABBCCDDEEFF"),
      imkSm4: fromHex("FFEEDDCCBBAA99887766554433221100"),
      cvk: TEST_CVK,
      tokenBin: "629977",
      testCards: options.cards ?? ALL_CARDS,
      devAcquirerKey: false,
      ...options.issuer,
    },
  });
  const acquirer = await app.cloud.issuer.apiKeys.create({
    role: "acquirer",
    name: "测试收单 test acquirer",
  });
  // Keep every answer, so tests can look for card numbers in all of them.
  const responses: string[] = [];
  const inject = app.inject.bind(app) as (o: InjectOptions) => Promise<LightMyRequestResponse>;
  if (!options.quiet)
    (app as unknown as { inject: (o: InjectOptions) => Promise<LightMyRequestResponse> }).inject = async (
      o,
    ) => {
      const r = await inject(o);
      responses.push(r.body);
      return r;
    };
  return {
    app,
    db,
    clock,
    otp,
    bankOtp,
    logs,
    responses,
    acquirerKey: acquirer.key,
    async issuerKey(bank) {
      return (
        await app.cloud.issuer.apiKeys.create({ role: "issuer", name: `${bank} 发卡行`, bankCode: bank })
      ).key;
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}

// ---- a phone whose SE the TSM can reach ----------------------------------------------------------------

export interface TestPhone extends Phone {
  se: SecureElement;
  serial: Bytes;
  /** When the user last verified on the phone (CDCVM). */
  verifiedAt: Date | null;
}

export function makePhone(clock: ManualClock, storage?: SeStorage): TestPhone {
  const serial = new Uint8Array(randomBytes(8));
  const keys = generateDeviceKeyPair();
  const phone: TestPhone = {
    ...keys,
    seId: toHex(serial),
    serial,
    verifiedAt: null,
    se: undefined as unknown as SecureElement,
  };
  phone.se = SecureElement.manufacture({
    packages: [qpbocPackage],
    keys: diversifySeKeys(DEV_SE_MASTER_KEY, serial),
    serial,
    clock,
    host: { lastUserVerification: () => phone.verifiedAt, locked: () => false },
    ...(storage ? { storage } : {}),
  });
  return phone;
}

/** Signs up `mobile` and binds a new phone to the account. */
export async function userWithPhone(cloud: PaymentsCloud, mobile: string) {
  const { token, accountId } = await signIn(cloud, mobile);
  const phone = makePhone(cloud.clock);
  const r = await bind(cloud, token, phone, { model: "sagit" });
  if (r.statusCode !== 201) throw new Error(`bind failed: ${r.statusCode} ${r.body}`);
  return { token, accountId, phone };
}

/** One APDU on the phone's own channel, 61XX completed with GET RESPONSE. */
function transmit(se: SecureElement, apdu: Bytes): Bytes {
  let answer = se.host.transmit(apdu);
  const parts: Bytes[] = [];
  while (answer.length >= 2 && answer[answer.length - 2] === 0x61) {
    parts.push(answer.subarray(0, answer.length - 2));
    answer = se.host.transmit(Uint8Array.of(0x00, 0xc0, 0x00, 0x00, answer[answer.length - 1]!));
  }
  return parts.length === 0 ? answer : concat(...parts, answer);
}

function run(se: SecureElement, ops: Operation[]): OperationResult[] {
  const out: OperationResult[] = [];
  for (const op of ops) {
    if (op.type === "registry") {
      const aid = fromHex(op.aid);
      const r =
        op.action === "default-payment"
          ? se.registry.setDefaultPayment(aid)
          : op.action === "activate"
            ? se.registry.activate(aid)
            : op.action === "deactivate"
              ? se.registry.deactivate(aid)
              : se.registry.setExpressTransit(aid);
      out.push(
        r.ok ? { type: "registry", ok: true } : { type: "registry", ok: false, reason: r.error.reason },
      );
      continue;
    }
    const answer = transmit(se, fromHex(op.apdu));
    out.push({ type: "apdu", response: toHex(answer) });
    if (answer.length < 2) break;
    if (op.expect && !op.expect.includes(toHex(answer.subarray(answer.length - 2)))) break;
  }
  return out;
}

interface StepAnswer {
  session: string;
  step: number;
  done: boolean;
  operations?: Operation[];
  summary?: { outcome: string; lost: boolean; pending: number; scripts: { kind: string; state: string }[] };
}

/** The phone's next contact: a TSM sync session run to its end on the phone's SE. */
export async function sync(cloud: TestCloud, phone: TestPhone): Promise<NonNullable<StepAnswer["summary"]>> {
  const open = await cloud.app.inject(
    signed(cloud, phone, { method: "POST", url: "/api/v1/device/tsm/sessions", body: {} }),
  );
  if (open.statusCode !== 201) throw new Error(`sync failed: ${open.statusCode} ${open.body}`);
  let step = json<StepAnswer>(open);
  for (let i = 0; !step.done; i++) {
    if (i > 50) throw new Error("sync does not end");
    const results = run(phone.se, step.operations ?? []);
    const r = await cloud.app.inject(
      signed(cloud, phone, {
        method: "POST",
        url: `/api/v1/device/tsm/sessions/${step.session}`,
        body: { step: step.step, results },
      }),
    );
    if (r.statusCode !== 200) throw new Error(`sync step failed: ${r.statusCode} ${r.body}`);
    step = json<StepAnswer>(r);
  }
  phone.se.host.reset();
  return step.summary!;
}

/** How many card authorisations the ledger has posted. */
export async function authorisationPostings(cloud: PaymentsCloud): Promise<number> {
  const r = await cloud.db.db
    .selectFrom("ledger_transfers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("kind", "=", "card.authorisation")
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

// ---- adding a card -----------------------------------------------------------------------------------

export const TERMS_VERSION = "2026-03";
export const expiryOf = (c: TestCard) => `${c.expiry.slice(2)}/${c.expiry.slice(0, 2)}`;

/** Starts adding `c` to the phone as the signed-in user. */
export function startAdd(
  cloud: TestCloud,
  token: string,
  deviceId: string,
  c: TestCard,
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return cloud.app.inject({
    method: "POST",
    url: "/api/v1/bank-cards",
    headers: bearer(token),
    payload: {
      deviceId,
      cardNumber: c.pan,
      expiry: expiryOf(c),
      termsVersion: TERMS_VERSION,
      ...(c.kind === "credit" ? { cvn2: cvn2Of(c) } : {}),
      ...extra,
    },
  });
}

export function verifyCode(cloud: TestCloud, token: string, enrolmentId: string, code: string) {
  return cloud.app.inject({
    method: "POST",
    url: `/api/v1/bank-cards/enrolments/${enrolmentId}`,
    headers: bearer(token),
    payload: { code },
  });
}

export interface CardView {
  id: string;
  deviceId: string;
  bank: { code: string; zh: string; en: string };
  kind: "debit" | "credit";
  tokenLast4: string;
  fundingLast4: string;
  status: string;
  suspendedBy: string | null;
  seState: string;
  default: boolean;
}

/** Adds a card with the bank's right code; returns the new card (pending until the phone syncs). */
export async function addCard(
  cloud: PaymentsCloud,
  token: string,
  phone: TestPhone,
  c: TestCard,
): Promise<CardView> {
  const started = await startAdd(cloud, token, phone.deviceId!, c);
  if (started.statusCode !== 202) throw new Error(`enrolment failed: ${started.statusCode} ${started.body}`);
  const enrolment = json<{ id: string }>(started);
  const code = cloud.bankOtp.last(c.reservedPhone)!;
  const r = await verifyCode(cloud, token, enrolment.id, code);
  if (r.statusCode !== 201) throw new Error(`verify failed: ${r.statusCode} ${r.body}`);
  return json<CardView>(r);
}

// ---- paying ------------------------------------------------------------------------------------------

/** `fetch` into the Fastify app (the IssuerClient code path, without a socket). */
export function injectFetch(cloud: TestCloud, onRequest?: (body: string) => void) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const u = new URL(url);
    const body = String(init.body ?? "");
    onRequest?.(body);
    const r = await cloud.app.inject({
      method: (init.method ?? "GET") as "POST",
      url: u.pathname + u.search,
      headers: init.headers as Record<string, string>,
      payload: body,
    });
    return new Response(r.body, { status: r.statusCode, headers: { "content-type": "application/json" } });
  };
}

/** Tapwallet's POS, its online requests going to the cloud's authorisation endpoint. */
export function posFor(cloud: PaymentsCloud, fetchImpl = injectFetch(cloud), firstStan = 1) {
  const config = defaultTerminalConfig({ aids: [unionPayAid(AID.debit), unionPayAid(AID.credit)] });
  const issuer = new IssuerClient({
    url: "http://cloud.test",
    apiKey: cloud.acquirerKey,
    fetch: fetchImpl,
    retries: 0,
  });
  let n = 1;
  const random = (len: number) =>
    Uint8Array.from({ length: len }, () => (n = (n * 1103515245 + 12345) & 0xff));
  return { pos: new Pos({ config, issuer, clock: cloud.clock, random, firstStan }), config, issuer };
}

export function tap(pos: Pos, phone: TestPhone, amount: number) {
  return pos.pay(new MemoryLink(phone.se), amount);
}

/**
 * Taps the phone at a POS whose issuer only records the request (and declines): the authorisation requests
 * a real terminal would send, to be sent to the endpoint later, in any order or all at once.
 */
export async function captureRequests(
  cloud: PaymentsCloud,
  phone: TestPhone,
  amounts: number[],
  firstStan: number,
  terminalId = "TW000009",
): Promise<AuthorisationRequest[]> {
  const captured: AuthorisationRequest[] = [];
  const recorder: Issuer = {
    authorise: async (r) => {
      captured.push(r);
      return { responseCode: "96", approved: false, reason: "captured", message: { zh: "", en: "" } };
    },
  };
  const config = defaultTerminalConfig({
    terminalId,
    aids: [unionPayAid(AID.debit), unionPayAid(AID.credit)],
  });
  const random = (n: number) => new Uint8Array(randomBytes(n));
  const pos = new Pos({ config, issuer: recorder, clock: cloud.clock, random, firstStan });
  for (const amount of amounts) await pos.pay(new MemoryLink(phone.se), amount);
  return captured;
}

export function authorise(
  cloud: PaymentsCloud,
  request: AuthorisationRequest,
  headers: Record<string, string> = {},
) {
  return cloud.app.inject({
    method: "POST",
    url: "/api/v1/issuer/authorisations",
    headers: { "x-api-key": cloud.acquirerKey, ...headers },
    payload: request as unknown as Record<string, unknown>,
  });
}
