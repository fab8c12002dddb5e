/**
 * Fast DDA (qPBOC/qVSDC) on both sides of the field, over src/crypto's EMV RSA records:
 * the card signs `6A 05 01 Ldd <ICC dynamic data = 02 ‖ ATC> BB… <SHA-1> BC` where the hash covers the
 * recovered data ‖ 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69 (fDDA v01; 9F37 alone for v00) — emv.md §1.6, HXCORE
 * `iEmvFdda`, PM3 `emv_pki_recover_atc_ex`; the terminal recovers CAPK → issuer key (format 02) → ICC key
 * (format 04, over the static data) → the signature (format 05), checking identifiers, expiry and the ATC.
 */
import { createPrivateKey } from "node:crypto";
import { type Bytes, concat, equal, fromHex, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import {
  type RsaKeyPair,
  buildSignedDynamicData,
  iccDynamicData,
  issuerIdMatchesPan,
  recoverIccPublicKey,
  recoverIssuerPublicKey,
  recoverSignedDynamicData,
} from "../crypto/index.js";
import type { Capk } from "./terminal/capk.js";

export type IccPrivateKey = RsaKeyPair;

export interface RsaCrt {
  p: Bytes;
  q: Bytes;
  dp: Bytes;
  dq: Bytes;
  qInv: Bytes;
}

const big = (b: Bytes): bigint => BigInt("0x" + (toHex(b) || "0"));
const b64u = (v: bigint): string =>
  Buffer.from(fromHex(v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, "0"))).toString(
    "base64url",
  );

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError("no modular inverse");
  return ((s0 % m) + m) % m;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * The card's RSA key from the CRT components personalised in DGIs 8201–8205 (EMV CPS). The public exponent
 * is the inverse of dp modulo p − 1 (it is 3 or 65537, far below p), and d follows from it.
 */
export function iccPrivateKeyFromCrt(c: RsaCrt): IccPrivateKey {
  const [p, q, dp, dq, qi] = [big(c.p), big(c.q), big(c.dp), big(c.dq), big(c.qInv)];
  const n = p * q;
  const e = modInverse(dp, p - 1n);
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(e, lambda);
  const jwk = {
    kty: "RSA",
    n: b64u(n),
    e: b64u(e),
    d: b64u(d),
    p: b64u(p),
    q: b64u(q),
    dp: b64u(dp),
    dq: b64u(dq),
    qi: b64u(qi),
  };
  const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
  const nLen = Math.ceil(n.toString(16).length / 2);
  return {
    modulus: fromHex(n.toString(16).padStart(nLen * 2, "0")),
    exponent: fromHex(e.toString(16).padStart(Math.ceil(e.toString(16).length / 2) * 2, "0")),
    privateKey,
  };
}

/** CRT components of a key pair, for personalisation (they are secret: never log them). */
export function crtOf(key: RsaKeyPair): RsaCrt {
  const jwk = key.privateKey.export({ format: "jwk" });
  const b = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? "", "base64url"));
  return { p: b(jwk.p), q: b(jwk.q), dp: b(jwk.dp), dq: b(jwk.dq), qInv: b(jwk.qi) };
}

/** The card's fDDA signature (9F4B): ICC dynamic data = 02 ‖ ATC; `hashed` = 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69. */
export function signDynamicData(key: IccPrivateKey, atc: Bytes, hashed: Bytes[]): Bytes {
  return buildSignedDynamicData(key, iccDynamicData(atc), concat(...hashed));
}

export interface FddaInput {
  capk: Capk;
  issuerCertificate: Bytes;
  issuerRemainder?: Bytes;
  issuerExponent: Bytes;
  iccCertificate: Bytes;
  iccRemainder?: Bytes;
  iccExponent: Bytes;
  /** Records flagged by the AFL for ODA, then the 9F4A tags' values. */
  staticData: Bytes;
  sdad: Bytes;
  /** PAN digits (5A, else track 2). */
  pan: string;
  atc: Bytes;
  /** YYYYMMDD */
  transactionDate: string;
  unpredictableNumber: Bytes;
  /** fDDA v01: also hashed after 9F37. */
  v01?: { amount: Bytes; currency: Bytes; cardAuthData: Bytes };
}

export type FddaFailure =
  | "issuer-certificate"
  | "issuer-id"
  | "issuer-expired"
  | "icc-certificate"
  | "icc-pan"
  | "icc-expired"
  | "signature"
  | "atc"
  | "capk-expired";

/** MMYY certificate expiry still valid in the month of YYYYMMDD? */
function notExpired(mmyy: string, yyyymmdd: string): boolean {
  if (!/^\d{4}$/.test(mmyy)) return false;
  return `${mmyy.slice(2)}${mmyy.slice(0, 2)}` >= yyyymmdd.slice(2, 6);
}

export function verifyFdda(i: FddaInput): Result<void, FddaFailure> {
  if (i.capk.expiry && /^\d{8}$/.test(i.capk.expiry) && i.capk.expiry < i.transactionDate)
    return err("capk-expired");
  const empty = new Uint8Array(0);
  const issuer = recoverIssuerPublicKey(
    { modulus: i.capk.modulus, exponent: i.capk.exponent },
    i.issuerCertificate,
    i.issuerRemainder ?? empty,
    i.issuerExponent,
  );
  if (!issuer.ok) return err("issuer-certificate");
  if (!issuerIdMatchesPan(issuer.value.issuerId, i.pan)) return err("issuer-id");
  if (!notExpired(issuer.value.expiry, i.transactionDate)) return err("issuer-expired");
  const icc = recoverIccPublicKey(
    issuer.value.publicKey,
    i.iccCertificate,
    i.iccRemainder ?? empty,
    i.iccExponent,
    i.staticData,
  );
  if (!icc.ok) return err("icc-certificate");
  if (icc.value.pan !== i.pan) return err("icc-pan");
  if (!notExpired(icc.value.expiry, i.transactionDate)) return err("icc-expired");
  const hashed = i.v01
    ? concat(i.unpredictableNumber, i.v01.amount, i.v01.currency, i.v01.cardAuthData)
    : i.unpredictableNumber;
  const sdad = recoverSignedDynamicData(icc.value.publicKey, i.sdad, hashed);
  if (!sdad.ok) return err("signature");
  if (!equal(sdad.value.iccDynamicNumber, i.atc)) return err("atc");
  return ok(undefined);
}
