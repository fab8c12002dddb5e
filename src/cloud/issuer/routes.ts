/**
 * The issuer host's API, for machines with an API key (`x-api-key`, see api-keys.ts):
 *
 *   POST   /issuer/authorisations        acquirer key   a POS's online authorisation (field 55, amount…)
 *   POST   /issuer/reversals             acquirer key   undo an approval the terminal could not complete
 *   POST   /issuer/clearing              acquirer key   a POS's batch of offline approvals (TCs) to clear
 *   GET    /issuer/tokens?par=           issuer key     the bank's tokens
 *   PATCH  /issuer/tokens/{id}           issuer key     {status: suspended | active}
 *   DELETE /issuer/tokens/{id}           issuer key     delete for good
 *
 * An authorisation is idempotent per acquirer key by terminal id + STAN + transaction date, or by an
 * explicit `Idempotency-Key` header: a retry gets the first answer again (`replayed: true`) and moves no money.
 * Starting the module opens the configured test cards and, outside production, the development key.
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { AuthorisationRequest } from "../../emv/authorisation.js";
import { CLEARING_BATCH_FORMAT, CLEARING_REASONS, type ClearingRecord } from "../../emv/clearing.js";
import { withErrors } from "../http/errors.js";
import { zhEn } from "../http/schemas.js";
import type { RouteDeps } from "../module.js";
import { API_KEY_HEADER, type ApiKeyPrincipal, type ApiKeyRole } from "./api-keys.js";

declare module "fastify" {
  interface FastifyRequest {
    apiKey?: ApiKeyPrincipal;
  }
}

const hex = (maxBytes: number) => ({ type: "string", pattern: `^([0-9A-Fa-f]{2}){1,${maxBytes}}$` }) as const;

const authorisationRequestSchema = {
  type: "object",
  required: [
    "stan",
    "terminalId",
    "merchantId",
    "amount",
    "currency",
    "track2",
    "panSequenceNumber",
    "posEntryMode",
    "field55",
    "cvm",
    "transmittedAt",
  ],
  additionalProperties: false,
  properties: {
    stan: {
      type: "integer",
      minimum: 1,
      maximum: 999999,
      description: "system trace audit number (field 11)",
    },
    terminalId: { type: "string", pattern: "^[!-~]{1,16}$", description: "terminal id (field 41)" },
    merchantId: { type: "string", pattern: "^[A-Za-z0-9_.-]{1,32}$", description: "merchant id (field 42)" },
    merchantName: { type: "string", maxLength: 64 },
    amount: { type: "integer", minimum: 0, maximum: 99_999_999_999, description: "fen (field 4) = 9F02" },
    currency: { type: "string", pattern: "^[0-9]{4}$", description: "ISO 4217 numeric, e.g. 0156" },
    track2: { ...hex(19), description: "track 2 equivalent data (field 35): the token, never a funding PAN" },
    panSequenceNumber: { type: "string", pattern: "^[0-9]{2}$" },
    posEntryMode: { type: "string", pattern: "^[0-9]{2,3}$", description: "07: contactless chip" },
    field55: { ...hex(512), description: "ICC data (field 55), BER-TLV" },
    cvm: { type: "string", enum: ["none", "cdcvm", "online-pin", "signature"] },
    transmittedAt: { type: "string", format: "date-time" },
  },
} as const;

const authorisationResponseSchema = {
  type: "object",
  required: ["responseCode", "approved", "reason", "message", "replayed"],
  properties: {
    responseCode: {
      type: "string",
      description: "ISO 8583 field 39: 00 approved, 05, 14, 51, 54, 61, 62, 65, 94…",
    },
    approved: { type: "boolean" },
    authorisationCode: { type: "string", description: "field 38, when approved" },
    issuerAuthenticationData: { type: "string", description: "tag 91: ARPC ‖ ARC (hex)" },
    reason: { type: "string", description: "finer cause, e.g. token-suspended, insufficient-funds" },
    message: zhEn,
    replayed: { type: "boolean", description: "true: this request was answered before; nothing moved again" },
  },
} as const;

const clearingRecordSchema = {
  type: "object",
  required: [
    "terminalId",
    "merchantId",
    "stan",
    "amount",
    "currency",
    "pan",
    "panSequenceNumber",
    "field55",
    "capturedAt",
  ],
  additionalProperties: false,
  properties: {
    terminalId: authorisationRequestSchema.properties.terminalId,
    merchantId: authorisationRequestSchema.properties.merchantId,
    merchantName: authorisationRequestSchema.properties.merchantName,
    stan: authorisationRequestSchema.properties.stan,
    amount: { type: "integer", minimum: 1, maximum: 99_999_999_999, description: "fen (field 4) = 9F02" },
    currency: authorisationRequestSchema.properties.currency,
    pan: {
      type: "string",
      pattern: "^[0-9]{12,19}$",
      description: "field 2: the token, never a funding PAN",
    },
    panSequenceNumber: authorisationRequestSchema.properties.panSequenceNumber,
    field55: { ...hex(512), description: "ICC data (field 55) with the TC: 9F26, 9F27 = 40, 9F36 …" },
    capturedAt: { type: "string", format: "date-time", description: "when the card approved it" },
  },
} as const;

const clearingResultSchema = {
  type: "object",
  required: ["index", "status", "reason", "message"],
  properties: {
    index: { type: "integer", description: "the record's place in the batch (from 0)" },
    status: { type: "string", enum: ["cleared", "duplicate", "refused"] },
    reason: { type: "string", enum: Object.keys(CLEARING_REASONS) },
    message: zhEn,
    tokenLast4: { type: "string" },
    atc: { type: "integer" },
    amount: { type: "integer", description: "fen taken (cleared, or taken before: duplicate)" },
    shortfall: { type: "integer", description: "fen the funding account lacked (it went negative by this)" },
    clearingId: { type: "string" },
    paidAt: {
      type: "string",
      format: "date-time",
      description: "when the payment was made: the record's 9A date, at the POS's time when that falls on it",
    },
    clearedAt: {
      type: "string",
      format: "date-time",
      description: "when it was cleared (a duplicate: first)",
    },
  },
} as const;

const tokenView = {
  type: "object",
  required: [
    "tokenReferenceId",
    "par",
    "tokenRequestorId",
    "kind",
    "tokenLast4",
    "fundingLast4",
    "status",
    "suspendedBy",
    "createdAt",
  ],
  properties: {
    tokenReferenceId: { type: "string" },
    par: { type: "string", description: "Payment Account Reference" },
    tokenRequestorId: { type: "string" },
    kind: { type: "string", enum: ["debit", "credit"] },
    tokenLast4: { type: "string" },
    fundingLast4: { type: "string" },
    status: { type: "string", enum: ["pending", "active", "suspended", "deleted"] },
    suspendedBy: { type: ["string", "null"], enum: ["user", "issuer", "wallet", null] },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

const keyHeaders = {
  type: "object",
  properties: {
    [API_KEY_HEADER]: { type: "string", description: "API key (twk_…)" },
    "idempotency-key": { type: "string", description: "optional: 1–64 visible ASCII characters" },
  },
} as const;

const tokenParams = {
  type: "object",
  required: ["tokenId"],
  properties: { tokenId: { type: "string", minLength: 1, maxLength: 64 } },
} as const;

export const issuerRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
  const issuer = services.issuer;
  await issuer.start();

  const keyOf = (role: ApiKeyRole) => async (request: FastifyRequest) => {
    const raw = request.headers[API_KEY_HEADER];
    request.apiKey = await issuer.apiKeys.authenticate(typeof raw === "string" ? raw : undefined, role);
  };
  const principal = (request: FastifyRequest): ApiKeyPrincipal => request.apiKey!;

  app.post<{ Body: AuthorisationRequest }>(
    "/issuer/authorisations",
    {
      preHandler: keyOf("acquirer"),
      schema: {
        tags: ["issuer"],
        summary: "联机授权 / online authorisation from a POS (acquirer API key)",
        description:
          "The host detokenises through the vault, verifies the ARQC, the ATC window, the CVM, the token's " +
          "status, limits and funds, answers with the response code and the ARPC, posts an approval to the " +
          "ledger and records the payment for the card's owner. Idempotent by terminal id + STAN + the " +
          "transaction date (9A), or by `Idempotency-Key`: a retry is answered the same and charged once.",
        security: [{ apiKey: [] }],
        headers: keyHeaders,
        body: authorisationRequestSchema,
        response: withErrors({ 200: authorisationResponseSchema }),
      },
    },
    async (request) => {
      const key = request.headers["idempotency-key"];
      const outcome = await issuer.authorise(
        principal(request),
        request.body,
        typeof key === "string" ? key : undefined,
      );
      return { ...outcome.response, replayed: outcome.replayed };
    },
  );

  app.post<{ Body: { terminalId: string; stan: number; transactionDate?: string; idempotencyKey?: string } }>(
    "/issuer/reversals",
    {
      preHandler: keyOf("acquirer"),
      schema: {
        tags: ["issuer"],
        summary: "冲正 / reverse an approved authorisation (acquirer API key)",
        description:
          "Names the original as it was keyed: terminal id + STAN + transaction date (YYMMDD, 9A), or its " +
          "`idempotencyKey`. Funds and the token's day counters are given back and the ledger posting reversed, " +
          "once; a repeated reversal is replayed; reversing a decline changes nothing (`reversed: false`). " +
          "404 `original_not_found` when no such authorisation was answered.",
        security: [{ apiKey: [] }],
        headers: keyHeaders,
        body: {
          type: "object",
          required: ["terminalId", "stan"],
          additionalProperties: false,
          properties: {
            terminalId: authorisationRequestSchema.properties.terminalId,
            stan: authorisationRequestSchema.properties.stan,
            transactionDate: { type: "string", pattern: "^[0-9]{6}$", description: "YYMMDD (9A)" },
            idempotencyKey: { type: "string", minLength: 1, maxLength: 64 },
          },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["reversed", "reason", "replayed"],
            properties: {
              reversed: { type: "boolean" },
              reason: { type: "string", description: "reversed, or not-approved" },
              replayed: { type: "boolean" },
            },
          },
        }),
      },
    },
    async (request) => issuer.reverse(principal(request), request.body),
  );

  app.post<{ Body: { format?: string; records: ClearingRecord[] } }>(
    "/issuer/clearing",
    {
      preHandler: keyOf("acquirer"),
      schema: {
        tags: ["issuer"],
        summary: "脱机交易清算 / clear a POS's batch of offline approvals (acquirer API key)",
        description:
          "Each record on its own: the TC is verified with the token's keys (as an ARQC is), each (token, " +
          "ATC) clears once — a record sent again is answered `duplicate` and moves nothing — and a cleared " +
          "record debits the funding account (negative if it must: `shortfall`), posts to the ledger, shows " +
          "on the owner's card and notifies the phone. Refusals name their reason per record.",
        security: [{ apiKey: [] }],
        headers: keyHeaders,
        body: {
          type: "object",
          required: ["records"],
          additionalProperties: false,
          properties: {
            format: { type: "string", enum: [CLEARING_BATCH_FORMAT] },
            records: { type: "array", minItems: 1, maxItems: 200, items: clearingRecordSchema },
          },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["results", "cleared", "duplicates", "refused"],
            properties: {
              results: { type: "array", items: clearingResultSchema },
              cleared: { type: "integer" },
              duplicates: { type: "integer" },
              refused: { type: "integer" },
            },
          },
        }),
      },
    },
    async (request) => {
      const results = (await issuer.clear(request.body.records)).map((r, index) => ({ index, ...r }));
      const count = (status: string) => results.filter((r) => r.status === status).length;
      return {
        results,
        cleared: count("cleared"),
        duplicates: count("duplicate"),
        refused: count("refused"),
      };
    },
  );

  app.get<{ Querystring: { par?: string } }>(
    "/issuer/tokens",
    {
      preHandler: keyOf("issuer"),
      schema: {
        tags: ["issuer"],
        summary: "本行令牌 / the bank's tokens (issuer API key)",
        security: [{ apiKey: [] }],
        headers: keyHeaders,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { par: { type: "string", pattern: "^[A-Z0-9]{29}$" } },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["tokens"],
            properties: { tokens: { type: "array", items: tokenView } },
          },
        }),
      },
    },
    async (request) => ({
      tokens: await services.tsp.issuerTokens(principal(request).bankCode!, request.query.par),
    }),
  );

  app.patch<{ Params: { tokenId: string }; Body: { status: "active" | "suspended" } }>(
    "/issuer/tokens/:tokenId",
    {
      preHandler: keyOf("issuer"),
      schema: {
        tags: ["issuer"],
        summary:
          "发卡行暂停或恢复令牌 / the bank suspends or resumes a token (only the bank resumes its suspension)",
        security: [{ apiKey: [] }],
        headers: keyHeaders,
        params: tokenParams,
        body: {
          type: "object",
          required: ["status"],
          additionalProperties: false,
          properties: { status: { type: "string", enum: ["active", "suspended"] } },
        },
        response: withErrors({ 200: tokenView }),
      },
    },
    async (request) =>
      services.tsp.issuerAction(
        principal(request).bankCode!,
        request.params.tokenId,
        request.body.status === "suspended" ? "suspend" : "resume",
      ),
  );

  app.delete<{ Params: { tokenId: string } }>(
    "/issuer/tokens/:tokenId",
    {
      preHandler: keyOf("issuer"),
      schema: {
        tags: ["issuer"],
        summary:
          "发卡行删除令牌 / the bank deletes a token for good (removed from the phone at its next sync)",
        security: [{ apiKey: [] }],
        headers: keyHeaders,
        params: tokenParams,
        response: withErrors({ 200: tokenView }),
      },
    },
    async (request) =>
      services.tsp.issuerAction(principal(request).bankCode!, request.params.tokenId, "delete"),
  );
};
