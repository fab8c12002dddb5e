/** JSON-schema pieces the modules' routes share (the building blocks of the OpenAPI document). */
import { SIGNATURE_HEADERS } from "../../protocol/request-signing.js";

/** A text in zh-CN and English. */
export const zhEn = {
  type: "object",
  required: ["zh", "en"],
  properties: { zh: { type: "string" }, en: { type: "string" } },
} as const;

/** Why something failed, as a view carries it: a stable code and its text; null when nothing failed. */
export const nullableFailure = {
  type: ["object", "null"],
  required: ["code", "zh", "en"],
  properties: { code: { type: "string" }, zh: { type: "string" }, en: { type: "string" } },
} as const;

export const nullableTime = { type: ["string", "null"], format: "date-time" } as const;

/** POSTs that need no fields take an empty JSON object. */
export const emptyBody = { type: "object", additionalProperties: false, properties: {} } as const;

/** The headers of a request signed by a bound phone (scheme: src/protocol/request-signing.ts). */
export const signatureHeaders = {
  type: "object",
  properties: {
    [SIGNATURE_HEADERS.deviceId]: { type: "string", description: "device id (absent when binding)" },
    [SIGNATURE_HEADERS.timestamp]: { type: "string", description: "ms since the epoch" },
    [SIGNATURE_HEADERS.nonce]: { type: "string", description: "16–64 base64url characters, never reused" },
    [SIGNATURE_HEADERS.signature]: { type: "string", description: "base64url P1363 ECDSA P-256 signature" },
  },
} as const;
