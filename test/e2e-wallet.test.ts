/**
 * The wallet end to end (issue 6's acceptance), on SQLite and PostgreSQL: the real HTTP server (every service
 * of src/cloud listening on a local port) and real virtual phones (src/device: an SE file each, device keys,
 * signed requests over fetch), our POS authorising online through `POST /api/v1/issuer/authorisations`, metro
 * gates and a bus validator of the example operator with their uploads cleared. One journey — sign up, register
 * a supported phone, add a bank card with its code, pay, open a T-Union card, top up, ride, clear, transfer it to
 * a second phone, refund it, report the first phone lost — then each refusal, each ending with the books checked.
 *
 * Refusals also covered elsewhere, at the layer below (the API with `app.inject`, or phones made by hand):
 * - unsupported model: test/cloud-devices.test.ts "refuses a model not in the list, with the reason";
 *   test/device-cloud.test.ts "reports the cloud's refusals of a model or region it does not serve, in both languages"
 * - region outside mainland China: test/cloud-devices.test.ts "refuses regions outside mainland China, naming Hong
 *   Kong, Macau and Taiwan"; test/device-cloud.test.ts (as above)
 * - a second T-Union card: test/cloud-transit-refusals.test.ts "refuses a second T-Union card on a phone, on the
 *   phone and in the cloud; city cards sit beside it"
 * - a closed product: test/cloud-transit-refusals.test.ts "refuses a closed product, naming its successor (or the
 *   advice), and an unknown one"
 * - five wrong codes: test/cloud-accounts.test.ts "locks the number after five wrong codes, for 15 minutes, even
 *   against the right code"; test/cloud-tsp.test.ts "locks a card after five wrong codes in a row: even the right
 *   code is refused until the lock ends"
 * - another account's card id: test/cloud-tsp.test.ts "answers another account's card or enrolment exactly as an
 *   unknown one: 404"; test/cloud-transit-refusals.test.ts "answers 404 for another account's card, top-up and
 *   phone, as for unknown ones"; test/cloud-access.test.ts (door cards); test/cloud-devices.test.ts (devices)
 * - a ninth bank card: test/cloud-tsp.test.ts "refuses the ninth bank card of a phone, at the start and at the
 *   code; deleting one makes room" and "keeps the limit when the last free place is claimed by three codes at once"
 * None of those runs through a virtual phone over HTTP for every refusal; the tests below do.
 */
import { afterAll, describe, expect, it } from "vitest";
import { freshEachTest } from "./each-test.js";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { bankCardPayments, bankCards, confirmBankCard, updateBankCard } from "../src/device/bank-cards.js";
import { CloudRequestError, VirtualPhone, Wallet, resolveModel } from "../src/device/index.js";
import {
  openTransitCard,
  refundTransitCard,
  topUpTransitCard,
  transferTransitCard,
  transitCard,
  transitCards,
  transitInstance,
} from "../src/device/transit.js";
import { backends, bearer } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance, metro, operator, readPhone } from "./cloud-transit-harness.js";
import { CARDS } from "./cloud-tsp-harness.js";
import { phoneOn, removeStateDirs, stateDir } from "./device-harness.js";
import { type WalletCloud, addBankCard, posOf, startAdding, startWalletCloud } from "./e2e-harness.js";

afterAll(removeStateDirs);

const ICBC = CARDS.icbc[0]!;
const CCB = CARDS.ccbCredit;

/** What a refused call threw: the cloud's (or the phone's) code, status and both languages. */
async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof Error && "code" in e)) throw e;
    const t = e as CloudRequestError;
    return { code: t.code, status: t.status, zh: t.zh, en: t.en, details: t.details };
  }
  throw new Error("expected a refusal");
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the wallet end to end on ${backend.name}`, () => {
    let cloud!: WalletCloud;
    freshEachTest(
      () => startWalletCloud(backend, `e2e-${backend.name}`),
      (c) => (cloud = c),
    );

    it("signs up, registers, adds a bank card, pays, opens a T-Union card, tops up, rides, clears, transfers, refunds, reports a phone lost", async () => {
      // ---- sign up with the code the cloud sent, and register a supported phone (小米9, mainland China)
      const phone = VirtualPhone.create(stateDir(), {
        name: "mi9",
        model: resolveModel("小米9"),
        region: "CN",
        clock: cloud.clock,
      });
      const wallet = new Wallet(phone);
      await wallet.requestCode("13500135000", cloud.url);
      const signedUp = await wallet.signIn("13500135000", cloud.otp.last("13500135000")!, cloud.url);
      expect(signedUp.created).toBe(true);
      const device = await wallet.register();
      expect(device).toMatchObject({ model: { code: "cepheus", zh: "小米9" }, region: "CN", lost: false });
      const token = phone.cloud!.session!.token;

      // ---- a bank card with its bank's code; the token lands on the SE at the sync, as the default card
      const enrolment = await startAdding(wallet, ICBC);
      expect(enrolment).toMatchObject({
        bank: { code: "ICBC" },
        kind: "debit",
        fundingLast4: ICBC.pan.slice(-4),
      });
      expect(enrolment.codeSentTo).toMatch(/^139\*{4}\d{4}$/);
      const { card: icbc } = await confirmBankCard(
        wallet,
        enrolment.id,
        cloud.bankOtp.last(ICBC.reservedPhone)!,
      );
      expect(icbc).toMatchObject({ status: "active", seState: "installed", default: true });
      const onSe = phone.cards().filter((c) => c.category === "payment");
      expect(onSe).toMatchObject([{ ref: icbc.id, defaultPayment: true, state: "activated" }]);

      // ---- pay ¥12.34 at our POS: online through the authorisation endpoint, ARPC checked by the card
      const pos = posOf(cloud);
      const paid = await pos.pay(phone, 12_34);
      expect([paid.status, paid.decidedBy, paid.issuerAuthentication]).toEqual([
        "approved",
        "issuer",
        "verified",
      ]);
      expect(pos.sent[0]).toMatchObject({
        request: { amount: 12_34 },
        response: { approved: true, responseCode: "00" },
      });
      // ¥1,288 needs the user verified on the phone (CDCVM): declined by the card, then approved after a fingerprint.
      const unverified = await pos.pay(phone, 1288_00);
      expect([unverified.status, unverified.decidedBy, unverified.authorisation]).toEqual([
        "declined",
        "card",
        undefined,
      ]);
      phone.verify("fingerprint");
      expect((await pos.pay(phone, 1288_00)).status).toBe("approved");
      expect(await ledgerBalance(cloud, "merchant:898310048160001")).toBe(12_34 + 1288_00);
      const payments = await bankCardPayments(wallet, icbc.id);
      expect(
        payments
          .filter((p) => p.approved)
          .map((p) => p.amount)
          .sort(),
      ).toEqual([12_34, 1288_00]);
      expect(JSON.stringify(payments)).not.toContain(ICBC.pan);

      // ---- a second card (a credit card, with its CVN2) made the default through the cloud
      const ccb = await addBankCard(cloud, wallet, CCB);
      const made = await updateBankCard(wallet, ccb.id, { default: true });
      expect(made.card.default).toBe(true);
      expect(phone.cards().find((c) => c.defaultPayment)?.ref).toBe(ccb.id);
      expect((await pos.pay(phone, 8_00)).status).toBe("approved");
      expect((await bankCardPayments(wallet, ccb.id)).map((p) => p.amount)).toEqual([8_00]);

      // ---- open a T-Union card (京津冀互联互通卡): first top-up ¥50 from WeChat Pay, installed at the sync
      const { card } = await openTransitCard(wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 50_00,
        channel: "wechat",
      });
      expect(card).toMatchObject({ state: "active", balance: 50_00, product: { standard: "JT/T 978" } });
      expect((await readPhone(phone)).balance).toBe(50_00);

      // ---- top up ¥30 from Alipay (MAC1 checked, MAC2 answered, TAC verified)
      expect(await topUpTransitCard(wallet, card.id, 30_00, { channel: "alipay" })).toMatchObject({
        state: "completed",
        amount: 30_00,
      });

      // ---- the express card answers the gates on a locked phone: entry at 苹果园, exit at 王府井 (¥5), a ¥2 bus
      phone.setExpress(card.aid);
      phone.lock();
      const m = metro(cloud);
      cloud.clock.advance(60_000);
      expect(await m.ride(phone, "0101", "0112")).toBe(5_00);
      cloud.clock.advance(60_000);
      expect((await m.tap(phone, m.bus(2_00))).ok).toBe(true);
      expect((await readPhone(phone)).balance).toBe(73_00);
      phone.unlock("fingerprint");

      // ---- the gates upload; clearing checks every TAC and moves the fares to the operator
      const cleared = await (await operator(cloud)).upload(m.log.upload(cloud.clock.now()));
      expect(cleared.json()).toMatchObject({
        records: 3,
        cleared: 3,
        duplicates: 0,
        rejected: [],
        amount: 7_00,
      });
      expect(await transitCard(wallet, card.id)).toMatchObject({ balance: 73_00, monthSpend: 7_00 });
      await expectBooksBalance(cloud);

      // ---- transfer the card to a second phone of the account (小米8): number and balance kept
      cloud.clock.advance(61_000);
      const second = await phoneOn(cloud, "13500135000", { model: "小米8" });
      const moved = await transferTransitCard(wallet, card.id, second.wallet);
      expect(moved).toMatchObject({ kind: "transfer", state: "done", provenBalance: 73_00 });
      expect(transitInstance(wallet, "tu-jingjinji")).toBeUndefined();
      const there = await readPhone(second.phone);
      expect([there.cardNumber, there.balance]).toEqual([card.cardNumber, 73_00]);
      expect(await transitCard(second.wallet, card.id)).toMatchObject({
        state: "active",
        deviceId: second.phone.cloud!.deviceId,
      });

      // ---- refund it from the second phone: the proven balance goes back to WeChat Pay (no card fee)
      const refund = await refundTransitCard(second.wallet, card.id);
      expect(refund).toMatchObject({
        state: "done",
        provenBalance: 73_00,
        refund: { balance: 73_00, fee: 0, total: 73_00, channel: "wechat" },
      });
      expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(0);
      // WeChat paid 50 and got 73 back; Alipay paid 30; the operator holds the 7 of rides.
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(-23_00);
      expect(await ledgerBalance(cloud, transitAccounts.channel("alipay"))).toBe(30_00);
      expect(await ledgerBalance(cloud, transitAccounts.operator("bj-subway"))).toBe(7_00);

      // ---- the account's activity lists payments and top-ups (read by either phone)
      const types = (await second.wallet.activity()).map((e) => e.type);
      expect(types).toEqual(
        expect.arrayContaining([
          "account.created",
          "device.bound",
          "bank_card.added",
          "bank_card.payment",
          "transit.card.opened",
          "transit.topup.completed",
          "transit.transfer.done",
          "transit.refund.done",
        ]),
      );

      // ---- report the first phone lost: its bank cards suspended at once, declined at the POS, wiped at its next contact
      const lost = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${device.id}/lost`,
        headers: bearer(token),
      });
      expect(lost.statusCode).toBe(200);
      expect((await bankCards(wallet)).map((c) => [c.status, c.suspendedBy])).toEqual([
        ["suspended", "wallet"],
        ["suspended", "wallet"],
      ]);
      const declined = await pos.pay(phone, 3_00);
      expect([declined.status, declined.authorisation?.response.responseCode]).toEqual(["declined", "62"]);
      const wiped = await wallet.sync();
      expect(wiped.lost).toBe(true);
      expect(phone.cards().filter((c) => c.category === "payment")).toEqual([]);
      const tokens = await cloud.db.db.selectFrom("issuer_tokens").select("status").execute();
      expect(tokens.map((t) => t.status)).toEqual(["deleted", "deleted"]);

      // ---- the books: postings balance, running totals match, floats equal the cards' proven balances
      await expectBooksBalance(cloud);
      const report = await cloud.app.cloud.ledger.checkInvariants();
      expect(report.ok).toBe(true);
    });

    it("refuses an unsupported model and a region outside mainland China, saying why in both languages", async () => {
      const redmi = await phoneOn(cloud, "13500135001", { model: "mido", register: false });
      const model = await refusal(redmi.wallet.register());
      expect(model).toMatchObject({ code: "unsupported_model", status: 403 });
      expect(model.zh).toContain("不支持小米支付");
      expect(model.en).toContain("does not support Mi Pay");
      expect(model.details?.["supportedModels"]).toContain("cepheus");
      expect(redmi.phone.cloud!.deviceId).toBeNull();
      for (const region of ["HK", "MO", "TW", "US"]) {
        cloud.clock.advance(61_000);
        const abroad = await phoneOn(cloud, "13500135001", { region, register: false });
        const r = await refusal(abroad.wallet.register());
        expect(r).toMatchObject({ code: "region_not_supported", status: 403 });
        expect(r.zh.length).toBeGreaterThan(0);
        expect(r.en.length).toBeGreaterThan(0);
      }
      expect((await cloud.db.db.selectFrom("devices").selectAll().execute()).length).toBe(0);
    });

    it("refuses a second T-Union card and a closed product, on the phone and in the cloud", async () => {
      const { wallet } = await phoneOn(cloud, "13500135002");
      await openTransitCard(wallet, { productId: "tu-jingjinji", firstTopUp: 20_00, channel: "wechat" });
      // The phone's own rule first; and the cloud's, asked directly (a phone that skipped its check).
      const onPhone = await refusal(
        openTransitCard(wallet, { productId: "tu-shengjingtong", firstTopUp: 20_00, channel: "wechat" }),
      );
      expect(onPhone.code).toBe("t_union_limit");
      expect(onPhone.zh).toContain("交通联合卡");
      const open = (productId: string, requestId: string) =>
        wallet.client().request("POST", "/api/v1/transit/cards", "device", {
          requestId,
          productId,
          firstTopUp: 20_00,
          channel: "wechat",
        });
      expect(await refusal(open("tu-shengjingtong", "second-tu"))).toMatchObject({
        code: "t_union_limit",
        status: 409,
      });
      // 北京市政交通一卡通 is closed for new cards: its successor is named.
      const closed = await refusal(open("beijing-yikatong", "closed-1"));
      expect(closed).toMatchObject({ code: "product_closed", status: 409 });
      expect(JSON.stringify(closed.details)).toContain("tu-jingjinji");
      const onPhoneClosed = await refusal(
        openTransitCard(wallet, { productId: "beijing-yikatong", firstTopUp: 20_00, channel: "wechat" }),
      );
      expect(onPhoneClosed).toMatchObject({
        code: "product_closed",
        details: { successorId: "tu-jingjinji" },
      });
      // Nothing was charged for the refusals: one card, its ¥20 from WeChat Pay.
      expect((await transitCards(wallet)).map((c) => c.product.id)).toEqual(["tu-jingjinji"]);
      expect(await ledgerBalance(cloud, transitAccounts.channel("wechat"))).toBe(20_00);
      await expectBooksBalance(cloud);
    });

    it("locks sign-in and a bank card after five wrong codes: the right code is refused too", async () => {
      // Sign-in: five wrong codes lock the number.
      const phone = VirtualPhone.create(stateDir(), {
        name: "locked",
        model: resolveModel("小米8"),
        region: "CN",
        clock: cloud.clock,
      });
      const wallet = new Wallet(phone);
      await wallet.requestCode("13500135003", cloud.url);
      const right = cloud.otp.last("13500135003")!;
      const wrong = right === "000000" ? "111111" : "000000";
      for (let i = 1; i <= 4; i++)
        expect(await refusal(wallet.signIn("13500135003", wrong, cloud.url))).toMatchObject({
          code: "otp_wrong",
          details: { attemptsRemaining: 5 - i },
        });
      expect(await refusal(wallet.signIn("13500135003", wrong, cloud.url))).toMatchObject({
        code: "otp_locked",
        status: 429,
      });
      expect(await refusal(wallet.signIn("13500135003", right, cloud.url))).toMatchObject({
        code: "otp_locked",
      });
      expect(phone.cloud).toBeNull();

      // The bank's code: five wrong codes lock the card; its right code is refused and no card is added.
      const other = await phoneOn(cloud, "13500135004");
      const e = await startAdding(other.wallet, ICBC);
      const bankCode = cloud.bankOtp.last(ICBC.reservedPhone)!;
      const bad = bankCode === "000000" ? "999999" : "000000";
      for (let i = 0; i < 4; i++)
        expect((await refusal(confirmBankCard(other.wallet, e.id, bad))).code).toBe("otp_wrong");
      expect(await refusal(confirmBankCard(other.wallet, e.id, bad))).toMatchObject({
        code: "otp_locked",
        status: 429,
      });
      expect((await refusal(confirmBankCard(other.wallet, e.id, bankCode))).code).toBe("otp_locked");
      expect(await bankCards(other.wallet)).toEqual([]);
    });

    it("answers another account's card ids exactly as unknown ones (404): bank card, transit card, top-up, phone", async () => {
      const alice = await phoneOn(cloud, "13500135005");
      const bob = await phoneOn(cloud, "13500135006");
      const aliceBank = await addBankCard(cloud, alice.wallet, ICBC);
      const { card } = await openTransitCard(alice.wallet, {
        productId: "tu-jingjinji",
        firstTopUp: 20_00,
        channel: "wechat",
      });
      const top = await topUpTransitCard(alice.wallet, card.id, 10_00);
      const asBob = (method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown) =>
        refusal(bob.wallet.client().request(method, path, "device", body));
      const pairs: [string, string, "GET" | "POST" | "PATCH" | "DELETE", unknown?][] = [
        [`/api/v1/bank-cards/${aliceBank.id}`, "/api/v1/bank-cards/bkc_000000000000000000000000", "GET"],
        [
          `/api/v1/bank-cards/${aliceBank.id}`,
          "/api/v1/bank-cards/bkc_000000000000000000000000",
          "PATCH",
          { status: "suspended" },
        ],
        [`/api/v1/bank-cards/${aliceBank.id}/transactions`, "/api/v1/bank-cards/bkc_0/transactions", "GET"],
        [`/api/v1/transit/cards/${card.id}`, "/api/v1/transit/cards/tcd_000000000000000000000000", "GET"],
        [
          `/api/v1/transit/cards/${card.id}/topups`,
          "/api/v1/transit/cards/tcd_000000000000000000000000/topups",
          "POST",
          { requestId: "bob-topup-0001", amount: 10_00, channel: "wechat" },
        ],
        [`/api/v1/transit/cards/${card.id}/refund`, "/api/v1/transit/cards/tcd_0/refund", "POST", {}],
        [`/api/v1/transit/topups/${top.id}`, "/api/v1/transit/topups/ttu_000000000000000000000000", "GET"],
      ];
      for (const [theirs, unknown, method, body] of pairs) {
        const a = await asBob(method, theirs, body);
        const b = await asBob(method, unknown, body);
        expect(a.status, theirs).toBe(404);
        expect({ ...a, details: undefined }, theirs).toEqual({ ...b, details: undefined });
      }
      // Bob's session on Alice's phone: 404 as for no phone at all.
      const bobToken = bob.phone.cloud!.session!.token;
      const theirPhone = await cloud.app.inject({
        method: "POST",
        url: `/api/v1/devices/${alice.phone.cloud!.deviceId}/lost`,
        headers: bearer(bobToken),
      });
      expect([theirPhone.statusCode, theirPhone.json().error]).toEqual([404, "device_not_found"]);
      // Alice's card is untouched.
      expect((await bankCards(alice.wallet))[0]).toMatchObject({ status: "active" });
      expect(await transitCard(alice.wallet, card.id)).toMatchObject({ state: "active", balance: 30_00 });
      await expectBooksBalance(cloud);
    });

    it("refuses a ninth bank card on a phone, at the start and at the code", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13500135007");
      for (const c of CARDS.icbc.slice(0, 7)) await addBankCard(cloud, wallet, c);
      // With seven on the phone, two cards are started; the eighth's code lands it, the ninth's is refused.
      const eighth = await startAdding(wallet, CARDS.icbc[7]!);
      const ninth = await startAdding(wallet, CARDS.icbc[8]!);
      await confirmBankCard(wallet, eighth.id, cloud.bankOtp.last(CARDS.icbc[7]!.reservedPhone)!);
      const refused = await refusal(
        confirmBankCard(wallet, ninth.id, cloud.bankOtp.last(CARDS.icbc[8]!.reservedPhone)!),
      );
      expect(refused).toMatchObject({
        code: "too_many_bank_cards",
        status: 409,
        zh: "每台手机最多添加 8 张银行卡，请先删除一张",
        en: "A phone holds at most 8 bank cards; delete one first",
      });
      expect(await refusal(startAdding(wallet, CARDS.icbc[9]!))).toMatchObject({
        code: "too_many_bank_cards",
      });
      expect(phone.cards().filter((c) => c.category === "payment")).toHaveLength(8);
      expect((await bankCards(wallet)).filter((c) => c.status === "active")).toHaveLength(8);
      await expectBooksBalance(cloud);
    });
  });
}
