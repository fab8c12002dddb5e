/**
 * The issuer's side of the e-purse (what the transit card issuer's host does), as library functions the
 * cloud reuses: parse what the card answered to INITIALIZE, check the load MAC1, make the MAC2, check the
 * load TAC, check each purchase TAC at clearing. `LocalIssuer` strings them together for the demo and the
 * tests: it opens cards (number, validity, personalisation DGIs) and authorises loads.
 */
import { type Bytes, equalConstantTime, readUintBE } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { type Result, err, ok } from "../core/result.js";
import { assertCanOpen, getProduct, type TransitProduct } from "./catalogue.js";
import { type Personalisation, type PurseParameters, buildPersonalisation } from "./card/personalisation.js";
import {
  type EpurseAlgorithm,
  type MasterKeys,
  TxType,
  algorithmOfId,
  diversifyCardKey,
  loadMac1,
  loadMac2,
  loadSessionKey,
  loadTac,
  purchaseTac,
  tacKey,
} from "./epurse-crypto.js";
import { type IssuerKeyStore, groupFactorOf, keyDomainOf } from "./keys.js";
import { bcdNow } from "./records.js";
import { LAYOUTS } from "./systems/index.js";
import type { CardIdentity } from "./systems/types.js";

/** The card's answer to INITIALIZE FOR LOAD (16 bytes). */
export interface LoadInit {
  balance: number;
  onlineAtc: number;
  keyVersion: number;
  algorithmId: number;
  random: Bytes;
  mac1: Bytes;
}

/** The card's answer to INITIALIZE FOR (CAPP) PURCHASE (15 bytes). */
export interface PurchaseInit {
  balance: number;
  offlineAtc: number;
  overdraftLimit: number;
  keyVersion: number;
  algorithmId: number;
  random: Bytes;
}

export function parseLoadInit(data: Bytes): Result<LoadInit> {
  if (data.length !== 16) return err(`INITIALIZE FOR LOAD answered ${data.length} bytes, expected 16`);
  return ok({
    balance: readUintBE(data, 0, 4),
    onlineAtc: readUintBE(data, 4, 2),
    keyVersion: data[6]!,
    algorithmId: data[7]!,
    random: data.slice(8, 12),
    mac1: data.slice(12, 16),
  });
}

export function parsePurchaseInit(data: Bytes): Result<PurchaseInit> {
  if (data.length !== 15) return err(`INITIALIZE FOR PURCHASE answered ${data.length} bytes, expected 15`);
  return ok({
    balance: readUintBE(data, 0, 4),
    offlineAtc: readUintBE(data, 4, 2),
    overdraftLimit: readUintBE(data, 6, 3),
    keyVersion: data[9]!,
    algorithmId: data[10]!,
    random: data.slice(11, 15),
  });
}

/** Everything the host needs to answer one load. */
export interface LoadRequest {
  master: MasterKeys;
  /** The card's ASN (key diversification factor). */
  asn: Bytes;
  amount: number;
  /** The load terminal number the device sent in INITIALIZE FOR LOAD (6 bytes). */
  terminal: Bytes;
  init: LoadInit;
  /** Overdraft the card had used before the load (repaid first); 0 for cards without overdraft. */
  overdraft?: number;
}

export type LoadRefusal = "key_version" | "algorithm" | "mac1";

function loadSession(req: LoadRequest): Result<{ key: Bytes; alg: EpurseAlgorithm }, LoadRefusal> {
  const alg = algorithmOfId(req.init.algorithmId);
  if (alg === undefined || alg !== req.master.algorithm) return err("algorithm");
  if (req.init.keyVersion !== req.master.keyVersion) return err("key_version");
  const dlk = diversifyCardKey(req.master.mlk, req.asn, alg, req.master.groupFactor);
  try {
    return ok({ key: loadSessionKey(dlk, req.init.random, req.init.onlineAtc, alg), alg });
  } finally {
    dlk.fill(0);
  }
}

const loadFields = (req: LoadRequest) => ({
  amount: req.amount,
  type: TxType.EP_LOAD,
  terminal: req.terminal,
});

/** Checks the card's load MAC1 and, if it is right, makes the MAC2 for `date4`/`time3` (the host's time). */
export function authoriseLoadMac(req: LoadRequest, date4: Bytes, time3: Bytes): Result<Bytes, LoadRefusal> {
  const s = loadSession(req);
  if (!s.ok) return s;
  const expected = loadMac1(s.value.key, s.value.alg, req.init.balance, loadFields(req));
  if (!equalConstantTime(expected, req.init.mac1)) return err("mac1");
  return ok(loadMac2(s.value.key, s.value.alg, loadFields(req), date4, time3));
}

/** The card's balance after the load, as its TAC states it. */
function balanceAfterLoad(req: LoadRequest): number {
  const repaid = Math.min(req.overdraft ?? 0, req.amount);
  return req.init.balance + req.amount - repaid;
}

/** Checks the TAC the card answered to CREDIT FOR LOAD (or GET TRANSACTION PROVE after a torn load). */
export function verifyLoadTac(req: LoadRequest, date4: Bytes, time3: Bytes, tac: Bytes): boolean {
  const alg = req.master.algorithm;
  const dtk = diversifyCardKey(req.master.mtk, req.asn, alg, req.master.groupFactor);
  try {
    const expected = loadTac(
      tacKey(dtk, alg),
      alg,
      balanceAfterLoad(req),
      req.init.onlineAtc,
      loadFields(req),
      date4,
      time3,
    );
    return equalConstantTime(expected, tac);
  } finally {
    dtk.fill(0);
  }
}

/** One purchase as a gate uploads it for clearing: what the TAC covers, and whose card it was. */
export interface PurchaseProof {
  asn: Bytes;
  algorithm: EpurseAlgorithm;
  amount: number;
  type: number;
  /** PSAM terminal number (6 bytes). */
  terminal: Bytes;
  /** PSAM transaction sequence number (4 bytes). */
  terminalSeq: Bytes;
  date4: Bytes;
  time3: Bytes;
  tac: Bytes;
}

/** Checks a purchase TAC with the domain's TAC master key (and the card's group factor, if any). */
export function verifyPurchaseTac(mtk: Bytes, groupFactor: Bytes | undefined, p: PurchaseProof): boolean {
  const dtk = diversifyCardKey(mtk, p.asn, p.algorithm, groupFactor);
  try {
    const f = { amount: p.amount, type: p.type, terminal: p.terminal, date4: p.date4, time3: p.time3 };
    return equalConstantTime(purchaseTac(tacKey(dtk, p.algorithm), p.algorithm, f, p.terminalSeq), p.tac);
  } finally {
    dtk.fill(0);
  }
}

export interface IssuedCard {
  product: TransitProduct;
  identity: CardIdentity;
  algorithm: EpurseAlgorithm;
  personalisation: Personalisation;
  /** An existing card moving to a new phone (closed products allowed). */
  transfer?: boolean;
}

export interface IssueOptions {
  algorithm?: EpurseAlgorithm;
  /**
   * A card that already exists moving to a new phone (移卡): it keeps its number and validity, and closed
   * products are still serviced this way.
   */
  transferOf?: CardIdentity;
  /** The issuer's sequence number of this card (default: the next one). */
  sequence?: number;
  validFrom?: string;
  /** Validity in years (default 10). */
  years?: number;
  purse?: PurseParameters;
}

export interface LoadAuthorisation {
  mac2: Bytes;
  date4: Bytes;
  time3: Bytes;
}

/**
 * A transit issuer's host in one object (demo and tests): key store, card numbers, load authorisation.
 * The cloud's issuer service does the same with a database behind it.
 */
export class LocalIssuer {
  private sequence = 1;

  constructor(
    readonly keys: IssuerKeyStore,
    private readonly clock: Clock,
    /** The load terminal number this host puts in INITIALIZE FOR LOAD (6 bytes). */
    readonly terminal: Bytes = Uint8Array.of(0x00, 0x00, 0x00, 0x00, 0x00, 0x01),
  ) {}

  /**
   * Opens a new card of an available product (a closed one is refused, naming its successor), or re-issues
   * an existing card for a transfer.
   */
  issue(productId: string, o: IssueOptions = {}): IssuedCard {
    const existing = o.transferOf ? getProduct(productId) : undefined;
    const product = existing ?? assertCanOpen(productId);
    const algorithm = o.algorithm ?? "3des";
    if (o.transferOf) {
      const personalisation = buildPersonalisation(
        product,
        o.transferOf,
        this.keys.masterKeys(product, algorithm),
        o.purse,
      );
      return { product, identity: o.transferOf, algorithm, personalisation, transfer: true };
    }
    const sequence = o.sequence ?? this.sequence++;
    const validFrom = o.validFrom ?? this.clock.now().toISOString().slice(0, 10);
    const years = o.years ?? 10;
    const validTo = `${Number(validFrom.slice(0, 4)) + years}${validFrom.slice(4)}`;
    const identity: CardIdentity = {
      cardNumber: LAYOUTS[product.system].cardNumberFor(product, sequence),
      validFrom,
      validTo,
      cardType: 1,
    };
    const personalisation = buildPersonalisation(
      product,
      identity,
      this.keys.masterKeys(product, algorithm),
      o.purse,
    );
    return { product, identity, algorithm, personalisation };
  }

  /** Checks a load's MAC1 and answers its MAC2, stamped with the host's date and time. */
  authoriseLoad(
    product: TransitProduct,
    asn: Bytes,
    amount: number,
    init: LoadInit,
  ): Result<LoadAuthorisation, LoadRefusal> {
    const { date4, time3 } = bcdNow(this.clock.now());
    const mac2 = authoriseLoadMac(this.loadRequest(product, asn, amount, init), date4, time3);
    return mac2.ok ? ok({ mac2: mac2.value, date4, time3 }) : mac2;
  }

  /** Checks the TAC of a load this host authorised. */
  confirmLoad(
    product: TransitProduct,
    asn: Bytes,
    amount: number,
    init: LoadInit,
    auth: LoadAuthorisation,
    tac: Bytes,
  ): boolean {
    return verifyLoadTac(this.loadRequest(product, asn, amount, init), auth.date4, auth.time3, tac);
  }

  private loadRequest(product: TransitProduct, asn: Bytes, amount: number, init: LoadInit): LoadRequest {
    const algorithm = algorithmOfId(init.algorithmId) ?? "3des";
    return { master: this.keys.masterKeys(product, algorithm), asn, amount, terminal: this.terminal, init };
  }

  /** Checks one purchase a gate uploaded. */
  verifyPurchase(product: TransitProduct, p: PurchaseProof): boolean {
    return verifyPurchaseTac(this.keys.tacKey(keyDomainOf(product), p.algorithm), groupFactorOf(product), p);
  }
}
