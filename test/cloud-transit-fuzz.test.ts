/**
 * Untrusted input to the transit service (property tests, SQLite): whatever a phone answers in place of its
 * card, and whatever a gate uploads, the cloud never fails (no 5xx), never gives a MAC2 for answers its card
 * did not make, never clears a ride whose TAC does not check — and no money moves.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transitAccounts } from "../src/cloud/transit/channels.js";
import { CloudRequestError } from "../src/device/cloud-client.js";
import { openTransitCard } from "../src/device/transit.js";
import type { Wallet } from "../src/device/wallet.js";
import { sqliteBackend } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance, operator } from "./cloud-transit-harness.js";
import { type LiveCloud, phoneOn, removeStateDirs, startCloud } from "./device-harness.js";

const hex = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString("hex").toUpperCase());

describe("transit input fuzz (sqlite)", () => {
  let cloud: LiveCloud;
  let wallet: Wallet;
  let cardId: string;
  let asn: string;
  beforeAll(async () => {
    cloud = await startCloud(sqliteBackend, "transit-fuzz");
    wallet = (await phoneOn(cloud, "13300133000")).wallet;
    cardId = (
      await openTransitCard(wallet, { productId: "tu-jingjinji", firstTopUp: 5000, channel: "wechat" })
    ).card.id;
    asn = (await cloud.db.db.selectFrom("transit_cards").select("asn").executeTakeFirstOrThrow()).asn;
  });
  afterAll(async () => {
    await cloud.close();
    removeStateDirs();
  });

  it("answers made up by the phone never get a MAC2 and never move money", async () => {
    const answer = fc.oneof(
      hex(0, 20),
      hex(16, 16).map((h) => h + "9000"),
      fc.constantFrom("9000", "6A80", "9406", "6985"),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(answer, { maxLength: 6 }), async (answers) => {
        const call = <T>(path: string, body: unknown) =>
          wallet.client().request<T>("POST", `/api/v1/transit/${path}`, "device", body);
        const s = await call<{ topup: { id: string }; challenge: { id: string } }>(`cards/${cardId}/topups`, {
          requestId: `fuzz-${n++}-xxxxxx`,
          amount: 1000,
          channel: "wechat",
        });
        try {
          const r = await call<{ operations: unknown }>(`topups/${s.topup.id}/authorise`, {
            challengeId: s.challenge.id,
            results: answers.map((response) => ({ type: "apdu", response })),
          });
          expect(r.operations).toBeNull();
        } catch (e) {
          expect(e).toBeInstanceOf(CloudRequestError);
          expect((e as CloudRequestError).status).toBeLessThan(500);
        }
      }),
      { numRuns: 150 },
    );
    const loads = await cloud.db.db.selectFrom("transit_loads").selectAll().execute();
    expect(loads).toEqual([]);
    expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(5000);
    await expectBooksBalance(cloud);
  });

  it("gate records with made-up TACs, amounts and cards are refused one by one; nothing clears", async () => {
    const op = await operator(cloud);
    const record = fc.record({
      seq: fc.integer({ min: 1, max: 1000 }),
      terminalId: fc.constant("GATE-1"),
      kind: fc.constantFrom("metro-entry", "metro-exit", "bus"),
      location: fc.string({ maxLength: 8 }),
      system: fc.constantFrom("t-union", "city-union", "beijing"),
      cardNumber: fc.string({ maxLength: 19 }),
      asn: fc.oneof(fc.constant(asn), hex(8, 8)),
      algorithm: fc.constantFrom("3des" as const, "sm4" as const),
      type: fc.constantFrom(6, 9, 0),
      amount: fc.integer({ min: 0, max: 100_000 }),
      balanceBefore: fc.integer(),
      balanceAfter: fc.integer(),
      cardAtc: fc.integer({ min: 0, max: 65535 }),
      psamTerminal: hex(6, 6),
      psamSeq: hex(4, 4),
      date: fc.constantFrom("20260301", "20261399", "00000000"),
      time: fc.constantFrom("083000", "999999"),
      tac: hex(4, 4),
      mac2: hex(4, 4),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 8 }), async (records) => {
        const r = await op.upload({
          format: "tapwallet.transit.gate-log/1",
          terminalId: "GATE-1",
          operator: "bj-subway",
          createdAt: new Date().toISOString(),
          count: records.length,
          total: 0,
          records: records as never,
        });
        expect(r.statusCode, r.body).toBe(200);
        const body = r.json() as { cleared: number; rejected: { reason: string }[] };
        expect(body.cleared).toBe(0);
        expect(body.rejected).toHaveLength(records.length);
      }),
      { numRuns: 100 },
    );
    const junk = await op.upload({ format: "nope", records: [{ seq: "x" }] } as never);
    expect(junk.statusCode).toBe(400);
    expect(await ledgerBalance(cloud, transitAccounts.operator("bj-subway"))).toBe(0);
    expect(await ledgerBalance(cloud, transitAccounts.float("tu-jingjinji"))).toBe(5000);
    await expectBooksBalance(cloud);
  });
});
