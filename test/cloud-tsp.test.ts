/**
 * Bank cards end to end, on SQLite and PostgreSQL: sign up, register a phone, add a UnionPay card with the
 * bank's code, the token lands on the phone's SE through the TSM at the phone's sync, a payment at our POS
 * goes through the cloud's authorisation endpoint (approved, ledger posted, transaction listed, phone
 * notified) and its retry is charged once. Then every refusal: the card checks, five wrong codes, the ninth
 * card, another account's card; the lifecycle by user, issuer and wallet with who may resume; a lost phone
 * (suspended from the web, declined at the POS, wiped at its next contact). No answer, log line or row ever
 * holds a funding card number.
 */
import { describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { toHex } from "../src/core/bytes.js";
import { ledgerAccountIds } from "../src/cloud/ledger/accounts.js";
import { purgeExpired } from "../src/cloud/services.js";
import { IssuerClient } from "../src/emv/terminal/issuer-client.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { MemoryLink } from "../src/nfc/memory.js";
import type { TestCard } from "../src/cloud/issuer/test-cards.js";
import { accountEvents, backends, bearer, bind, json, signed } from "./cloud-harness.js";
import {
  ALL_CARDS,
  CARDS,
  type CardView,
  type PaymentsCloud,
  type TestPhone,
  addCard,
  card,
  cvn2Of,
  expiryOf,
  injectFetch,
  makePaymentsCloud,
  makePhone,
  posFor,
  startAdd,
  sync,
  tap,
  userWithPhone,
  verifyCode,
  authorisationPostings,
} from "./cloud-tsp-harness.js";

const ICBC = CARDS.icbc[0]!;

async function cardsOf(cloud: PaymentsCloud, token: string): Promise<CardView[]> {
  const r = await cloud.app.inject({ method: "GET", url: "/api/v1/bank-cards", headers: bearer(token) });
  return json<{ cards: CardView[] }>(r).cards;
}

const patch = (cloud: PaymentsCloud, token: string, id: string, body: Record<string, unknown>) =>
  cloud.app.inject({
    method: "PATCH",
    url: `/api/v1/bank-cards/${id}`,
    headers: bearer(token),
    payload: body,
  });

const issuerCall = (
  cloud: PaymentsCloud,
  key: string,
  method: "PATCH" | "DELETE",
  id: string,
  body?: unknown,
) =>
  cloud.app.inject({
    method,
    url: `/api/v1/issuer/tokens/${id}`,
    headers: { "x-api-key": key },
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });

/** Instances of the qPBOC package on the phone's SE, as the SE itself lists them. */
const onSe = (phone: TestPhone) =>
  phone.se.registry
    .list()
    .filter((e) => e.packageId === "emv.qpboc")
    .map((e) => ({ aid: toHex(e.aid), state: e.state, defaultPayment: e.defaultPayment }));

async function available(cloud: PaymentsCloud, c: TestCard): Promise<number> {
  const ref = cloud.app.cloud.issuer.vault.fingerprint(c.pan);
  return (await cloud.app.cloud.issuer.fundingAccount(ref))!.available;
}

/** Every row of every table, as text (to look for card numbers at rest). */
async function everyRow(cloud: PaymentsCloud): Promise<string> {
  const tables = [
    "bank_card_enrolments",
    "bank_card_otp_guards",
    "bank_cards",
    "bank_card_transactions",
    "issuer_funding_accounts",
    "issuer_tokens",
    "issuer_authorisations",
    "issuer_requests",
    "ledger_transfers",
    "ledger_entries",
    "notifications",
    "tsm_scripts",
    "tsm_instances",
  ] as const;
  let out = "";
  for (const t of tables) out += JSON.stringify(await cloud.db.db.selectFrom(t).selectAll().execute());
  return out;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`bank cards on ${backend.name}`, () => {
    let cloud!: PaymentsCloud;
    freshEachTest(
      () => makePaymentsCloud(backend),
      (c) => (cloud = c),
    );

    it("end to end: add a card with its code, the token lands on the SE, pay through the cloud, a retry charges once", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138000");

      // Step 1, as the phone itself asks (signed request, no device id): the bank sends its code.
      const started = await cloud.app.inject(
        signed(cloud, phone, {
          method: "POST",
          url: "/api/v1/bank-cards",
          body: {
            cardNumber: ICBC.pan.replace(/(\d{4})/g, "$1 ").trim(),
            expiry: expiryOf(ICBC),
            termsVersion: "2026-03",
          },
        }),
      );
      expect(started.statusCode, started.body).toBe(202);
      const enrolment = json<{
        id: string;
        bank: { code: string; zh: string };
        kind: string;
        fundingLast4: string;
        codeSentTo: string;
      }>(started);
      expect(enrolment).toMatchObject({
        bank: { code: "ICBC", zh: "中国工商银行" },
        kind: "debit",
        fundingLast4: ICBC.pan.slice(-4),
      });
      expect(enrolment.codeSentTo).toBe("139****9000"); // the bank's reserved number, masked
      const code = cloud.bankOtp.last(ICBC.reservedPhone)!;
      expect(code).toMatch(/^\d{6}$/);

      // A wrong code is refused (with the attempts left), the right one issues the token.
      const wrong = await verifyCode(cloud, token, enrolment.id, code === "000000" ? "111111" : "000000");
      expect(wrong.statusCode).toBe(400);
      expect(json(wrong)).toMatchObject({ error: "otp_wrong", details: { attemptsRemaining: 4 } });
      const verified = await verifyCode(cloud, token, enrolment.id, code);
      expect(verified.statusCode, verified.body).toBe(201);
      const bc = json<CardView>(verified);
      expect(bc).toMatchObject({
        status: "pending",
        seState: "installing",
        default: true,
        fundingLast4: ICBC.pan.slice(-4),
      });
      // Retrying the verification (answer lost) gives the same card, not a second token.
      const again = await verifyCode(cloud, token, enrolment.id, code);
      expect(json<CardView>(again).id).toBe(bc.id);

      // Nothing on the SE yet; the phone's next sync installs, personalises and makes it the default card.
      expect(onSe(phone)).toEqual([]);
      const summary = await sync(cloud, phone);
      expect(summary.outcome).toBe("ok");
      expect(onSe(phone)).toEqual([{ aid: "A00000033301010101", state: "activated", defaultPayment: true }]);
      const [active] = await cardsOf(cloud, token);
      expect(active).toMatchObject({
        id: bc.id,
        status: "active",
        seState: "installed",
        default: true,
        kind: "debit",
      });
      const tokenRow = await cloud.db.db.selectFrom("issuer_tokens").selectAll().executeTakeFirstOrThrow();
      expect(tokenRow.token).toMatch(/^629977\d{10}$/);
      expect(tokenRow.token.slice(-4)).toBe(active!.tokenLast4);
      expect(tokenRow.status).toBe("active");
      expect(tokenRow.par).toMatch(/^TW01[0-9A-Z]{25}$/);

      // Pay ¥12.34 at our POS: online through the cloud's endpoint; the card checks the ARPC.
      const before = await available(cloud, ICBC);
      const { pos, issuer } = posFor(cloud);
      const paid = await tap(pos, phone, 12_34);
      expect(paid.status, JSON.stringify(paid.reason)).toBe("approved");
      expect(paid.decidedBy).toBe("issuer");
      expect(paid.issuerAuthentication).toBe("verified");
      expect(paid.authorisation!.request.track2).toContain(tokenRow.token); // the token travels, never the PAN
      expect(await available(cloud, ICBC)).toBe(before - 12_34);
      expect(await authorisationPostings(cloud)).toBe(1);
      const ledger = cloud.app.cloud.ledger;
      expect((await ledger.account(ledgerAccountIds.issuerSettlement("ICBC")))!.debitsPosted).toBe(12_34);
      expect(
        (await ledger.account(ledgerAccountIds.merchant(paid.authorisation!.request.merchantId)))!.balance,
      ).toBe(12_34);

      // The same authorisation sent again (a terminal that lost the answer): the first answer, no new money.
      const replay = await issuer.authorise(paid.authorisation!.request);
      expect(replay).toEqual(paid.authorisation!.response);
      const raw = await cloud.app.inject({
        method: "POST",
        url: "/api/v1/issuer/authorisations",
        headers: { "x-api-key": cloud.acquirerKey },
        payload: paid.authorisation!.request as unknown as Record<string, unknown>,
      });
      expect(json(raw)).toMatchObject({
        responseCode: "00",
        replayed: true,
        authorisationCode: paid.authorisation!.response.authorisationCode,
      });
      expect(await authorisationPostings(cloud)).toBe(1);
      expect(await available(cloud, ICBC)).toBe(before - 12_34);

      // A POS whose network loses the first answer retries by itself: approved, charged once.
      let calls = 0;
      const inner = injectFetch(cloud);
      const flaky = async (url: string, init: RequestInit) => {
        const r = await inner(url, init);
        if (calls++ === 0) throw new TypeError("socket hang up"); // the issuer decided, the answer was lost
        return r;
      };
      const retrying = new Pos({
        config: posFor(cloud).config,
        issuer: new IssuerClient({
          url: "http://cloud.test",
          apiKey: cloud.acquirerKey,
          fetch: flaky,
          retries: 2,
        }),
        clock: cloud.clock,
        random: (n) => new Uint8Array(n).fill(7),
        firstStan: 500,
      });
      const second = await retrying.pay(new MemoryLink(phone.se), 5_00);
      expect(second.status).toBe("approved");
      expect(calls).toBe(2);
      expect(await authorisationPostings(cloud)).toBe(2);
      expect(await available(cloud, ICBC)).toBe(before - 12_34 - 5_00);

      // The owner sees both payments on the card, the phone was told of each.
      const txs = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/bank-cards/${bc.id}/transactions`,
        headers: bearer(token),
      });
      expect(
        json<{ transactions: { amount: number; approved: boolean; responseCode: string }[] }>(txs)
          .transactions,
      ).toEqual([
        expect.objectContaining({ amount: 5_00, approved: true, responseCode: "00" }),
        expect.objectContaining({ amount: 12_34, approved: true, responseCode: "00" }),
      ]);
      const events = json<{ events: { type: string; payload: Record<string, unknown> }[] }>(
        await cloud.app.inject(signed(cloud, phone, { method: "GET", url: "/api/v1/notifications?after=0" })),
      ).events;
      const payments = events.filter((e) => e.type === "bank_card.payment");
      expect(payments.map((e) => [e.payload["cardId"], e.payload["amount"]])).toEqual([
        [bc.id, 12_34],
        [bc.id, 5_00],
      ]);
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(["bank_card.adding", "bank_card.added"]),
      );
      expect(await ledger.checkInvariants()).toMatchObject({ ok: true });
    });

    it("adds a credit card with its CVN2, and a card to another phone of the account; each phone sees its own", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138001");
      const second = makePhone(cloud.clock);
      expect((await bind(cloud, token, second, { model: "dipper" })).statusCode).toBe(201);
      const credit = await addCard(cloud, token, phone, CARDS.ccbCredit);
      expect(credit).toMatchObject({ kind: "credit", bank: { code: "CCB" }, default: true });
      const other = await addCard(cloud, token, second, CARDS.bocDebit);
      expect(other).toMatchObject({ deviceId: second.deviceId, default: true });
      await sync(cloud, phone);
      await sync(cloud, second);
      expect(onSe(phone)).toEqual([{ aid: "A00000033301010201", state: "activated", defaultPayment: true }]);
      const mine = await cloud.app.inject(
        signed(cloud, second, { method: "GET", url: "/api/v1/bank-cards" }),
      );
      expect(json<{ cards: CardView[] }>(mine).cards.map((c) => c.id)).toEqual([other.id]);
      expect((await cardsOf(cloud, token)).map((c) => c.id).sort()).toEqual([credit.id, other.id].sort());
      // The phone cannot reach the other phone's card.
      const foreign = await cloud.app.inject(
        signed(cloud, second, { method: "GET", url: `/api/v1/bank-cards/${credit.id}` }),
      );
      expect(foreign.statusCode).toBe(404);
      const paid = await tap(posFor(cloud).pos, phone, 88_00);
      expect(paid.status).toBe("approved");
      expect(paid.outcome.card?.label).toBe("PBOC CREDIT");
    });

    it("refuses what the card checks find, each with its reason", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138002");
      const id = phone.deviceId!;
      const bad = async (c: TestCard, extra: Record<string, unknown>, status: number, error: string) => {
        const r = await startAdd(cloud, token, id, c, extra);
        expect(r.statusCode, `${error}: ${r.body}`).toBe(status);
        expect(json(r).error).toBe(error);
        return json<{ message: { zh: string; en: string } }>(r);
      };
      const wrongLuhn = ICBC.pan.slice(0, -1) + String((Number(ICBC.pan.slice(-1)) + 1) % 10);
      await bad(ICBC, { cardNumber: wrongLuhn }, 400, "invalid_card_number");
      await bad(ICBC, { cardNumber: "4111111111111111" }, 400, "card_not_supported");
      await bad(ICBC, { cardNumber: "6299770000000018" }, 400, "invalid_card_number"); // a token is no funding card
      await bad(ICBC, { expiry: "13/30" }, 400, "invalid_expiry");
      const expired = await bad(ICBC, { expiry: "02/26" }, 400, "card_expired");
      expect(expired.message.zh).toContain("有效期");
      await bad(ICBC, { termsVersion: "2025-01" }, 400, "terms_not_accepted");
      await bad(CARDS.ccbCredit, { cvn2: undefined }, 400, "invalid_cvn2");
      const wrongCvn2 = String((Number(cvn2Of(CARDS.ccbCredit)) + 1) % 1000).padStart(3, "0");
      await bad(CARDS.ccbCredit, { cvn2: wrongCvn2 }, 400, "card_not_verified");
      await bad(ICBC, { expiry: "11/30" }, 400, "card_not_verified"); // not the card's expiry
      // A card of a supported range the bank does not know.
      await bad(card("622202", 999, "debit", "13900139999", "ICBC"), {}, 400, "card_not_verified");
      await bad(ICBC, { deviceId: undefined }, 400, "device_required");
      expect(cloud.bankOtp.messages).toHaveLength(0); // no code was sent for any of these

      await addCard(cloud, token, phone, ICBC);
      await bad(ICBC, {}, 409, "card_already_added");
    });

    it("locks a card after five wrong codes in a row: even the right code is refused until the lock ends", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138003");
      const first = json<{ id: string }>(await startAdd(cloud, token, phone.deviceId!, ICBC));
      const code = cloud.bankOtp.last(ICBC.reservedPhone)!;
      const wrong = code === "000000" ? "999999" : "000000";
      for (let i = 1; i <= 4; i++) {
        const r = await verifyCode(cloud, token, first.id, wrong);
        expect(json(r)).toMatchObject({ error: "otp_wrong", details: { attemptsRemaining: 5 - i } });
      }
      const fifth = await verifyCode(cloud, token, first.id, wrong);
      expect(fifth.statusCode).toBe(429);
      expect(json(fifth)).toMatchObject({ error: "otp_locked", details: { retryAfterSeconds: 1800 } });
      expect(fifth.headers["retry-after"]).toBe("1800");
      expect((await verifyCode(cloud, token, first.id, code)).statusCode).toBe(429);
      // A new enrolment of the same card is refused while locked, and no code is sent.
      const sent = cloud.bankOtp.messages.length;
      expect(json(await startAdd(cloud, token, phone.deviceId!, ICBC)).error).toBe("otp_locked");
      expect(cloud.bankOtp.messages).toHaveLength(sent);
      expect(await cardsOf(cloud, token)).toEqual([]);
      // After the lock: a new enrolment with its new code works.
      cloud.clock.advance(30 * 60_000 + 1000);
      expect((await addCard(cloud, token, phone, ICBC)).status).toBe("pending");
    });

    it("lets an abandoned enrolment's code expire, and the janitor drops its sealed card number", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138010");
      const e = json<{ id: string; expiresInSeconds: number }>(
        await startAdd(cloud, token, phone.deviceId!, ICBC),
      );
      expect(e.expiresInSeconds).toBe(300);
      const code = cloud.bankOtp.last(ICBC.reservedPhone)!;
      const sealed = () =>
        cloud.db.db
          .selectFrom("bank_card_enrolments")
          .select(["pan_data", "state"])
          .where("id", "=", e.id)
          .executeTakeFirstOrThrow();
      expect((await sealed()).pan_data).not.toBe("");
      cloud.clock.advance(30 * 60_000);
      expect(await cloud.app.cloud.tsp.purgeExpired()).toBe(0); // not yet an hour past the code's expiry
      cloud.clock.advance(60 * 60_000);
      expect(await purgeExpired(cloud.app.cloud)).toBeGreaterThanOrEqual(1);
      expect(await sealed()).toEqual({ pan_data: "", state: "expired" });
      const late = await verifyCode(cloud, token, e.id, code);
      expect([late.statusCode, json(late).error]).toEqual([400, "otp_expired"]);
    });

    it("refuses the ninth bank card of a phone, at the start and at the code; deleting one makes room", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138004");
      const cards: CardView[] = [];
      for (const c of CARDS.icbc.slice(0, 7)) cards.push(await addCard(cloud, token, phone, c));
      // Two enrolments started with 7 on the phone; the 8th is verified, then the 9th cannot be.
      const eighth = json<{ id: string }>(await startAdd(cloud, token, phone.deviceId!, CARDS.icbc[7]!));
      const ninth = json<{ id: string }>(await startAdd(cloud, token, phone.deviceId!, CARDS.icbc[8]!));
      const eighthCode = cloud.bankOtp.last(CARDS.icbc[7]!.reservedPhone)!;
      const ninthCode = cloud.bankOtp.last(CARDS.icbc[8]!.reservedPhone)!;
      expect((await verifyCode(cloud, token, eighth.id, eighthCode)).statusCode).toBe(201);
      const refused = await verifyCode(cloud, token, ninth.id, ninthCode);
      expect(refused.statusCode).toBe(409);
      expect(json(refused)).toMatchObject({
        error: "too_many_bank_cards",
        message: {
          zh: "每台手机最多添加 8 张银行卡，请先删除一张",
          en: "A phone holds at most 8 bank cards; delete one first",
        },
        details: { max: 8 },
      });
      const tenth = await startAdd(cloud, token, phone.deviceId!, CARDS.icbc[9]!);
      expect(json(tenth).error).toBe("too_many_bank_cards");
      await sync(cloud, phone);
      expect(onSe(phone)).toHaveLength(8);
      expect(new Set(onSe(phone).map((e) => e.aid)).size).toBe(8);
      expect(onSe(phone).filter((e) => e.defaultPayment)).toHaveLength(1);
      // Delete one: the waiting enrolment's code now goes through.
      expect(
        (
          await cloud.app.inject({
            method: "DELETE",
            url: `/api/v1/bank-cards/${cards[3]!.id}`,
            headers: bearer(token),
          })
        ).statusCode,
      ).toBe(200);
      expect((await verifyCode(cloud, token, ninth.id, ninthCode)).statusCode).toBe(201);
      await sync(cloud, phone);
      expect(onSe(phone)).toHaveLength(8);
    });

    it("keeps the limit when the last free place is claimed by three codes at once", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138011");
      for (const c of CARDS.icbc.slice(0, 7)) await addCard(cloud, token, phone, c);
      const pending = CARDS.icbc.slice(7, 10);
      const enrolments = [];
      for (const c of pending)
        enrolments.push(json<{ id: string }>(await startAdd(cloud, token, phone.deviceId!, c)));
      const answers = await Promise.all(
        enrolments.map((e, i) =>
          verifyCode(cloud, token, e.id, cloud.bankOtp.last(pending[i]!.reservedPhone)!),
        ),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409]);
      expect(await cardsOf(cloud, token)).toHaveLength(8);
      const tokens = await cloud.db.db.selectFrom("issuer_tokens").select("token").execute();
      expect(tokens).toHaveLength(8); // the refused codes issued no token
    });

    it("answers another account's card or enrolment exactly as an unknown one: 404", async () => {
      const alice = await userWithPhone(cloud, "13800138005");
      const bob = await userWithPhone(cloud, "13800138006");
      const aliceCard = await addCard(cloud, alice.token, alice.phone, ICBC);
      const enrolment = json<{ id: string }>(
        await startAdd(cloud, alice.token, alice.phone.deviceId!, CARDS.bocDebit),
      );
      const unknown = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/bank-cards/bc_000000000000000000000000",
        headers: bearer(bob.token),
      });
      expect(unknown.statusCode).toBe(404);
      const probes = [
        cloud.app.inject({
          method: "GET",
          url: `/api/v1/bank-cards/${aliceCard.id}`,
          headers: bearer(bob.token),
        }),
        patch(cloud, bob.token, aliceCard.id, { status: "suspended" }),
        patch(cloud, bob.token, aliceCard.id, { default: true }),
        cloud.app.inject({
          method: "DELETE",
          url: `/api/v1/bank-cards/${aliceCard.id}`,
          headers: bearer(bob.token),
        }),
        cloud.app.inject({
          method: "GET",
          url: `/api/v1/bank-cards/${aliceCard.id}/transactions`,
          headers: bearer(bob.token),
        }),
        cloud.app.inject(
          signed(cloud, bob.phone, { method: "GET", url: `/api/v1/bank-cards/${aliceCard.id}` }),
        ),
      ];
      for (const r of await Promise.all(probes)) {
        expect(r.statusCode).toBe(404);
        expect(r.body).toBe(unknown.body);
      }
      const code = cloud.bankOtp.last(CARDS.bocDebit.reservedPhone)!;
      expect((await verifyCode(cloud, bob.token, enrolment.id, code)).statusCode).toBe(404);
      // Bob cannot add a card to Alice's phone either.
      const onAlicesPhone = await startAdd(cloud, bob.token, alice.phone.deviceId!, CARDS.ccbCredit);
      expect([onAlicesPhone.statusCode, json(onAlicesPhone).error]).toEqual([404, "device_not_found"]);
      expect(await cardsOf(cloud, bob.token)).toEqual([]);
      expect((await cardsOf(cloud, alice.token))[0]!.status).toBe("pending");
    });

    it("suspends, resumes and deletes by the user and by the issuer; whoever suspended resumes; the POS enforces it", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138007");
      const icbc = await addCard(cloud, token, phone, ICBC);
      const boc = await addCard(cloud, token, phone, CARDS.bocDebit);
      await sync(cloud, phone);
      const { pos } = posFor(cloud);
      const icbcKey = await cloud.issuerKey("ICBC");
      const bocKey = await cloud.issuerKey("BOC");
      const declinedWith = async (code: string) => {
        const r = await tap(pos, phone, 1_00);
        expect(r.status).toBe("declined");
        expect(r.authorisation?.response.responseCode).toBe(code);
      };

      // The user suspends: the default card is declined (62); the user resumes: approved.
      const s = await patch(cloud, token, icbc.id, { status: "suspended" });
      expect(json(s)).toMatchObject({ status: "suspended", suspendedBy: "user" });
      await declinedWith("62");
      expect(json(await patch(cloud, token, icbc.id, { status: "active" }))).toMatchObject({
        status: "active",
        suspendedBy: null,
      });
      expect((await tap(pos, phone, 1_00)).status).toBe("approved");

      // The bank suspends: the user cannot resume (403); another bank cannot touch it (404); the bank can.
      expect(json(await issuerCall(cloud, bocKey, "PATCH", icbc.id, { status: "suspended" })).error).toBe(
        "bank_card_not_found",
      );
      const byBank = await issuerCall(cloud, icbcKey, "PATCH", icbc.id, { status: "suspended" });
      expect(json(byBank)).toMatchObject({
        tokenReferenceId: icbc.id,
        status: "suspended",
        suspendedBy: "issuer",
      });
      const userTry = await patch(cloud, token, icbc.id, { status: "active" });
      expect([userTry.statusCode, json(userTry).error]).toEqual([403, "suspended_by_issuer"]);
      expect(json<{ message: { zh: string } }>(userTry).message.zh).toContain("发卡行");
      await declinedWith("62");
      // The bank's suspension also overrides the user's: a card the user suspended, then the bank, stays the bank's.
      expect(json(await issuerCall(cloud, icbcKey, "PATCH", icbc.id, { status: "active" }))).toMatchObject({
        status: "active",
      });
      await patch(cloud, token, icbc.id, { status: "suspended" });
      const bankResumeOfUser = await issuerCall(cloud, icbcKey, "PATCH", icbc.id, { status: "active" });
      expect([bankResumeOfUser.statusCode, json(bankResumeOfUser).error]).toEqual([403, "suspended_by_user"]);
      await issuerCall(cloud, icbcKey, "PATCH", icbc.id, { status: "suspended" });
      expect(json(await patch(cloud, token, icbc.id, { status: "active" })).error).toBe(
        "suspended_by_issuer",
      );
      expect(json(await issuerCall(cloud, icbcKey, "PATCH", icbc.id, { status: "active" }))).toMatchObject({
        status: "active",
      });
      expect((await tap(pos, phone, 1_00)).status).toBe("approved");
      // The bank lists its tokens (PAR, requestor), never seeing another bank's.
      const listed = json<{ tokens: { tokenReferenceId: string; par: string; tokenRequestorId: string }[] }>(
        await cloud.app.inject({
          method: "GET",
          url: "/api/v1/issuer/tokens",
          headers: { "x-api-key": icbcKey },
        }),
      ).tokens;
      expect(listed.map((t) => t.tokenReferenceId)).toEqual([icbc.id]);
      expect(listed[0]!.tokenRequestorId).toBe("99977000001");

      // The user deletes the default card: the token is dead at once (14), the other card becomes default,
      // and the phone removes the instance at its next sync.
      const del = await cloud.app.inject({
        method: "DELETE",
        url: `/api/v1/bank-cards/${icbc.id}`,
        headers: bearer(token),
      });
      expect(json(del)).toMatchObject({ status: "deleted", seState: "removing" });
      expect(
        (
          await cloud.app.inject({
            method: "GET",
            url: `/api/v1/bank-cards/${icbc.id}`,
            headers: bearer(token),
          })
        ).statusCode,
      ).toBe(200);
      expect((await cardsOf(cloud, token)).map((c) => [c.id, c.default])).toEqual([[boc.id, true]]);
      expect(json(await patch(cloud, token, icbc.id, { status: "active" })).error).toBe(
        "bank_card_not_found",
      );
      await sync(cloud, phone);
      expect(onSe(phone)).toEqual([{ aid: "A00000033301010102", state: "activated", defaultPayment: true }]);
      expect((await tap(pos, phone, 1_00)).status).toBe("approved"); // the BOC card now
      // The bank deletes its token: declined with 14 (the instance is still on the phone until it syncs).
      expect(json(await issuerCall(cloud, bocKey, "DELETE", boc.id))).toMatchObject({ status: "deleted" });
      await declinedWith("14");
      await sync(cloud, phone);
      expect(onSe(phone)).toEqual([]);
      const history = await cloud.app.inject({
        method: "GET",
        url: `/api/v1/bank-cards/${boc.id}`,
        headers: bearer(token),
      });
      expect(json(history)).toMatchObject({ status: "deleted", seState: "removed" });
    });

    it("a lost phone: every card suspended from the web, declined at the POS, wiped at the phone's next contact", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138008");
      const a = await addCard(cloud, token, phone, ICBC);
      const b = await addCard(cloud, token, phone, CARDS.ccbCredit);
      await sync(cloud, phone);
      expect(onSe(phone)).toHaveLength(2);
      const { pos } = posFor(cloud);
      expect((await tap(pos, phone, 2_00)).status).toBe("approved");

      const lost = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${phone.deviceId}/lost`,
        headers: bearer(token),
      });
      expect(lost.statusCode).toBe(200);
      const cards = await cardsOf(cloud, token);
      expect(cards.map((c) => [c.id, c.status, c.suspendedBy, c.seState]).sort()).toEqual(
        [
          [a.id, "suspended", "wallet", "removing"],
          [b.id, "suspended", "wallet", "removing"],
        ].sort(),
      );
      // The finder taps the phone: declined by the issuer (62), no money moves.
      const before = await available(cloud, ICBC);
      const tapped = await tap(pos, phone, 2_00);
      expect([tapped.status, tapped.authorisation?.response.responseCode]).toEqual(["declined", "62"]);
      expect(await available(cloud, ICBC)).toBe(before);
      // Neither the user nor the bank can resume a lost phone's card; no card can be added to it.
      expect(json(await patch(cloud, token, a.id, { status: "active" })).error).toBe("device_lost");
      const key = await cloud.issuerKey("ICBC");
      expect(json(await issuerCall(cloud, key, "PATCH", a.id, { status: "active" })).error).toBe(
        "device_lost",
      );
      expect(json(await startAdd(cloud, token, phone.deviceId!, CARDS.bocDebit)).error).toBe("device_lost");

      // The phone's next contact wipes both cards from its SE; the tokens are then gone for good.
      const summary = await sync(cloud, phone);
      expect(summary.lost).toBe(true);
      expect(onSe(phone)).toEqual([]);
      const after = await cloud.app.inject({
        method: "GET",
        url: "/api/v1/bank-cards?deviceId=" + phone.deviceId,
        headers: bearer(token),
      });
      expect(json<{ cards: CardView[] }>(after).cards).toEqual([]);
      const tokens = await cloud.db.db.selectFrom("issuer_tokens").select("status").execute();
      expect(tokens.map((t) => t.status)).toEqual(["deleted", "deleted"]);
      const events = (await accountEvents(cloud, token)).map((e) => e.type);
      expect(events).toEqual(
        expect.arrayContaining(["device.lost", "bank_cards.suspended", "bank_card.removed"]),
      );
    });

    it("never shows a funding card number: not in any answer, log line, error or stored row", async () => {
      const { token, phone } = await userWithPhone(cloud, "13800138009");
      await addCard(cloud, token, phone, ICBC);
      const credit = await addCard(cloud, token, phone, CARDS.ccbCredit);
      await sync(cloud, phone);
      const { pos } = posFor(cloud);
      await tap(pos, phone, 3_00);
      await patch(cloud, token, credit.id, { status: "suspended" });
      await tap(pos, phone, 3_00);
      // Errors that concern the card: already added, wrong CVN2, unknown card; a malformed authorisation.
      await startAdd(cloud, token, phone.deviceId!, ICBC);
      await startAdd(cloud, token, phone.deviceId!, CARDS.bocDebit, { cvn2: "123", expiry: "01/29" });
      await cloud.app.inject({
        method: "POST",
        url: "/api/v1/issuer/authorisations",
        headers: { "x-api-key": cloud.acquirerKey },
        payload: { stan: 1, track2: ICBC.pan, cardNumber: ICBC.pan },
      });
      await cloud.app.inject({ method: "GET", url: "/docs/json" });
      const stored = await everyRow(cloud);
      expect(cloud.responses.length).toBeGreaterThan(15);
      expect(cloud.logs.length).toBeGreaterThan(20);
      for (const c of ALL_CARDS) {
        for (const body of cloud.responses)
          expect(body.includes(c.pan), `answer holds ${c.bank}`).toBe(false);
        for (const line of cloud.logs) expect(line.includes(c.pan), `log line holds ${c.bank}`).toBe(false);
        expect(stored.includes(c.pan), `a stored row holds ${c.bank}`).toBe(false);
      }
    });
  });
}
