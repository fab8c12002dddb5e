/**
 * One offline purchase between a card and a PSAM (reference transit.md §3.1–§3.2): INITIALIZE FOR (CAPP)
 * PURCHASE → PSAM MAC1 → [UPDATE CAPP DATA CACHE…] → DEBIT → PSAM checks MAC2. The City Union security code
 * goes to the PSAM first. A card pulled away during the DEBIT leaves a *pending* purchase the terminal
 * settles at the card's next tap with GET TRANSACTION PROVE.
 */
import { type Bytes, concat, fromHex, toHex, uintBE } from "../../core/bytes.js";
import type { Fen } from "../../core/money.js";
import { type Result, err, ok } from "../../core/result.js";
import { SW } from "../../core/sw.js";
import { CardGoneError } from "../../nfc/link.js";
import { cityUnionProductByCity, getProduct, productOfSystem, type TransitProduct } from "../catalogue.js";
import { type EpurseAlgorithm, TxType, algorithmOfId } from "../epurse-crypto.js";
import { parsePurchaseInit, type PurchaseInit } from "../issuer.js";
import { groupFactorOf, keyDomainOf } from "../keys.js";
import { PSAM_KEY_INDEX, PsamClient, PsamError } from "../psam.js";
import { bcdNow } from "../records.js";
import { type OpenedCard, readBalance } from "./access.js";
import type { CardChannel } from "./channel.js";

export interface CappUpdate {
  p1: number;
  p2: number;
  data: Bytes;
}

/** What the records of a compound purchase may depend on. */
export interface UpdateContext {
  init: PurchaseInit;
  /** The PSAM's terminal number (6 bytes). */
  psamTerminal: Bytes;
}

export interface PurchaseRequest {
  amount: Fen;
  /** Compound purchase (09): the records to write in the same transaction (at least one). */
  updates?: (ctx: UpdateContext) => CappUpdate[];
  at: Date;
}

/** A completed purchase: everything a gate logs and clearing checks. */
export interface PurchaseDone {
  type: number;
  amount: Fen;
  init: PurchaseInit;
  algorithm: EpurseAlgorithm;
  /** The transaction's counter value (INIT's offline ATC + 1). */
  atc: number;
  psamTerminal: Bytes;
  terminalSeq: Bytes;
  date4: Bytes;
  time3: Bytes;
  tac: Bytes;
  mac2: Bytes;
}

/** A DEBIT whose answer never came: the card may or may not have debited. */
export interface PendingPurchase extends Omit<PurchaseDone, "tac" | "mac2"> {
  asn: string;
}

export type PurchaseFailure =
  | { reason: "insufficient_balance"; balance?: Fen }
  | { reason: "card_gone" }
  | { reason: "torn"; pending: PendingPurchase }
  | { reason: "card_error"; step: string; sw: number }
  | { reason: "psam_error"; step: string; sw: number }
  | { reason: "mac2_invalid"; done: PurchaseDone };

/** The product behind an opened card (by IIN, city or system). */
export function productOf(card: OpenedCard): TransitProduct | undefined {
  if (card.identity.productId) return getProduct(card.identity.productId);
  if (card.access.system === "city-union" && card.identity.city)
    return cityUnionProductByCity(card.identity.city.code);
  return productOfSystem(card.access.system);
}

/** The PSAM key domain and group factor of a card. */
function purchaseDomain(card: OpenedCard): { domain: string; groupFactor?: Bytes } | undefined {
  if (card.access.system === "t-union") return { domain: "t-union" };
  if (card.access.system === "city-union") {
    const city = card.identity.city?.code ?? toHex(card.files.get(0x15)?.subarray(2, 4) ?? new Uint8Array(0));
    return city.length === 4
      ? { domain: "city-union", groupFactor: concat(fromHex(city), fromHex("FF0000000000")) }
      : undefined;
  }
  const product = productOf(card);
  if (!product) return undefined;
  const group = groupFactorOf(product);
  return { domain: keyDomainOf(product), ...(group ? { groupFactor: group } : {}) };
}

export async function purchase(
  ch: CardChannel,
  psam: PsamClient,
  card: OpenedCard,
  req: PurchaseRequest,
): Promise<Result<PurchaseDone, PurchaseFailure>> {
  const domain = purchaseDomain(card);
  if (!domain) return err({ reason: "card_error", step: "domain", sw: SW.FILE_NOT_FOUND });
  try {
    const psamTerminal = psam.open(domain.domain);
    if (card.access.securityCode) {
      const code = await ch.send({ cla: 0x80, ins: 0xca, p1: 0, p2: 0, data: new Uint8Array(0), ne: 9 });
      if (code.sw !== SW.OK) return err({ reason: "card_error", step: "GET DATA 80CA", sw: code.sw });
      psam.securityCode(code.data);
    }
    const compound = req.updates !== undefined;
    const type = compound ? TxType.CAPP_PURCHASE : TxType.EP_PURCHASE;
    const initR = await ch.send({
      cla: 0x80,
      ins: 0x50,
      p1: compound ? 0x03 : 0x01,
      p2: 0x02,
      data: concat(Uint8Array.of(PSAM_KEY_INDEX), uintBE(req.amount, 4), psamTerminal),
      ne: 15,
    });
    if (initR.sw === SW.INSUFFICIENT_BALANCE) {
      const balance = await readBalance(ch, card.access);
      return err({ reason: "insufficient_balance", ...(balance.ok ? { balance: balance.value } : {}) });
    }
    if (initR.sw !== SW.OK)
      return err({ reason: "card_error", step: "INITIALIZE FOR PURCHASE", sw: initR.sw });
    const parsed = parsePurchaseInit(initR.data);
    if (!parsed.ok)
      return err({ reason: "card_error", step: "INITIALIZE FOR PURCHASE", sw: SW.WRONG_LENGTH });
    const init = parsed.value;
    const algorithm = algorithmOfId(init.algorithmId);
    if (!algorithm) return err({ reason: "card_error", step: "algorithm", sw: SW.WRONG_DATA });
    const { date4, time3 } = bcdNow(req.at);
    const { terminalSeq, mac1 } = psam.mac1({
      random: init.random,
      offlineAtc: init.offlineAtc,
      amount: req.amount,
      type,
      date4,
      time3,
      keyVersion: init.keyVersion,
      algorithmId: init.algorithmId,
      asn: card.identity.asn,
      ...(domain.groupFactor ? { groupFactor: domain.groupFactor } : {}),
    });
    for (const u of req.updates?.({ init, psamTerminal }) ?? []) {
      const r = await ch.send({ cla: 0x80, ins: 0xdc, p1: u.p1, p2: u.p2, data: u.data });
      if (r.sw !== SW.OK) return err({ reason: "card_error", step: "UPDATE CAPP DATA CACHE", sw: r.sw });
    }
    const base = {
      type,
      amount: req.amount,
      init,
      algorithm,
      atc: init.offlineAtc + 1,
      psamTerminal,
      terminalSeq,
      date4,
      time3,
    };
    let debit;
    try {
      debit = await ch.send({
        cla: 0x80,
        ins: 0x54,
        p1: 0x01,
        p2: 0x00,
        data: concat(terminalSeq, date4, time3, mac1),
        ne: 8,
      });
    } catch (e) {
      if (e instanceof CardGoneError)
        return err({ reason: "torn", pending: { ...base, asn: toHex(card.identity.asn) } });
      throw e;
    }
    if (debit.sw !== SW.OK || debit.data.length !== 8)
      return err({ reason: "card_error", step: "DEBIT FOR PURCHASE", sw: debit.sw });
    const done: PurchaseDone = { ...base, tac: debit.data.slice(0, 4), mac2: debit.data.slice(4, 8) };
    if (!psam.verifyMac2(done.mac2)) return err({ reason: "mac2_invalid", done });
    return ok(done);
  } catch (e) {
    if (e instanceof CardGoneError) return err({ reason: "card_gone" });
    if (e instanceof PsamError) return err({ reason: "psam_error", step: e.command, sw: e.sw });
    throw e;
  }
}

/**
 * Asks a card whether a pending purchase happened (GET TRANSACTION PROVE): its MAC2 and TAC if it did,
 * null if the card never debited.
 */
export async function provePending(
  ch: CardChannel,
  p: PendingPurchase,
): Promise<{ tac: Bytes; mac2: Bytes } | null> {
  const r = await ch.send({ cla: 0x80, ins: 0x5a, p1: 0x00, p2: p.type, data: uintBE(p.atc, 2), ne: 8 });
  if (r.sw !== SW.OK || r.data.length !== 8) return null;
  return { mac2: r.data.slice(0, 4), tac: r.data.slice(4, 8) };
}
