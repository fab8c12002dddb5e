/**
 * `POST /api/v1/issuer/clearing` as an API, on SQLite and PostgreSQL: the acquirer key it needs, the schema's
 * 400s with their reason, and arbitrary or damaged batches — never a 5xx, never more money moved than the one
 * genuine offline payment among them (property). The journey through a phone and the POS is
 * test/e2e-offline-clearing.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../src/core/bytes.js";
import { CLEARING_BATCH_FORMAT, type ClearingRecord } from "../src/emv/clearing.js";
import { AID } from "../src/emv/profile.js";
import { clearingRecordOf } from "../src/emv/terminal/clearing-batch.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { backends, json } from "./cloud-harness.js";
import {
  CARDS,
  type PaymentsCloud,
  addCard,
  makePaymentsCloud,
  sync,
  userWithPhone,
} from "./cloud-tsp-harness.js";
import { freshEachTest } from "./each-test.js";

const ICBC = CARDS.icbc[0]!;

/** A phone with an offline-capable token pays ¥88 offline; the POS's clearing record of it. */
async function offlineRecord(cloud: PaymentsCloud): Promise<ClearingRecord> {
  const { token, phone } = await userWithPhone(cloud, "13800138700");
  await addCard(cloud, token, phone, ICBC);
  await sync(cloud, phone);
  const config = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit: 300_00 })] });
  const pos = new Pos({ config, clock: cloud.clock, random: (n) => new Uint8Array(n).fill(7) });
  const r = await pos.pay(new MemoryLink(phone.se), 88_00);
  expect([r.status, r.decidedBy]).toEqual(["approved", "card"]);
  return clearingRecordOf(r, config)!;
}

function upload(cloud: PaymentsCloud, body: unknown, headers: Record<string, string> = {}) {
  return cloud.app.inject({
    method: "POST",
    url: "/api/v1/issuer/clearing",
    headers: { "content-type": "application/json", "x-api-key": cloud.acquirerKey, ...headers },
    payload: JSON.stringify(body),
  });
}

const funds = async (cloud: PaymentsCloud) =>
  (await cloud.app.cloud.issuer.fundingAccount(cloud.app.cloud.issuer.vault.fingerprint(ICBC.pan)))!
    .available;

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the clearing endpoint on ${backend.name}`, () => {
    let cloud!: PaymentsCloud;
    freshEachTest(
      () => makePaymentsCloud(backend, { issuer: { offline: { balance: 500_00 } } }),
      (c) => (cloud = c),
    );

    it("needs an acquirer key and answers malformed batches 400 with a reason", async () => {
      const record = await offlineRecord(cloud);
      const batch = { format: CLEARING_BATCH_FORMAT, records: [record] };
      expect((await upload(cloud, batch, { "x-api-key": "" })).statusCode).toBe(401);
      const bank = await upload(cloud, batch, { "x-api-key": await cloud.issuerKey("ICBC") });
      expect(bank.statusCode).toBeGreaterThanOrEqual(401);
      expect(bank.statusCode).toBeLessThan(404);
      for (const body of [
        {},
        { records: [] },
        { records: [{ ...record, amount: "88.00" }] },
        { records: [{ ...record, pan: "6222 0200" }] },
        { records: [{ ...record, extra: 1 }] },
        { format: "other/1", records: [record] },
      ]) {
        const r = await upload(cloud, body);
        expect([r.statusCode, json(r).error]).toEqual([400, "invalid_request"]);
        expect(json<{ message: { zh: string; en: string } }>(r).message.en.length).toBeGreaterThan(0);
      }
      expect(await funds(cloud)).toBe(ICBC.available);
      const ok = await upload(cloud, batch);
      expect(json(ok)).toMatchObject({ cleared: 1, duplicates: 0, refused: 0 });
      expect(await funds(cloud)).toBe(ICBC.available - 88_00);
    });

    it("answers arbitrary and damaged batches with 4xx or per-record refusals, never 5xx; only the genuine payment moves money, once", async () => {
      const genuine = await offlineRecord(cloud);
      const hex = fc.uint8Array({ minLength: 1, maxLength: 100 }).map(toHex);
      const damaged = fc.oneof(
        fc.oneof(hex, fc.constant(genuine.field55)).map((field55) => ({ ...genuine, field55 })),
        fc
          .integer({ min: 1, max: genuine.field55.length / 2 - 1 })
          .map((n) => ({ ...genuine, field55: genuine.field55.slice(0, 2 * n) })),
        fc.integer({ min: 0, max: genuine.field55.length - 1 }).map((i) => ({
          ...genuine,
          field55:
            genuine.field55.slice(0, i) +
            (genuine.field55[i] === "A" ? "B" : "A") +
            genuine.field55.slice(i + 1),
        })),
        fc
          .record({
            amount: fc.integer({ min: 1, max: 1_000_00 }),
            stan: fc.integer({ min: 1, max: 999_999 }),
          })
          .map((x) => ({ ...genuine, ...x })),
      );
      let cleared = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue(),
            fc.record({ records: fc.array(fc.jsonValue(), { maxLength: 3 }) }),
            fc.record({ records: fc.array(damaged, { minLength: 1, maxLength: 4 }) }),
          ),
          async (body) => {
            const r = await upload(cloud, body);
            expect(r.statusCode).toBeLessThan(500);
            if (r.statusCode !== 200) {
              expect(json(r).error).toBeTruthy();
              return;
            }
            const answer = json<{ results: { status: string; amount?: number }[]; cleared: number }>(r);
            expect(answer.results).toHaveLength((body as { records: unknown[] }).records.length);
            for (const x of answer.results) if (x.status !== "refused") expect(x.amount).toBe(genuine.amount);
            cleared += answer.cleared;
          },
        ),
        { numRuns: backend.name === "sqlite" ? 300 : 100 },
      );
      expect(cleared).toBeLessThanOrEqual(1);
      expect(await funds(cloud)).toBe(ICBC.available - cleared * genuine.amount);
      const report = await cloud.app.cloud.ledger.checkInvariants();
      expect(report.violations).toEqual([]);
    }, 120_000);
  });
}
