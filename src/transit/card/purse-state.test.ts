/**
 * Personalisation with a purse state (DGI 0203) and carried records (DGI 0318): a card opened with an initial
 * balance (开卡充值) and a card moved to a new phone (移卡) keeping balance, counters and history. The reader
 * sees what was carried; the next load continues from the carried online counter; what was carried cannot be
 * rewritten once the card is personalised.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { concat, uintBE } from "../../core/bytes.js";
import { ManualClock } from "../../core/clock.js";
import { SW } from "../../core/sw.js";
import { MemoryLink } from "../../nfc/memory.js";
import { personalizationCommands, runSecureScript } from "../../se/scp03-host.js";
import { SecureElement } from "../../se/secure-element.js";
import { getProduct } from "../catalogue.js";
import { LocalIssuer } from "../issuer.js";
import { DEVELOPMENT_KEY_SEED, IssuerKeyStore } from "../keys.js";
import { epursePackage, installTransitCard } from "../phone.js";
import { readTransitCard } from "../reader/reader.js";
import { encodeTransactionRecord } from "../records.js";
import { hostLink } from "../sandbox.js";
import { loadCard, localLoadHost } from "../terminal/load.js";
import { DGI, type PurseState, buildPersonalisation } from "./personalisation.js";

const clock = new ManualClock("2026-03-02T02:00:00Z");
const keys = new IssuerKeyStore(DEVELOPMENT_KEY_SEED);
const cm = { enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16), version: 0x30 };

function phoneWith(productId: string, state?: PurseState) {
  const se = SecureElement.manufacture({ packages: [epursePackage], keys: cm, clock });
  const issuer = new LocalIssuer(keys, clock);
  const fresh = issuer.issue(productId);
  const product = getProduct(productId)!;
  const personalisation = buildPersonalisation(
    product,
    fresh.identity,
    keys.masterKeys(product),
    undefined,
    state,
  );
  const aid = installTransitCard(
    se,
    { ...fresh, personalisation },
    { keys: cm, hostChallenge: randomBytes(8) },
  );
  return { se, issuer, aid, product, identity: fresh.identity };
}

async function read(se: SecureElement) {
  const link = new MemoryLink(se);
  await link.fieldOn();
  return readTransitCard(link);
}

const record = (atc: number, amount: number, type: number) =>
  encodeTransactionRecord({
    atc,
    overdraft: 0,
    amount,
    type,
    terminal: "000000000001",
    date: "20260201",
    time: "080000",
  });

describe("purse state at personalisation", () => {
  it("a T-Union card opened with ¥50 reads ¥50, no records, and its first load is at online counter 0", async () => {
    const { se, issuer, aid, product } = phoneWith("tu-jingjinji", {
      balance: 5000,
      onlineAtc: 0,
      offlineAtc: 0,
    });
    const reading = await read(se);
    expect(reading.ok && reading.value.balance).toBe(5000);
    expect(reading.ok && reading.value.transactions).toEqual([]);
    const link = hostLink(se);
    await link.fieldOn();
    const done = await loadCard(link, localLoadHost(issuer), 1000, { system: product.system, aid });
    expect(done.ok && done.value.balanceAfter).toBe(6000);
    expect(done.ok && done.value.atc).toBe(1);
  });

  it("a moved card keeps balance, counters and its records (newest first)", async () => {
    const records = [record(7, 2000, 0x02), record(12, 300, 0x06), record(6, 1000, 0x02)];
    const { se, issuer, aid, product } = phoneWith("shanghai", {
      balance: 2700,
      onlineAtc: 7,
      offlineAtc: 12,
      records,
    });
    const reading = await read(se);
    expect(reading.ok).toBe(true);
    if (!reading.ok) return;
    expect(reading.value.balance).toBe(2700);
    expect(reading.value.transactions.map((t) => t.amount)).toEqual([2000, -300, 1000]);
    const link = hostLink(se);
    await link.fieldOn();
    const done = await loadCard(link, localLoadHost(issuer), 500, { system: product.system, aid });
    expect(done.ok && done.value.atc).toBe(8);
    expect(done.ok && done.value.balanceAfter).toBe(3200);
  });

  it("refuses a purse state above the card's maximum (6A80)", () => {
    const se = SecureElement.manufacture({ packages: [epursePackage], keys: cm, clock });
    const product = getProduct("tu-jingjinji")!;
    const identity = new LocalIssuer(keys, clock).issue(product.id).identity;
    const perso = buildPersonalisation(product, identity, keys.masterKeys(product), undefined, {
      balance: product.maxBalance + 1,
      onlineAtc: 0,
      offlineAtc: 0,
    });
    expect(perso.dgis.map((d) => d.dgi)).toContain(DGI.PURSE_STATE);
    let sw: unknown;
    try {
      installTransitCard(
        se,
        { product, identity, algorithm: "3des", personalisation: perso },
        {
          keys: cm,
          hostChallenge: randomBytes(8),
        },
      );
    } catch (e) {
      sw = (e as { details?: { sw?: number } }).details?.sw;
    }
    expect(sw).toBe(SW.WRONG_DATA);
  });

  it("STORE DATA of a purse state on a personalised card is refused (6985)", () => {
    const { se, aid } = phoneWith("tu-jingjinji", { balance: 100, onlineAtc: 0, offlineAtc: 0 });
    const state = concat(uintBE(99_999, 4), uintBE(0, 2), uintBE(0, 2));
    // Through the card manager, as the TSM would send it: the applet answers 6985 once personalised.
    const r = runSecureScript(
      se.host.transmit,
      cm,
      personalizationCommands(aid, [{ dgi: DGI.PURSE_STATE, data: state }]),
      { hostChallenge: randomBytes(8) },
    );
    se.host.reset();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});
