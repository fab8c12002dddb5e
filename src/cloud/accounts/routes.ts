/** `/api/v1/auth/…` and `/api/v1/me`: sign-up / sign-in by mobile number and one-time code, sessions. */
import type { FastifyPluginAsync } from "fastify";
import { withErrors } from "../http/errors.js";
import { security, sessionOf } from "../http/auth.js";
import type { RouteDeps } from "../module.js";

const phone = {
  type: "string",
  minLength: 1,
  maxLength: 32,
  description: "中国大陆手机号 / mainland China mobile number: 11 digits 1[3-9]…, optionally +86 and spaces",
} as const;

const accountView = {
  type: "object",
  required: ["id", "phone", "createdAt"],
  properties: {
    id: { type: "string" },
    phone: { type: "string" },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

export const accountRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  app.post<{ Body: { phone: string } }>(
    "/auth/code",
    {
      schema: {
        tags: ["accounts"],
        summary: "发送验证码 / send a one-time code (sign-up and sign-in alike)",
        body: { type: "object", required: ["phone"], additionalProperties: false, properties: { phone } },
        response: withErrors({
          202: {
            description: "sent",
            type: "object",
            required: ["expiresInSeconds", "resendAfterSeconds"],
            properties: { expiresInSeconds: { type: "integer" }, resendAfterSeconds: { type: "integer" } },
          },
        }),
      },
    },
    async (request, reply) =>
      reply.code(202).send(await services.accounts.requestCode(request.body.phone, request.ip)),
  );

  app.post<{ Body: { phone: string; code: string } }>(
    "/auth/session",
    {
      schema: {
        tags: ["accounts"],
        summary: "用验证码登录（新号码自动注册）/ sign in with the code; a new number signs up",
        body: {
          type: "object",
          required: ["phone", "code"],
          additionalProperties: false,
          properties: {
            phone,
            code: { type: "string", minLength: 1, maxLength: 16, description: "6 digits" },
          },
        },
        response: withErrors({
          200: {
            description: "signed in",
            type: "object",
            required: ["token", "expiresAt", "account", "created"],
            properties: {
              token: { type: "string", description: "bearer token; shown once" },
              expiresAt: { type: "string", format: "date-time" },
              account: accountView,
              created: { type: "boolean", description: "true when this sign-in created the account" },
            },
          },
        }),
      },
    },
    async (request) => services.accounts.signIn(request.body.phone, request.body.code, request.ip),
  );

  app.delete(
    "/auth/session",
    {
      preHandler: auth.session,
      schema: {
        tags: ["accounts"],
        summary: "退出登录 / sign out (revokes this session)",
        security: security.session,
        response: withErrors({ 204: { description: "signed out", type: "null" } }),
      },
    },
    async (request, reply) => {
      await services.accounts.signOut(sessionOf(request).sessionId);
      return reply.code(204).send();
    },
  );

  app.get(
    "/me",
    {
      preHandler: auth.session,
      schema: {
        tags: ["accounts"],
        summary: "当前账户 / the signed-in account",
        security: security.session,
        response: withErrors({ 200: accountView }),
      },
    },
    async (request) => services.accounts.get(sessionOf(request).accountId),
  );
};
