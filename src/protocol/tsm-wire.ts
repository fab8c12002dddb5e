/**
 * What the TSM and a phone exchange during a sync (JSON over the signed device routes). The phone is a
 * relay: it runs each operation on its SE in order and answers with the results, stopping early only when
 * an APDU's status word is not in the operation's `expect` list.
 *
 *   operation  {type: "apdu", apdu: HEX, expect?: ["9000", …]}   a C-APDU for the SE's host interface
 *                                                                (the phone completes 61XX with GET RESPONSE)
 *              {type: "registry", action, aid: HEX}              a contactless registry change on the phone
 *   result     {type: "apdu", response: HEX}                     the R-APDU (data ‖ SW); "" when the SE was mute
 *              {type: "registry", ok: BOOL, reason?: STRING}
 */
/**
 * The card services a script or an instance belongs to (its `owner` in a sync summary): the phone tells by
 * it which service manages a card, e.g. that a bank card's default is changed through the cloud.
 */
export const CARD_OWNERS = { bank: "tsp", transit: "transit", door: "access" } as const;

export type RegistryAction = "activate" | "deactivate" | "default-payment" | "express-transit";
export const REGISTRY_ACTIONS: readonly RegistryAction[] = [
  "activate",
  "deactivate",
  "default-payment",
  "express-transit",
];

export type Operation =
  | { type: "apdu"; apdu: string; expect?: string[] }
  | { type: "registry"; action: RegistryAction; aid: string };

export type OperationResult =
  { type: "apdu"; response: string } | { type: "registry"; ok: boolean; reason?: string };

/** What the phone reports of its contactless registry (its own view: untrusted, shown, never acted on). */
export interface RegistryReportEntry {
  aid: string;
  packageId: string;
  category: "payment" | "transit" | "access" | "other" | null;
  state: "activated" | "deactivated" | "non-activatable";
  defaultPayment: boolean;
  expressTransit: boolean;
}

export interface SyncReport {
  registry: RegistryReportEntry[];
  locked: boolean;
}

export const MAX_OPERATIONS = 256;
const MAX_REPORT_ENTRIES = 64;
/** Largest R-APDU a result may carry (hex characters): an extended answer of 4 KiB. */
const MAX_RESPONSE_HEX = 2 * (4096 + 2);

const hex = (min: number, max: number) =>
  ({ type: "string", pattern: `^([0-9A-Fa-f]{2}){${min},${max}}$` }) as const;
const aid = { ...hex(5, 16), description: "AID (hex)" } as const;

export const operationSchema = {
  oneOf: [
    {
      type: "object",
      required: ["type", "apdu"],
      additionalProperties: false,
      properties: {
        type: { const: "apdu" },
        apdu: { type: "string", description: "C-APDU (hex)" },
        expect: {
          type: "array",
          items: { type: "string" },
          description: "status words that let the phone go on",
        },
      },
    },
    {
      type: "object",
      required: ["type", "action", "aid"],
      additionalProperties: false,
      properties: {
        type: { const: "registry" },
        action: { type: "string", enum: REGISTRY_ACTIONS },
        aid: { type: "string" },
      },
    },
  ],
} as const;

export const resultSchema = {
  oneOf: [
    {
      type: "object",
      required: ["type", "response"],
      additionalProperties: false,
      properties: {
        type: { const: "apdu" },
        response: {
          type: "string",
          maxLength: MAX_RESPONSE_HEX,
          pattern: "^([0-9A-Fa-f]{2})*$",
          description: "R-APDU, data ‖ SW (hex); empty when the SE gave no answer",
        },
      },
    },
    {
      type: "object",
      required: ["type", "ok"],
      additionalProperties: false,
      properties: {
        type: { const: "registry" },
        ok: { type: "boolean" },
        reason: { type: "string", maxLength: 64 },
      },
    },
  ],
} as const;

export const reportSchema = {
  type: "object",
  required: ["registry", "locked"],
  additionalProperties: false,
  properties: {
    locked: { type: "boolean" },
    registry: {
      type: "array",
      maxItems: MAX_REPORT_ENTRIES,
      items: {
        type: "object",
        required: ["aid", "packageId", "category", "state", "defaultPayment", "expressTransit"],
        additionalProperties: false,
        properties: {
          aid,
          packageId: { type: "string", minLength: 1, maxLength: 64 },
          category: { type: ["string", "null"], enum: ["payment", "transit", "access", "other", null] },
          state: { type: "string", enum: ["activated", "deactivated", "non-activatable"] },
          defaultPayment: { type: "boolean" },
          expressTransit: { type: "boolean" },
        },
      },
    },
  },
} as const;
