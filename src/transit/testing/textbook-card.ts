/**
 * Test support: an e-purse card on a test SE whose DPK, DLK and DTK are the PBOC textbook key
 * 11223344556677888877665544332211 (reference/vectors/transit/pboc_blog_vectors.json) and whose random is
 * always 11223344, so tests can compute every MAC by hand and replay the textbook's APDUs. Deterministic:
 * two calls with the same options give the same NVM.
 */
import { type Bytes, concat, fromHex, toHex, uintBE } from "../../core/bytes.js";
import { ManualClock } from "../../core/clock.js";
import type { SecureElement } from "../../se/secure-element.js";
import { createTestSecureElement, installForTest, tap } from "../../se/testing/provision.js";
import { DGI, securityCodeFor } from "../card/personalisation.js";
import { type TransitProduct, getProduct } from "../catalogue.js";
import { TxType, loadMac2, loadSessionKey, purchaseMac1, purchaseSessionKey } from "../epurse-crypto.js";
import { epursePackage } from "../phone.js";
import { LAYOUTS } from "../systems/index.js";

export const TEXTBOOK_KEY = fromHex("11223344556677888877665544332211");
export const TEXTBOOK_RANDOM = fromHex("11223344");
export const TERMINAL = fromHex("001122334455");

export interface TextbookCardOptions {
  productId?: string;
  overdraftLimit?: number;
  maxBalance?: number;
}

export interface TextbookCard {
  se: SecureElement;
  aid: Bytes;
  product: TransitProduct;
  /** The City Union 80CA code (undefined for other systems). */
  code: Bytes | undefined;
  /** Sends APDUs (hex) over the field, returns the answers (hex). */
  send(...apdus: string[]): string[];
  /** SELECT the instance (and, for Beijing, the purse ADF 1001). */
  select(): void;
  /** INITIALIZE FOR LOAD + CREDIT with a correct MAC2; returns the CREDIT answer. */
  load(amount: number, onlineAtc: number): string;
  /** The DEBIT command for a purchase initialised with `amount` at offline ATC `atc`. */
  debitCommand(amount: number, type: number, atc: number, seq?: number): string;
}

export function textbookCard(o: TextbookCardOptions = {}): TextbookCard {
  const product = getProduct(o.productId ?? "tu-jingjinji")!;
  const se = createTestSecureElement({
    packages: [epursePackage],
    clock: new ManualClock("2026-03-02T00:30:00Z"),
    random: (n) => Uint8Array.from({ length: n }, (_, i) => TEXTBOOK_RANDOM[i % 4]!),
  });
  const layout = LAYOUTS[product.system];
  const identity = {
    cardNumber: layout.cardNumberFor(product, 1),
    validFrom: "2026-01-01",
    validTo: "2036-01-01",
  };
  const files = layout.identityFiles(product, identity);
  const dgis = files.binaries.map((b) => ({ dgi: DGI.binary(b.sfi), data: b.data }));
  dgis.push({
    dgi: DGI.PURSE,
    data: concat(
      uintBE(o.maxBalance ?? 100000, 4),
      uintBE(o.overdraftLimit ?? 0, 3),
      Uint8Array.of(0x01, 0x00, 0x01),
    ),
  });
  const code = product.system === "city-union" ? securityCodeFor(TEXTBOOK_KEY, files.asn) : undefined;
  if (code) dgis.push({ dgi: DGI.SECURITY_CODE, data: code });
  dgis.push({ dgi: DGI.KEYS, data: concat(TEXTBOOK_KEY, TEXTBOOK_KEY, TEXTBOOK_KEY) });
  const aid = fromHex(product.aids.instance);
  installForTest(se, {
    packageId: epursePackage.id,
    aid,
    params: { system: product.system, product: product.id },
    personalization: dgis,
  });
  const send = (...apdus: string[]) => tap(se, ...apdus);
  const card: TextbookCard = {
    se,
    aid,
    product,
    code,
    send,
    select() {
      se.activate();
      const [r] = send(toHex(concat(fromHex("00A40400"), Uint8Array.of(aid.length), aid, fromHex("00"))));
      if (!r?.endsWith("9000")) throw new Error(`SELECT answered ${r}`);
      if (product.system === "beijing") send("00A40000021001");
    },
    load(amount, onlineAtc) {
      const [init] = send(`805000020B01${toHex(uintBE(amount, 4))}${toHex(TERMINAL)}`);
      if (!init?.endsWith("9000")) return init ?? "";
      const ses = loadSessionKey(TEXTBOOK_KEY, TEXTBOOK_RANDOM, onlineAtc, "3des");
      const mac2 = loadMac2(
        ses,
        "3des",
        { amount, type: TxType.EP_LOAD, terminal: TERMINAL },
        fromHex("20260302"),
        fromHex("083000"),
      );
      return send(`805200000B20260302083000${toHex(mac2)}`)[0]!;
    },
    debitCommand(amount, type, atc, seq = 1) {
      const termSeq = uintBE(seq, 4);
      const ses = purchaseSessionKey(TEXTBOOK_KEY, TEXTBOOK_RANDOM, atc, termSeq, "3des");
      const f = { amount, type, terminal: TERMINAL, date4: fromHex("20260302"), time3: fromHex("090000") };
      return `805401000F${toHex(termSeq)}20260302090000${toHex(purchaseMac1(ses, "3des", f, code))}`;
    },
  };
  card.select();
  return card;
}
