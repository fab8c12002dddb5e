/**
 * The personalisation data of a qPBOC token card: the DGIs a TSM sends with STORE DATA (under a
 * GlobalPlatform secure channel) to a freshly installed QpbocApplet. A pure function of the token's data,
 * its AC master key and (for fDDA) its RSA key with the issuer's certificate: the issuer host calls it when
 * it issues a token, the cloud's TSM when it builds the script.
 *
 * Layout: see layout.ts. The ICC certificate covers the application-data record (SFI 2 rec 1) and the AIP,
 * so the records are built first and signed as they will be read.
 */
import { type Bytes, ascii, bcd, concat, fromHex } from "../../core/bytes.js";
import type { Fen } from "../../core/money.js";
import { tlv } from "../../core/tlv.js";
import { type PublicKeyCertificate, type RsaKeyPair, buildIccCertificate } from "../../crypto/index.js";
import { type AcAlgorithm, algorithmId, keyCheckValue } from "../cryptogram.js";
import { crtOf } from "../fdda.js";
import { AID, CARD_AUTH_DATA_LENGTH, CVN_PBOC, FDDA_VERSION_01, UNIONPAY_PDOL } from "../profile.js";
import { encodePan, encodeTrack2 } from "../track2.js";
import { DGI, INTERNAL, LOG_RECORDS, LOG_SFI, RECORD, TOKEN_AFL } from "./layout.js";

export interface Dgi {
  dgi: number;
  data: Bytes;
}

export interface TokenCardData {
  /** The token (device PAN), 13–19 digits. */
  pan: string;
  /** PAN sequence number, 2 digits. */
  psn: string;
  /** Expiry YYMMDD (5F24; the card is valid through this day). */
  expiry: string;
  /** Effective date YYMMDD (5F25). */
  effective: string;
  kind: "debit" | "credit";
  /** Application label (ASCII, ≤ 16). Default "PBOC DEBIT" / "PBOC CREDIT", as UnionPay cards show. */
  label?: string;
  /** PPSE priority 1–15 (default 1). */
  priority?: number;
  /** Cryptogram algorithm: 3DES (default) or SM4. */
  algorithm?: AcAlgorithm;
  /** Derivation key index: which issuer master key the AC key comes from. */
  dki: number;
  /** Seconds a verification on the phone counts as CDCVM (default 300). */
  cdcvmWindowSeconds?: number;
  /** Offline spending balance (fen) for fDDA offline approvals; absent = online only. */
  offlineBalance?: Fen;
  /** Largest single offline payment (fen). */
  offlineSingleLimit?: Fen;
  /** CTQ the card starts from (default 2000: go online if offline data authentication fails). */
  ctq?: Bytes;
}

/** What fDDA needs: the card's RSA key and the issuer's key and CA-signed certificate. */
export interface CardPki {
  caIndex: number;
  issuerKey: RsaKeyPair;
  issuerCertificate: PublicKeyCertificate;
  iccKey: RsaKeyPair;
  /** ICC certificate serial number, 3 bytes. */
  certificateSerial: Bytes;
}

const SERVICE_CODE = "201"; // international, IC card, normal authorisation, no restrictions
/** AIP byte 1: DDA 20, cardholder verification 10, terminal risk management 08, issuer authentication 04. */
const AIP_WITH_FDDA = fromHex("3C00");
const AIP_ONLINE_ONLY = fromHex("1C00");

export const defaultLabel = (kind: "debit" | "credit"): string =>
  kind === "debit" ? "PBOC DEBIT" : "PBOC CREDIT";
export const aidOf = (kind: "debit" | "credit"): Bytes => (kind === "debit" ? AID.debit : AID.credit);

const record = (...fields: Bytes[]): Bytes => tlv(0x70, concat(...fields));
const recordDgi = (r: { sfi: number; record: number }): number => (r.sfi << 8) | r.record;

function checkCard(c: TokenCardData): void {
  if (!/^\d{13,19}$/.test(c.pan)) throw new RangeError("token PAN must be 13–19 digits");
  if (!/^\d{2}$/.test(c.psn)) throw new RangeError("PSN must be 2 digits");
  if (!/^\d{6}$/.test(c.expiry) || !/^\d{6}$/.test(c.effective)) throw new RangeError("dates must be YYMMDD");
  if (c.label !== undefined && !/^[\x20-\x7e]{1,16}$/.test(c.label))
    throw new RangeError("label must be 1–16 ASCII characters");
}

/** The application-data record (SFI 2 rec 1), the one offline data authentication signs. */
function applicationRecord(c: TokenCardData): Bytes {
  return record(
    tlv(0x5a, encodePan(c.pan)),
    tlv(0x5f25, fromHex(c.effective)),
    tlv(0x5f24, fromHex(c.expiry)),
    tlv(0x5f34, fromHex(c.psn)),
    tlv(0x5f28, fromHex("0156")),
    tlv(0x9f07, fromHex("FF00")),
    tlv(0x9f08, fromHex("0030")),
    tlv(0x5f30, fromHex("0" + SERVICE_CODE)),
    tlv(0x9f4a, Uint8Array.of(0x82)),
  );
}

export function buildQpbocPersonalisation(card: TokenCardData, acMasterKey: Bytes, pki?: CardPki): Dgi[] {
  checkCard(card);
  const alg = card.algorithm ?? "3des";
  if (acMasterKey.length !== 16) throw new RangeError("AC master key must be 16 bytes");
  const label = card.label ?? defaultLabel(card.kind);
  const track2 = encodeTrack2({
    pan: card.pan,
    expiry: card.expiry.slice(0, 4),
    serviceCode: SERVICE_CODE,
    discretionary: "00000",
  });
  const aip = pki ? AIP_WITH_FDDA : AIP_ONLINE_ONLY;
  const ctq = card.ctq ?? fromHex("2000");
  const afl = pki ? TOKEN_AFL : TOKEN_AFL.subarray(0, 8);

  const out: Dgi[] = [];
  out.push({ dgi: recordDgi(RECORD.track2), data: record(tlv(0x57, track2)) });
  const appRecord = applicationRecord(card);
  out.push({ dgi: recordDgi(RECORD.application), data: appRecord });

  if (pki) {
    const issuer = pki.issuerCertificate;
    const issuerFields = [
      tlv(0x8f, Uint8Array.of(pki.caIndex)),
      tlv(0x90, issuer.certificate),
      tlv(0x9f32, issuer.exponent),
    ];
    if (issuer.remainder.length > 0) issuerFields.push(tlv(0x92, issuer.remainder));
    out.push({ dgi: recordDgi(RECORD.issuerKey), data: record(...issuerFields) });

    // Static data to authenticate: the value of the ODA record's template, then the AIP (9F4A = 82).
    const staticData = concat(appRecord.subarray(appRecord[1] === 0x81 ? 3 : 2), aip);
    const expiryMmyy = card.expiry.slice(2, 4) + card.expiry.slice(0, 2);
    const icc = buildIccCertificate(
      pki.issuerKey,
      { modulus: pki.iccKey.modulus, exponent: pki.iccKey.exponent },
      { pan: card.pan, expiry: expiryMmyy, serial: pki.certificateSerial },
      staticData,
    );
    const iccFields = [tlv(0x9f46, icc.certificate), tlv(0x9f47, icc.exponent)];
    if (icc.remainder.length > 0) iccFields.push(tlv(0x9f48, icc.remainder));
    const cardAuthPlaceholder = new Uint8Array(CARD_AUTH_DATA_LENGTH);
    cardAuthPlaceholder[0] = FDDA_VERSION_01;
    cardAuthPlaceholder.set(ctq, 5);
    iccFields.push(tlv(0x9f69, cardAuthPlaceholder));
    out.push({ dgi: recordDgi(RECORD.iccKey), data: record(...iccFields) });

    const crt = crtOf(pki.iccKey);
    out.push({ dgi: DGI.iccQInv, data: crt.qInv });
    out.push({ dgi: DGI.iccDq, data: crt.dq });
    out.push({ dgi: DGI.iccDp, data: crt.dp });
    out.push({ dgi: DGI.iccQ, data: crt.q });
    out.push({ dgi: DGI.iccP, data: crt.p });
  }

  out.push({
    dgi: DGI.fci,
    data: concat(
      tlv(0x50, ascii(label)),
      tlv(0x87, Uint8Array.of(card.priority ?? 1)),
      tlv(0x9f38, UNIONPAY_PDOL),
      tlv(0x5f2d, ascii("zh")),
      tlv(0x9f11, Uint8Array.of(0x01)),
      tlv(0x9f12, ascii(label)),
      tlv(0xbf0c, tlv(0x9f4d, Uint8Array.of(LOG_SFI, LOG_RECORDS))),
    ),
  });
  out.push({
    dgi: DGI.gpoStatic,
    data: concat(
      tlv(0x82, aip),
      tlv(0x94, afl),
      tlv(0x57, track2),
      tlv(0x5f34, fromHex(card.psn)),
      tlv(0x9f6c, ctq),
    ),
  });

  const internal = [
    tlv(INTERNAL.currency, fromHex("0156")),
    tlv(INTERNAL.dki, Uint8Array.of(card.dki)),
    tlv(INTERNAL.cvn, Uint8Array.of(CVN_PBOC)),
    tlv(INTERNAL.algorithmId, Uint8Array.of(algorithmId(alg))),
    tlv(
      INTERNAL.cdcvmWindow,
      Uint8Array.of((card.cdcvmWindowSeconds ?? 300) >> 8, (card.cdcvmWindowSeconds ?? 300) & 0xff),
    ),
  ];
  if (pki && card.offlineBalance !== undefined)
    internal.push(tlv(INTERNAL.offlineBalance, bcd(card.offlineBalance, 6)));
  if (card.offlineSingleLimit !== undefined)
    internal.push(tlv(INTERNAL.offlineSingleLimit, bcd(card.offlineSingleLimit, 6)));
  out.push({ dgi: DGI.internal, data: concat(...internal) });

  out.push({ dgi: DGI.acKey, data: acMasterKey.slice() });
  out.push({ dgi: DGI.acKeyCheck, data: keyCheckValue(acMasterKey, alg) });
  return out;
}
