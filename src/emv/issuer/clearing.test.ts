/**
 * The issuer's offline clearing (`IssuerHost.clear`): a phone pays offline at a POS whose floor limit allows it
 * (TC after fDDA), the POS's clearing record goes to the issuer, which verifies the TC with the token's keys,
 * clears each (token, ATC) once, honours the approval over funds or on a suspended token, and keeps the
 * online ATC window right whatever order the records come in.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../core/bytes.js";
import { parseTlv, tlv } from "../../core/tlv.js";
import { FUNDING_PAN, quickPassWorld } from "../../../test/emv-support.js";
import type { AuthorisationRequest } from "../authorisation.js";
import { type ClearingRecord, parseClearingRecord, paymentTimeOf } from "../clearing.js";
import { clearingRecordOf } from "../terminal/clearing-batch.js";
import { damagedClearingRecordArb } from "../testing/clearing-records.js";
import { encodeTrack2, luhnCheckDigit } from "../track2.js";

type World = Awaited<ReturnType<typeof quickPassWorld>>;

/** One payment the card approves offline, as the POS batches it. */
async function payOffline(w: World, amount = 100_00): Promise<ClearingRecord> {
  const r = await w.pos.pay(w.link, amount);
  expect([r.status, r.decidedBy, r.outcome.card?.cryptogramType]).toEqual(["approved", "card", "TC"]);
  return clearingRecordOf(r, w.config)!;
}

const available = async (w: World) => (await w.issuer.account(FUNDING_PAN))!.available;

/** Field 55 with one tag's value replaced. */
function withTag(field55: string, tag: number, value: Uint8Array): string {
  const t = parseTlv(fromHex(field55), { recurse: false });
  if (!t.ok) throw new Error(t.error);
  return t.value.map((n) => toHex(tlv(n.tag, n.tag === tag ? value : n.value))).join("");
}

/** The record's field 55 sent as an online authorisation (what a replay of the TC online looks like). */
function asOnline(w: World, r: ClearingRecord): AuthorisationRequest {
  return {
    stan: r.stan,
    terminalId: r.terminalId,
    merchantId: r.merchantId,
    amount: r.amount,
    currency: r.currency,
    track2: toHex(
      encodeTrack2({
        pan: r.pan,
        expiry: w.issued.expiry.slice(0, 4),
        serviceCode: "201",
        discretionary: "",
      }),
    ),
    panSequenceNumber: r.panSequenceNumber,
    posEntryMode: "07",
    field55: r.field55,
    cvm: "none",
    transmittedAt: r.capturedAt,
  };
}

describe("clearing offline approvals", () => {
  it("clears a genuine TC: the funding account is debited, the record kept under (token, ATC)", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const record = await payOffline(w);
    expect(record.pan).toBe(w.issued.token);
    expect(JSON.stringify(record)).not.toContain(FUNDING_PAN);
    expect(await available(w)).toBe(10_000_00);
    const r = await w.issuer.clear(record);
    expect(r).toMatchObject({ status: "cleared", reason: "cleared", amount: 100_00, shortfall: 0, atc: 1 });
    expect(r.tokenLast4).toBe(w.issued.token.slice(-4));
    expect(await available(w)).toBe(10_000_00 - 100_00);
    expect(await w.issuer.clearing(w.issued.token, 1)).toMatchObject({
      amount: 100_00,
      terminalId: record.terminalId,
      tokenStatus: "active",
    });
  });

  it("keeps when the card approved the payment (9A, at the POS's time) apart from when it was cleared", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const record = await payOffline(w); // 2026-03-01 12:00 in China
    expect(record.capturedAt).toBe("2026-03-01T04:00:00.000Z");
    w.clock.advance(3 * 86_400_000 + 3_600_000); // uploaded three days and an hour later
    const r = await w.issuer.clear(record);
    expect(r).toMatchObject({
      status: "cleared",
      paidAt: "2026-03-01T04:00:00.000Z",
      clearedAt: "2026-03-04T05:00:00.000Z",
    });
    expect(await w.issuer.clearing(w.issued.token, 1)).toMatchObject({
      capturedAt: "2026-03-01T04:00:00.000Z",
      clearedAt: "2026-03-04T05:00:00.000Z",
    });
    // Uploaded again later: the same payment date, and the first clearing's time.
    w.clock.advance(86_400_000);
    expect(await w.issuer.clear(record)).toMatchObject({
      status: "duplicate",
      paidAt: "2026-03-01T04:00:00.000Z",
      clearedAt: "2026-03-04T05:00:00.000Z",
    });
  });

  it("dates a payment by the 9A the TC covers: the POS's time only when it falls on that date", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const record = await payOffline(w); // 9A = 260301
    const at = (r: ClearingRecord) => {
      const p = parseClearingRecord(r);
      if (!p.ok) throw new Error(p.reason);
      return paymentTimeOf(p.value);
    };
    expect(at(record)).toEqual({ at: "2026-03-01T04:00:00.000Z", date: "2026-03-01", timeOfDay: true });
    // 23:30 in China, still 1 March: the POS's time stands.
    expect(at({ ...record, capturedAt: "2026-03-01T15:30:00Z" })).toEqual({
      at: "2026-03-01T15:30:00.000Z",
      date: "2026-03-01",
      timeOfDay: true,
    });
    // A POS clock on another day than the date the card signed: the date only, from 9A (China midnight).
    for (const capturedAt of ["2026-03-01T16:30:00Z", "2025-12-31T23:00:00+08:00"])
      expect(at({ ...record, capturedAt })).toEqual({
        at: "2026-02-28T16:00:00.000Z",
        date: "2026-03-01",
        timeOfDay: false,
      });
    // A 9A that is no date (a damaged record): the POS's time.
    for (const bad of ["261340", "260230", "2603"])
      expect(at({ ...record, field55: withTag(record.field55, 0x9a, fromHex(bad)) })).toMatchObject({
        at: "2026-03-01T04:00:00.000Z",
        timeOfDay: true,
      });
  });

  it("refuses a forged TC, a changed amount and an online ARQC; nothing moves", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const record = await payOffline(w);
    const forged = { ...record, field55: withTag(record.field55, 0x9f26, fromHex("0011223344556677")) };
    expect(await w.issuer.clear(forged)).toMatchObject({ status: "refused", reason: "cryptogram-invalid" });
    // More money: amount and 9F02 changed together, so only the cryptogram can tell.
    const more = {
      ...record,
      amount: 200_00,
      field55: withTag(record.field55, 0x9f02, fromHex("000000020000")),
    };
    expect(await w.issuer.clear(more)).toMatchObject({ status: "refused", reason: "cryptogram-invalid" });
    // 9F02 and the record's amount disagreeing: refused before any key is used.
    expect(await w.issuer.clear({ ...record, amount: 99_00 })).toMatchObject({ reason: "amount-mismatch" });
    // An online payment's ARQC is no offline approval (and was charged when approved).
    const online = await w.pos.pay(w.link, 400_00);
    expect(online.outcome.card?.cryptogramType).toBe("ARQC");
    const arqc = { ...record, amount: 400_00, stan: online.stan, field55: toHex(online.outcome.field55!) };
    expect(await w.issuer.clear(arqc)).toMatchObject({ status: "refused", reason: "not-offline-approved" });
    expect(await available(w)).toBe(10_000_00 - 400_00);
    // The genuine record still clears.
    expect((await w.issuer.clear(record)).status).toBe("cleared");
  });

  it("clears each (token, ATC) once: the same record again is a duplicate that moves nothing", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const record = await payOffline(w, 50_00);
    const first = await w.issuer.clear(record);
    const again = await w.issuer.clear(structuredClone(record));
    expect(again).toMatchObject({
      status: "duplicate",
      reason: "already-cleared",
      amount: 50_00,
      clearingId: first.clearingId,
    });
    expect(await w.issuer.clear(record)).toMatchObject({ status: "duplicate" });
    expect(await available(w)).toBe(10_000_00 - 50_00);
  });

  it("clears records in any order and late; the online window still approves the next ATC and refuses replays", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00, atcWindow: { behind: 3, ahead: 1000 } });
    const offline = [await payOffline(w, 10_00), await payOffline(w, 20_00), await payOffline(w, 30_00)];
    // Five online payments (ATC 4–8) before the batch arrives: ATC 1–3 are below the online window now.
    for (let i = 0; i < 5; i++) expect((await w.pos.pay(w.link, 400_00)).status).toBe("approved");
    for (const i of [2, 0, 1]) expect((await w.issuer.clear(offline[i]))!.status).toBe("cleared");
    expect(await available(w)).toBe(10_000_00 - 5 * 400_00 - 60_00);

    // Another offline payment (ATC 9) cleared before the next online one (ATC 10), which still approves.
    const late = await payOffline(w, 40_00);
    expect(await w.issuer.clear(late)).toMatchObject({ status: "cleared", atc: 9 });
    expect((await w.pos.pay(w.link, 400_00)).status).toBe("approved");
    // A cleared TC sent online is refused: its ATC is used (within the window) or too old (below it).
    expect(await w.issuer.authorise(asOnline(w, late))).toMatchObject({
      approved: false,
      reason: "atc-replay",
    });
    expect(await w.issuer.authorise(asOnline(w, offline[0]!))).toMatchObject({
      approved: false,
      reason: "atc-too-old",
    });
    expect(await available(w)).toBe(10_000_00 - 6 * 400_00 - 100_00);
  });

  it("refuses a TC whose ATC an online authorisation used (no double charge)", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const record = await payOffline(w);
    expect((await w.issuer.authorise(asOnline(w, record))).approved).toBe(true);
    expect(await w.issuer.clear(record)).toMatchObject({ status: "refused", reason: "atc-used-online" });
    expect(await available(w)).toBe(10_000_00 - 100_00);
  });

  it("honours an offline approval beyond the funds: the account goes negative and the shortfall is answered", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    await w.issuer.openAccount({ fundingPan: FUNDING_PAN, holder: "测试用户", available: 30_00 });
    const first = await payOffline(w, 100_00);
    const second = await payOffline(w, 20_00);
    expect(await w.issuer.clear(first)).toMatchObject({
      status: "cleared",
      amount: 100_00,
      shortfall: 70_00,
    });
    expect(await w.issuer.clear(second)).toMatchObject({ status: "cleared", shortfall: 20_00 });
    expect(await available(w)).toBe(30_00 - 120_00);
    expect((await w.issuer.clearing(w.issued.token, 1))?.shortfall).toBe(70_00);
    // Online, the overdrawn account declines.
    expect((await w.pos.pay(w.link, 400_00)).reason.code).toBe("insufficient-funds");
  });

  it("clears on a token suspended since the payment; refuses a deleted or unknown token", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const a = await payOffline(w, 10_00);
    const b = await payOffline(w, 20_00);
    await w.issuer.setTokenStatus(w.issued.token, "suspended");
    const cleared = await w.issuer.clear(a);
    expect(cleared).toMatchObject({ status: "cleared" });
    expect((await w.issuer.clearing(w.issued.token, cleared.atc!))?.tokenStatus).toBe("suspended");
    const body = `${w.issued.token.slice(0, -2)}${(Number(w.issued.token.slice(-2, -1)) + 1) % 10}`;
    const other = body + luhnCheckDigit(body);
    expect(await w.issuer.clear({ ...b, pan: other })).toMatchObject({
      status: "refused",
      reason: "unknown-token",
    });
    await w.issuer.setTokenStatus(w.issued.token, "deleted");
    expect(await w.issuer.clear(b)).toMatchObject({ status: "refused", reason: "token-deleted" });
    expect(await available(w)).toBe(10_000_00 - 10_00);
  });

  it("answers arbitrary and damaged records without an exception; nothing but the genuine payment ever moves money", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const genuine = await payOffline(w);
    let cleared = 0;
    await fc.assert(
      fc.asyncProperty(damagedClearingRecordArb(genuine), async (input) => {
        const r = await w.issuer.clear(input);
        expect(["cleared", "duplicate", "refused"]).toContain(r.status);
        expect(r.message.en.length).toBeGreaterThan(0);
        if (r.status !== "refused") expect(r.amount).toBe(genuine.amount);
        if (r.status === "cleared") cleared++;
      }),
      { numRuns: 1_500 },
    );
    expect(cleared).toBeLessThanOrEqual(1);
    expect(await available(w)).toBe(10_000_00 - cleared * genuine.amount);
  });
});
