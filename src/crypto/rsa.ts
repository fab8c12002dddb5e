/**
 * RSA as EMV uses it (EMV 4.x Book 2 §5–6, Annex B2): raw (unpadded) public and private operations, key
 * generation with exponent 3 or 65537, and the offline data authentication records — issuer public key
 * certificate (format 02), ICC public key certificate (format 04), signed static application data (format
 * 03) and signed dynamic application data (format 05, DDA and fDDA) — both recovered and checked (terminal)
 * and built and signed (our own test CA → issuer → ICC). Hash algorithm 01 = SHA-1, key algorithm 01 = RSA.
 *
 * The public operation is a BigInt modular exponentiation: with EMV's exponent 3 it is faster than importing
 * the modulus into a node:crypto KeyObject for every certificate (bench/crypto.bench.ts measures both), and it
 * lets every malformed input come back as a `Result` error. The private operation is node:crypto's
 * `privateDecrypt` with RSA_NO_PADDING (OpenSSL, CRT).
 *
 * Recovering never throws on what a card sends: every problem is a `PkiError`. Expiry dates and the issuer
 * identifier / PAN match are returned for the caller to check against its clock and the card's PAN.
 */
import {
  type KeyObject,
  constants,
  createHash,
  createPrivateKey,
  generateKeyPair,
  generateKeyPairSync,
  privateDecrypt,
} from "node:crypto";
import { type Bytes, fromHex, readBcd, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { plain } from "./buffers.js";
import type { Bilingual } from "../core/text.js";

// ---------------------------------------------------------------------------------------------------------
// Keys and raw operations

export interface RsaPublicKey {
  /** Big-endian modulus; its byte length is the key length N. */
  modulus: Bytes;
  /** Big-endian public exponent (03 or 010001 in EMV). */
  exponent: Bytes;
}

export interface RsaKeyPair extends RsaPublicKey {
  /** The private key, held by OpenSSL; export it with `exportRsaPrivateKey`. */
  privateKey: KeyObject;
}

export type RsaExponent = 3 | 65537;

function checkKeySpec(bits: number, exponent: number): void {
  if (!Number.isInteger(bits) || bits % 8 !== 0 || bits < 512 || bits > 4096) {
    throw new RangeError(`RSA modulus must be a multiple of 8 bits in 512–4096, got ${bits}`);
  }
  if (exponent !== 3 && exponent !== 65537)
    throw new RangeError(`RSA exponent must be 3 or 65537, got ${exponent}`);
}

function pairFrom(privateKey: KeyObject): RsaKeyPair {
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.n === undefined || jwk.e === undefined) throw new TypeError("not an RSA private key");
  return {
    modulus: plain(Buffer.from(jwk.n, "base64url")),
    exponent: plain(Buffer.from(jwk.e, "base64url")),
    privateKey,
  };
}

/** Generates an RSA key of exactly `bits` bits (EMV keys are whole bytes, up to 1984 bits / 248 bytes). */
export function generateRsaKey(bits: number, exponent: RsaExponent = 3): RsaKeyPair {
  checkKeySpec(bits, exponent);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: bits, publicExponent: exponent });
  return pairFrom(privateKey);
}

/** As `generateRsaKey`, off the event loop (a 1984-bit key takes a noticeable fraction of a second). */
export function generateRsaKeyAsync(bits: number, exponent: RsaExponent = 3): Promise<RsaKeyPair> {
  checkKeySpec(bits, exponent);
  return new Promise((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: bits, publicExponent: exponent }, (e, _pub, privateKey) => {
      if (e) reject(e);
      else resolve(pairFrom(privateKey));
    });
  });
}

/** PKCS#8 DER of the private key, for storage (an SE file, a fixture). It is secret: never log it. */
export function exportRsaPrivateKey(pair: RsaKeyPair): Bytes {
  return plain(pair.privateKey.export({ format: "der", type: "pkcs8" }));
}

/** Reads a PKCS#8 DER RSA private key back into a key pair. Throws on bytes that are not one. */
export function importRsaPrivateKey(pkcs8Der: Bytes): RsaKeyPair {
  return pairFrom(createPrivateKey({ key: Buffer.from(pkcs8Der), format: "der", type: "pkcs8" }));
}

// Native hex conversion: the BigInt public operation spends as long converting as multiplying otherwise.
const toBigInt = (b: Bytes): bigint =>
  b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex"));

function fromBigInt(v: bigint, len: number): Bytes {
  return plain(Buffer.from(v.toString(16).padStart(len * 2, "0"), "hex"));
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    e >>= 1n;
    if (e > 0n) b = (b * b) % m;
  }
  return result;
}

/**
 * Raw RSA public operation x^e mod n. The input must be exactly as long as the modulus and below it; the
 * output has the same length. Untrusted input: errors are returned, never thrown.
 */
export function rsaPublic(key: RsaPublicKey, input: Bytes): Result<Bytes> {
  const n = toBigInt(key.modulus);
  const e = toBigInt(key.exponent);
  if (key.modulus.length === 0 || key.modulus[0] === 0 || n < 3n)
    return err("RSA modulus is empty or not normalised");
  if (e < 3n) return err("RSA exponent is missing or below 3");
  if (input.length !== key.modulus.length) {
    return err(`RSA input is ${input.length} bytes, the modulus ${key.modulus.length}`);
  }
  const x = toBigInt(input);
  if (x >= n) return err("RSA input is not below the modulus");
  return ok(fromBigInt(modPow(x, e, n), key.modulus.length));
}

/**
 * Raw RSA private operation x^d mod n (OpenSSL, RSA_NO_PADDING). Our own code builds the input, so a wrong
 * length or a value not below the modulus is a programming error and throws `RangeError`.
 */
export function rsaPrivate(key: RsaKeyPair, input: Bytes): Bytes {
  if (input.length !== key.modulus.length) {
    throw new RangeError(`RSA input is ${input.length} bytes, the modulus ${key.modulus.length}`);
  }
  if (toBigInt(input) >= toBigInt(key.modulus)) throw new RangeError("RSA input is not below the modulus");
  return plain(privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, input));
}

// ---------------------------------------------------------------------------------------------------------
// EMV records

export type PkiErrorCode =
  | "length" // record length is not the signer's modulus length
  | "rsa" // the RSA operation refused the input (not below the modulus, bad key)
  | "header" // recovered data does not start with 6A
  | "format" // certificate/record format is not the one expected (02, 03, 04, 05)
  | "trailer" // recovered data does not end with BC
  | "hash-algorithm" // hash algorithm indicator is not 01 (SHA-1)
  | "key-algorithm" // public key algorithm indicator is not 01 (RSA)
  | "key-length" // the public key length field does not fit the record
  | "remainder" // the public key remainder is missing or has the wrong length
  | "exponent" // the public key exponent is missing
  | "dynamic-data" // the ICC dynamic data length does not fit the record
  | "hash"; // the hash result does not match

export interface PkiError {
  code: PkiErrorCode;
  zh: string;
  en: string;
}

const fail = (code: PkiErrorCode, zh: string, en: string): Result<never, PkiError> => err({ code, zh, en });

/** What each record is called in error messages. */
const ISSUER_CERT: Bilingual = { zh: "发卡行公钥证书", en: "issuer public key certificate" };
const ICC_CERT: Bilingual = { zh: "IC卡公钥证书", en: "ICC public key certificate" };
const SSAD: Bilingual = { zh: "签名的静态应用数据", en: "signed static application data" };
const SDAD: Bilingual = { zh: "签名的动态应用数据", en: "signed dynamic application data" };

/** Hash algorithm indicator 01 and public key algorithm indicator 01: the only ones EMV defines. */
const SHA1 = 0x01;
const RSA = 0x01;
const HEADER = 0x6a;
const TRAILER = 0xbc;
const PAD = 0xbb;

const sha1 = (...parts: Bytes[]): Bytes => {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return plain(h.digest());
};

/** RSA-recovers a record and checks what every EMV format shares: length, header, format, trailer, algorithm. */
function recover(
  signer: RsaPublicKey,
  record: Bytes,
  format: number,
  name: Bilingual,
): Result<Bytes, PkiError> {
  const n = signer.modulus.length;
  if (record.length !== n) {
    return fail(
      "length",
      `${name.zh}长度与签名公钥模长不符`,
      `${name.en} is ${record.length} bytes, the signer's modulus ${n}`,
    );
  }
  const r = rsaPublic(signer, record);
  if (!r.ok) return fail("rsa", `${name.zh}无法用签名公钥恢复`, `${name.en} cannot be recovered: ${r.error}`);
  const x = r.value;
  if (x[0] !== HEADER)
    return fail("header", `${name.zh}恢复数据头不是 6A`, `${name.en}: recovered data header is not 6A`);
  if (x[n - 1] !== TRAILER)
    return fail("trailer", `${name.zh}恢复数据结尾不是 BC`, `${name.en}: recovered data trailer is not BC`);
  if (x[1] !== format) {
    const want = format.toString(16).padStart(2, "0");
    return fail("format", `${name.zh}格式不是 ${want}`, `${name.en}: format is not ${want}`);
  }
  return ok(x);
}

function checkHash(x: Bytes, extra: Bytes[], name: Bilingual): Result<true, PkiError> {
  const n = x.length;
  const h = sha1(x.subarray(1, n - 21), ...extra);
  for (let i = 0; i < 20; i++) {
    if (h[i] !== x[n - 21 + i])
      return fail("hash", `${name.zh}哈希值不符`, `${name.en}: hash result does not match`);
  }
  return ok(true);
}

function checkAlgorithms(hashAlg: number, keyAlg: number | null, name: Bilingual): Result<true, PkiError> {
  if (hashAlg !== SHA1)
    return fail(
      "hash-algorithm",
      `${name.zh}哈希算法不是 SHA-1`,
      `${name.en}: hash algorithm is not 01 (SHA-1)`,
    );
  if (keyAlg !== null && keyAlg !== RSA) {
    return fail(
      "key-algorithm",
      `${name.zh}公钥算法不是 RSA`,
      `${name.en}: public key algorithm is not 01 (RSA)`,
    );
  }
  return ok(true);
}

/** Reassembles a public key from the certificate's key field and the remainder (EMV Book 2 §5.3 step 9). */
function publicKeyFrom(
  field: Bytes,
  keyLength: number,
  remainder: Bytes,
  exponent: Bytes,
  name: Bilingual,
): Result<RsaPublicKey, PkiError> {
  if (exponent.length === 0 || exponent.length > 3) {
    return fail(
      "exponent",
      `${name.zh}公钥指数缺失或过长`,
      `${name.en}: public key exponent is missing or longer than 3 bytes`,
    );
  }
  if (keyLength === 0)
    return fail("key-length", `${name.zh}公钥长度为 0`, `${name.en}: public key length is 0`);
  if (keyLength <= field.length)
    return ok({ modulus: field.slice(0, keyLength), exponent: exponent.slice() });
  if (remainder.length !== keyLength - field.length) {
    return fail(
      "remainder",
      `${name.zh}公钥余项缺失或长度不符`,
      `${name.en}: public key remainder is ${remainder.length} bytes, needs ${keyLength - field.length}`,
    );
  }
  const modulus = new Uint8Array(keyLength);
  modulus.set(field);
  modulus.set(remainder, field.length);
  return ok({ modulus, exponent: exponent.slice() });
}

/** Digits before the F padding of a compressed-numeric field (issuer identifier, PAN); null if malformed. */
function digitsBeforeF(field: Bytes): string | null {
  const m = /^(\d*)F*$/.exec(toHex(field));
  return m ? m[1]! : null;
}

function packDigitsF(digits: string, len: number, what: string): Bytes {
  if (!/^\d+$/.test(digits) || digits.length > len * 2)
    throw new RangeError(`${what} must be 1–${len * 2} digits`);
  return fromHex(digits.padEnd(len * 2, "F"));
}

function expiryBytes(mmyy: string): Bytes {
  if (!/^(0[1-9]|1[0-2])\d\d$/.test(mmyy))
    throw new RangeError(`certificate expiry must be MMYY, got "${mmyy}"`);
  return fromHex(mmyy);
}

export interface IssuerPublicKeyCertificate {
  /** Leftmost 3–8 PAN digits the issuer key serves (F padding removed). */
  issuerId: string;
  /** Certificate expiration date, MMYY (BCD as printed; check it against your clock). */
  expiry: string;
  serial: Bytes;
  publicKey: RsaPublicKey;
}

/**
 * Recovers the issuer public key from its certificate (tag 90) with the CA public key, the issuer public key
 * remainder (tag 92, empty if absent) and exponent (tag 9F32). EMV Book 2 §5.3 / §6.3.
 */
export function recoverIssuerPublicKey(
  ca: RsaPublicKey,
  certificate: Bytes,
  remainder: Bytes,
  exponent: Bytes,
): Result<IssuerPublicKeyCertificate, PkiError> {
  const name = ISSUER_CERT;
  const r = recover(ca, certificate, 0x02, name);
  if (!r.ok) return r;
  const x = r.value;
  const n = x.length;
  if (n < 36 + 1) return fail("length", `${name.zh}过短`, `${name.en}: too short for format 02`);
  const alg = checkAlgorithms(x[11]!, x[12]!, name);
  if (!alg.ok) return alg;
  const key = publicKeyFrom(x.subarray(15, n - 21), x[13]!, remainder, exponent, name);
  if (!key.ok) return key;
  const hash = checkHash(x, [remainder, exponent], name);
  if (!hash.ok) return hash;
  return ok({
    issuerId: digitsBeforeF(x.subarray(2, 6)) ?? toHex(x.subarray(2, 6)),
    expiry: readBcd(x.subarray(6, 8)) ?? toHex(x.subarray(6, 8)),
    serial: x.slice(8, 11),
    publicKey: key.value,
  });
}

export interface IccPublicKeyCertificate {
  /** The application PAN in the certificate (F padding removed); compare it with tag 5A. */
  pan: string;
  expiry: string;
  serial: Bytes;
  publicKey: RsaPublicKey;
}

/**
 * Recovers the ICC public key from its certificate (tag 9F46) with the issuer public key, the ICC public key
 * remainder (9F48, empty if absent), exponent (9F47) and the static data to be authenticated (the records
 * named by the AFL, then the tags of 9F4A such as the AIP). EMV Book 2 §6.4.
 */
export function recoverIccPublicKey(
  issuer: RsaPublicKey,
  certificate: Bytes,
  remainder: Bytes,
  exponent: Bytes,
  staticData: Bytes,
): Result<IccPublicKeyCertificate, PkiError> {
  const name = ICC_CERT;
  const r = recover(issuer, certificate, 0x04, name);
  if (!r.ok) return r;
  const x = r.value;
  const n = x.length;
  if (n < 42 + 1) return fail("length", `${name.zh}过短`, `${name.en}: too short for format 04`);
  const alg = checkAlgorithms(x[17]!, x[18]!, name);
  if (!alg.ok) return alg;
  const key = publicKeyFrom(x.subarray(21, n - 21), x[19]!, remainder, exponent, name);
  if (!key.ok) return key;
  const hash = checkHash(x, [remainder, exponent, staticData], name);
  if (!hash.ok) return hash;
  return ok({
    pan: digitsBeforeF(x.subarray(2, 12)) ?? toHex(x.subarray(2, 12)),
    expiry: readBcd(x.subarray(12, 14)) ?? toHex(x.subarray(12, 14)),
    serial: x.slice(14, 17),
    publicKey: key.value,
  });
}

/**
 * The checksum a terminal keeps with each CA public key: SHA-1(RID ‖ index ‖ modulus ‖ exponent) (EMV Book 2
 * §11.2.2), to check a CA key list on loading.
 */
export function caPublicKeyChecksum(rid: Bytes, index: number, key: RsaPublicKey): Bytes {
  if (rid.length !== 5) throw new RangeError("RID must be 5 bytes");
  if (!Number.isInteger(index) || index < 0 || index > 0xff)
    throw new RangeError("CA key index must be one byte");
  return sha1(rid, Uint8Array.of(index), key.modulus, key.exponent);
}

/** True when the certificate's issuer identifier is the leading digits of the PAN (Book 2 §5.3 step 10). */
export function issuerIdMatchesPan(issuerId: string, pan: string): boolean {
  return issuerId.length >= 3 && pan.startsWith(issuerId);
}

/** Recovers signed static application data (tag 93, format 03, SDA) and returns its data authentication code. */
export function recoverSignedStaticData(
  issuer: RsaPublicKey,
  ssad: Bytes,
  staticData: Bytes,
): Result<{ dataAuthenticationCode: Bytes }, PkiError> {
  const name = SSAD;
  const r = recover(issuer, ssad, 0x03, name);
  if (!r.ok) return r;
  const x = r.value;
  if (x.length < 26) return fail("length", `${name.zh}过短`, `${name.en}: too short for format 03`);
  const alg = checkAlgorithms(x[2]!, null, name);
  if (!alg.ok) return alg;
  const hash = checkHash(x, [staticData], name);
  if (!hash.ok) return hash;
  return ok({ dataAuthenticationCode: x.slice(3, 5) });
}

export interface SignedDynamicData {
  /** ICC dynamic data as signed (for DDA/fDDA: length of the ICC dynamic number, then the number, …). */
  iccDynamicData: Bytes;
  /** The ICC dynamic number (tag 9F4C) when the dynamic data starts with a length that fits, else empty. */
  iccDynamicNumber: Bytes;
}

/**
 * Recovers signed dynamic application data (tag 9F4B, format 05) with the ICC public key. `terminalData` is
 * what the hash covers after the recovered data: the DDOL data for DDA (usually 9F37), and for qPBOC/qVSDC
 * fDDA the caller's 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69 (fDDA v01) or 9F37 alone (v00). EMV Book 2 §6.5.2.
 */
export function recoverSignedDynamicData(
  icc: RsaPublicKey,
  sdad: Bytes,
  terminalData: Bytes,
): Result<SignedDynamicData, PkiError> {
  const name = SDAD;
  const r = recover(icc, sdad, 0x05, name);
  if (!r.ok) return r;
  const x = r.value;
  const n = x.length;
  if (n < 25) return fail("length", `${name.zh}过短`, `${name.en}: too short for format 05`);
  const alg = checkAlgorithms(x[2]!, null, name);
  if (!alg.ok) return alg;
  const ldd = x[3]!;
  if (ldd > n - 25) {
    return fail(
      "dynamic-data",
      `${name.zh}的IC卡动态数据长度超出记录`,
      `${name.en}: ICC dynamic data length ${ldd} exceeds ${n - 25}`,
    );
  }
  const hash = checkHash(x, [terminalData], name);
  if (!hash.ok) return hash;
  const iccDynamicData = x.slice(4, 4 + ldd);
  const idnLen = iccDynamicData[0] ?? 0;
  const iccDynamicNumber =
    idnLen + 1 <= iccDynamicData.length ? iccDynamicData.slice(1, 1 + idnLen) : new Uint8Array(0);
  return ok({ iccDynamicData, iccDynamicNumber });
}

// ---------------------------------------------------------------------------------------------------------
// Building and signing (issuer / personalisation side, and the card's INTERNAL AUTHENTICATE)

export interface PublicKeyCertificate {
  /** The certificate (tag 90 or 9F46). */
  certificate: Bytes;
  /** The public key remainder (tag 92 or 9F48); empty when the whole modulus fits in the certificate. */
  remainder: Bytes;
  /** The public key exponent (tag 9F32 or 9F47). */
  exponent: Bytes;
}

/** Lays out `6A fmt <fields> <key field padded BB> <hash> BC`, fills the hash, and signs it. */
function signRecord(signer: RsaKeyPair, head: Bytes, body: Bytes, hashExtra: Bytes[]): Bytes {
  const n = signer.modulus.length;
  const x = new Uint8Array(n).fill(PAD);
  x[0] = HEADER;
  x.set(head, 1);
  x.set(body, 1 + head.length);
  x[n - 1] = TRAILER;
  x.set(sha1(x.subarray(1, n - 21), ...hashExtra), n - 21);
  return rsaPrivate(signer, x);
}

function keyFields(subject: RsaPublicKey, room: number, what: string): { field: Bytes; remainder: Bytes } {
  const nk = subject.modulus.length;
  if (nk > 248) throw new RangeError(`${what} public key is ${nk} bytes; EMV allows at most 248 (1984 bits)`);
  if (subject.exponent.length === 0 || subject.exponent.length > 3)
    throw new RangeError(`${what} exponent must be 1–3 bytes`);
  return { field: subject.modulus.slice(0, room), remainder: subject.modulus.slice(room) };
}

export interface IssuerCertificateFields {
  /** Leftmost 3–8 PAN digits (the BIN) the issuer key serves. */
  issuerId: string;
  /** Expiry MMYY. */
  expiry: string;
  /** Certificate serial number, 3 bytes. */
  serial: Bytes;
}

/** The CA signs the issuer public key: format 02, EMV Book 2 Table 13. */
export function buildIssuerCertificate(
  ca: RsaKeyPair,
  issuer: RsaPublicKey,
  fields: IssuerCertificateFields,
): PublicKeyCertificate {
  const nca = ca.modulus.length;
  if (issuer.modulus.length > nca) throw new RangeError("issuer key must not be longer than the CA key");
  if (!/^\d{3,8}$/.test(fields.issuerId)) throw new RangeError("issuer identifier must be 3–8 digits");
  if (fields.serial.length !== 3) throw new RangeError("certificate serial number must be 3 bytes");
  const { field, remainder } = keyFields(issuer, nca - 36, "issuer");
  const head = new Uint8Array(14);
  head[0] = 0x02;
  head.set(packDigitsF(fields.issuerId, 4, "issuer identifier"), 1);
  head.set(expiryBytes(fields.expiry), 5);
  head.set(fields.serial, 7);
  head[10] = SHA1;
  head[11] = RSA;
  head[12] = issuer.modulus.length;
  head[13] = issuer.exponent.length;
  return {
    certificate: signRecord(ca, head, field, [remainder, issuer.exponent]),
    remainder,
    exponent: issuer.exponent.slice(),
  };
}

export interface IccCertificateFields {
  /** Application PAN (tag 5A digits). */
  pan: string;
  expiry: string;
  serial: Bytes;
}

/** The issuer signs the ICC public key over the static data to be authenticated: format 04, Book 2 Table 14. */
export function buildIccCertificate(
  issuer: RsaKeyPair,
  icc: RsaPublicKey,
  fields: IccCertificateFields,
  staticData: Bytes,
): PublicKeyCertificate {
  const ni = issuer.modulus.length;
  if (icc.modulus.length > ni) throw new RangeError("ICC key must not be longer than the issuer key");
  if (fields.serial.length !== 3) throw new RangeError("certificate serial number must be 3 bytes");
  const { field, remainder } = keyFields(icc, ni - 42, "ICC");
  const head = new Uint8Array(20);
  head[0] = 0x04;
  head.set(packDigitsF(fields.pan, 10, "PAN"), 1);
  head.set(expiryBytes(fields.expiry), 11);
  head.set(fields.serial, 13);
  head[16] = SHA1;
  head[17] = RSA;
  head[18] = icc.modulus.length;
  head[19] = icc.exponent.length;
  return {
    certificate: signRecord(issuer, head, field, [remainder, icc.exponent, staticData]),
    remainder,
    exponent: icc.exponent.slice(),
  };
}

/** The issuer signs the static data for SDA: format 03 with a 2-byte data authentication code (tag 93). */
export function buildSignedStaticData(
  issuer: RsaKeyPair,
  dataAuthenticationCode: Bytes,
  staticData: Bytes,
): Bytes {
  if (dataAuthenticationCode.length !== 2) throw new RangeError("data authentication code must be 2 bytes");
  const head = Uint8Array.of(0x03, SHA1, dataAuthenticationCode[0]!, dataAuthenticationCode[1]!);
  return signRecord(issuer, head, new Uint8Array(0), [staticData]);
}

/**
 * The card signs its dynamic data (INTERNAL AUTHENTICATE for DDA, the GPO's 9F4B for fDDA): format 05 over
 * ICC dynamic data ‖ terminal data. `iccDynamicData` is the signed field as a whole (e.g. 08 ‖ 8-byte ICC
 * dynamic number); build it with `iccDynamicData(number)` for the usual layout.
 */
export function buildSignedDynamicData(icc: RsaKeyPair, iccDynamic: Bytes, terminalData: Bytes): Bytes {
  const room = icc.modulus.length - 25;
  if (iccDynamic.length > room)
    throw new RangeError(`ICC dynamic data is ${iccDynamic.length} bytes, room for ${room}`);
  const head = new Uint8Array(3 + iccDynamic.length);
  head[0] = 0x05;
  head[1] = SHA1;
  head[2] = iccDynamic.length;
  head.set(iccDynamic, 3);
  return signRecord(icc, head, new Uint8Array(0), [terminalData]);
}

/** ICC dynamic data of DDA/fDDA: the length of the ICC dynamic number (2–8 bytes, tag 9F4C), then the number. */
export function iccDynamicData(iccDynamicNumber: Bytes, more: Bytes = new Uint8Array(0)): Bytes {
  if (iccDynamicNumber.length < 2 || iccDynamicNumber.length > 8) {
    throw new RangeError("ICC dynamic number must be 2–8 bytes");
  }
  const out = new Uint8Array(1 + iccDynamicNumber.length + more.length);
  out[0] = iccDynamicNumber.length;
  out.set(iccDynamicNumber, 1);
  out.set(more, 1 + iccDynamicNumber.length);
  return out;
}
