/**
 * How a phone signs its requests to the cloud (scheme `TW1-ECDSA-P256-SHA256`).
 *
 * Each bound phone holds an ECDSA P-256 key pair; the cloud keeps only the public key. A request carries:
 *
 *   x-tapwallet-device-id   the device id the cloud gave at binding (absent on the binding request itself)
 *   x-tapwallet-timestamp   milliseconds since the epoch, decimal
 *   x-tapwallet-nonce       16–64 characters of base64url, never reused by this key
 *   x-tapwallet-signature   base64url of the 64-byte IEEE P1363 (r ‖ s) ECDSA signature, SHA-256
 *
 * over the canonical string (lines joined by "\n", no trailing newline):
 *
 *   TW1-ECDSA-P256-SHA256
 *   <METHOD, upper case>
 *   <path and query exactly as sent, e.g. /api/v1/device/checkin>
 *   <timestamp>
 *   <nonce>
 *   <hex SHA-256 of the raw body bytes; of the empty string when there is no body>
 *
 * The cloud refuses a timestamp outside its window, a nonce it has already seen for that key, and any
 * signature that does not verify. This module is pure (node:crypto only) so a phone can use it as is.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { err, ok, type Result } from "../core/result.js";

const SIGNATURE_SCHEME = "TW1-ECDSA-P256-SHA256";

export const SIGNATURE_HEADERS = {
  deviceId: "x-tapwallet-device-id",
  timestamp: "x-tapwallet-timestamp",
  nonce: "x-tapwallet-nonce",
  signature: "x-tapwallet-signature",
} as const;

export interface CanonicalParts {
  method: string;
  /** Path plus query string, exactly as on the request line. */
  path: string;
  timestamp: number;
  nonce: string;
  /** The raw body; undefined or empty when there is none. */
  body?: Uint8Array | string;
}

function bodyDigest(body?: Uint8Array | string): string {
  return createHash("sha256")
    .update(body ?? "")
    .digest("hex");
}

export function canonicalString(p: CanonicalParts): string {
  return [
    SIGNATURE_SCHEME,
    p.method.toUpperCase(),
    p.path,
    String(p.timestamp),
    p.nonce,
    bodyDigest(p.body),
  ].join("\n");
}

export interface SignedHeaders {
  [SIGNATURE_HEADERS.timestamp]: string;
  [SIGNATURE_HEADERS.nonce]: string;
  [SIGNATURE_HEADERS.signature]: string;
  [SIGNATURE_HEADERS.deviceId]?: string;
}

/** The headers a phone adds to a request (the caller chooses timestamp and nonce). */
export function signRequest(privateKey: KeyObject, parts: CanonicalParts, deviceId?: string): SignedHeaders {
  const signature = sign("sha256", Buffer.from(canonicalString(parts)), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  });
  const headers: SignedHeaders = {
    [SIGNATURE_HEADERS.timestamp]: String(parts.timestamp),
    [SIGNATURE_HEADERS.nonce]: parts.nonce,
    [SIGNATURE_HEADERS.signature]: signature.toString("base64url"),
  };
  if (deviceId) headers[SIGNATURE_HEADERS.deviceId] = deviceId;
  return headers;
}

/** A new device key pair; the public key as base64 SPKI DER, the form the cloud takes at binding. */
export function generateDeviceKeyPair(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return { privateKey, publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64") };
}

export interface DevicePublicKey {
  key: KeyObject;
  /** Hex SHA-256 of the SPKI DER: the key's identity in the database. */
  fingerprint: string;
  /** Canonical base64 of the SPKI DER. */
  spki: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses a base64 SPKI public key and accepts only ECDSA P-256. */
export function parseDevicePublicKey(spkiBase64: string): Result<DevicePublicKey> {
  if (spkiBase64.length > 512 || !BASE64.test(spkiBase64)) return err("not base64 SPKI");
  const der = Buffer.from(spkiBase64, "base64");
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    return err("not a public key");
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    return err("not an ECDSA P-256 key");
  }
  const canonical = key.export({ type: "spki", format: "der" });
  return ok({
    key,
    fingerprint: createHash("sha256").update(canonical).digest("hex"),
    spki: canonical.toString("base64"),
  });
}

export interface SignatureHeaders {
  deviceId?: string;
  timestamp: number;
  nonce: string;
  signature: Buffer;
}

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const DEVICE_ID = /^dev_[0-9a-f]{24}$/;

type HeaderBag = Record<string, string | string[] | undefined>;

function single(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads the signature headers of a request; never throws. `missing` when none of them is present. */
export function parseSignatureHeaders(headers: HeaderBag): Result<SignatureHeaders, "missing" | "malformed"> {
  const ts = single(headers, SIGNATURE_HEADERS.timestamp);
  const nonce = single(headers, SIGNATURE_HEADERS.nonce);
  const sig = single(headers, SIGNATURE_HEADERS.signature);
  const deviceId = single(headers, SIGNATURE_HEADERS.deviceId);
  if (ts === undefined && nonce === undefined && sig === undefined) return err("missing");
  if (ts === undefined || nonce === undefined || sig === undefined) return err("malformed");
  if (!/^\d{1,15}$/.test(ts) || !NONCE.test(nonce) || sig.length > 128 || !B64URL.test(sig))
    return err("malformed");
  if (deviceId !== undefined && !DEVICE_ID.test(deviceId)) return err("malformed");
  const signature = Buffer.from(sig, "base64url");
  if (signature.length !== 64) return err("malformed");
  return ok({ deviceId, timestamp: Number(ts), nonce, signature });
}

/** Verifies a P1363 signature over the canonical string; false (never a throw) on any mismatch. */
export function verifyCanonical(key: KeyObject, canonical: string, signature: Uint8Array): boolean {
  try {
    return verify("sha256", Buffer.from(canonical), { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}
