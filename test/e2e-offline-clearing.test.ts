/**
 * QuickPass offline approvals cleared end to end, on SQLite and PostgreSQL: the whole cloud listening on a
 * local port with tokens able to pay offline (fDDA, a ¥500 offline balance), a virtual phone with a bank card
 * from the cloud, our POS with a ¥300 floor limit. The card approves offline (TC after fDDA), the POS batches
 * the clearing record, the batch goes to `POST /api/v1/issuer/clearing` — twice, and twice at once — and the
 * funding account is debited once, the merchant paid once, the payment listed on the card and the phone told.
 * Then over the funds (the shortfall on the books), on a card suspended since, through `tapwallet pos --batch`
 * and `--clear` against the server.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { posClearCommand, posCommand } from "../src/cli/commands/pos.js";
import { bankCardPayments, deleteBankCard, updateBankCard } from "../src/device/bank-cards.js";
import type { VirtualPhone } from "../src/device/index.js";
import { CLEARING_BATCH_FORMAT, type ClearingBatch } from "../src/emv/clearing.js";
import { AID } from "../src/emv/profile.js";
import { clearingRecordOf } from "../src/emv/terminal/clearing-batch.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { IssuerClient } from "../src/emv/terminal/issuer-client.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { luhnCheckDigit } from "../src/emv/track2.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { accountEvents, backends } from "./cloud-harness.js";
import { expectBooksBalance, ledgerBalance } from "./cloud-transit-harness.js";
import { ALL_CARDS, CARDS, makePaymentsCloud } from "./cloud-tsp-harness.js";
import { phoneOn, removeStateDirs, stateDir } from "./device-harness.js";
import { type WalletCloud, addBankCard } from "./e2e-harness.js";
import { freshEachTest } from "./each-test.js";

afterAll(removeStateDirs);

const ICBC = CARDS.icbc[0]!;
/** A debit card with ¥50 on it: an offline ¥100 goes beyond its funds. */
const BOC = { ...CARDS.bocDebit, available: 50_00 };
const MERCHANT = "898310048160009";

async function start(backend: (typeof backends)[number], seed: string): Promise<WalletCloud> {
  const cards = ALL_CARDS.map((c) => (c.pan === BOC.pan ? BOC : { ...c, available: 10_000_00 }));
  const cloud = await makePaymentsCloud(backend, { seed, cards, issuer: { offline: { balance: 500_00 } } });
  const url = await cloud.app.listen({ port: 0, host: "127.0.0.1" });
  return { ...cloud, url };
}

/** Our POS with a ¥300 floor limit: up to it the card may approve offline; above, online to the cloud. */
function offlinePos(cloud: WalletCloud) {
  const config = defaultTerminalConfig({
    terminalId: "TWOFF001",
    merchantId: MERCHANT,
    merchantName: "Offline Store",
    aids: [unionPayAid(AID.debit, { floorLimit: 300_00 }), unionPayAid(AID.credit, { floorLimit: 300_00 })],
  });
  const client = new IssuerClient({ url: cloud.url, apiKey: cloud.acquirerKey, retries: 0 });
  const pos = new Pos({
    config,
    issuer: client,
    clock: cloud.clock,
    random: (n) => new Uint8Array(randomBytes(n)),
    firstStan: 1 + (randomBytes(2).readUInt16BE(0) % 9000),
  });
  const batch: ClearingBatch = { format: CLEARING_BATCH_FORMAT, records: [] };
  return {
    client,
    batch,
    pay: (phone: VirtualPhone, amount: number) => pos.pay(new MemoryLink(phone.isoDep), amount),
    /** Pays offline and batches the record, checking it was the card's offline approval. */
    async payOffline(phone: VirtualPhone, amount: number) {
      const r = await pos.pay(new MemoryLink(phone.isoDep), amount);
      expect([r.status, r.decidedBy, r.outcome.card?.cryptogramType, r.outcome.card?.fdda]).toEqual([
        "approved",
        "card",
        "TC",
        "passed",
      ]);
      batch.records.push(clearingRecordOf(r, config)!);
    },
  };
}

async function funds(cloud: WalletCloud, pan: string): Promise<number> {
  const issuer = cloud.app.cloud.issuer;
  return (await issuer.fundingAccount(issuer.vault.fingerprint(pan)))!.available;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`offline QuickPass payments cleared on ${backend.name}`, () => {
    let cloud!: WalletCloud;
    freshEachTest(
      () => start(backend, `offline-${backend.name}`),
      (c) => (cloud = c),
    );

    it("a phone pays offline; the batch is cleared once though uploaded twice (and twice at once); the card lists it and the phone hears of it", async () => {
      const p = await phoneOn(cloud, "13500135101");
      const card = await addBankCard(cloud, p.wallet, ICBC);
      const pos = offlinePos(cloud);
      await pos.payOffline(p.phone, 100_00);
      expect(await funds(cloud, ICBC.pan)).toBe(10_000_00); // nothing moves before clearing
      expect(JSON.stringify(pos.batch)).not.toContain(ICBC.pan);

      const first = await pos.client.clear(pos.batch);
      expect(first).toMatchObject([{ status: "cleared", amount: 100_00, shortfall: 0, atc: 1 }]);
      const again = await pos.client.clear(pos.batch);
      expect(again).toMatchObject([{ status: "duplicate", clearingId: first[0]!.clearingId }]);
      expect(await funds(cloud, ICBC.pan)).toBe(10_000_00 - 100_00);
      expect(await ledgerBalance(cloud, `merchant:${MERCHANT}`)).toBe(100_00);

      // A second offline payment, its batch sent twice at the same moment: one clears, one is the duplicate.
      pos.batch.records.splice(0);
      await pos.payOffline(p.phone, 20_00);
      const racing = await Promise.all([pos.client.clear(pos.batch), pos.client.clear(pos.batch)]);
      expect(racing.map((r) => r[0]!.status).sort()).toEqual(["cleared", "duplicate"]);
      expect(await funds(cloud, ICBC.pan)).toBe(10_000_00 - 120_00);

      // The next payment online still approves (ATC 3), and the books balance.
      const online = await pos.pay(p.phone, 400_00);
      expect([online.status, online.decidedBy, online.outcome.card?.atc[1]]).toEqual([
        "approved",
        "issuer",
        3,
      ]);
      expect(await funds(cloud, ICBC.pan)).toBe(10_000_00 - 520_00);
      expect(await ledgerBalance(cloud, `merchant:${MERCHANT}`)).toBe(520_00);

      const listed = await bankCardPayments(p.wallet, card.id);
      expect(
        listed
          .filter((t) => t.reason === "offline-approved")
          .map((t) => t.amount)
          .sort((a, b) => a - b),
      ).toEqual([20_00, 100_00]);
      const events = await accountEvents<{ amount: number; reason: string }>(
        cloud,
        p.phone.cloud!.session!.token,
      );
      expect(
        events.filter((e) => e.type === "bank_card.payment").map((e) => [e.payload.amount, e.payload.reason]),
      ).toEqual([
        [100_00, "offline-approved"],
        [20_00, "offline-approved"],
        [400_00, "approved"],
      ]);
      await expectBooksBalance(cloud);
    }, 120_000);

    it("a payment cleared days later shows on the card when it was made, with its clearing time beside", async () => {
      const p = await phoneOn(cloud, "13500135103");
      const card = await addBankCard(cloud, p.wallet, ICBC);
      const pos = offlinePos(cloud);
      const paidAt = cloud.clock.now().toISOString(); // 16:00 in China, the date 9A carries
      await pos.payOffline(p.phone, 100_00);
      cloud.clock.advance(86_400_000);
      const onlineAt = cloud.clock.now().toISOString();
      expect((await pos.pay(p.phone, 400_00)).decidedBy).toBe("issuer");
      cloud.clock.advance(86_400_000 + 5 * 3_600_000); // the POS uploads its batch two days after the tap
      const clearedAt = cloud.clock.now().toISOString();

      expect(await pos.client.clear(pos.batch)).toMatchObject([{ status: "cleared", paidAt, clearedAt }]);
      const listed = await bankCardPayments(p.wallet, card.id);
      // Newest first by the payment's own time: the online one of the day after, then the offline one.
      expect(listed.map((t) => [t.reason, t.at, t.clearedAt])).toEqual([
        ["approved", onlineAt, null],
        ["offline-approved", paidAt, clearedAt],
      ]);
      const events = await accountEvents<{ reason: string; at: string; clearedAt?: string }>(
        cloud,
        p.phone.cloud!.session!.token,
      );
      expect(
        events
          .filter((e) => e.type === "bank_card.payment" && e.payload.reason === "offline-approved")
          .map((e) => [e.payload.at, e.payload.clearedAt]),
      ).toEqual([[paidAt, clearedAt]]);
    }, 120_000);

    it("tapwallet pos --batch and --clear over HTTP: beyond the funds the shortfall is on the books; a card suspended since still clears; forged, unknown and deleted tokens are refused", async () => {
      const p = await phoneOn(cloud, "13500135102");
      const card = await addBankCard(cloud, p.wallet, BOC);
      const batch = join(stateDir(), "batch.json");
      const at = () => cloud.clock.now().toISOString();
      for (const amount of ["100.00", "30.00", "10.00"]) {
        const run = await posCommand({ amount, state: p.phone.dir, floorLimit: "300", batch, at: at() });
        expect([run.result.status, run.result.decidedBy]).toEqual(["approved", "card"]);
      }
      const file = JSON.parse(readFileSync(batch, "utf8")) as ClearingBatch;
      expect(file.records).toHaveLength(3);
      // Upload the first two now, keep the third for later.
      writeFileSync(batch, JSON.stringify({ ...file, records: file.records.slice(0, 2) }));
      // The user suspends the card after paying; the offline approvals were guaranteed and still clear.
      await updateBankCard(p.wallet, card.id, { status: "suspended" });

      const cleared = await posClearCommand({
        clear: batch,
        issuerUrl: cloud.url,
        apiKey: cloud.acquirerKey,
      });
      expect(cleared.results).toMatchObject([
        { status: "cleared", amount: 100_00, shortfall: 50_00 },
        { status: "cleared", amount: 30_00, shortfall: 30_00 },
      ]);
      expect(cleared.text).toContain("账户差额 / shortfall ¥50.00");
      expect(cleared.kept).toBe(0);
      expect(await funds(cloud, BOC.pan)).toBe(50_00 - 130_00);
      const shortfall = (await cloud.app.cloud.ledger.account("issuer:BOC:shortfall"))!;
      expect([shortfall.debitsPosted, shortfall.creditsPosted]).toEqual([80_00, 0]);
      expect(await ledgerBalance(cloud, `merchant:${defaultTerminalConfig().merchantId}`)).toBe(130_00);

      // A forged copy of the third (its TC changed) and one naming a token nobody issued: refused.
      const third = file.records[2]!;
      const client = new IssuerClient({ url: cloud.url, apiKey: cloud.acquirerKey });
      const flip = (hex: string) =>
        hex.replace(/^(9F2608)(..)/, (_m, t: string, b: string) => t + (b === "00" ? "01" : "00"));
      const unknown = `${third.pan.slice(0, 6)}${"0".repeat(third.pan.length - 7)}`;
      const refused = await client.clear({
        format: CLEARING_BATCH_FORMAT,
        records: [
          { ...third, field55: flip(third.field55) },
          { ...third, pan: unknown + luhnCheckDigit(unknown) },
        ],
      });
      expect(refused.map((r) => [r.status, r.reason])).toEqual([
        ["refused", "cryptogram-invalid"],
        ["refused", "unknown-token"],
      ]);
      // The card deleted: its token is dead, and the third record is refused with it.
      await deleteBankCard(p.wallet, card.id);
      expect(await client.clear({ format: CLEARING_BATCH_FORMAT, records: [third] })).toMatchObject([
        { status: "refused", reason: "token-deleted" },
      ]);
      expect(await funds(cloud, BOC.pan)).toBe(50_00 - 130_00);
      await expectBooksBalance(cloud);
    }, 120_000);
  });
}
