/**
 * A contactless POS's parameters: who it is, what it supports, and per application (AID) its kernel, its
 * limits and its base TTQ — what a Chinese acquirer downloads into a QuickPass terminal (emv.md §1.2–1.3).
 */
import { type Bytes, ascii, fromHex } from "../../core/bytes.js";
import type { Fen } from "../../core/money.js";
import { testCaCapk } from "../pki/test-ca.js";
import { AID, KERNEL_ID_UNIONPAY } from "../profile.js";
import { CapkStore, UNIONPAY_CAPK_08, UNIONPAY_CAPK_08_CHECKSUM } from "./capk.js";

export interface AidParameters {
  /** The terminal's AID; a card's ADF name matches when it starts with these bytes. */
  aid: Bytes;
  kernelId: number;
  /** Terminal application version number (9F09). */
  appVersion: Bytes;
  /** Amount ≥ this → contactless not allowed (Book A/B "Reader Contactless Transaction Limit"); null = none. */
  contactlessTransactionLimit: Fen | null;
  /**
   * Amount ≥ this → CVM required (Book A/B "Reader CVM Required Limit"). China's 双免 rule lets ¥1000.00
   * itself pass without PIN or signature, so the default is 100001 fen (docs/DECISIONS.md).
   */
  cvmRequiredLimit: Fen | null;
  /** Amount > this → online cryptogram required (contactless offline floor limit); null = none. */
  floorLimit: Fen | null;
  /** The TTQ before pre-processing sets byte 2 (9F66). */
  ttq: Bytes;
}

export interface TerminalConfig {
  /** Terminal identification (8 characters, ISO 8583 field 41). */
  terminalId: string;
  /** Card acceptor identification (15 characters, field 42). */
  merchantId: string;
  merchantName: string;
  /** 9F1A */
  countryCode: Bytes;
  /** 5F2A */
  currencyCode: Bytes;
  /** 9F35 */
  terminalType: number;
  /** 9F33 */
  capabilities: Bytes;
  /** 9F1E, 8 characters. */
  ifdSerialNumber: string;
  aids: AidParameters[];
  capks: CapkStore;
}

/** 1000.00 CNY, the 双免 (no PIN, no signature) ceiling since 2018-06-01 (emv.md §1.7). */
const CHINA_NO_CVM_CEILING: Fen = 100000;

/**
 * Base TTQ of our POS: qPBOC, contact EMV and signature supported (the traced reader's 36 less online PIN: our
 * POS has no PIN pad); byte 3: issuer update processing and consumer-device CVM supported; byte 4: fDDA v01.
 */
const DEFAULT_TTQ = fromHex("3200C080");

export function unionPayAid(aid: Bytes, overrides: Partial<AidParameters> = {}): AidParameters {
  return {
    aid,
    kernelId: KERNEL_ID_UNIONPAY,
    appVersion: fromHex("0030"),
    contactlessTransactionLimit: null,
    cvmRequiredLimit: CHINA_NO_CVM_CEILING + 1,
    floorLimit: 0,
    ttq: DEFAULT_TTQ,
    ...overrides,
  };
}

/**
 * The CAPKs our terminals ship with: UnionPay's production index 08 (checked against its published
 * checksum) and Tapwallet's test CA (index F1), which certifies the demo issuer's tokens.
 */
export function defaultCapks(): CapkStore {
  const store = new CapkStore();
  for (const [k, sum] of [
    [UNIONPAY_CAPK_08, UNIONPAY_CAPK_08_CHECKSUM],
    [testCaCapk(), undefined],
  ] as const) {
    const added = store.add(k, sum);
    if (!added.ok) throw new Error(`built-in CAPK: ${added.error}`);
  }
  return store;
}

export function defaultTerminalConfig(overrides: Partial<TerminalConfig> = {}): TerminalConfig {
  return {
    terminalId: "TW000001",
    merchantId: "898310048160001",
    merchantName: "Tapwallet Demo Store",
    countryCode: fromHex("0156"),
    currencyCode: fromHex("0156"),
    terminalType: 0x22,
    capabilities: fromHex("E0E9C8"),
    ifdSerialNumber: "TW000001",
    aids: [unionPayAid(AID.debit), unionPayAid(AID.credit), unionPayAid(AID.quasiCredit)],
    capks: defaultCapks(),
    ...overrides,
  };
}

export const ifdSerialBytes = (c: TerminalConfig): Bytes => ascii(c.ifdSerialNumber.padEnd(8).slice(0, 8));
