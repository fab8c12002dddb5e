/**
 * `/api/v1/models`, `/api/v1/devices/…` (the signed-in user manages their phones) and `/api/v1/device/…`
 * (a bound phone speaks for itself, with a signed request).
 */
import type { FastifyPluginAsync } from "fastify";
import { deviceOf, security, sessionOf } from "../http/auth.js";
import { withErrors } from "../http/errors.js";
import { nullableTime, signatureHeaders } from "../http/schemas.js";
import type { RouteDeps } from "../module.js";
import { SUPPORTED_MODELS } from "../../protocol/phone-models.js";
import { SERVICE_REGIONS } from "./regions.js";

const model = {
  type: "object",
  required: ["code", "zh", "en"],
  properties: {
    code: { type: "string", description: "Android device code name (Build.DEVICE)" },
    zh: { type: "string" },
    en: { type: "string" },
  },
} as const;

const deviceView = {
  type: "object",
  required: [
    "id",
    "model",
    "name",
    "region",
    "seId",
    "appVersion",
    "createdAt",
    "lastSeenAt",
    "lost",
    "lostAt",
  ],
  properties: {
    id: { type: "string" },
    model,
    name: { type: "string" },
    region: { type: "string" },
    seId: { type: "string" },
    appVersion: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    lastSeenAt: nullableTime,
    lost: { type: "boolean" },
    lostAt: nullableTime,
  },
} as const;

const deviceParams = {
  type: "object",
  required: ["deviceId"],
  properties: { deviceId: { type: "string", minLength: 1, maxLength: 64 } },
} as const;

interface BindBody {
  model: string;
  region: string;
  name?: string;
  publicKey: string;
  seId: string;
}

export const deviceRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  const devices = services.devices;

  app.get(
    "/models",
    {
      schema: {
        tags: ["devices"],
        summary: "支持的机型与地区 / supported phone models and regions",
        response: withErrors({
          200: {
            type: "object",
            required: ["models", "regions"],
            properties: {
              models: { type: "array", items: model },
              regions: { type: "array", items: { type: "string" } },
            },
          },
        }),
      },
    },
    async () => ({ models: SUPPORTED_MODELS, regions: SERVICE_REGIONS }),
  );

  app.get(
    "/devices",
    {
      preHandler: auth.session,
      schema: {
        tags: ["devices"],
        summary: "我的设备 / my phones",
        security: security.session,
        response: withErrors({
          200: {
            type: "object",
            required: ["devices"],
            properties: { devices: { type: "array", items: deviceView } },
          },
        }),
      },
    },
    async (request) => ({ devices: await devices.list(sessionOf(request).accountId) }),
  );

  app.post<{ Body: BindBody }>(
    "/devices",
    {
      preHandler: auth.session,
      schema: {
        tags: ["devices"],
        summary: "绑定手机 / bind a phone (the request is also signed with the new device key)",
        description:
          "Signed-in session plus proof of possession: the request carries x-tapwallet-timestamp, " +
          "x-tapwallet-nonce and x-tapwallet-signature made with the private key of `publicKey` " +
          "(no device id yet). Refused: models not supported, regions outside mainland China.",
        security: security.session,
        headers: signatureHeaders,
        body: {
          type: "object",
          required: ["model", "region", "publicKey", "seId"],
          additionalProperties: false,
          properties: {
            model: { type: "string", minLength: 1, maxLength: 64, description: "Build.DEVICE, e.g. sagit" },
            region: { type: "string", pattern: "^[A-Za-z]{2}$", description: "ISO 3166-1 alpha-2; CN only" },
            name: { type: "string", minLength: 1, maxLength: 40 },
            publicKey: {
              type: "string",
              minLength: 1,
              maxLength: 512,
              description: "base64 SPKI DER, ECDSA P-256",
            },
            seId: {
              type: "string",
              pattern: "^[0-9A-Fa-f]{16,128}$",
              description: "secure element id (hex)",
            },
          },
        },
        response: withErrors({ 201: deviceView }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const view = await devices.bind(
        sessionOf(request).accountId,
        { ...body, region: body.region.toUpperCase(), seId: body.seId.toUpperCase() },
        { method: request.method, url: request.url, headers: request.headers, rawBody: request.rawBody },
      );
      return reply.code(201).send(view);
    },
  );

  app.get<{ Params: { deviceId: string } }>(
    "/devices/:deviceId",
    {
      preHandler: auth.session,
      schema: {
        tags: ["devices"],
        summary: "设备详情 / one of my phones (404 if not mine)",
        security: security.session,
        params: deviceParams,
        response: withErrors({ 200: deviceView }),
      },
    },
    async (request) => devices.get(sessionOf(request).accountId, request.params.deviceId),
  );

  app.patch<{ Params: { deviceId: string }; Body: { name: string } }>(
    "/devices/:deviceId",
    {
      preHandler: auth.session,
      schema: {
        tags: ["devices"],
        summary: "重命名设备 / rename a phone",
        security: security.session,
        params: deviceParams,
        body: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          properties: { name: { type: "string", minLength: 1, maxLength: 40 } },
        },
        response: withErrors({ 200: deviceView }),
      },
    },
    async (request) =>
      devices.rename(sessionOf(request).accountId, request.params.deviceId, request.body.name),
  );

  app.delete<{ Params: { deviceId: string } }>(
    "/devices/:deviceId",
    {
      preHandler: auth.session,
      schema: {
        tags: ["devices"],
        summary: "移除设备 / remove a phone (its key stops working)",
        security: security.session,
        params: deviceParams,
        response: withErrors({ 204: { description: "removed", type: "null" } }),
      },
    },
    async (request, reply) => {
      await devices.remove(sessionOf(request).accountId, request.params.deviceId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { deviceId: string } }>(
    "/devices/:deviceId/lost",
    {
      preHandler: auth.session,
      schema: {
        tags: ["devices"],
        summary: "挂失 / report a phone lost (its cards are suspended; it is told to wipe on next contact)",
        security: security.session,
        params: deviceParams,
        response: withErrors({ 200: deviceView }),
      },
    },
    async (request) => devices.markLost(sessionOf(request).accountId, request.params.deviceId),
  );

  app.get(
    "/device",
    {
      preHandler: auth.device,
      schema: {
        tags: ["device"],
        summary: "本机信息 / this phone, as the cloud sees it (signed request)",
        security: security.device,
        headers: signatureHeaders,
        response: withErrors({ 200: deviceView }),
      },
    },
    async (request) => {
      const p = deviceOf(request);
      return devices.get(p.accountId, p.deviceId);
    },
  );

  app.post<{ Body: { appVersion: string } }>(
    "/device/checkin",
    {
      preHandler: auth.device,
      schema: {
        tags: ["device"],
        summary: "手机签到 / the phone's periodic contact (signed request)",
        description: "Records the contact; `device.lost` true means the phone must wipe its cards.",
        security: security.device,
        headers: signatureHeaders,
        body: {
          type: "object",
          required: ["appVersion"],
          additionalProperties: false,
          properties: { appVersion: { type: "string", minLength: 1, maxLength: 32 } },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["device", "serverTime"],
            properties: { device: deviceView, serverTime: { type: "string", format: "date-time" } },
          },
        }),
      },
    },
    async (request) => ({
      device: await devices.checkIn(deviceOf(request), request.body.appVersion),
      serverTime: services.ctx.clock.now().toISOString(),
    }),
  );
};
