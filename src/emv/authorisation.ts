/**
 * The online authorisation exchange between a POS and an issuer (what ISO 8583 fields 2/35, 4, 23, 39, 55
 * carry), as plain JSON-ready objects: the cloud serves the issuer host over HTTP with these same shapes.
 * Binary fields are upper-case hex.
 */
import type { Fen } from "../core/money.js";

export type CvmPerformed = "none" | "cdcvm" | "online-pin" | "signature";

export interface AuthorisationRequest {
  /** System trace audit number (field 11), 1–999999. */
  stan: number;
  terminalId: string;
  merchantId: string;
  merchantName?: string;
  /** Amount authorised in fen (field 4); must equal 9F02 in field 55. */
  amount: Fen;
  /** ISO 4217 numeric, 4 digits as in 5F2A ("0156"). */
  currency: string;
  /** Track 2 equivalent data (field 35) — for a token card, the token, never the funding PAN. */
  track2: string;
  /** PAN sequence number (field 23), 2 digits. */
  panSequenceNumber: string;
  /** POS entry mode (field 22): "07" contactless chip. */
  posEntryMode: string;
  /** ICC data (field 55): the BER-TLV list the kernel built. */
  field55: string;
  /** The CVM the terminal performed or will perform. */
  cvm: CvmPerformed;
  /** Transmission date and time (ISO 8601). */
  transmittedAt: string;
}

export interface AuthorisationResponse {
  /** ISO 8583 response code (field 39): "00" approved; see issuer/response-codes.ts. */
  responseCode: string;
  approved: boolean;
  /** Six-character approval code (field 38) when approved. */
  authorisationCode?: string;
  /** Issuer authentication data (tag 91): ARPC ‖ ARC, when the cryptogram was genuine. */
  issuerAuthenticationData?: string;
  /** Why, as a stable code finer than the response code (issuer/response-codes.ts `DeclineReason`). */
  reason: string;
  /** Why, in zh-CN and English (never a PAN or key). */
  message: { zh: string; en: string };
}

/** What a POS sends authorisations to: the local issuer host, or the cloud over HTTP. */
export interface Issuer {
  authorise(request: AuthorisationRequest): Promise<AuthorisationResponse>;
}
