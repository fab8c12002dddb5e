/**
 * The qPBOC card's data layout, shared by the personalisation builder (what the issuer writes) and the
 * applet (what it reads): DGIs of the STORE DATA script, the proprietary tags of the internal-data DGI,
 * the record layout with its AFL, and the transaction log format.
 *
 * DGIs follow EMV CPS where it has one: 'SFI ‖ record' for records (value = the record template 70),
 * 8000/9000 for the AC key and its check value, 8201–8205 for the ICC RSA CRT key, 9102 for the SELECT
 * answer. 9104 (the static part of every GPO answer) and 9200 (internal data) are ours.
 */
import { fromHex } from "../../core/bytes.js";

export const DGI = {
  /** Contents of the FCI proprietary template (A5): 50, 87, 9F38, 5F2D, 9F11, 9F12, BF0C. */
  fci: 0x9102,
  /** TLVs every GPO answer carries unchanged: 82 AIP, 94 AFL, 57 track 2, 5F34 PSN, 9F6C CTQ (base). */
  gpoStatic: 0x9104,
  /** Card risk data and the cryptogram profile (TLVs with the INTERNAL tags below). */
  internal: 0x9200,
  /** The card's AC master key (UDK), 16 bytes. */
  acKey: 0x8000,
  /** Check value of the AC key, 3 bytes; the applet refuses a key that does not match it. */
  acKeyCheck: 0x9000,
  /** ICC private key, CRT form (EMV CPS): q⁻¹ mod p, d mod (q−1), d mod (p−1), q, p. */
  iccQInv: 0x8201,
  iccDq: 0x8202,
  iccDp: 0x8203,
  iccQ: 0x8204,
  iccP: 0x8205,
} as const;

/** True for a DGI naming a record: SFI 1–30 in the high byte, record 1–255 in the low. */
export function isRecordDgi(dgi: number): boolean {
  const sfi = dgi >> 8;
  return sfi >= 1 && sfi <= 30 && (dgi & 0xff) !== 0;
}

/** Tags of the internal-data DGI (9200). */
export const INTERNAL = {
  /** Application currency code, n4 (9F51). */
  currency: 0x9f51,
  /** Offline spending balance to set, n12 fen (9F79, the PBOC EC balance). */
  offlineBalance: 0x9f79,
  /** Largest single offline transaction, n12 fen (9F78). */
  offlineSingleLimit: 0x9f78,
  /** Derivation key index (which issuer master key). */
  dki: 0xdf71,
  /** Cryptogram version number. */
  cvn: 0xdf72,
  /** IAD algorithm identifier (01 3DES, 04 SM4). */
  algorithmId: 0xdf73,
  /** How long a verification on the phone counts as CDCVM, seconds, 2 bytes. */
  cdcvmWindow: 0xdf74,
} as const;

/** Short file identifier of the transaction log and its record count (announced in the FCI as 9F4D 0B0A). */
export const LOG_SFI = 0x0b;
export const LOG_RECORDS = 10;

/**
 * Log format (9F4F): date, time, amount, other amount, country, currency, merchant name, type, ATC —
 * 45 bytes per record, newest first.
 */
export const LOG_FORMAT = fromHex("9A039F21039F02069F03069F1A025F2A029F4E149C019F3602");

/** Records of a token card: SFI 1 track 2; SFI 2 application data (signed); SFI 3 fDDA keys and 9F69. */
export const RECORD = {
  track2: { sfi: 1, record: 1 },
  application: { sfi: 2, record: 1 },
  issuerKey: { sfi: 3, record: 1 },
  iccKey: { sfi: 3, record: 2 },
} as const;

/** AFL: SFI 1 rec 1; SFI 2 rec 1 (for offline data authentication); SFI 3 recs 1–2. */
export const TOKEN_AFL = fromHex("08010100" + "10010101" + "18010200");
