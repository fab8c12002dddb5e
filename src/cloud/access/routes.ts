/** `/api/v1/access/cards…`: the signed-in user's door cards (another account's card id answers 404). */
import type { FastifyPluginAsync } from "fastify";
import { DUMP_FORMATS, type DumpFormat } from "../../mifare/formats/index.js";
import { security, sessionOf } from "../http/auth.js";
import { withErrors } from "../http/errors.js";
import { nullableFailure } from "../http/schemas.js";
import type { RouteDeps } from "../module.js";

const placementView = {
  type: "object",
  required: ["deviceId", "aid", "state", "error", "updatedAt"],
  properties: {
    deviceId: { type: "string" },
    aid: { type: "string", description: "the door card's instance AID on that phone's SE" },
    state: { type: "string", enum: ["installing", "installed", "failed", "lost", "removing"] },
    error: nullableFailure,
    updatedAt: { type: "string", format: "date-time" },
  },
} as const;

const cardView = {
  type: "object",
  required: ["id", "name", "uid", "type", "sak", "atqa", "format", "createdAt", "placements"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    uid: { type: "string", description: "hex; the card's keys and sectors are never returned" },
    type: { type: "string", enum: ["mini", "1k", "4k"] },
    sak: { type: "string" },
    atqa: { type: "string", description: "most significant byte first" },
    format: { type: "string", description: "the dump format it was uploaded in" },
    createdAt: { type: "string", format: "date-time" },
    placements: { type: "array", items: placementView },
  },
} as const;

const cardParams = {
  type: "object",
  required: ["cardId"],
  properties: { cardId: { type: "string", minLength: 1, maxLength: 64 } },
} as const;

const deviceBody = {
  type: "object",
  required: ["deviceId"],
  additionalProperties: false,
  properties: { deviceId: { type: "string", minLength: 1, maxLength: 64 } },
} as const;

export const accessRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  const access = services.access;

  app.post<{ Body: { dump: string; fileName?: string; format?: DumpFormat; name?: string } }>(
    "/access/cards",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary:
          "上传门卡转储 / upload a door-card dump (checked: only cards the phone may emulate are kept)",
        description:
          "Any format `tapwallet door` reads: proxmark3 JSON, .bin/.mfd, .eml, MIFARE Classic Tool .mct, Flipper .nfc. " +
          "Refused with 403 `door_card_not_emulatable` and `details.reasons` (each with its sector, zh and en) " +
          "when a sector does not open with a default key or the card carries a payment, transit or stored-value application.",
        security: security.session,
        body: {
          type: "object",
          required: ["dump"],
          additionalProperties: false,
          properties: {
            dump: { type: "string", minLength: 1, maxLength: 60000, description: "the file's bytes, base64" },
            fileName: {
              type: "string",
              minLength: 1,
              maxLength: 255,
              description: "for the format, by extension",
            },
            format: { type: "string", enum: DUMP_FORMATS },
            name: { type: "string", minLength: 1, maxLength: 40 },
          },
        },
        response: withErrors({ 201: cardView }),
      },
    },
    async (request, reply) =>
      reply.code(201).send(await access.upload(sessionOf(request).accountId, request.body)),
  );

  app.get(
    "/access/cards",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary: "我的门卡 / my door cards and the phones each is on",
        security: security.session,
        response: withErrors({
          200: {
            type: "object",
            required: ["cards"],
            properties: { cards: { type: "array", items: cardView } },
          },
        }),
      },
    },
    async (request) => ({ cards: await access.list(sessionOf(request).accountId) }),
  );

  app.get<{ Params: { cardId: string } }>(
    "/access/cards/:cardId",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary: "门卡详情 / one of my door cards (404 if not mine)",
        security: security.session,
        params: cardParams,
        response: withErrors({ 200: cardView }),
      },
    },
    async (request) => access.get(sessionOf(request).accountId, request.params.cardId),
  );

  app.delete<{ Params: { cardId: string } }>(
    "/access/cards/:cardId",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary: "删除门卡 / delete a door card from the account and from every phone (at their next sync)",
        security: security.session,
        params: cardParams,
        response: withErrors({ 204: { description: "deleted", type: "null" } }),
      },
    },
    async (request, reply) => {
      await access.delete(sessionOf(request).accountId, request.params.cardId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { cardId: string }; Body: { deviceId: string; activate?: boolean } }>(
    "/access/cards/:cardId/install",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary: "写入手机 / put a door card on one of my phones (through the TSM, at the phone's next sync)",
        description:
          "409 `door_card_limit` beyond the per-device limit, `door_card_already_on_device`, `device_lost`. " +
          "The phone's first door card, or `activate: true`, becomes its active door card.",
        security: security.session,
        params: cardParams,
        body: { ...deviceBody, properties: { ...deviceBody.properties, activate: { type: "boolean" } } },
        response: withErrors({ 202: placementView }),
      },
    },
    async (request, reply) => {
      const { deviceId, activate } = request.body;
      const p = await access.install(
        sessionOf(request).accountId,
        request.params.cardId,
        deviceId,
        activate ?? false,
      );
      return reply.code(202).send(p);
    },
  );

  app.post<{ Params: { cardId: string }; Body: { deviceId: string } }>(
    "/access/cards/:cardId/activate",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary: "设为当前门卡 / make it the phone's active door card (one at a time)",
        security: security.session,
        params: cardParams,
        body: deviceBody,
        response: withErrors({ 202: placementView }),
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await access.activate(sessionOf(request).accountId, request.params.cardId, request.body.deviceId),
        ),
  );

  app.delete<{ Params: { cardId: string; deviceId: string } }>(
    "/access/cards/:cardId/devices/:deviceId",
    {
      preHandler: auth.session,
      schema: {
        tags: ["access"],
        summary: "从手机移除 / take a door card off one phone (at its next sync)",
        security: security.session,
        params: {
          type: "object",
          required: ["cardId", "deviceId"],
          properties: {
            cardId: { type: "string", minLength: 1, maxLength: 64 },
            deviceId: { type: "string", minLength: 1, maxLength: 64 },
          },
        },
        response: withErrors({ 204: { description: "queued", type: "null" } }),
      },
    },
    async (request, reply) => {
      await access.uninstall(sessionOf(request).accountId, request.params.cardId, request.params.deviceId);
      return reply.code(204).send();
    },
  );
};
