/**
 * Set-up for the end-to-end wallet tests (not a test file): the whole cloud — accounts, devices, TSM, token
 * service and issuer host (with its test cards and the bank codes kept in memory), transit, door cards, ledger —
 * listening on a random local port, on SQLite or PostgreSQL (the cloud tests' harness), and real virtual phones
 * (src/device) that reach it over HTTP with fetch, as the CLI does. The POS sends its online authorisations to
 * the cloud's endpoint over HTTP too. Phones and server share one ManualClock.
 */
import { randomBytes } from "node:crypto";
import type { Fen } from "../src/core/money.js";
import type { TestCard } from "../src/cloud/issuer/test-cards.js";
import {
  type BankCardInfo,
  type EnrolmentInfo,
  confirmBankCard,
  startBankCard,
} from "../src/device/bank-cards.js";
import type { VirtualPhone, Wallet } from "../src/device/index.js";
import type { AuthorisationRequest, AuthorisationResponse, Issuer } from "../src/emv/authorisation.js";
import { AID } from "../src/emv/profile.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { IssuerClient } from "../src/emv/terminal/issuer-client.js";
import { type PaymentResult, Pos } from "../src/emv/terminal/pos.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { type Backend, bearer } from "./cloud-harness.js";
import {
  ALL_CARDS,
  type PaymentsCloud,
  TERMS_VERSION,
  cvn2Of,
  expiryOf,
  makePaymentsCloud,
} from "./cloud-tsp-harness.js";
import type { LiveCloud } from "./device-harness.js";
import { freshEachTest } from "./each-test.js";

export interface WalletCloud extends PaymentsCloud, LiveCloud {}

/** The whole cloud on `backend`, listening on 127.0.0.1 at a random port. */
export async function startWalletCloud(backend: Backend, seed: string): Promise<WalletCloud> {
  // The harness's cards with ¥10,000 each: room for a payment over the CVM limit.
  const cards = ALL_CARDS.map((c) => ({ ...c, available: 10_000_00 }));
  const cloud = await makePaymentsCloud(backend, { seed, cards });
  const url = await cloud.app.listen({ port: 0, host: "127.0.0.1" });
  return { ...cloud, url };
}

/** Each test of the enclosing describe on a fresh whole cloud on `backend` (seed `${seed}-${backend.name}`). */
export function freshWalletCloudEachTest(
  backend: Backend,
  seed: string,
  use: (cloud: WalletCloud) => void,
): void {
  freshEachTest(() => startWalletCloud(backend, `${seed}-${backend.name}`), use);
}

/** The phone's user removes it from their account (DELETE /devices/{id} with their session, not reported lost). */
export function removePhone(cloud: WalletCloud, phone: Pick<VirtualPhone, "cloud">) {
  return cloud.app.inject({
    method: "DELETE",
    url: `/api/v1/devices/${phone.cloud!.deviceId}`,
    headers: bearer(phone.cloud!.session!.token),
  });
}

/** Step 1 of adding a card on the phone: its details (the terms of the cloud's harness accepted). */
export function startAdding(wallet: Wallet, card: TestCard): Promise<EnrolmentInfo> {
  return startBankCard(wallet, {
    cardNumber: card.pan,
    expiry: expiryOf(card),
    termsVersion: TERMS_VERSION,
    ...(card.kind === "credit" ? { cvn2: cvn2Of(card) } : {}),
  });
}

/** Adds `card` on the phone with the code its bank sent, and syncs so the token lands on the SE. */
export async function addBankCard(cloud: WalletCloud, wallet: Wallet, card: TestCard): Promise<BankCardInfo> {
  const enrolment = await startAdding(wallet, card);
  const code = cloud.bankOtp.last(card.reservedPhone);
  if (!code) throw new Error("the bank sent no code");
  return (await confirmBankCard(wallet, enrolment.id, code)).card;
}

/** Our QuickPass POS; its online requests go to the cloud's authorisation endpoint over HTTP. */
export function posOf(cloud: WalletCloud, terminalId = "TWE2E001") {
  const config = defaultTerminalConfig({
    terminalId,
    merchantId: "898310048160001",
    merchantName: "E2E Store",
    aids: [unionPayAid(AID.debit), unionPayAid(AID.credit)],
  });
  const remote = new IssuerClient({ url: cloud.url, apiKey: cloud.acquirerKey, retries: 0 });
  const sent: { request: AuthorisationRequest; response: AuthorisationResponse }[] = [];
  const issuer: Issuer = {
    async authorise(request) {
      const response = await remote.authorise(request);
      sent.push({ request, response });
      return response;
    },
  };
  const pos = new Pos({
    config,
    issuer,
    clock: cloud.clock,
    random: (n) => new Uint8Array(randomBytes(n)),
    firstStan: 1 + (randomBytes(2).readUInt16BE(0) % 9000),
  });
  return {
    sent,
    pay: (phone: VirtualPhone, amount: Fen): Promise<PaymentResult> =>
      pos.pay(new MemoryLink(phone.isoDep), amount),
  };
}
