import { createHash, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalString,
  generateDeviceKeyPair,
  parseDevicePublicKey,
  parseSignatureHeaders,
  signRequest,
  verifyCanonical,
  SIGNATURE_HEADERS as H,
} from "./request-signing.js";

const parts = {
  method: "post",
  path: "/api/v1/device/checkin?x=1",
  timestamp: 1767225600000,
  nonce: "abcdefghijklmnop",
  body: '{"appVersion":"1.0.0"}',
};

describe("device request signing (TW1-ECDSA-P256-SHA256)", () => {
  it("builds the canonical string: scheme, METHOD, path, timestamp, nonce, hex SHA-256 of the body", () => {
    const digest = createHash("sha256").update(parts.body).digest("hex");
    expect(canonicalString(parts)).toBe(
      [
        "TW1-ECDSA-P256-SHA256",
        "POST",
        "/api/v1/device/checkin?x=1",
        "1767225600000",
        "abcdefghijklmnop",
        digest,
      ].join("\n"),
    );
    // No body: the digest of the empty string.
    expect(canonicalString({ ...parts, body: undefined }).split("\n")[5]).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("verifies what it signs, and nothing that differs in any part", () => {
    const { privateKey, publicKey } = generateDeviceKeyPair();
    const key = parseDevicePublicKey(publicKey);
    if (!key.ok) throw new Error(key.error);
    const headers = signRequest(privateKey, parts, "dev_0123456789abcdef01234567");
    const parsed = parseSignatureHeaders(headers as unknown as Record<string, string>);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value).toMatchObject({
      deviceId: "dev_0123456789abcdef01234567",
      timestamp: parts.timestamp,
      nonce: parts.nonce,
    });
    expect(verifyCanonical(key.value.key, canonicalString(parts), parsed.value.signature)).toBe(true);
    for (const changed of [
      { ...parts, method: "GET" },
      { ...parts, path: "/api/v1/device/checkin" },
      { ...parts, timestamp: parts.timestamp + 1 },
      { ...parts, nonce: "abcdefghijklmnoq" },
      { ...parts, body: '{"appVersion":"1.0.1"}' },
    ]) {
      expect(verifyCanonical(key.value.key, canonicalString(changed), parsed.value.signature)).toBe(false);
    }
    const other = parseDevicePublicKey(generateDeviceKeyPair().publicKey);
    if (!other.ok) throw new Error(other.error);
    expect(verifyCanonical(other.value.key, canonicalString(parts), parsed.value.signature)).toBe(false);
  });

  it("accepts only ECDSA P-256 public keys, with a stable fingerprint", () => {
    const { publicKey } = generateDeviceKeyPair();
    const a = parseDevicePublicKey(publicKey);
    const b = parseDevicePublicKey(publicKey);
    expect(a.ok && b.ok && a.value.fingerprint === b.value.fingerprint).toBe(true);
    const spki = (k: ReturnType<typeof generateKeyPairSync>["publicKey"]) =>
      k.export({ type: "spki", format: "der" }).toString("base64");
    expect(
      parseDevicePublicKey(spki(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey)),
    ).toEqual({ ok: false, error: "not an ECDSA P-256 key" });
    expect(parseDevicePublicKey(spki(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey))).toEqual(
      { ok: false, error: "not an ECDSA P-256 key" },
    );
    expect(parseDevicePublicKey("bm90IGEga2V5")).toEqual({ ok: false, error: "not a public key" });
    expect(parseDevicePublicKey("%%%")).toEqual({ ok: false, error: "not base64 SPKI" });
  });

  it("never throws on arbitrary headers or key text (property)", () => {
    const header = fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 100 })), {
      nil: undefined,
    });
    fc.assert(
      fc.property(header, header, header, header, (ts, nonce, sig, dev) => {
        const r = parseSignatureHeaders({
          [H.timestamp]: ts,
          [H.nonce]: nonce,
          [H.signature]: sig,
          [H.deviceId]: dev,
        });
        if (r.ok) {
          expect(r.value.signature).toHaveLength(64);
          expect(Number.isSafeInteger(r.value.timestamp)).toBe(true);
        } else {
          expect(["missing", "malformed"]).toContain(r.error);
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.base64String({ maxLength: 400 })), (text) => {
        expect(() => parseDevicePublicKey(text)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.string(), (sig, text) => {
        const { publicKey } = generateDeviceKeyPair();
        const key = parseDevicePublicKey(publicKey);
        if (key.ok) expect(verifyCanonical(key.value.key, text, sig)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
