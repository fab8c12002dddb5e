/**
 * Keys and PANs never leave in what people and machines see: the main flows are run with everything they print,
 * log, trace and answer captured — `tapwallet demo quickpass --trace`, `tapwallet demo transit --trace`, the
 * decoder (`tapwallet trace`) on a recorded payment, and the cloud end to end (sign-up, bank cards with their
 * codes, the TSM's install scripts, payments through the authorisation endpoint, suspension, refusals) — and
 * every capture is searched for every PAN and key those flows used, in each form a leak could take: hex upper
 * and lower case, decimal, base64, and a PAN's digits as text and as ASCII hex. The cloud's stored bytes are
 * searched too (the SQLite file and its WAL read raw; every PostgreSQL row): PANs are sealed at rest.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { quickPassDemo } from "../src/cli/commands/demo-quickpass.js";
import { transitDemo } from "../src/cli/commands/demo-transit.js";
import { type Bytes, fromHex, toHex } from "../src/core/bytes.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../src/se/factory-keys.js";
import { cardMasterKey } from "../src/emv/cryptogram.js";
import { luhnCheckDigit } from "../src/emv/track2.js";
import { decodeTranscript, formatDecoded } from "../src/nfc/decode.js";
import { TracingLink } from "../src/nfc/trace.js";
import { transcriptToJson } from "../src/nfc/transcript.js";
import { PRODUCTS } from "../src/transit/catalogue.js";
import { DEVELOPMENT_KEY_SEED, IssuerKeyStore } from "../src/transit/keys.js";
import { bearer, sqliteBackend, postgresBackend, TEST_PEPPER } from "./cloud-harness.js";
import {
  ALL_CARDS,
  CARDS,
  TEST_CVK,
  addCard,
  makePaymentsCloud,
  posFor,
  startAdd,
  sync,
  tap,
  userWithPhone,
  verifyCode,
} from "./cloud-tsp-harness.js";
import { quickPassWorld } from "./emv-support.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The forms a key could leak in. */
function keyForms(key: Bytes): string[] {
  const hex = toHex(key);
  const b = Buffer.from(key);
  return [
    hex,
    hex.toLowerCase(),
    BigInt(`0x${hex}`).toString(10),
    b.toString("base64"),
    b.toString("base64url"),
  ];
}

/** The forms a PAN could leak in: its digits, as ASCII hex and as base64 of the text. */
function panForms(pan: string): string[] {
  const ascii = Buffer.from(pan, "ascii");
  return [pan, ascii.toString("hex").toUpperCase(), ascii.toString("hex"), ascii.toString("base64")];
}

interface Secret {
  what: string;
  forms: string[];
}

const key = (what: string, k: Bytes): Secret => ({ what, forms: keyForms(k) });
const pan = (what: string, p: string): Secret => ({ what, forms: panForms(p) });

/** Every secret form found in a capture, named (empty when none leaked). */
function leaks(captures: Record<string, string>, secrets: Secret[]): string[] {
  const found: string[] = [];
  for (const s of secrets)
    for (const f of s.forms)
      for (const [where, text] of Object.entries(captures))
        if (f.length >= 8 && text.includes(f)) found.push(`${s.what} (${f.slice(0, 6)}…) in ${where}`);
  return found;
}

describe("no key or PAN in what the demos and the decoder print", () => {
  it("tapwallet demo quickpass --trace: not the funding PAN, the token PAN, the issuer's or the SE's keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-sec-qp-"));
    dirs.push(dir);
    const lines: string[] = [];
    const { statuses } = await quickPassDemo({ trace: true, save: dir }, (l) => lines.push(l));
    expect(statuses).toEqual(["approved", "declined", "approved"]);
    const issuer = JSON.parse(readFileSync(join(dir, "issuer.json"), "utf8")) as {
      keys: Record<string, string>;
      vaultKey: string;
    };
    const se = JSON.parse(readFileSync(join(dir, "phone-se.json"), "utf8")) as {
      cardManager: { enc: string; mac: string; dek: string };
    };
    // The demo's funding card (src/cli/commands/demo-quickpass.ts), and every 16–19 digit number the issuer
    // keeps in the clear (the token; the funding PAN itself is sealed in the vault).
    const funding = "621700000012345678" + luhnCheckDigit("621700000012345678");
    const pans = [funding, ...new Set(JSON.stringify(issuer).match(/\b\d{16,19}\b/g) ?? [])];
    expect(JSON.stringify(issuer)).not.toContain(funding);
    expect(pans.length).toBeGreaterThanOrEqual(2);
    const secrets: Secret[] = [
      ...pans.map((p) => pan(`PAN ${p.slice(0, 6)}`, p)),
      ...Object.entries(issuer.keys).map(([k, v]) => key(`issuer master key ${k}`, fromHex(v))),
      key("vault key", fromHex(issuer.vaultKey)),
      key("SE ENC", fromHex(se.cardManager.enc)),
      key("SE MAC", fromHex(se.cardManager.mac)),
      key("SE DEK", fromHex(se.cardManager.dek)),
      ...pans.map((p) =>
        key(`card key of ${p.slice(0, 6)}`, cardMasterKey(fromHex(issuer.keys["3des"]!), p, "00", "3des")),
      ),
    ];
    const printed = lines.join("\n");
    expect(printed).toContain("APDU"); // the trace was printed
    expect(leaks({ "demo output": printed }, secrets)).toEqual([]);
  });

  it("tapwallet demo transit --trace: no issuer master key, PSAM purchase key or TAC key", async () => {
    const lines: string[] = [];
    await transitDemo({ trace: true }, (l) => lines.push(l));
    const store = new IssuerKeyStore(DEVELOPMENT_KEY_SEED);
    const secrets: Secret[] = [];
    for (const p of PRODUCTS)
      for (const alg of ["3des", "sm4"] as const) {
        const m = store.masterKeys(p, alg);
        secrets.push(
          key(`${p.id} ${alg} MPK`, m.mpk),
          key(`${p.id} ${alg} MTK`, m.mtk),
          key(`${p.id} ${alg} MLK`, m.mlk),
        );
      }
    const printed = lines.join("\n");
    expect(printed.length).toBeGreaterThan(500);
    expect(leaks({ "demo output": printed }, secrets)).toEqual([]);
  });

  it("the decoder (tapwallet trace) on a recorded payment shows the token PAN masked, never whole", async () => {
    const w = await quickPassWorld();
    const link = new TracingLink(w.link);
    const r = await w.pos.pay(link, 12_34);
    expect(r.status).toBe("approved");
    const apdus = link.transcript().apdus;
    const token = w.issued.token;
    // The recording itself holds the token PAN (tags 5A and 57): the decoder must not pass it on.
    expect(JSON.stringify(transcriptToJson(link.transcript()))).toContain(token);
    const decoded = decodeTranscript(apdus);
    const captures = {
      "decoded (zh)": formatDecoded(decoded, "zh"),
      "decoded (en)": formatDecoded(decoded, "en"),
      "decoded (JSON)": JSON.stringify(decoded),
    };
    expect(captures["decoded (en)"]).toContain(token.slice(0, 6)); // masked: first six and last four
    expect(leaks(captures, [pan("token PAN", token)])).toEqual([]);
    // And the middle digits, the part a mask hides, appear nowhere.
    for (const text of Object.values(captures)) expect(text).not.toContain(token.slice(6, -4));
  });
});

async function storedBytes(cloud: Awaited<ReturnType<typeof makePaymentsCloud>>): Promise<string> {
  if (cloud.db.dialect === "sqlite") {
    // The file and its WAL as they are on disk, not through SQL.
    const dir = cloud.db.location.replace(/[^/]+$/, "");
    return readdirSync(dir)
      .filter((f) => f.startsWith("tapwallet.sqlite"))
      .map((f) => readFileSync(join(dir, f)).toString("latin1"))
      .join("\n");
  }
  const tables = await cloud.db.db.introspection.getTables();
  let out = "";
  for (const t of tables)
    out += JSON.stringify(
      await cloud.db.db
        .selectFrom(t.name as never)
        .selectAll()
        .execute(),
    );
  return out;
}

for (const backend of [sqliteBackend, postgresBackend]) {
  describe.skipIf(backend.skip)(`no key or PAN leaves the cloud (${backend.name})`, () => {
    it("end to end: not in any answer, log line or stored byte; PANs sealed at rest", async () => {
      const cloud = await makePaymentsCloud(backend);
      try {
        const { token, phone } = await userWithPhone(cloud, "13800138021");
        await addCard(cloud, token, phone, CARDS.icbc[0]!);
        const credit = await addCard(cloud, token, phone, CARDS.ccbCredit);
        await sync(cloud, phone);
        const { pos } = posFor(cloud);
        expect((await tap(pos, phone, 5_00)).status).toBe("approved");
        await cloud.app.inject({
          method: "PATCH",
          url: `/api/v1/bank-cards/${credit.id}`,
          headers: bearer(token),
          payload: { status: "suspended" },
        });
        // Refusals that concern a card: wrong code, a card already added, a malformed authorisation.
        const again = await startAdd(cloud, token, phone.deviceId!, CARDS.bocDebit);
        await verifyCode(cloud, token, (again.json() as { id: string }).id, "000000");
        await startAdd(cloud, token, phone.deviceId!, CARDS.icbc[0]!);
        await cloud.app.inject({
          method: "POST",
          url: "/api/v1/issuer/authorisations",
          headers: { "x-api-key": cloud.acquirerKey },
          payload: { stan: 9, track2: CARDS.icbc[0]!.pan, cardNumber: CARDS.icbc[0]!.pan },
        });
        const tokens = (await cloud.db.db.selectFrom("issuer_tokens").select("token").execute()).map(
          (t) => t.token,
        );
        expect(tokens.length).toBeGreaterThanOrEqual(2);
        const seKeys = diversifySeKeys(DEV_SE_MASTER_KEY, phone.serial);
        const imk3des = fromHex("00112233445566778899AABBCCDDEEFF");
        const secrets: Secret[] = [
          ...ALL_CARDS.map((c) => pan(`funding PAN ${c.bank}`, c.pan)),
          key("issuer IMK 3DES", imk3des),
          key("issuer IMK SM4", fromHex("FFEEDDCCBBAA99887766554433221100")),
          key("CVK", TEST_CVK),
          key("vault key", fromHex("5EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A11EC2E7A1")),
          key("TSM factory master", DEV_SE_MASTER_KEY),
          key("SE ENC", seKeys.enc),
          key("SE MAC", seKeys.mac),
          key("SE DEK", seKeys.dek),
          ...tokens.map((t) =>
            key(`card key of token ${t.slice(0, 6)}`, cardMasterKey(imk3des, t, "00", "3des")),
          ),
          { what: "OTP pepper", forms: [TEST_PEPPER] },
          { what: "acquirer API key", forms: [cloud.acquirerKey] },
        ];
        expect(cloud.responses.length).toBeGreaterThan(15);
        expect(cloud.logs.length).toBeGreaterThan(20);
        const stored = await storedBytes(cloud);
        expect(stored.length).toBeGreaterThan(10_000);
        expect(
          leaks({ answers: cloud.responses.join("\n"), "log lines": cloud.logs.join("\n") }, secrets),
        ).toEqual([]);
        // At rest: no PAN digits (funding cards are sealed), no key in the clear.
        expect(
          leaks(
            { "stored bytes": stored },
            secrets.filter((s) => s.what !== "acquirer API key"),
          ),
        ).toEqual([]);
        // Token PANs: not in any log line (answers show them masked).
        expect(
          leaks(
            { "log lines": cloud.logs.join("\n") },
            tokens.map((t) => pan("token PAN", t)),
          ),
        ).toEqual([]);
      } finally {
        await cloud.close();
      }
    });
  });
}
