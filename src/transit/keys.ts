/**
 * Who holds which master key. Interoperability decides it: every T-Union card's purchase and TAC keys descend
 * from one national pair (any T-Union PSAM in any city accepts any T-Union card, and clearing checks every TAC),
 * while each issuer keeps its own load key. MOHURD City Union does the same with a city group factor
 * (city code ‖ FF0000000000, reference transit.md §3.2–§3.3). A city-specific system is its own domain.
 *
 * `IssuerKeyStore` derives the master keys of a development deployment from one seed (SHA-256 of labels);
 * a production deployment would take them from its HSM. Keys never leave this module's callers in logs.
 */
import { createHash } from "node:crypto";
import { type Bytes, concat, fromHex } from "../core/bytes.js";
import type { TransitProduct } from "./catalogue.js";
import type { EpurseAlgorithm, MasterKeys } from "./epurse-crypto.js";

/** The purchase/TAC key domain of a product: "t-union", "city-union", or the product itself. */
export function keyDomainOf(product: TransitProduct): string {
  if (product.system === "t-union") return "t-union";
  if (product.system === "city-union") return "city-union";
  return product.id;
}

/** The MOHURD group diversification factor of a City Union product (city code ‖ FF0000000000). */
export function groupFactorOf(product: TransitProduct): Bytes | undefined {
  return product.system === "city-union"
    ? concat(fromHex(product.city.code), fromHex("FF0000000000"))
    : undefined;
}

const KEY_VERSION: Readonly<Record<EpurseAlgorithm, number>> = { "3des": 0x01, sm4: 0x02 };

/** A PSAM's purchase key for one domain and algorithm. */
export interface PurchaseKey {
  domain: string;
  algorithm: EpurseAlgorithm;
  keyVersion: number;
  mpk: Bytes;
}

export class IssuerKeyStore {
  constructor(private readonly seed: string) {}

  private derive(label: string): Bytes {
    return new Uint8Array(createHash("sha256").update(`${this.seed}\u0000${label}`).digest()).slice(0, 16);
  }

  /** The master keys a card of `product` is personalised from. */
  masterKeys(product: TransitProduct, algorithm: EpurseAlgorithm = "3des"): MasterKeys {
    const domain = keyDomainOf(product);
    const group = groupFactorOf(product);
    return {
      algorithm,
      keyVersion: KEY_VERSION[algorithm],
      mpk: this.derive(`${domain}/${algorithm}/MPK`),
      mtk: this.derive(`${domain}/${algorithm}/MTK`),
      mlk: this.derive(`${product.id}/${algorithm}/MLK`),
      ...(group ? { groupFactor: group } : {}),
    };
  }

  /** The purchase master key a PSAM of `domain` holds. */
  purchaseKey(domain: string, algorithm: EpurseAlgorithm = "3des"): PurchaseKey {
    return {
      domain,
      algorithm,
      keyVersion: KEY_VERSION[algorithm],
      mpk: this.derive(`${domain}/${algorithm}/MPK`),
    };
  }

  /** The TAC master key of a domain (clearing checks gate uploads with it). */
  tacKey(domain: string, algorithm: EpurseAlgorithm = "3des"): Bytes {
    return this.derive(`${domain}/${algorithm}/MTK`);
  }
}

/** The seed of the development deployment (demo, tests, benchmarks): public, so its keys protect nothing. */
export const DEVELOPMENT_KEY_SEED = "tapwallet development transit keys";
