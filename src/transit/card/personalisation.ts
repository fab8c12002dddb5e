/**
 * Personalisation data of a transit card (what the TSM sends as STORE DATA DGIs under the SE's secure
 * channel): the identity files, the purse parameters, the card keys, the CJ/T 166 security code. Issuer-side
 * builder and the DGI numbering the applet understands (docs/TRANSIT.md "Personalisation").
 *
 *   01SS  binary EF with SFI SS (EF15, EF17, Beijing EF04, Wuhan EF05/EF0A), whole content
 *   0201  purse parameters: max balance 4 ‖ overdraft limit 3 ‖ key version 1 ‖ algorithm id 1 ‖ key index 1
 *   0202  GET DATA 80CA security code, 9 bytes (City Union)
 *   0203  purse state: balance 4 ‖ online counter 2 ‖ offline counter 2 (optional, after 0201: a card issued
 *         with an initial balance, or one moved from another phone keeping its balance and counters)
 *   03SS  records of the record EF with SFI SS, oldest first (optional: a moved card's history)
 *   8001  card keys DPK ‖ DLK ‖ DTK, 16 bytes each (8xxx: confidential, sent under C-DECRYPTION)
 */
import { type Bytes, concat, uintBE } from "../../core/bytes.js";
import { ecbEncrypt } from "../../crypto/index.js";
import type { TransitProduct } from "../catalogue.js";
import { ALGORITHM_ID, type MasterKeys, deriveCardKeys } from "../epurse-crypto.js";
import { LAYOUTS } from "../systems/index.js";
import type { CardIdentity } from "../systems/types.js";

export const DGI = {
  binary: (sfi: number): number => 0x0100 | sfi,
  PURSE: 0x0201,
  SECURITY_CODE: 0x0202,
  PURSE_STATE: 0x0203,
  records: (sfi: number): number => 0x0300 | sfi,
  KEYS: 0x8001,
} as const;

/** What a card starts with besides an empty purse: an initial balance (开卡充值) or a moved card's state (移卡). */
export interface PurseState {
  balance: number;
  onlineAtc: number;
  offlineAtc: number;
  /** The transaction records (EF18) to carry over, newest first as the card lists them. */
  records?: readonly Bytes[];
}

/** The key index terminals name in INITIALIZE (keyIdx): one purchase and one load key per card. */
export const DEFAULT_KEY_INDEX = 0x01;

export interface PurseParameters {
  maxBalance: number;
  overdraftLimit: number;
}

export interface Personalisation {
  dgis: { dgi: number; data: Bytes }[];
  /** The factor the card's keys were diversified by (the issuer keeps it to find the card's keys again). */
  asn: Bytes;
}

/**
 * The CJ/T 166 "user card security authentication code" (GET DATA 80CA, 9 bytes). Issuers do not publish how
 * they make it; ours is tag byte 85 (as in the published samples) ‖ the first 8 bytes of 3DES_DTK(ASN), so it
 * is fixed per card and unforgeable without the card's keys.
 */
export function securityCodeFor(dtk: Bytes, asn: Bytes): Bytes {
  const block = ecbEncrypt("3des", dtk, asn);
  return concat(Uint8Array.of(0x85), block.subarray(0, 8));
}

/** Every DGI a new card of `product` needs, its keys diversified from `master` by the card's ASN. */
export function buildPersonalisation(
  product: TransitProduct,
  identity: CardIdentity,
  master: MasterKeys,
  purse: PurseParameters = { maxBalance: product.maxBalance, overdraftLimit: 0 },
  state?: PurseState,
): Personalisation {
  const files = LAYOUTS[product.system].identityFiles(product, identity);
  const keys = deriveCardKeys(master, files.asn);
  const dgis = files.binaries.map((b) => ({ dgi: DGI.binary(b.sfi), data: b.data }));
  dgis.push({
    dgi: DGI.PURSE,
    data: concat(
      uintBE(purse.maxBalance, 4),
      uintBE(purse.overdraftLimit, 3),
      Uint8Array.of(master.keyVersion, ALGORITHM_ID[master.algorithm], DEFAULT_KEY_INDEX),
    ),
  });
  if (state) {
    dgis.push({
      dgi: DGI.PURSE_STATE,
      data: concat(uintBE(state.balance, 4), uintBE(state.onlineAtc, 2), uintBE(state.offlineAtc, 2)),
    });
    // Oldest first: the cyclic EF puts each new record first, so the card lists them as they were.
    if (state.records && state.records.length > 0)
      dgis.push({ dgi: DGI.records(0x18), data: concat(...[...state.records].reverse()) });
  }
  if (product.system === "city-union")
    dgis.push({ dgi: DGI.SECURITY_CODE, data: securityCodeFor(keys.dtk, files.asn) });
  dgis.push({ dgi: DGI.KEYS, data: concat(keys.dpk, keys.dlk, keys.dtk) });
  keys.dpk.fill(0);
  keys.dlk.fill(0);
  keys.dtk.fill(0);
  return { dgis, asn: files.asn };
}
