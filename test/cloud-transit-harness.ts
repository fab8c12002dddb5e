/**
 * Helpers for the transit cloud tests: the money checks every scenario ends with (the ledger's invariants,
 * floats against the cards' balances and against what the phones' SEs actually hold), gates that charge a
 * phone on the test clock and a transit operator that uploads their logs.
 */
import { expect } from "vitest";
import { MemoryLink } from "../src/nfc/memory.js";
import type { VirtualPhone } from "../src/device/index.js";
import type { TransitService } from "../src/cloud/transit/service.js";
import {
  GateLog,
  type GateUpload,
  type TapOutcome,
  TransitSandbox,
  readTransitCard,
  type TransitCardReading,
} from "../src/transit/index.js";
import type { LiveCloud } from "./device-harness.js";

const transitOf = (cloud: LiveCloud): TransitService => cloud.app.cloud.transit;

/** What the phone's SE says about its transit card (a reader in the field). */
export async function readPhone(phone: VirtualPhone): Promise<TransitCardReading> {
  const link = new MemoryLink(phone.isoDep);
  await link.fieldOn();
  const r = await readTransitCard(link);
  if (!r.ok) throw new Error(`the phone's card could not be read: ${JSON.stringify(r.error)}`);
  return r.value;
}

export async function ledgerBalance(cloud: LiveCloud, account: string): Promise<number> {
  return (await cloud.app.cloud.ledger.account(account))?.balance ?? 0;
}

/** The ledger's invariants hold (postings balance, totals match, floats = cards' proven balances + in flight). */
export async function expectBooksBalance(cloud: LiveCloud): Promise<void> {
  const report = await cloud.app.cloud.ledger.checkInvariants();
  expect(report.violations).toEqual([]);
  expect(report.ok).toBe(true);
}

/** Gates and a bus validator of the example operator (bj-subway), on the cloud's clock and keys. */
export function metro(cloud: LiveCloud, terminal = "line-1") {
  const sb = new TransitSandbox({ clock: cloud.clock });
  const log = new GateLog(terminal, "bj-subway");
  const tap = async (phone: VirtualPhone, gate: { tap(link: MemoryLink): Promise<TapOutcome> }) => {
    const link = new MemoryLink(phone.isoDep);
    await link.fieldOn();
    return gate.tap(link);
  };
  return {
    log,
    entry: (station: string) => sb.metroGate({ station, direction: "entry", log }),
    exit: (station: string) => sb.metroGate({ station, direction: "exit", log }),
    /** A gate with its own options (a blacklist the gate loaded). */
    gate: (o: Omit<Parameters<TransitSandbox["metroGate"]>[0], "log">) => sb.metroGate({ ...o, log }),
    bus: (fare: number, accepts?: Parameters<TransitSandbox["busValidator"]>[0]["accepts"]) =>
      sb.busValidator({ line: "0300", fare, log, ...(accepts ? { accepts } : {}) }),
    tap,
    /** Entry at one station, exit `minutes` later at another. */
    async ride(phone: VirtualPhone, from: string, to: string, minutes = 20) {
      const a = await tap(phone, sb.metroGate({ station: from, direction: "entry", log }));
      expect(a.ok, JSON.stringify(a.ok ? {} : a.message)).toBe(true);
      cloud.clock.advance(minutes * 60_000);
      const b = await tap(phone, sb.metroGate({ station: to, direction: "exit", log }));
      expect(b.ok, JSON.stringify(b.ok ? {} : b.message)).toBe(true);
      return b.ok ? b.amount : 0;
    },
  };
}

/** The example operator, registered with the cloud, uploading over HTTP. */
export async function operator(cloud: LiveCloud, id = "bj-subway") {
  const { token } = await transitOf(cloud).clearing.registerOperator(id, "北京地铁 Beijing Subway");
  return {
    token,
    async upload(upload: GateUpload, key = token) {
      return cloud.app.inject({
        method: "POST",
        url: "/api/v1/transit/clearing/uploads",
        headers: { "x-operator-key": key },
        payload: upload,
      });
    },
  };
}

/** Every card's cloud balance summed per product, against the float and against the SEs. */
export async function cardsTotal(cloud: LiveCloud, productId: string): Promise<number> {
  const rows = await cloud.db.db
    .selectFrom("transit_cards")
    .select("balance")
    .where("product_id", "=", productId)
    .execute();
  return rows.reduce((s, r) => s + Number(r.balance), 0);
}
