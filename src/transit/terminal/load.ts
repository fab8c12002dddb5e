/**
 * A top-up (圈存) driven from the phone or a top-up machine: INITIALIZE FOR LOAD on the card → the issuer's
 * host checks MAC1 and answers MAC2 → CREDIT FOR LOAD → the card's TAC goes back to the host. A load whose
 * CREDIT answer was lost is settled with GET TRANSACTION PROVE (the card either has the TAC of that load, or
 * never loaded).
 */
import { type Bytes, concat, uintBE } from "../../core/bytes.js";
import type { Fen } from "../../core/money.js";
import { type Result, err, ok } from "../../core/result.js";
import { SW } from "../../core/sw.js";
import { CardGoneError, type Link } from "../../nfc/link.js";
import { TRANSIT_SYSTEMS, type TransitProduct, type TransitSystem } from "../catalogue.js";
import { TxType } from "../epurse-crypto.js";
import { type LoadAuthorisation, type LoadInit, type LocalIssuer, parseLoadInit } from "../issuer.js";
import { DEFAULT_KEY_INDEX } from "../card/personalisation.js";
import { openCard, type OpenedCard } from "./access.js";
import { CardChannel } from "./channel.js";
import { productOf } from "./purchase.js";

/** The issuer's host as the load needs it (the local issuer, or the cloud over HTTP). */
export interface LoadHost {
  /** The load terminal number to put in INITIALIZE FOR LOAD (6 bytes). */
  readonly terminal: Bytes;
  authorise(
    card: { product: TransitProduct; asn: Bytes; cardNumber: string },
    amount: Fen,
    init: LoadInit,
  ): Promise<Result<{ mac2: Bytes; date4: Bytes; time3: Bytes }, string>>;
  /** Hands back the card's TAC; the host checks it and completes the load. */
  confirm(tac: Bytes): Promise<boolean>;
}

export interface LoadDone {
  product: TransitProduct;
  cardNumber: string;
  amount: Fen;
  balanceBefore: Fen;
  balanceAfter: Fen;
  /** The load's online counter value (INIT's + 1). */
  atc: number;
  tac: Bytes;
}

/** The card took the load command and then the field was lost: settle it with `settleLoad`. */
export interface PendingLoad {
  product: TransitProduct;
  cardNumber: string;
  amount: Fen;
  init: LoadInit;
  atc: number;
}

export type LoadFailure =
  | { reason: "not_a_transit_card" }
  | { reason: "unknown_product" }
  | { reason: "card_refused"; step: string; sw: number }
  | { reason: "host_refused"; detail: string }
  | { reason: "tac_invalid"; tac: Bytes }
  | { reason: "card_gone" }
  | { reason: "torn"; pending: PendingLoad };

/** Which card to load: the phone names its instance; a top-up machine takes the first transit card. */
export interface LoadTarget {
  system: TransitSystem;
  /** The instance AID (or any DF name the card answers). */
  aid: Bytes;
}

const openTarget = (ch: CardChannel, target: LoadTarget | undefined) =>
  target ? openCard(ch, [target.system], [target.aid]) : openCard(ch, TRANSIT_SYSTEMS);

/** Loads `amount` onto the transit card behind `link` (the field is on). */
export async function loadCard(
  link: Link,
  host: LoadHost,
  amount: Fen,
  target?: LoadTarget,
): Promise<Result<LoadDone, LoadFailure>> {
  const ch = new CardChannel(link);
  try {
    const opened = await openTarget(ch, target);
    if (!opened.ok) return err({ reason: "not_a_transit_card" });
    const product = productOf(opened.value);
    if (!product) return err({ reason: "unknown_product" });
    return await runLoad(ch, opened.value, product, host, amount);
  } catch (e) {
    if (e instanceof CardGoneError) return err({ reason: "card_gone" });
    throw e;
  }
}

async function runLoad(
  ch: CardChannel,
  card: OpenedCard,
  product: TransitProduct,
  host: LoadHost,
  amount: Fen,
): Promise<Result<LoadDone, LoadFailure>> {
  const initR = await ch.send({
    cla: 0x80,
    ins: 0x50,
    p1: 0x00,
    p2: 0x02,
    data: concat(Uint8Array.of(DEFAULT_KEY_INDEX), uintBE(amount, 4), host.terminal),
    ne: 16,
  });
  if (initR.sw !== SW.OK) return err({ reason: "card_refused", step: "INITIALIZE FOR LOAD", sw: initR.sw });
  const init = parseLoadInit(initR.data);
  if (!init.ok) return err({ reason: "card_refused", step: "INITIALIZE FOR LOAD", sw: SW.WRONG_LENGTH });
  const cardRef = { product, asn: card.identity.asn, cardNumber: card.identity.cardNumber };
  const auth = await host.authorise(cardRef, amount, init.value);
  if (!auth.ok) return err({ reason: "host_refused", detail: auth.error });
  const { mac2, date4, time3 } = auth.value;
  const pending: PendingLoad = {
    product,
    cardNumber: card.identity.cardNumber,
    amount,
    init: init.value,
    atc: init.value.onlineAtc + 1,
  };
  let credit;
  try {
    credit = await ch.send({ cla: 0x80, ins: 0x52, p1: 0, p2: 0, data: concat(date4, time3, mac2), ne: 4 });
  } catch (e) {
    if (e instanceof CardGoneError) return err({ reason: "torn", pending });
    throw e;
  }
  if (credit.sw !== SW.OK || credit.data.length !== 4)
    return err({ reason: "card_refused", step: "CREDIT FOR LOAD", sw: credit.sw });
  return finish(host, pending, credit.data);
}

async function finish(host: LoadHost, p: PendingLoad, tac: Bytes): Promise<Result<LoadDone, LoadFailure>> {
  if (!(await host.confirm(tac))) return err({ reason: "tac_invalid", tac });
  return ok({
    product: p.product,
    cardNumber: p.cardNumber,
    amount: p.amount,
    balanceBefore: p.init.balance,
    balanceAfter: p.init.balance + p.amount,
    atc: p.atc,
    tac,
  });
}

/**
 * Settles a torn load at the next contact: GET TRANSACTION PROVE for the load's counter value. The card
 * answers that load's MAC2 ‖ TAC if it credited (the host then confirms), or 9406 if it never did.
 */
export async function settleLoad(
  link: Link,
  host: LoadHost,
  p: PendingLoad,
  target?: LoadTarget,
): Promise<Result<LoadDone | "not_loaded", LoadFailure>> {
  const ch = new CardChannel(link);
  try {
    const opened = await openTarget(ch, target);
    if (!opened.ok) return err({ reason: "not_a_transit_card" });
    const r = await ch.send({
      cla: 0x80,
      ins: 0x5a,
      p1: 0,
      p2: TxType.EP_LOAD,
      data: uintBE(p.atc, 2),
      ne: 8,
    });
    if (r.sw === SW.MAC_NOT_AVAILABLE) return ok("not_loaded");
    if (r.sw !== SW.OK || r.data.length !== 8)
      return err({ reason: "card_refused", step: "GET TRANSACTION PROVE", sw: r.sw });
    return finish(host, p, r.data.slice(4, 8));
  } catch (e) {
    if (e instanceof CardGoneError) return err({ reason: "card_gone" });
    throw e;
  }
}

/** A `LoadHost` over a `LocalIssuer` (demo and tests): it remembers the authorised load to check its TAC. */
export function localLoadHost(issuer: LocalIssuer): LoadHost {
  let last: {
    product: TransitProduct;
    asn: Bytes;
    amount: Fen;
    init: LoadInit;
    auth: LoadAuthorisation;
  } | null = null;
  return {
    terminal: issuer.terminal,
    async authorise(card, amount, init) {
      const auth = issuer.authoriseLoad(card.product, card.asn, amount, init);
      if (!auth.ok) return err(auth.error);
      last = { product: card.product, asn: card.asn, amount, init, auth: auth.value };
      return ok(auth.value);
    },
    async confirm(tac) {
      return (
        last !== null && issuer.confirmLoad(last.product, last.asn, last.amount, last.init, last.auth, tac)
      );
    },
  };
}
