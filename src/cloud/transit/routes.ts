/**
 * `/api/v1/transit/…`. The phone (signed requests) opens cards, drives top-ups and runs its transit sync;
 * the user (session, or the phone) sees cards, top-ups and history, and asks for refunds and transfers;
 * transit operators (`x-operator-key`) upload their gates' logs for clearing. Every card, top-up and request
 * is looked up within the caller's account: another account's id answers 404 like an unknown one.
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { BLACKLIST_PAGE_FORMAT, PRODUCTS, type GateUpload } from "../../transit/index.js";
import { BLACKLIST_REASONS } from "../../transit/terminal/blacklist-delta.js";
import { BLACKLIST_LIMITS } from "./blacklist.js";
import { deviceOf, principalOf, security } from "../http/auth.js";
import { withErrors } from "../http/errors.js";
import { emptyBody, nullableFailure, nullableTime, signatureHeaders, zhEn } from "../http/schemas.js";
import type { RouteDeps } from "../module.js";
import { type OperationResult, operationSchema, resultSchema } from "../../protocol/tsm-wire.js";
import { FUNDING_CHANNELS } from "./channels.js";
import { transitErrors } from "./errors.js";

const OPERATOR_KEY_HEADER = "x-operator-key";

declare module "fastify" {
  interface FastifyRequest {
    transitOperator?: string;
  }
}

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const fen = { type: "integer", minimum: 0, maximum: 100_000_000 } as const;
const requestId = {
  type: "string",
  pattern: "^[A-Za-z0-9_.:-]{8,64}$",
  description: "the phone's id for this operation: a retry with the same id never pays twice",
} as const;
const channel = { type: "string", enum: FUNDING_CHANNELS } as const;

const cardView = {
  type: "object",
  required: [
    "id",
    "product",
    "cardNumber",
    "aid",
    "state",
    "deviceId",
    "balance",
    "shortfall",
    "cardBalance",
    "cardBalanceAt",
    "validFrom",
    "validTo",
    "openFee",
    "channel",
    "monthSpend",
    "historySince",
    "predecessorId",
    "createdAt",
    "activatedAt",
    "closedAt",
  ],
  properties: {
    id: { type: "string" },
    product: {
      type: "object",
      required: ["id", "name", "standard"],
      properties: { id: { type: "string" }, name: zhEn, standard: { type: "string" } },
    },
    cardNumber: { type: "string" },
    aid: { type: "string", description: "the card's applet instance on the SE (hex)" },
    state: {
      type: "string",
      enum: [
        "issuing",
        "active",
        "moving",
        "parked",
        "refunding",
        "refunded",
        "failed",
        "replaced",
        "wiping",
      ],
    },
    deviceId: { type: ["string", "null"] },
    balance: { type: "integer", description: "fen the cloud can prove (TAC-checked loads and rides)" },
    shortfall: {
      type: "integer",
      description: "fen its rides took after its money went back (paid by the issuer's shortfall account)",
    },
    cardBalance: { type: ["integer", "null"], description: "what the card last said under its MAC" },
    cardBalanceAt: nullableTime,
    validFrom: { type: "string" },
    validTo: { type: "string" },
    openFee: {
      type: "object",
      required: ["amount", "refundable"],
      properties: { amount: { type: "integer" }, refundable: { type: "boolean" } },
    },
    channel: { type: "string" },
    monthSpend: { type: "integer", description: "rides cleared this calendar month (China time)" },
    historySince: { type: "string", format: "date-time" },
    predecessorId: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    activatedAt: nullableTime,
    closedAt: nullableTime,
  },
} as const;

const topUpView = {
  type: "object",
  required: [
    "id",
    "requestId",
    "cardId",
    "amount",
    "channel",
    "state",
    "attempts",
    "failure",
    "createdAt",
    "completedAt",
  ],
  properties: {
    id: { type: "string" },
    requestId: { type: "string" },
    cardId: { type: "string" },
    amount: { type: "integer" },
    channel: { type: "string" },
    state: { type: "string", enum: ["pending", "authorised", "completed", "failed"] },
    attempts: { type: "integer" },
    failure: nullableFailure,
    createdAt: { type: "string", format: "date-time" },
    completedAt: nullableTime,
  },
} as const;

const workflowView = {
  type: "object",
  required: [
    "id",
    "kind",
    "cardId",
    "state",
    "sourceDeviceId",
    "targetDeviceId",
    "newCardId",
    "provenBalance",
    "refund",
    "failure",
    "createdAt",
    "updatedAt",
    "doneAt",
  ],
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: ["refund", "transfer"] },
    cardId: { type: "string" },
    state: {
      type: "string",
      enum: ["requested", "locked", "verified", "deleted", "installing", "done", "failed"],
    },
    sourceDeviceId: { type: ["string", "null"] },
    targetDeviceId: { type: ["string", "null"] },
    newCardId: { type: ["string", "null"] },
    provenBalance: { type: ["integer", "null"] },
    refund: {
      type: "object",
      required: ["balance", "fee", "total", "channel"],
      properties: {
        balance: { type: "integer" },
        fee: { type: "integer" },
        total: { type: "integer" },
        channel: { type: "string" },
      },
    },
    failure: nullableFailure,
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    doneAt: nullableTime,
  },
} as const;

const challenge = {
  type: "object",
  required: ["id", "cardId", "aid", "operations"],
  properties: {
    id: { type: "string" },
    cardId: { type: "string" },
    aid: { type: "string" },
    operations: { type: "array", items: operationSchema },
  },
} as const;

const resultsBody = {
  type: "array",
  maxItems: 64,
  items: resultSchema,
  description: "the R-APDUs of the operations run, in order (the phone stops at an unexpected status word)",
} as const;
/** The card's answers to a step (the R-APDUs of the operations the phone ran). */
const answersBody = {
  type: "object",
  required: ["results"],
  additionalProperties: false,
  properties: { results: resultsBody },
} as const;

const productView = {
  type: "object",
  required: ["id", "name", "region", "standard", "fees", "topUp", "maxBalance", "status", "transfer"],
  properties: {
    id: { type: "string" },
    name: zhEn,
    region: zhEn,
    standard: { type: "string" },
    fees: {
      type: "object",
      required: ["open", "openRefundable"],
      properties: { open: { type: "integer" }, openRefundable: { type: "boolean" } },
    },
    topUp: {
      type: "object",
      required: ["min", "max"],
      properties: { min: { type: "integer" }, max: { type: "integer" } },
    },
    maxBalance: { type: "integer" },
    status: { type: "string", enum: ["available", "closed"] },
    successor: { type: "string" },
    advice: zhEn,
    transfer: { type: "string", enum: ["standard", "shenzhen-tong", "shanghai"] },
  },
} as const;

const cardParams = {
  type: "object",
  required: ["cardId"],
  properties: { cardId: id },
} as const;
const topUpParams = { type: "object", required: ["topupId"], properties: { topupId: id } } as const;
const requestParams = { type: "object", required: ["requestId"], properties: { requestId: id } } as const;

const uploadRecord = {
  type: "object",
  required: [
    "seq",
    "terminalId",
    "kind",
    "location",
    "system",
    "cardNumber",
    "asn",
    "algorithm",
    "type",
    "amount",
    "balanceBefore",
    "balanceAfter",
    "cardAtc",
    "psamTerminal",
    "psamSeq",
    "date",
    "time",
    "tac",
    "mac2",
  ],
  additionalProperties: false,
  properties: {
    seq: { type: "integer", minimum: 1 },
    terminalId: { type: "string", maxLength: 64 },
    kind: { type: "string", enum: ["metro-entry", "metro-exit", "bus"] },
    location: { type: "string", maxLength: 64 },
    system: { type: "string", maxLength: 32 },
    product: { type: "string", maxLength: 64 },
    cardNumber: { type: "string", maxLength: 32 },
    asn: { type: "string", pattern: "^[0-9A-Fa-f]{16}$" },
    algorithm: { type: "string", enum: ["3des", "sm4"] },
    type: { type: "integer", minimum: 0, maximum: 255 },
    amount: fen,
    fareRule: { type: "string", maxLength: 32 },
    balanceBefore: { type: "integer" },
    balanceAfter: { type: "integer" },
    cardAtc: { type: "integer", minimum: 0, maximum: 65535 },
    psamTerminal: { type: "string", pattern: "^[0-9A-Fa-f]{12}$" },
    psamSeq: { type: "string", pattern: "^[0-9A-Fa-f]{8}$" },
    date: { type: "string", pattern: "^[0-9]{8}$" },
    time: { type: "string", pattern: "^[0-9]{6}$" },
    tac: { type: "string", pattern: "^[0-9A-Fa-f]{8}$" },
    mac2: { type: "string", pattern: "^[0-9A-Fa-f]{8}$" },
    recovered: { type: "boolean" },
  },
} as const;

const operatorTotals = {
  type: "object",
  required: ["operator", "records", "amount"],
  properties: {
    operator: { type: "string" },
    records: { type: "integer" },
    amount: { type: "integer" },
  },
} as const;

export const transitRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  const transit = services.transit;
  const tags = ["transit"];

  const operator = async (request: FastifyRequest) => {
    const raw = request.headers[OPERATOR_KEY_HEADER];
    if (typeof raw !== "string" || raw.length === 0 || raw.length > 128)
      throw transitErrors.operatorUnknown();
    request.transitOperator = await transit.clearing.authenticate(raw);
  };

  app.get(
    "/transit/products",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "交通卡产品 / the transit cards on offer, with fees, limits and status",
        security: security.any,
        response: withErrors({
          200: {
            type: "object",
            required: ["products"],
            properties: { products: { type: "array", items: productView } },
          },
        }),
      },
    },
    async () => ({ products: PRODUCTS }),
  );

  // ---- the phone ---------------------------------------------------------------------------------

  app.post<{ Body: { requestId: string; productId: string; firstTopUp: number; channel: string } }>(
    "/transit/cards",
    {
      preHandler: auth.device,
      schema: {
        tags,
        summary: "开卡 / open a transit card on this phone: fee and first top-up paid, install queued",
        description:
          "Refused: a product closed for new cards (`product_closed`, `details.successor`), a second T-Union " +
          "card on the phone (`t_union_limit`), a model that does not carry the card, a first top-up outside " +
          "the product's limits. The card is on the phone once the TSM's install lands (sync).",
        security: security.device,
        headers: signatureHeaders,
        body: {
          type: "object",
          required: ["requestId", "productId", "firstTopUp", "channel"],
          additionalProperties: false,
          properties: { requestId, productId: id, firstTopUp: fen, channel },
        },
        response: withErrors({ 201: cardView }),
      },
    },
    async (request, reply) => reply.code(201).send(await transit.cards.open(deviceOf(request), request.body)),
  );

  app.post<{ Params: { cardId: string }; Body: { requestId: string; amount: number; channel: string } }>(
    "/transit/cards/:cardId/topups",
    {
      preHandler: auth.device,
      schema: {
        tags,
        summary: "充值：开始 / start (or resume) a top-up: the card check to run",
        description:
          "Idempotent by `requestId`: a completed top-up answers itself with no challenge; one under way " +
          "answers a new challenge that also settles its load in flight.",
        security: security.device,
        headers: signatureHeaders,
        params: cardParams,
        body: {
          type: "object",
          required: ["requestId", "amount", "channel"],
          additionalProperties: false,
          properties: { requestId, amount: fen, channel },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["topup", "challenge"],
            properties: { topup: topUpView, challenge: { anyOf: [challenge, { type: "null" }] } },
          },
        }),
      },
    },
    async (request) => transit.topups.start(deviceOf(request), request.params.cardId, request.body),
  );

  app.post<{ Params: { topupId: string }; Body: { challengeId: string; results: OperationResult[] } }>(
    "/transit/topups/:topupId/authorise",
    {
      preHandler: auth.device,
      schema: {
        tags,
        summary:
          "充值：授权 / the card's answers (MAC1): the payment is taken and CREDIT FOR LOAD comes back",
        security: security.device,
        headers: signatureHeaders,
        params: topUpParams,
        body: {
          type: "object",
          required: ["challengeId", "results"],
          additionalProperties: false,
          properties: { challengeId: id, results: resultsBody },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["topup", "operations"],
            properties: {
              topup: topUpView,
              operations: { anyOf: [{ type: "array", items: operationSchema }, { type: "null" }] },
            },
          },
        }),
      },
    },
    async (request) =>
      transit.topups.authorise(
        deviceOf(request),
        request.params.topupId,
        request.body.challengeId,
        request.body.results,
      ),
  );

  app.post<{ Params: { topupId: string }; Body: { results: OperationResult[] } }>(
    "/transit/topups/:topupId/confirm",
    {
      preHandler: auth.device,
      schema: {
        tags,
        summary: "充值：确认 / the card's answer to CREDIT FOR LOAD (TAC): the top-up completes",
        description: "`retry: true` — the answer proved nothing: start again with the same requestId.",
        security: security.device,
        headers: signatureHeaders,
        params: topUpParams,
        body: answersBody,
        response: withErrors({
          200: {
            type: "object",
            required: ["topup", "retry"],
            properties: { topup: topUpView, retry: { type: "boolean" } },
          },
        }),
      },
    },
    async (request) =>
      transit.topups.confirm(deviceOf(request), request.params.topupId, request.body.results),
  );

  app.post(
    "/transit/sync",
    {
      preHandler: auth.device,
      schema: {
        tags,
        summary: "交通卡同步 / this phone's transit cards, and the checks to run on them",
        description:
          "A check settles a load left in flight (phone gone between INITIALIZE and CREDIT, or before the " +
          "confirm) and proves the balance of a card being refunded or moved.",
        security: security.device,
        headers: signatureHeaders,
        body: emptyBody,
        response: withErrors({
          200: {
            type: "object",
            required: ["cards", "checks"],
            properties: {
              cards: { type: "array", items: cardView },
              checks: { type: "array", items: challenge },
            },
          },
        }),
      },
    },
    async (request) => transit.sync(deviceOf(request)),
  );

  app.post<{ Params: { checkId: string }; Body: { results: OperationResult[] } }>(
    "/transit/checks/:checkId",
    {
      preHandler: auth.device,
      schema: {
        tags,
        summary: "卡片核验结果 / the card's answers to a check",
        security: security.device,
        headers: signatureHeaders,
        params: { type: "object", required: ["checkId"], properties: { checkId: id } },
        body: answersBody,
        response: withErrors({
          200: {
            type: "object",
            required: ["card", "completed", "reversed", "proven"],
            properties: {
              card: cardView,
              completed: { type: "array", items: { type: "string" } },
              reversed: { type: "array", items: { type: "string" } },
              proven: { type: "boolean" },
            },
          },
        }),
      },
    },
    async (request) => transit.answerCheck(deviceOf(request), request.params.checkId, request.body.results),
  );

  // ---- the user (session or phone) ---------------------------------------------------------------

  app.get(
    "/transit/cards",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "我的交通卡 / my transit cards",
        security: security.any,
        response: withErrors({
          200: {
            type: "object",
            required: ["cards"],
            properties: { cards: { type: "array", items: cardView } },
          },
        }),
      },
    },
    async (request) => ({ cards: await transit.cards.list(principalOf(request).accountId) }),
  );

  app.get<{ Params: { cardId: string } }>(
    "/transit/cards/:cardId",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "交通卡详情 / one of my transit cards (404 if not mine)",
        security: security.any,
        params: cardParams,
        response: withErrors({ 200: cardView }),
      },
    },
    async (request) => transit.cards.get(principalOf(request).accountId, request.params.cardId),
  );

  app.get<{ Params: { cardId: string } }>(
    "/transit/cards/:cardId/transactions",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "交易记录 / the card's history: first top-up, loads, cleared rides",
        security: security.any,
        params: cardParams,
        response: withErrors({
          200: {
            type: "object",
            required: ["transactions"],
            properties: {
              transactions: {
                type: "array",
                items: {
                  type: "object",
                  required: ["time", "kind", "amount"],
                  properties: {
                    time: { type: "string", format: "date-time" },
                    kind: { type: "string", enum: ["open", "load", "purchase", "entry"] },
                    amount: { type: "integer" },
                    operator: { type: "string" },
                    location: { type: "string" },
                  },
                },
              },
            },
          },
        }),
      },
    },
    async (request) => ({
      transactions: await transit.transactions(principalOf(request).accountId, request.params.cardId),
    }),
  );

  app.get<{ Params: { cardId: string } }>(
    "/transit/cards/:cardId/topups",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "充值记录 / the card's top-ups",
        security: security.any,
        params: cardParams,
        response: withErrors({
          200: {
            type: "object",
            required: ["topups"],
            properties: { topups: { type: "array", items: topUpView } },
          },
        }),
      },
    },
    async (request) => ({
      topups: await transit.topups.list(principalOf(request).accountId, request.params.cardId),
    }),
  );

  app.get<{ Params: { topupId: string } }>(
    "/transit/topups/:topupId",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "一笔充值 / one top-up",
        security: security.any,
        params: topUpParams,
        response: withErrors({ 200: topUpView }),
      },
    },
    async (request) => transit.topups.get(principalOf(request).accountId, request.params.topupId),
  );

  app.post<{ Params: { cardId: string } }>(
    "/transit/cards/:cardId/refund",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "退卡 / refund the card: balance (and a refundable fee) back to the channel that paid",
        description:
          "A workflow: requested → locked → verified (the card proves its balance at the phone's next " +
          "transit sync) → deleted (TSM) → done (paid). Follow it at GET /transit/refunds/{id}.",
        security: security.any,
        params: cardParams,
        body: emptyBody,
        response: withErrors({ 202: workflowView }),
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await transit.workflows.requestRefund(principalOf(request).accountId, request.params.cardId)),
  );

  app.post<{ Params: { cardId: string }; Body: { targetDeviceId: string } }>(
    "/transit/cards/:cardId/transfer",
    {
      preHandler: auth.any,
      schema: {
        tags,
        summary: "移卡 / move the card to another of my phones",
        description:
          "Same account, a model that carries the card. Number, balance, counters and history move; " +
          "Shanghai: history and the month's spend start over; Shenzhen Tong: once per calendar year, never " +
          "back to a phone it was on, a new number, the old balance refunded.",
        security: security.any,
        params: cardParams,
        body: {
          type: "object",
          required: ["targetDeviceId"],
          additionalProperties: false,
          properties: { targetDeviceId: id },
        },
        response: withErrors({ 202: workflowView }),
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await transit.workflows.requestTransfer(
            principalOf(request).accountId,
            request.params.cardId,
            request.body.targetDeviceId,
          ),
        ),
  );

  for (const kind of ["refund", "transfer"] as const) {
    const plural = `${kind}s`;
    app.get(
      `/transit/${plural}`,
      {
        preHandler: auth.any,
        schema: {
          tags,
          summary: kind === "refund" ? "退卡申请 / my refunds" : "移卡申请 / my transfers",
          security: security.any,
          response: withErrors({
            200: {
              type: "object",
              required: [plural],
              properties: { [plural]: { type: "array", items: workflowView } },
            },
          }),
        },
      },
      async (request) => ({ [plural]: await transit.workflows.list(principalOf(request).accountId, kind) }),
    );
    app.get<{ Params: { requestId: string } }>(
      `/transit/${plural}/:requestId`,
      {
        preHandler: auth.any,
        schema: {
          tags,
          summary: kind === "refund" ? "退卡进度 / a refund's state" : "移卡进度 / a transfer's state",
          security: security.any,
          params: requestParams,
          response: withErrors({ 200: workflowView }),
        },
      },
      async (request) => {
        const view = await transit.workflows.get(principalOf(request).accountId, request.params.requestId);
        if (view.kind !== kind) throw transitErrors.workflowNotFound();
        return view;
      },
    );
  }

  // ---- operators ---------------------------------------------------------------------------------

  app.post<{ Body: GateUpload }>(
    "/transit/clearing/uploads",
    {
      preHandler: operator,
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags,
        summary: "清分 / clear a gate's upload: every TAC checked, duplicates refused, fares to the operator",
        security: [{ operatorKey: [] }],
        body: {
          type: "object",
          required: ["format", "terminalId", "operator", "createdAt", "count", "total", "records"],
          additionalProperties: false,
          properties: {
            format: { type: "string", const: "tapwallet.transit.gate-log/1" },
            terminalId: { type: "string", maxLength: 64 },
            operator: { type: "string", maxLength: 64 },
            createdAt: { type: "string", maxLength: 40 },
            count: { type: "integer", minimum: 0 },
            total: { type: "integer", minimum: 0 },
            records: { type: "array", maxItems: 10_000, items: uploadRecord },
          },
        },
        response: withErrors({
          200: {
            type: "object",
            required: [
              "uploadId",
              "operator",
              "terminalId",
              "records",
              "cleared",
              "duplicates",
              "rejected",
              "shortfalls",
              "amount",
              "shortfall",
              "totals",
            ],
            properties: {
              uploadId: { type: "string" },
              operator: { type: "string" },
              terminalId: { type: "string" },
              records: { type: "integer" },
              cleared: { type: "integer" },
              duplicates: { type: "integer" },
              rejected: {
                type: "array",
                items: {
                  type: "object",
                  required: ["seq", "reason"],
                  properties: { seq: { type: "integer" }, reason: { type: "string" } },
                },
              },
              shortfalls: {
                type: "array",
                description:
                  "records honoured beyond what the cloud still held for their card: `shortfall` fen of " +
                  "`amount` came from the issuer's shortfall account, not the float",
                items: {
                  type: "object",
                  required: ["seq", "amount", "shortfall"],
                  properties: {
                    seq: { type: "integer" },
                    amount: { type: "integer" },
                    shortfall: { type: "integer" },
                  },
                },
              },
              amount: { type: "integer", description: "fen paid to the operator (shortfalls included)" },
              shortfall: { type: "integer", description: "of `amount`, fen from the shortfall accounts" },
              totals: operatorTotals,
            },
          },
        }),
      },
    },
    async (request) => transit.clearing.upload(request.transitOperator!, request.body),
  );

  app.get(
    "/transit/clearing/totals",
    {
      preHandler: operator,
      schema: {
        tags,
        summary: "清分合计 / the operator's cleared rides and amount so far",
        security: [{ operatorKey: [] }],
        response: withErrors({ 200: operatorTotals }),
      },
    },
    async (request) => transit.clearing.totals(request.transitOperator!),
  );

  app.get(
    "/transit/blacklist/versions",
    {
      preHandler: operator,
      schema: {
        tags,
        summary: "黑名单版本 / every product's gate blacklist version (fetch the deltas of those that moved)",
        security: [{ operatorKey: [] }],
        response: withErrors({
          200: {
            type: "object",
            required: ["products"],
            properties: {
              products: {
                type: "array",
                items: {
                  type: "object",
                  required: ["product", "system", "version"],
                  properties: {
                    product: { type: "string" },
                    system: { type: "string" },
                    version: { type: "integer" },
                  },
                },
              },
            },
          },
        }),
      },
    },
    async () => ({ products: await transit.core.blacklist.versions() }),
  );

  app.get<{ Querystring: { product: string; since?: string; limit?: string } }>(
    "/transit/blacklist",
    {
      preHandler: operator,
      schema: {
        tags,
        summary:
          "闸机黑名单 / a product's gate blacklist after version `since`: parked, refunded, replaced and retired card numbers, in order",
        security: [{ operatorKey: [] }],
        querystring: {
          type: "object",
          required: ["product"],
          additionalProperties: false,
          properties: {
            product: { type: "string", minLength: 1, maxLength: 64 },
            since: {
              type: "string",
              pattern: "^[0-9]{1,9}$",
              description: "the version the gate holds (default 0: the whole list)",
            },
            limit: {
              type: "string",
              pattern: "^[0-9]{1,4}$",
              description: `entries per page, 1–${BLACKLIST_LIMITS.maxPage} (default ${BLACKLIST_LIMITS.defaultPage})`,
            },
          },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["format", "product", "system", "version", "since", "next", "more", "entries"],
            properties: {
              format: { type: "string", const: BLACKLIST_PAGE_FORMAT },
              product: { type: "string" },
              system: { type: "string" },
              version: { type: "integer" },
              since: { type: "integer" },
              next: { type: "integer" },
              more: { type: "boolean" },
              entries: {
                type: "array",
                items: {
                  type: "object",
                  required: ["seq", "cardNumber", "reason", "listedAt"],
                  properties: {
                    seq: { type: "integer" },
                    cardNumber: { type: "string" },
                    reason: { type: "string", enum: BLACKLIST_REASONS },
                    listedAt: { type: "string" },
                  },
                },
              },
            },
          },
        }),
      },
    },
    async (request) =>
      transit.core.blacklist.page(
        request.query.product,
        Number(request.query.since ?? 0),
        request.query.limit === undefined ? undefined : Number(request.query.limit),
      ),
  );
};
