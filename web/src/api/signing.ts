/**
 * How the phone signs its requests to the cloud (scheme `TW1-ECDSA-P256-SHA256`, defined by the server
 * in `src/cloud/devices/signing.ts`). Pure: the key operations come in through `RequestSigner`, so the
 * browser plugs in WebCrypto (`phone/device-key.ts`) and the tests plug in Node's, and the canonical
 * string is checked against the server's verifier (`test/browser/device-signing.test.ts`).
 *
 * Canonical string, lines joined by "\n": scheme, METHOD, path with query as sent, timestamp (ms), nonce,
 * hex SHA-256 of the body bytes (of the empty string when there is no body).
 */
export const SIGNATURE_SCHEME = "TW1-ECDSA-P256-SHA256";

export const SIGNATURE_HEADERS = {
  deviceId: "x-tapwallet-device-id",
  timestamp: "x-tapwallet-timestamp",
  nonce: "x-tapwallet-nonce",
  signature: "x-tapwallet-signature",
} as const;

export interface RequestSigner {
  /** ECDSA P-256 over SHA-256 of `data`; the 64-byte IEEE P1363 form (r ‖ s), as WebCrypto returns it. */
  sign(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
  sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
  /** `n` random bytes (for nonces). */
  randomBytes(n: number): Uint8Array;
}

export interface SignedRequestParts {
  method: string;
  /** Path and query exactly as sent, e.g. `/api/v1/device/checkin`. */
  path: string;
  /** The exact JSON text sent as the body, if any. */
  body?: string;
  timestamp: number;
  nonce: string;
}

const encoder = new TextEncoder();

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function canonicalString(signer: RequestSigner, p: SignedRequestParts): Promise<string> {
  const digest = toHex(await signer.sha256(encoder.encode(p.body ?? "")));
  return [SIGNATURE_SCHEME, p.method.toUpperCase(), p.path, String(p.timestamp), p.nonce, digest].join("\n");
}

/** A nonce the server accepts: 32 base64url characters from 24 random bytes. */
export function newNonce(signer: RequestSigner): string {
  return toBase64Url(signer.randomBytes(24));
}

/** The headers that sign a request; `deviceId` is absent only on the binding request itself. */
export async function signatureHeaders(
  signer: RequestSigner,
  parts: SignedRequestParts,
  deviceId?: string,
): Promise<Record<string, string>> {
  const signature = await signer.sign(encoder.encode(await canonicalString(signer, parts)));
  const headers: Record<string, string> = {
    [SIGNATURE_HEADERS.timestamp]: String(parts.timestamp),
    [SIGNATURE_HEADERS.nonce]: parts.nonce,
    [SIGNATURE_HEADERS.signature]: toBase64Url(signature),
  };
  if (deviceId !== undefined) headers[SIGNATURE_HEADERS.deviceId] = deviceId;
  return headers;
}
