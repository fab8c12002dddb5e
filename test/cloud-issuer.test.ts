/**
 * The cloud's issuer host, on SQLite and PostgreSQL: src/emv's host over the database store (the PBOC blog's
 * published ARQC verified through the endpoint, its ARPC under the blog's session key), API keys, idempotent
 * authorisations (ten concurrent copies post once; a changed request under a used key is refused), a replayed
 * cryptogram under a new STAN, funds held by one account under concurrent payments from two phones, declines
 * recorded for the owner, and malformed input answered, never a 5xx.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { fromHex, toHex } from "../src/core/bytes.js";
import { chinaDateDigits } from "../src/core/clock.js";
import { DbIssuerStore } from "../src/cloud/issuer/store.js";
import type { AuthorisationRequest } from "../src/emv/authorisation.js";
import { arpc } from "../src/emv/cryptogram.js";
import { encodeTrack2 } from "../src/emv/track2.js";
import { accountEvents, backends, bearer, bind, json, sqliteBackend } from "./cloud-harness.js";
import {
  CARDS,
  type PaymentsCloud,
  addCard,
  authorise,
  captureRequests,
  card,
  makePaymentsCloud,
  makePhone,
  sync,
  userWithPhone,
  authorisationPostings,
} from "./cloud-tsp-harness.js";

const ICBC = CARDS.icbc[0]!;

/** A user with one phone holding an active ICBC token. */
async function payingPhone(cloud: PaymentsCloud, mobile = "13800138100") {
  const user = await userWithPhone(cloud, mobile);
  const bc = await addCard(cloud, user.token, user.phone, ICBC);
  await sync(cloud, user.phone);
  return { ...user, card: bc };
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`issuer host on ${backend.name}`, () => {
    describe("with the test cards", () => {
      let cloud!: PaymentsCloud;
      freshEachTest(
        () => makePaymentsCloud(backend),
        (c) => (cloud = c),
      );

      it("lets only a valid acquirer key authorise, and only an issuer key manage tokens", async () => {
        const { phone } = await payingPhone(cloud);
        const [req] = await captureRequests(cloud, phone, [1_00], 1);
        const post = (headers: Record<string, string>) =>
          cloud.app.inject({
            method: "POST",
            url: "/api/v1/issuer/authorisations",
            headers,
            payload: req as unknown as Record<string, unknown>,
          });
        const cases: [Record<string, string>, number, string][] = [
          [{}, 401, "api_key_missing"],
          [{ "x-api-key": "not a key" }, 401, "api_key_invalid"],
          [{ "x-api-key": `twk_${"A".repeat(43)}` }, 401, "api_key_invalid"],
          [{ "x-api-key": await cloud.issuerKey("ICBC") }, 403, "api_key_role"],
        ];
        for (const [headers, status, error] of cases) {
          const r = await post(headers);
          expect([r.statusCode, json(r).error], error).toEqual([status, error]);
        }
        const tokens = await cloud.app.inject({
          method: "GET",
          url: "/api/v1/issuer/tokens",
          headers: { "x-api-key": cloud.acquirerKey },
        });
        expect([tokens.statusCode, json(tokens).error]).toEqual([403, "api_key_role"]);
        // The stored key is its hash only.
        const stored = await cloud.db.db.selectFrom("issuer_api_keys").selectAll().execute();
        expect(JSON.stringify(stored)).not.toContain(cloud.acquirerKey);
        // A revoked key stops at once.
        const extra = await cloud.app.cloud.issuer.apiKeys.create({
          role: "acquirer",
          name: "临时 temporary",
        });
        expect((await post({ "x-api-key": extra.key })).statusCode).toBe(200);
        expect(await cloud.app.cloud.issuer.apiKeys.revoke(extra.id)).toBe(true);
        expect(json(await post({ "x-api-key": extra.key })).error).toBe("api_key_invalid");
      });

      it("answers ten concurrent copies of one authorisation once: one approval, one posting, nine replays", async () => {
        const { phone } = await payingPhone(cloud);
        const [req] = await captureRequests(cloud, phone, [7_77], 40);
        const before = (await cloud.app.cloud.issuer.fundingAccount(
          cloud.app.cloud.issuer.vault.fingerprint(ICBC.pan),
        ))!;
        const answers = await Promise.all(Array.from({ length: 10 }, () => authorise(cloud, req!)));
        const bodies = answers.map((a) =>
          json<{ responseCode: string; replayed: boolean; authorisationCode: string }>(a),
        );
        expect(answers.every((a) => a.statusCode === 200)).toBe(true);
        expect(bodies.every((b) => b.responseCode === "00")).toBe(true);
        expect(bodies.filter((b) => !b.replayed)).toHaveLength(1);
        expect(new Set(bodies.map((b) => b.authorisationCode)).size).toBe(1);
        expect(await authorisationPostings(cloud)).toBe(1);
        const after = (await cloud.app.cloud.issuer.fundingAccount(before.ref))!;
        expect(after.available).toBe(before.available - 7_77);
        // Sent again later with a new transmission time: still the same answer.
        const later = await authorise(cloud, { ...req!, transmittedAt: "2026-03-01T08:05:00.000Z" });
        expect(json(later)).toMatchObject({
          replayed: true,
          authorisationCode: bodies[0]!.authorisationCode,
        });
        // The same terminal, STAN and date for a different payment: refused, nothing moves.
        const changed = await authorise(cloud, { ...req!, amount: 1 });
        expect([changed.statusCode, json(changed).error]).toEqual([409, "idempotency_conflict"]);
        expect(await authorisationPostings(cloud)).toBe(1);
        expect((await cloud.app.cloud.ledger.checkInvariants()).ok).toBe(true);
      });

      it("posts to a merchant it wrongly believes opened (a cache entry whose opening rolled back)", async () => {
        const { phone } = await payingPhone(cloud);
        const [req] = await captureRequests(cloud, phone, [4_00], 80);
        const fresh = "898310048160777";
        (cloud.app.cloud.issuer as unknown as { openLedgerAccounts: Set<string> }).openLedgerAccounts.add(
          `merchant:${fresh}`,
        );
        const r = await authorise(cloud, { ...req!, merchantId: fresh });
        expect(json(r)).toMatchObject({ responseCode: "00", replayed: false });
        expect((await cloud.app.cloud.ledger.account(`merchant:${fresh}`))!.balance).toBe(4_00);
      });

      it("takes an explicit Idempotency-Key, and refuses a replayed cryptogram under a new STAN (94)", async () => {
        const { phone, token, card: bc } = await payingPhone(cloud);
        const [req] = await captureRequests(cloud, phone, [2_00], 60);
        const first = await authorise(cloud, req!, { "idempotency-key": "order-0001" });
        expect(json(first)).toMatchObject({ responseCode: "00", replayed: false });
        const again = await authorise(cloud, req!, { "idempotency-key": "order-0001" });
        expect(json(again)).toMatchObject({ responseCode: "00", replayed: true });
        const other = await authorise(
          cloud,
          { ...req!, merchantId: "898310048169999" },
          { "idempotency-key": "order-0001" },
        );
        expect(json(other).error).toBe("idempotency_conflict");
        const badKey = await authorise(cloud, req!, { "idempotency-key": "has space" });
        expect(json(badKey).error).toBe("invalid_idempotency_key");
        // An attacker replays the recorded cryptogram as a new transaction: the ATC was used, 94, no money.
        const replayed = await authorise(cloud, { ...req!, stan: 61 });
        expect(json(replayed)).toMatchObject({
          responseCode: "94",
          approved: false,
          reason: "atc-replay",
          replayed: false,
        });
        expect(await authorisationPostings(cloud)).toBe(1);
        const txs = json<{ transactions: { responseCode: string; approved: boolean }[] }>(
          await cloud.app.inject({
            method: "GET",
            url: `/api/v1/bank-cards/${bc.id}/transactions`,
            headers: bearer(token),
          }),
        ).transactions;
        expect(txs.map((t) => [t.responseCode, t.approved])).toEqual([
          ["94", false],
          ["00", true],
        ]);
      });

      it("reverses an approval once: funds, day counters and the ledger given back, the owner told", async () => {
        const { phone, token, card: bc } = await payingPhone(cloud);
        const [pay, other] = await captureRequests(cloud, phone, [6_00, 2_00], 90);
        const issuer = cloud.app.cloud.issuer;
        const ref = issuer.vault.fingerprint(ICBC.pan);
        const before = (await issuer.fundingAccount(ref))!.available;
        expect(json(await authorise(cloud, pay!))).toMatchObject({ responseCode: "00" });
        expect((await issuer.fundingAccount(ref))!.available).toBe(before - 6_00);
        const date = chinaDateDigits(cloud.clock.now()).date.slice(2);
        cloud.clock.advance(30_000); // the terminal gave up waiting, and reverses
        const reverse = (body: Record<string, unknown>) =>
          cloud.app.inject({
            method: "POST",
            url: "/api/v1/issuer/reversals",
            headers: { "x-api-key": cloud.acquirerKey },
            payload: body,
          });
        const first = await reverse({ terminalId: pay!.terminalId, stan: pay!.stan, transactionDate: date });
        expect(json(first)).toEqual({ reversed: true, reason: "reversed", replayed: false });
        const again = await reverse({ terminalId: pay!.terminalId, stan: pay!.stan, transactionDate: date });
        expect(json(again)).toEqual({ reversed: true, reason: "reversed", replayed: true });
        expect((await issuer.fundingAccount(ref))!.available).toBe(before);
        const t = await cloud.db.db
          .selectFrom("issuer_tokens")
          .select(["day_amount", "day_count"])
          .executeTakeFirstOrThrow();
        expect(t).toEqual({ day_amount: 0, day_count: 0 });
        expect((await cloud.app.cloud.ledger.account("issuer:ICBC"))!.balance).toBe(0);
        expect((await cloud.app.cloud.ledger.account(`merchant:${pay!.merchantId}`))!.balance).toBe(0);
        expect((await cloud.app.cloud.ledger.checkInvariants()).ok).toBe(true);
        const txs = json<{ transactions: { amount: number; reason: string }[] }>(
          await cloud.app.inject({
            method: "GET",
            url: `/api/v1/bank-cards/${bc.id}/transactions`,
            headers: bearer(token),
          }),
        ).transactions;
        expect(txs.map((x) => [x.amount, x.reason])).toEqual([
          [-6_00, "reversal"],
          [6_00, "approved"],
        ]);
        const events = (await accountEvents(cloud, token)).map((e) => e.type);
        expect(events.filter((e) => e === "bank_card.payment_reversed")).toHaveLength(1);

        // By idempotency key; a decline is not reversed; an unknown original is 404; the date is needed.
        expect(json(await authorise(cloud, other!, { "idempotency-key": "sale-77" }))).toMatchObject({
          responseCode: "00",
        });
        expect(
          json(
            await reverse({ terminalId: other!.terminalId, stan: other!.stan, idempotencyKey: "sale-77" }),
          ),
        ).toMatchObject({
          reversed: true,
        });
        expect(json(await authorise(cloud, { ...pay!, stan: 95 }))).toMatchObject({ responseCode: "94" });
        expect(json(await reverse({ terminalId: pay!.terminalId, stan: 95, transactionDate: date }))).toEqual(
          {
            reversed: false,
            reason: "not-approved",
            replayed: false,
          },
        );
        const unknown = await reverse({ terminalId: pay!.terminalId, stan: 999, transactionDate: date });
        expect([unknown.statusCode, json(unknown).error]).toEqual([404, "original_not_found"]);
        const undated = await reverse({ terminalId: pay!.terminalId, stan: pay!.stan });
        expect([undated.statusCode, json(undated).error]).toEqual([400, "transaction_date_required"]);
        expect((await issuer.fundingAccount(ref))!.available).toBe(before);
      });

      it("answers well-formed JSON that is not a transaction with a response code, and malformed JSON with 400, never 5xx", async () => {
        const { phone } = await payingPhone(cloud);
        const [req] = await captureRequests(cloud, phone, [1_00], 70);
        const malformed55 = await authorise(cloud, { ...req!, field55: "9F2608AABB" });
        expect(json(malformed55)).toMatchObject({
          responseCode: "30",
          approved: false,
          reason: "malformed-request",
        });
        const unknownToken = await authorise(cloud, {
          ...req!,
          stan: 71,
          track2: toHex(
            encodeTrack2({ pan: "6299770000000018", expiry: "2912", serviceCode: "201", discretionary: "" }),
          ),
        });
        expect(json(unknownToken)).toMatchObject({ responseCode: "14", reason: "unknown-token" });
        const wrongAmount = await authorise(cloud, { ...req!, stan: 72, amount: 2_00 });
        expect(json(wrongAmount)).toMatchObject({ responseCode: "13", reason: "amount-mismatch" });
        const invalid = await authorise(cloud, { ...req!, stan: "1" } as unknown as AuthorisationRequest);
        expect([invalid.statusCode, json(invalid).error]).toEqual([400, "invalid_request"]);
        if (backend.name !== "sqlite") return; // the property below runs once
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.jsonValue(),
              fc.record({
                stan: fc.integer({ min: 1, max: 999999 }),
                terminalId: fc.constant("TW000001"),
                merchantId: fc.constant("898310048160001"),
                amount: fc.integer({ min: 0, max: 10_000_00 }),
                currency: fc.constant("0156"),
                track2: fc.oneof(
                  fc.constant(req!.track2),
                  fc.uint8Array({ minLength: 1, maxLength: 19 }).map(toHex),
                ),
                panSequenceNumber: fc.constant("00"),
                posEntryMode: fc.constant("07"),
                field55: fc.oneof(
                  fc.uint8Array({ minLength: 1, maxLength: 120 }).map(toHex),
                  fc.constant(req!.field55),
                  fc
                    .integer({ min: 2, max: req!.field55.length / 2 - 1 })
                    .map((n) => req!.field55.slice(0, 2 * n)),
                ),
                cvm: fc.constantFrom("none", "cdcvm", "signature", "online-pin"),
                transmittedAt: fc.constant("2026-03-01T08:00:00.000Z"),
              }),
            ),
            async (body) => {
              const r = await cloud.app.inject({
                method: "POST",
                url: "/api/v1/issuer/authorisations",
                headers: { "x-api-key": cloud.acquirerKey },
                payload: JSON.stringify(body),
              });
              expect(r.statusCode).toBeLessThan(500);
              if (r.statusCode === 200) expect(json(r).approved).toBe(false);
            },
          ),
          { numRuns: 150 },
        );
        expect(await authorisationPostings(cloud)).toBe(0);
      });
    });

    it("holds a funding account's balance under concurrent payments from two phones' tokens", async () => {
      const small = { ...card("622848", 500, "debit", "13900139500", "ABC"), available: 10_00 };
      const cloud = await makePaymentsCloud(backend, { cards: [small] });
      try {
        const { token, phone } = await userWithPhone(cloud, "13800138200");
        const second = makePhone(cloud.clock);
        expect((await bind(cloud, token, second, { model: "polaris" })).statusCode).toBe(201);
        await addCard(cloud, token, phone, small);
        await addCard(cloud, token, second, small); // one funding card, one token per phone, one PAR
        await sync(cloud, phone);
        await sync(cloud, second);
        const pars = await cloud.db.db.selectFrom("bank_cards").select(["par", "token"]).execute();
        expect(pars).toHaveLength(2);
        expect(pars[0]!.par).toBe(pars[1]!.par);
        expect(pars[0]!.token).not.toBe(pars[1]!.token);
        const requests = [
          ...(await captureRequests(cloud, phone, [3_00, 3_00], 1, "TW000001")),
          ...(await captureRequests(cloud, second, [3_00, 3_00], 1, "TW000002")),
        ];
        const answers = await Promise.all(requests.map((r) => authorise(cloud, r)));
        const codes = answers.map((a) => json<{ responseCode: string }>(a).responseCode).sort();
        expect(codes).toEqual(["00", "00", "00", "51"]);
        const ref = cloud.app.cloud.issuer.vault.fingerprint(small.pan);
        expect((await cloud.app.cloud.issuer.fundingAccount(ref))!.available).toBe(1_00);
        expect(await authorisationPostings(cloud)).toBe(3);
        expect((await cloud.app.cloud.ledger.account("issuer:ABC"))!.debitsPosted).toBe(9_00);
        // The decline reached the owner too.
        const events = await accountEvents<{ responseCode?: string }>(cloud, token);
        expect(events.filter((e) => e.type === "bank_card.payment")).toHaveLength(3);
        expect(
          events.filter((e) => e.type === "bank_card.payment_declined").map((e) => e.payload.responseCode),
        ).toEqual(["51"]);
      } finally {
        await cloud.close();
      }
    });

    it("verifies the PBOC blog's published ARQC through the database store and answers with its ARPC", async () => {
      // cnblogs.com/1024Planet/p/6256545.html (reference vectors/emv/pboc-cvn01-arqc-arpc.json): IMK-AC
      // F0C34A8124CEE0A91A0B034AA97D6EAC, PAN 6228000100001, PSN 01, ATC 0240, ARQC 5D016C91005E7CC2,
      // session key D4102725E6E5AD329E55AAB50BF23DA9, 2014-07-01.
      const cloud = await makePaymentsCloud(backend, {
        now: "2014-07-01T02:00:00Z",
        issuer: { dki: 0, imk3des: fromHex("F0C34A8124CEE0A91A0B034AA97D6EAC") },
        cards: [{ ...ICBC, expiry: "1512" }],
      });
      try {
        const issuer = cloud.app.cloud.issuer;
        const token = "6228000100001";
        await new DbIssuerStore(cloud.db.db, cloud.db.dialect).transaction((tx) =>
          tx.saveToken({
            token,
            psn: "01",
            expiry: "251231",
            status: "active",
            fundingPan: issuer.vault.seal(ICBC.pan, token),
            fundingLast4: ICBC.pan.slice(-4),
            dki: 0,
            algorithm: "3des",
            createdAt: "2014-01-01T00:00:00.000Z",
            limits: { perTransaction: 5000_00, dailyAmount: 20000_00, dailyCount: 50, noCvm: 1000_00 },
            atc: { highest: 0, recent: [] },
            day: { date: "20140701", amount: 0, count: 0 },
          }),
        );
        await cloud.db.db
          .updateTable("issuer_tokens")
          .set({ funding_ref: issuer.vault.fingerprint(ICBC.pan) })
          .where("token", "=", token)
          .execute();
        const req: AuthorisationRequest = {
          stan: 7,
          terminalId: "TW000001",
          merchantId: "898310048160001",
          amount: 1,
          currency: "0156",
          track2: toHex(encodeTrack2({ pan: token, expiry: "2512", serviceCode: "201", discretionary: "" })),
          panSequenceNumber: "01",
          posEntryMode: "07",
          field55:
            "9F26085D016C91005E7CC29F2701809F101307000103A04002010A010000001000D1F611529F37041E78EEBC9F36020240950500800460" +
            "009A031407019C01009F02060000000000015F2A02015682027D009F1A0201569F03060000000000009F330360E1C89F34030203009F35" +
            "01229F1E0838333230494343009F090200209F410400000007",
          cvm: "none",
          transmittedAt: "2014-07-01T02:00:00Z",
        };
        const r = json<{ responseCode: string; reason: string; issuerAuthenticationData: string }>(
          await authorise(cloud, req),
        );
        expect([r.responseCode, r.reason]).toEqual(["00", "approved"]);
        const sk = fromHex("D4102725E6E5AD329E55AAB50BF23DA9");
        expect(r.issuerAuthenticationData).toBe(
          toHex(arpc(sk, fromHex("5D016C91005E7CC2"), fromHex("3030"), "3des")) + "3030",
        );
        // The host's record is in the database: the ATC is used up.
        const row = await cloud.db.db
          .selectFrom("issuer_tokens")
          .select(["atc_highest", "day_amount"])
          .where("token", "=", token)
          .executeTakeFirstOrThrow();
        expect(row).toEqual({ atc_highest: 0x0240, day_amount: 1 });
        const auths = await cloud.db.db
          .selectFrom("issuer_authorisations")
          .select(["id", "response_code"])
          .execute();
        expect(auths).toEqual([{ id: `${token}:576`, response_code: "00" }]);
      } finally {
        await cloud.close();
      }
    });
  });
}

describe("issuer host configuration", () => {
  it("opens the test cards once, however many instances start", async () => {
    const cloud = await makePaymentsCloud(sqliteBackend);
    try {
      await cloud.app.cloud.issuer.start();
      await cloud.app.cloud.issuer.start();
      const n = await cloud.db.db
        .selectFrom("issuer_funding_accounts")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(12);
    } finally {
      await cloud.close();
    }
  });
});
