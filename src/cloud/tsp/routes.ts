/**
 * `/api/v1/bank-cards/…`: a user (session) or a phone (signed request) adds UnionPay cards to a phone and
 * manages them. A phone sees only its own cards; a user sees the cards of all their phones; anyone else's
 * card or enrolment is 404, as an unknown one is. Views name the bank, the kind, the funding card's and the
 * token's last four digits, never a card number.
 *
 *   GET    /bank-cards/terms                       the terms to accept (version)
 *   GET    /bank-cards/banks                       supported banks
 *   POST   /bank-cards                             {deviceId?, cardNumber, expiry, cvn2?, termsVersion} → 202 enrolment
 *   POST   /bank-cards/enrolments/{id}             {code} → 201 card (being put on the phone)
 *   POST   /bank-cards/enrolments/{id}/code        {} → a new code
 *   GET    /bank-cards?deviceId=                   my cards
 *   GET    /bank-cards/{id}                        one card
 *   PATCH  /bank-cards/{id}                        {status?: suspended | active, default?: true}
 *   DELETE /bank-cards/{id}                        delete (token at once, the phone at its next sync)
 *   GET    /bank-cards/{id}/transactions           its payments, newest first
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { principalOf, security } from "../http/auth.js";
import { withErrors } from "../http/errors.js";
import { emptyBody, nullableTime } from "../http/schemas.js";
import type { RouteDeps } from "../module.js";
import { BANKS } from "./bins.js";
import { TERMS } from "./policy.js";
import type { CardCaller, EnrolmentInput } from "./service.js";

const bank = {
  type: "object",
  required: ["code", "zh", "en"],
  properties: { code: { type: "string" }, zh: { type: "string" }, en: { type: "string" } },
} as const;

const bankCardView = {
  type: "object",
  required: [
    "id",
    "deviceId",
    "bank",
    "kind",
    "tokenLast4",
    "fundingLast4",
    "status",
    "suspendedBy",
    "seState",
    "default",
    "createdAt",
    "activatedAt",
  ],
  properties: {
    id: { type: "string" },
    deviceId: { type: "string" },
    bank,
    kind: { type: "string", enum: ["debit", "credit"] },
    tokenLast4: { type: "string", description: "last four digits of the token (device card number)" },
    fundingLast4: { type: "string", description: "last four digits of the bank card" },
    status: { type: "string", enum: ["pending", "active", "suspended", "deleted"] },
    suspendedBy: { type: ["string", "null"], enum: ["user", "issuer", "wallet", null] },
    seState: { type: "string", enum: ["installing", "installed", "failed", "removing", "removed"] },
    default: { type: "boolean", description: "the phone's default payment card" },
    createdAt: { type: "string", format: "date-time" },
    activatedAt: nullableTime,
  },
} as const;

const enrolmentView = {
  type: "object",
  required: [
    "id",
    "deviceId",
    "bank",
    "kind",
    "fundingLast4",
    "codeSentTo",
    "expiresInSeconds",
    "resendAfterSeconds",
  ],
  properties: {
    id: { type: "string" },
    deviceId: { type: "string" },
    bank,
    kind: { type: "string", enum: ["debit", "credit"] },
    fundingLast4: { type: "string" },
    codeSentTo: { type: "string", description: "the bank's reserved mobile number, masked" },
    expiresInSeconds: { type: "integer" },
    resendAfterSeconds: { type: "integer" },
  },
} as const;

const transactionView = {
  type: "object",
  required: [
    "id",
    "cardId",
    "amount",
    "currency",
    "merchantId",
    "merchantName",
    "terminalId",
    "approved",
    "responseCode",
    "reason",
    "authorisationCode",
    "at",
    "clearedAt",
  ],
  properties: {
    id: { type: "string" },
    cardId: { type: "string" },
    amount: { type: "integer", description: "fen" },
    currency: { type: "string" },
    merchantId: { type: "string" },
    merchantName: { type: ["string", "null"] },
    terminalId: { type: "string" },
    approved: { type: "boolean" },
    responseCode: { type: "string" },
    reason: { type: "string" },
    authorisationCode: { type: ["string", "null"] },
    at: {
      type: "string",
      format: "date-time",
      description: "when the payment was made (an offline one: the date its clearing record carries)",
    },
    clearedAt: {
      type: ["string", "null"],
      format: "date-time",
      description: "when an offline payment was cleared; null for an online one",
    },
  },
} as const;

const idParams = (name: string) =>
  ({
    type: "object",
    required: [name],
    properties: { [name]: { type: "string", minLength: 1, maxLength: 64 } },
  }) as const;

/** Who calls: a session (all the account's phones) or a signed phone (only itself). */
function callerOf(request: FastifyRequest): CardCaller {
  const p = principalOf(request);
  return p.kind === "device" ? { accountId: p.accountId, deviceId: p.deviceId } : { accountId: p.accountId };
}

export const tspRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  const tsp = services.tsp;

  app.get(
    "/bank-cards/terms",
    {
      schema: {
        tags: ["bank cards"],
        summary: "银行卡服务条款 / the bank-card terms to accept",
        security: [],
        response: withErrors({
          200: {
            type: "object",
            required: ["version", "title", "summary"],
            properties: {
              version: { type: "string" },
              title: { type: "object", properties: { zh: { type: "string" }, en: { type: "string" } } },
              summary: { type: "object", properties: { zh: { type: "string" }, en: { type: "string" } } },
            },
          },
        }),
      },
    },
    async () => ({ version: tsp.policy.termsVersion, ...TERMS }),
  );

  app.get(
    "/bank-cards/banks",
    {
      schema: {
        tags: ["bank cards"],
        summary: "支持的银行 / banks whose UnionPay cards can be added",
        security: [],
        response: withErrors({
          200: { type: "object", required: ["banks"], properties: { banks: { type: "array", items: bank } } },
        }),
      },
    },
    async () => ({ banks: Object.values(BANKS) }),
  );

  app.post<{ Body: EnrolmentInput }>(
    "/bank-cards",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "添加银行卡：银行发送验证码 / add a bank card: the bank sends its one-time code",
        description:
          "Checks the number (Luhn, a UnionPay BIN of the table, its length), the expiry (MM/YY, not " +
          "expired), the CVN2 of a credit card, the terms version, the phone's room (8 cards), then asks the " +
          "bank; its code goes to the mobile number the bank keeps for the card. A user names the phone " +
          "(`deviceId`); a phone adds to itself.",
        security: security.any,
        body: {
          type: "object",
          required: ["cardNumber", "expiry", "termsVersion"],
          additionalProperties: false,
          properties: {
            deviceId: { type: "string", minLength: 1, maxLength: 64 },
            cardNumber: {
              type: "string",
              minLength: 12,
              maxLength: 32,
              description: "digits, spaces allowed",
            },
            expiry: { type: "string", minLength: 4, maxLength: 7, description: "MM/YY" },
            cvn2: {
              type: "string",
              minLength: 3,
              maxLength: 3,
              description: "credit cards: 3 digits; never stored",
            },
            termsVersion: { type: "string", minLength: 1, maxLength: 32 },
          },
        },
        response: withErrors({ 202: enrolmentView }),
      },
    },
    async (request, reply) => reply.code(202).send(await tsp.startEnrolment(callerOf(request), request.body)),
  );

  app.post<{ Params: { enrolmentId: string }; Body: { code: string } }>(
    "/bank-cards/enrolments/:enrolmentId",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary:
          "输入银行验证码，卡片开始写入手机 / the bank's code: the token is issued and queued for the phone",
        description: "Five wrong codes in a row lock the card for a while (429 otp_locked).",
        security: security.any,
        params: idParams("enrolmentId"),
        body: {
          type: "object",
          required: ["code"],
          additionalProperties: false,
          properties: { code: { type: "string", minLength: 1, maxLength: 16 } },
        },
        response: withErrors({ 201: bankCardView }),
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await tsp.verifyEnrolment(callerOf(request), request.params.enrolmentId, request.body.code)),
  );

  app.post<{ Params: { enrolmentId: string } }>(
    "/bank-cards/enrolments/:enrolmentId/code",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "重新发送银行验证码 / send the bank's code again",
        security: security.any,
        params: idParams("enrolmentId"),
        body: emptyBody,
        response: withErrors({ 202: enrolmentView }),
      },
    },
    async (request, reply) =>
      reply.code(202).send(await tsp.resendCode(callerOf(request), request.params.enrolmentId)),
  );

  app.get<{ Querystring: { deviceId?: string } }>(
    "/bank-cards",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "我的银行卡 / my bank cards (a phone: its own)",
        security: security.any,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { deviceId: { type: "string", minLength: 1, maxLength: 64 } },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["cards"],
            properties: { cards: { type: "array", items: bankCardView } },
          },
        }),
      },
    },
    async (request) => ({
      cards: await tsp.list(
        callerOf(request),
        request.query.deviceId !== undefined ? { deviceId: request.query.deviceId } : {},
      ),
    }),
  );

  app.get<{ Params: { cardId: string } }>(
    "/bank-cards/:cardId",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "银行卡详情 / one of my bank cards (404 if not mine)",
        security: security.any,
        params: idParams("cardId"),
        response: withErrors({ 200: bankCardView }),
      },
    },
    async (request) => tsp.get(callerOf(request), request.params.cardId),
  );

  app.patch<{ Params: { cardId: string }; Body: { status?: "active" | "suspended"; default?: true } }>(
    "/bank-cards/:cardId",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "暂停、恢复或设为默认卡 / suspend, resume, or make the default card",
        description:
          "`status: suspended` suspends the token; `status: active` resumes it — only if you suspended it " +
          "(a card the bank suspended answers 403 suspended_by_issuer; a lost phone's cards 409 device_lost). " +
          "`default: true` makes it the phone's default payment card.",
        security: security.any,
        params: idParams("cardId"),
        body: {
          type: "object",
          minProperties: 1,
          additionalProperties: false,
          properties: {
            status: { type: "string", enum: ["active", "suspended"] },
            default: { type: "boolean", const: true },
          },
        },
        response: withErrors({ 200: bankCardView }),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { cardId } = request.params;
      let view = undefined;
      if (request.body.status !== undefined)
        view = await tsp.userAction(
          caller,
          cardId,
          request.body.status === "suspended" ? "suspend" : "resume",
        );
      if (request.body.default) view = await tsp.setDefault(caller, cardId);
      return view ?? tsp.get(caller, cardId);
    },
  );

  app.delete<{ Params: { cardId: string } }>(
    "/bank-cards/:cardId",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "删除银行卡 / delete a bank card (the token at once; the phone's copy at its next sync)",
        security: security.any,
        params: idParams("cardId"),
        response: withErrors({ 200: bankCardView }),
      },
    },
    async (request) => tsp.userAction(callerOf(request), request.params.cardId, "delete"),
  );

  app.get<{ Params: { cardId: string } }>(
    "/bank-cards/:cardId/transactions",
    {
      preHandler: auth.any,
      schema: {
        tags: ["bank cards"],
        summary: "银行卡交易记录 / a card's payments, newest first",
        security: security.any,
        params: idParams("cardId"),
        response: withErrors({
          200: {
            type: "object",
            required: ["transactions"],
            properties: { transactions: { type: "array", items: transactionView } },
          },
        }),
      },
    },
    async (request) => ({ transactions: await tsp.transactions(callerOf(request), request.params.cardId) }),
  );
};
