/**
 * The PBOC e-purse cryptography (JR/T 0025 as profiled by JT/T 978 and CJ/T 166; reference transit.md §3.3)
 * that the card, the PSAM and the issuer share: card keys from master keys, the MAC1/MAC2/TAC inputs of load
 * and purchase. One place, so the three sides cannot drift apart. 3DES and SM4 (selected by the card's
 * algorithm identifier); the SM4 forms are crypto/'s choices (docs/DECISIONS.md "SM4 in PBOC").
 */
import { type Bytes, concat, uintBE } from "../core/bytes.js";
import {
  type EpurseAlgorithm,
  epurseLoadSessionKey,
  epursePurchaseSessionKey,
  epurseTacKey,
  pbocDiversify,
  pbocMac,
} from "../crypto/index.js";

export type { EpurseAlgorithm };

/**
 * The algorithm identifier byte of the INITIALIZE responses. 00 = 3DES in every published sample; the SM4
 * value is our choice (docs/DECISIONS.md "E-purse SM4 algorithm identifier"); change it here only.
 */
export const ALGORITHM_ID: Readonly<Record<EpurseAlgorithm, number>> = { "3des": 0x00, sm4: 0x04 };

export function algorithmOfId(id: number): EpurseAlgorithm | undefined {
  return id === ALGORITHM_ID["3des"] ? "3des" : id === ALGORITHM_ID.sm4 ? "sm4" : undefined;
}

/** Transaction type identifiers (交易类型标识) of records, MACs and TACs. */
export const TxType = {
  ED_LOAD: 0x01,
  EP_LOAD: 0x02,
  ED_PURCHASE: 0x05,
  EP_PURCHASE: 0x06,
  CAPP_PURCHASE: 0x09,
} as const;

/** The card's application keys (16 bytes each): purchase DPK, load DLK, TAC DTK. */
export interface CardKeys {
  dpk: Bytes;
  dlk: Bytes;
  dtk: Bytes;
}

/** An issuer's master keys for one product, from which every card's keys are diversified by its ASN. */
export interface MasterKeys {
  algorithm: EpurseAlgorithm;
  /** Key version reported by the card (INITIALIZE responses) and checked by the host. */
  keyVersion: number;
  mpk: Bytes;
  mlk: Bytes;
  mtk: Bytes;
  /**
   * A group factor (MOHURD: city code ‖ FF0000000000) adds a diversification level above the card:
   * DK = div(div(MK, group), ASN). Absent: DK = div(MK, ASN).
   */
  groupFactor?: Bytes;
}

/** One key of a card: the master key diversified by the optional group factor, then by the card's ASN. */
export function diversifyCardKey(
  master: Bytes,
  asn8: Bytes,
  algorithm: EpurseAlgorithm,
  group?: Bytes,
): Bytes {
  if (!group) return pbocDiversify(master, asn8, algorithm);
  const mid = pbocDiversify(master, group, algorithm);
  try {
    return pbocDiversify(mid, asn8, algorithm);
  } finally {
    mid.fill(0);
  }
}

export function deriveCardKeys(m: MasterKeys, asn8: Bytes): CardKeys {
  return {
    dpk: diversifyCardKey(m.mpk, asn8, m.algorithm, m.groupFactor),
    dlk: diversifyCardKey(m.mlk, asn8, m.algorithm, m.groupFactor),
    dtk: diversifyCardKey(m.mtk, asn8, m.algorithm, m.groupFactor),
  };
}

const macName = (alg: EpurseAlgorithm): "des" | "sm4" => (alg === "sm4" ? "sm4" : "des");

const u32 = (n: number): Bytes => uintBE(n, 4);

/** Load session key SESLK from DLK, the card's random and its online ATC before the load. */
export function loadSessionKey(dlk: Bytes, random4: Bytes, onlineAtc: number, alg: EpurseAlgorithm): Bytes {
  return epurseLoadSessionKey(dlk, random4, onlineAtc, alg);
}

/** Purchase session key SESPK from DPK, the card's random, its offline ATC and the PSAM's sequence number. */
export function purchaseSessionKey(
  dpk: Bytes,
  random4: Bytes,
  offlineAtc: number,
  terminalSeq4: Bytes,
  alg: EpurseAlgorithm,
): Bytes {
  return epursePurchaseSessionKey(dpk, random4, offlineAtc, terminalSeq4, alg);
}

export function tacKey(dtk: Bytes, alg: EpurseAlgorithm): Bytes {
  return epurseTacKey(dtk, alg);
}

export interface LoadFields {
  amount: number;
  type: number;
  terminal: Bytes;
}

/** Load MAC1 (card → host): balance before ‖ amount ‖ type ‖ terminal. */
export function loadMac1(ses: Bytes, alg: EpurseAlgorithm, balance: number, f: LoadFields): Bytes {
  return pbocMac(macName(alg), ses, concat(u32(balance), u32(f.amount), Uint8Array.of(f.type), f.terminal));
}

/** Load MAC2 (host → card): amount ‖ type ‖ terminal ‖ host date ‖ host time. */
export function loadMac2(ses: Bytes, alg: EpurseAlgorithm, f: LoadFields, date4: Bytes, time3: Bytes): Bytes {
  return pbocMac(macName(alg), ses, concat(u32(f.amount), Uint8Array.of(f.type), f.terminal, date4, time3));
}

/** Load TAC: new balance ‖ online ATC before the load ‖ amount ‖ type ‖ terminal ‖ date ‖ time. */
export function loadTac(
  tacK: Bytes,
  alg: EpurseAlgorithm,
  newBalance: number,
  onlineAtc: number,
  f: LoadFields,
  date4: Bytes,
  time3: Bytes,
): Bytes {
  return pbocMac(
    macName(alg),
    tacK,
    concat(
      u32(newBalance),
      uintBE(onlineAtc, 2),
      u32(f.amount),
      Uint8Array.of(f.type),
      f.terminal,
      date4,
      time3,
    ),
  );
}

export interface PurchaseFields {
  amount: number;
  type: number;
  /** The PSAM's terminal number (6 bytes). */
  terminal: Bytes;
  date4: Bytes;
  time3: Bytes;
}

/**
 * Purchase MAC1 (PSAM → card): amount ‖ type ‖ terminal ‖ date ‖ time; City Union cards (CJ/T 166) append
 * the card's 9-byte security code from GET DATA 80CA (reference transit.md §2.2, §3.3).
 */
export function purchaseMac1(
  ses: Bytes,
  alg: EpurseAlgorithm,
  f: PurchaseFields,
  securityCode?: Bytes,
): Bytes {
  const parts = [u32(f.amount), Uint8Array.of(f.type), f.terminal, f.date4, f.time3];
  if (securityCode) parts.push(securityCode);
  return pbocMac(macName(alg), ses, concat(...parts));
}

/** Purchase MAC2 (card → PSAM): the amount. */
export function purchaseMac2(ses: Bytes, alg: EpurseAlgorithm, amount: number): Bytes {
  return pbocMac(macName(alg), ses, u32(amount));
}

/** Purchase TAC: amount ‖ type ‖ terminal ‖ terminal sequence ‖ date ‖ time. */
export function purchaseTac(
  tacK: Bytes,
  alg: EpurseAlgorithm,
  f: PurchaseFields,
  terminalSeq4: Bytes,
): Bytes {
  return pbocMac(
    macName(alg),
    tacK,
    concat(u32(f.amount), Uint8Array.of(f.type), f.terminal, terminalSeq4, f.date4, f.time3),
  );
}
