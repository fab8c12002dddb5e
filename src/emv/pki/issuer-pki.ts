/**
 * The issuer's side of fDDA: its RSA key certified by the CA (format 02 certificate, tags 90/92/9F32), which
 * then signs each card's ICC key at personalisation.
 */
import { type Bytes, fromHex } from "../../core/bytes.js";
import { type PublicKeyCertificate, type RsaKeyPair, buildIssuerCertificate } from "../../crypto/index.js";
import { TEST_CA_INDEX, demoIssuerKey, testCaKey } from "./test-ca.js";

export interface IssuerPki {
  /** The CAPK index (8F) of the CA that certified the issuer key. */
  caIndex: number;
  issuerKey: RsaKeyPair;
  issuerCertificate: PublicKeyCertificate;
}

function certifyIssuer(
  ca: RsaKeyPair,
  caIndex: number,
  issuerKey: RsaKeyPair,
  fields: { issuerId: string; expiry: string; serial: Bytes },
): IssuerPki {
  return {
    caIndex,
    issuerKey,
    issuerCertificate: buildIssuerCertificate(
      ca,
      { modulus: issuerKey.modulus, exponent: issuerKey.exponent },
      fields,
    ),
  };
}

/** The demo issuer's key for a token BIN, certified by Tapwallet's test CA (valid through 12/2049). */
export function demoIssuerPki(tokenBin: string): IssuerPki {
  return certifyIssuer(testCaKey(), TEST_CA_INDEX, demoIssuerKey(), {
    issuerId: tokenBin,
    expiry: "1249",
    serial: fromHex("000001"),
  });
}
