/**
 * Transit end to end on the virtual SE: cards of every product issued, installed through SCP03, topped up by
 * the issuer's host (MAC1/MAC2/TAC), charged by gates and validators through their PSAMs, and read back by
 * the reader exactly as issued.
 */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { isTapwalletError } from "../src/core/errors.js";
import type { Link } from "../src/nfc/link.js";
import { createTestSecureElement, installForTest } from "../src/se/testing/provision.js";
import { seededRandom } from "../src/se/testing/random.js";
import { PRODUCTS, type TransitProduct } from "../src/transit/catalogue.js";
import { LocalIssuer, verifyPurchaseTac } from "../src/transit/issuer.js";
import { DEVELOPMENT_KEY_SEED, IssuerKeyStore, groupFactorOf, keyDomainOf } from "../src/transit/keys.js";
import { epursePackage } from "../src/transit/phone.js";
import { loadCard, localLoadHost, settleLoad } from "../src/transit/terminal/load.js";
import { type ReadTransaction, readTransitCard, readingJson } from "../src/transit/reader/reader.js";
import { TransitSandbox } from "../src/transit/sandbox.js";
import { Blacklist } from "../src/transit/terminal/blacklist.js";
import type { TapOutcome } from "../src/transit/terminal/gate.js";
import { GateLog, type GateLogRecord } from "../src/transit/terminal/log.js";
import type { EpurseAlgorithm } from "../src/transit/epurse-crypto.js";
import type { PurchaseProof } from "../src/transit/issuer.js";

function sandbox(seed = 7) {
  const clock = new ManualClock("2026-03-02T00:30:00Z");
  return { clock, sb: new TransitSandbox({ clock, random: seededRandom(seed) }) };
}

const iso = (clock: ManualClock) => new Date(clock.now().getTime() + 8 * 3600_000).toISOString().slice(0, 19);

/** Issues a card (existing closed products arrive by transfer) and installs it. */
function add(sb: TransitSandbox, p: TransitProduct, algorithm: "3des" | "sm4" = "3des") {
  if (p.status === "available") return sb.addCard(p.id, { algorithm });
  const cardNumber = p.system === "beijing" ? "1000000000004242" : "4242";
  return sb.addCard(p.id, {
    algorithm,
    transferOf: { cardNumber, validFrom: "2024-01-01", validTo: "2034-01-01" },
  });
}

/** What the issuer checks of a purchase, from the record a gate logged. */
const proofOf = (r: GateLogRecord, algorithm: EpurseAlgorithm): PurchaseProof => ({
  asn: fromHex(r.asn),
  algorithm,
  amount: r.amount,
  type: r.type,
  terminal: fromHex(r.psamTerminal),
  terminalSeq: fromHex(r.psamSeq),
  date4: fromHex(r.date),
  time3: fromHex(r.time),
  tac: fromHex(r.tac),
});

describe("the reader returns exactly what was issued, for every product", () => {
  for (const product of PRODUCTS) {
    it(`${product.id} (${product.system})`, async () => {
      const { clock, sb } = sandbox();
      const { aid, card } = add(sb, product);
      const expected: ReadTransaction[] = [];

      const load = await sb.topUp(aid, 5000);
      expect(load.ok).toBe(true);
      expected.unshift({ time: iso(clock), amount: 5000, type: "load", terminal: "000000000001", atc: 1 });

      const bus = sb.busValidator({ line: "0300", fare: 200, accepts: [product.system] });
      for (let i = 1; i <= 2; i++) {
        clock.advance(30 * 60_000);
        const link = sb.field();
        await link.fieldOn();
        const r = await bus.tap(link);
        expect(r.ok, JSON.stringify(r)).toBe(true);
        if (!r.ok) return;
        expected.unshift({
          time: iso(clock),
          amount: -200,
          type: "purchase",
          terminal: r.record.psamTerminal,
          atc: i,
        });
      }

      const link = sb.field();
      await link.fieldOn();
      const read = await readTransitCard(link, [product.system]);
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      expect(read.value).toMatchObject({
        system: product.system,
        product: product.id,
        cardNumber: card.identity.cardNumber,
        balance: 4600,
        validFrom: card.identity.validFrom,
        validTo: card.identity.validTo,
      });
      expect(read.value.transactions).toEqual(expected);
    });
  }
});

describe("metro gates", () => {
  async function rideSetup(productId = "tu-jingjinji", topUp = 5000) {
    const { clock, sb } = sandbox();
    const { aid } = sb.addCard(productId);
    if (topUp > 0) expect((await sb.topUp(aid, topUp)).ok).toBe(true);
    const log = new GateLog("line-1", "bj-subway");
    const entry = sb.metroGate({ station: "0101", direction: "entry", log });
    const exit = (station: string) => sb.metroGate({ station, direction: "exit", log });
    const tap = async (run: (link: Link) => Promise<TapOutcome>) => {
      const link = sb.field();
      await link.fieldOn();
      return run(link);
    };
    return { clock, sb, aid, log, entry, exit, tap };
  }

  it("charges by distance from the entry station and writes entry and exit trips on a T-Union card", async () => {
    const { clock, sb, entry, exit, tap, log } = await rideSetup();
    const a = await tap((l) => entry.tap(l));
    expect(a.ok && a.amount).toBe(0);
    clock.advance(25 * 60_000);
    const b = await tap((l) => exit("0112").tap(l));
    expect(b.ok && [b.amount, b.fareRule, b.balanceAfter]).toEqual([500, "distance", 4500]);

    const link = sb.field();
    await link.fieldOn();
    const read = await readTransitCard(link);
    expect(read.ok && read.value.balance).toBe(4500);
    expect(
      read.ok && read.value.trips.map((t) => [t.kind, t.lineStation.slice(0, 4), t.amount, t.balanceAfter]),
    ).toEqual([
      [4, "0112", 500, 4500],
      [3, "0101", 0, 5000],
    ]);
    expect(log.all.map((r) => r.type)).toEqual([9, 9]);
  });

  it("charges the maximum fare when the entry is missing, and when it is older than the longest trip", async () => {
    const { clock, entry, exit, tap } = await rideSetup();
    const none = await tap((l) => exit("0105").tap(l));
    expect(none.ok && [none.amount, none.fareRule]).toEqual([1000, "max-fare-no-entry"]);
    await tap((l) => entry.tap(l));
    clock.advance(5 * 3600_000);
    const stale = await tap((l) => exit("0105").tap(l));
    expect(stale.ok && [stale.amount, stale.fareRule]).toEqual([1000, "max-fare-stale-entry"]);
    // A trip's exit closes the record: exiting again has no entry.
    const again = await tap((l) => exit("0105").tap(l));
    expect(again.ok && again.fareRule).toBe("max-fare-no-entry");
  });

  it("refuses entry below the minimum fare, and exit when the fare exceeds the balance", async () => {
    const low = await rideSetup("tu-jingjinji", 0);
    const r = await low.tap((l) => low.entry.tap(l));
    expect(!r.ok && r.reason).toBe("insufficient_balance");
    expect(!r.ok && r.message.zh).toContain("余额不足");

    const s = await rideSetup("shanghai", 500);
    expect((await s.tap((l) => s.entry.tap(l))).ok).toBe(true);
    s.clock.advance(60 * 60_000);
    const far = await s.tap((l) => s.exit("0123").tap(l));
    // 52.5 km: ¥6 up to 32 km and ¥1 per further 20 km started = ¥8.
    expect(!far.ok && [far.reason, far.balance]).toEqual(["insufficient_balance", 500]);
    // Topped up, the same trip exits.
    expect((await s.sb.topUp(s.aid, 1000)).ok).toBe(true);
    const ok = await s.tap((l) => s.exit("0123").tap(l));
    expect(ok.ok && [ok.amount, ok.balanceAfter]).toEqual([800, 700]);
  });

  it("refuses blacklisted and expired cards", async () => {
    const { clock, sb } = sandbox();
    const { aid, card } = sb.addCard("shanghai", { validFrom: "2016-01-01", years: 10 });
    expect((await sb.topUp(aid, 2000)).ok).toBe(true);
    const blacklist = new Blacklist([{ system: "city-union", cardNumber: card.identity.cardNumber }]);
    const gate = sb.metroGate({ station: "0101", direction: "entry", blacklist });
    let link = sb.field();
    await link.fieldOn();
    expect(await gate.tap(link)).toMatchObject({ ok: false, reason: "blacklisted" });
    clock.set("2026-01-02T00:00:00Z");
    const open = sb.metroGate({ station: "0101", direction: "entry" });
    link = sb.field();
    await link.fieldOn();
    expect(await open.tap(link)).toMatchObject({ ok: false, reason: "expired" });
  });

  it("settles a DEBIT torn by pulling the phone away with GET TRANSACTION PROVE at the next tap", async () => {
    const { sb, log } = await rideSetup();
    const bus = sb.busValidator({ line: "0300", fare: 200, log });
    // SELECT, EF15, INIT, DEBIT: the card processes the DEBIT, the answer is lost.
    const link = sb.field();
    await link.fieldOn();
    link.removeAfter({ afterExchanges: 3, tear: true });
    const torn = await bus.tap(link);
    expect(!torn.ok && torn.reason).toBe("torn");
    expect(log.all).toHaveLength(0);

    const again = sb.field();
    await again.fieldOn();
    const settled = await bus.tap(again);
    expect(settled.ok && settled.recovered).toBe(true);
    expect(log.all).toHaveLength(1);
    expect(log.all[0]!.recovered).toBe(true);
    const read = await readTransitCard(again);
    expect(read.ok && read.value.balance).toBe(4800);
  });

  it("uploads a log whose every TAC clearing verifies with the domain TAC key", async () => {
    const { clock, sb, entry, exit, tap, log } = await rideSetup("shanghai");
    await tap((l) => entry.tap(l));
    clock.advance(10 * 60_000);
    await tap((l) => exit("0110").tap(l));
    const upload = log.upload(clock.now());
    expect(upload).toMatchObject({ format: "tapwallet.transit.gate-log/1", count: 2, total: 500 });
    const product = PRODUCTS.find((p) => p.id === "shanghai")!;
    for (const r of upload.records) {
      const proof = proofOf(r, r.algorithm);
      const mtk = sb.keys.tacKey(keyDomainOf(product), r.algorithm);
      expect(verifyPurchaseTac(mtk, groupFactorOf(product), proof)).toBe(true);
      expect(verifyPurchaseTac(mtk, groupFactorOf(product), { ...proof, amount: r.amount + 1 })).toBe(false);
    }
  });
});

describe("torn loads", () => {
  async function tornLoad(tear: boolean) {
    const { sb } = sandbox();
    const { aid } = sb.addCard("tu-harbin");
    const host = localLoadHost(sb.issuer);
    const target = { system: "t-union" as const, aid };
    // SELECT, READ BINARY EF15, INITIALIZE FOR LOAD; then the field is lost at CREDIT FOR LOAD.
    const link = sb.field();
    await link.fieldOn();
    link.removeAfter({ afterExchanges: 3, tear });
    const r = await loadCard(link, host, 2000, target);
    expect(!r.ok && r.error.reason).toBe("torn");
    if (r.ok || r.error.reason !== "torn") throw new Error("not torn");
    const again = sb.field();
    await again.fieldOn();
    const settled = await settleLoad(again, host, r.error.pending, target);
    const read = await readTransitCard(again);
    return { settled, balance: read.ok ? read.value.balance : NaN };
  }

  it("a CREDIT the card processed is proven by GET TRANSACTION PROVE and its TAC confirmed", async () => {
    const { settled, balance } = await tornLoad(true);
    expect(settled.ok && settled.value !== "not_loaded" && [settled.value.amount, settled.value.atc]).toEqual(
      [2000, 1],
    );
    expect(balance).toBe(2000);
  });

  it("a CREDIT that never reached the card is reported not loaded", async () => {
    const { settled, balance } = await tornLoad(false);
    expect(settled.ok && settled.value).toBe("not_loaded");
    expect(balance).toBe(0);
  });
});

describe("SM4 cards", () => {
  for (const id of ["tu-jiangsu-suzhou", "shanghai", "shenzhen-tong"]) {
    it(`${id}: load, compound and plain purchase with our PSAM, TACs verified`, async () => {
      const { clock, sb } = sandbox();
      const product = PRODUCTS.find((p) => p.id === id)!;
      const { aid } = sb.addCard(id, { algorithm: "sm4" });
      const load = await sb.topUp(aid, 3000);
      expect(load.ok).toBe(true);
      const log = new GateLog("sm4", "op");
      const accepts = [product.system];
      const entry = sb.metroGate({ station: "0101", direction: "entry", accepts, log });
      const exit = sb.metroGate({ station: "0116", direction: "exit", accepts, log });
      for (const g of [entry, exit]) {
        clock.advance(15 * 60_000);
        const link = sb.field();
        await link.fieldOn();
        expect((await g.tap(link)).ok).toBe(true);
      }
      expect(log.all.map((r) => [r.algorithm, r.amount])).toEqual([
        ["sm4", 0],
        ["sm4", 500],
      ]);
      for (const r of log.all) expect(sb.issuer.verifyPurchase(product, proofOf(r, "sm4"))).toBe(true);
      const link = sb.field();
      await link.fieldOn();
      const read = await readTransitCard(link, accepts);
      expect(read.ok && read.value.balance).toBe(2500);
    });
  }
});

describe("the phone's rules", () => {
  it("refuses a second T-Union card with the reason, and keeps city cards beside one T-Union card", () => {
    const { sb } = sandbox();
    sb.addCard("tu-jingjinji");
    sb.addCard("shanghai");
    sb.addCard("shenzhen-tong");
    try {
      sb.addCard("tu-jiangsu-suzhou");
      expect.unreachable();
    } catch (e) {
      expect(isTapwalletError(e) && e.code).toBe("t_union_limit");
      expect(isTapwalletError(e) && e.zh).toContain("每台设备仅能存在一张交通联合卡");
      expect(isTapwalletError(e) && e.details?.["conflictingId"]).toBe("tu-jingjinji");
    }
    const installed = sb.se.registry.list().map((e) => toHex(e.aid));
    expect(installed).toHaveLength(3);
  });

  it("behind the rule, the SE's registry refuses to activate a second T-Union instance (one public AID)", () => {
    const clock = new ManualClock("2026-03-02T00:30:00Z");
    const se = createTestSecureElement({ packages: [epursePackage], clock });
    const issuer = new LocalIssuer(new IssuerKeyStore(DEVELOPMENT_KEY_SEED), clock);
    const install = (id: string) => {
      const card = issuer.issue(id);
      installForTest(se, {
        packageId: epursePackage.id,
        aid: fromHex(card.product.aids.instance),
        params: { system: card.product.system, product: card.product.id },
        personalization: card.personalisation.dgis,
      });
    };
    install("tu-jingjinji");
    try {
      install("tu-guangxi");
      expect.unreachable();
    } catch (e) {
      expect(isTapwalletError(e) && e.code).toBe("se_activation_conflict");
    }
    expect(se.registry.list().map((e) => e.state)).toEqual(["activated", "deactivated"]);
  });

  it("refuses to open a closed product, naming its successor", () => {
    const { sb } = sandbox();
    try {
      sb.addCard("beijing-yikatong");
      expect.unreachable();
    } catch (e) {
      expect(isTapwalletError(e) && e.code).toBe("product_closed");
      expect(isTapwalletError(e) && e.details?.["successorId"]).toBe("tu-jingjinji");
    }
    expect(sb.se.registry.list()).toHaveLength(0);
  });

  it("the express transit card answers a locked phone alone; switching deactivates the previous one", async () => {
    let locked = false;
    const clock = new ManualClock("2026-03-02T00:30:00Z");
    const sb = new TransitSandbox({
      clock,
      random: seededRandom(3),
      host: { locked: () => locked, lastUserVerification: () => null },
    });
    const tu = sb.addCard("tu-jingjinji").aid;
    const sh = sb.addCard("shanghai").aid;
    sb.setExpress(tu);
    locked = true;
    let link = sb.field();
    await link.fieldOn();
    let read = await readTransitCard(link);
    expect(read.ok && read.value.system).toBe("t-union");

    sb.setExpress(sh);
    const states = Object.fromEntries(
      sb.se.registry.list().map((e) => [toHex(e.aid), [e.state, e.expressTransit]]),
    );
    expect(states[toHex(tu)]).toEqual(["deactivated", false]);
    expect(states[toHex(sh)]).toEqual(["activated", true]);
    link = sb.field();
    await link.fieldOn();
    read = await readTransitCard(link);
    expect(read.ok && readingJson(read.value)).toMatchObject({ system: "city-union", product: "shanghai" });
  });
});
