/**
 * The TSM's routes. The phone (signed requests): what waits for it, and the sync session it drives step by
 * step. The signed-in user: the TSM's view of one of their phones' SE.
 */
import type { FastifyPluginAsync } from "fastify";
import { deviceOf, security, sessionOf } from "../http/auth.js";
import { withErrors } from "../http/errors.js";
import { nullableTime, signatureHeaders, zhEn } from "../http/schemas.js";
import type { RouteDeps } from "../module.js";
import {
  MAX_OPERATIONS,
  type OperationResult,
  type SyncReport,
  operationSchema,
  reportSchema,
  resultSchema,
} from "../../protocol/tsm-wire.js";

const scriptError = {
  type: ["object", "null"],
  required: ["code", "zh", "en"],
  properties: {
    code: { type: "string" },
    zh: { type: "string" },
    en: { type: "string" },
    step: { type: "string" },
    sw: { type: "string" },
  },
} as const;

const scriptView = {
  type: "object",
  required: [
    "id",
    "deviceId",
    "kind",
    "aid",
    "owner",
    "ref",
    "state",
    "attempts",
    "error",
    "createdAt",
    "finishedAt",
  ],
  properties: {
    id: { type: "string" },
    deviceId: { type: "string" },
    kind: { type: "string", enum: ["install", "delete", "personalize", "registry", "relay"] },
    aid: { type: "string" },
    owner: { type: "string", description: "the card service the script is for (access, transit, tsp…)" },
    ref: { type: "string", description: "the owner's reference (card id, load id…)" },
    state: { type: "string", enum: ["pending", "sent", "done", "failed", "cancelled"] },
    attempts: { type: "integer", description: "sessions that broke off while carrying it" },
    error: scriptError,
    createdAt: { type: "string", format: "date-time" },
    finishedAt: nullableTime,
  },
} as const;

const instanceView = {
  type: "object",
  required: ["aid", "packageId", "lifecycle", "state", "owner", "ref", "label", "updatedAt"],
  properties: {
    aid: { type: "string" },
    packageId: { type: ["string", "null"] },
    lifecycle: {
      type: ["integer", "null"],
      description: "GlobalPlatform life cycle (07, 0F; bit 8 = locked)",
    },
    state: {
      type: "string",
      enum: ["present", "lost", "unknown"],
      description:
        "lost: installed by the TSM, absent from the SE; unknown: on the SE, not installed by the TSM",
    },
    owner: { type: ["string", "null"] },
    ref: { type: ["string", "null"] },
    label: { anyOf: [zhEn, { type: "null" }] },
    updatedAt: { type: "string", format: "date-time" },
  },
} as const;

const stepAnswer = {
  type: "object",
  required: ["session", "step", "done"],
  properties: {
    session: { type: "string" },
    step: { type: "integer", description: "the step number to answer with" },
    done: { type: "boolean" },
    operations: { type: "array", items: operationSchema },
    summary: {
      type: "object",
      required: ["outcome", "message", "scripts", "instances", "pending", "lost"],
      properties: {
        outcome: { type: "string", description: "ok, or why the session ended early" },
        message: { anyOf: [zhEn, { type: "null" }] },
        scripts: { type: "array", items: scriptView },
        instances: { type: "array", items: instanceView },
        pending: { type: "integer" },
        lost: { type: "boolean", description: "the phone is reported lost and must wipe its cards" },
      },
    },
  },
} as const;

export const tsmRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  const tsm = services.tsm;

  app.get(
    "/device/tsm/scripts",
    {
      preHandler: auth.device,
      schema: {
        tags: ["tsm"],
        summary: "待执行的脚本 / scripts waiting for this phone (signed request)",
        security: security.device,
        headers: signatureHeaders,
        response: withErrors({
          200: {
            type: "object",
            required: ["scripts"],
            properties: { scripts: { type: "array", items: scriptView } },
          },
        }),
      },
    },
    async (request) => ({ scripts: await tsm.pendingFor(deviceOf(request).deviceId) }),
  );

  app.post<{ Body: { report?: SyncReport } }>(
    "/device/tsm/sessions",
    {
      preHandler: auth.device,
      schema: {
        tags: ["tsm"],
        summary: "开始同步 / start a sync: the first operations for the SE (signed request)",
        description:
          "Optionally carries the phone's report of its contactless registry (kept for display). The answer's " +
          "operations are run on the SE in order and their results posted to /device/tsm/sessions/{session}.",
        security: security.device,
        headers: signatureHeaders,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { report: reportSchema },
        },
        response: withErrors({ 201: stepAnswer }),
      },
    },
    async (request, reply) =>
      reply.code(201).send(await tsm.openSession(deviceOf(request).deviceId, request.body.report)),
  );

  app.post<{ Params: { sessionId: string }; Body: { step: number; results: OperationResult[] } }>(
    "/device/tsm/sessions/:sessionId",
    {
      preHandler: auth.device,
      schema: {
        tags: ["tsm"],
        summary:
          "同步的下一步 / results of one step; answers with the next step or the summary (signed request)",
        security: security.device,
        headers: signatureHeaders,
        params: {
          type: "object",
          required: ["sessionId"],
          properties: { sessionId: { type: "string", minLength: 1, maxLength: 64 } },
        },
        body: {
          type: "object",
          required: ["step", "results"],
          additionalProperties: false,
          properties: {
            step: { type: "integer", minimum: 1, maximum: 100000 },
            results: { type: "array", maxItems: MAX_OPERATIONS, items: resultSchema },
          },
        },
        response: withErrors({ 200: stepAnswer }),
      },
    },
    async (request) =>
      tsm.advanceSession(
        deviceOf(request).deviceId,
        request.params.sessionId,
        request.body.step,
        request.body.results,
      ),
  );

  app.get<{ Params: { deviceId: string } }>(
    "/devices/:deviceId/se",
    {
      preHandler: auth.session,
      schema: {
        tags: ["tsm"],
        summary: "手机安全元件上的应用 / what the TSM knows of one of my phones' SE (404 if not mine)",
        security: security.session,
        params: {
          type: "object",
          required: ["deviceId"],
          properties: { deviceId: { type: "string", minLength: 1, maxLength: 64 } },
        },
        response: withErrors({
          200: {
            type: "object",
            required: [
              "deviceId",
              "seId",
              "enrolled",
              "lastStatusAt",
              "instances",
              "scripts",
              "registryReport",
            ],
            properties: {
              deviceId: { type: "string" },
              seId: { type: "string" },
              enrolled: { type: "boolean" },
              lastStatusAt: nullableTime,
              instances: { type: "array", items: instanceView },
              scripts: { type: "array", items: scriptView },
              registryReport: { anyOf: [reportSchema, { type: "null" }] },
              registryReportedAt: nullableTime,
            },
          },
        }),
      },
    },
    async (request) => {
      const device = await services.devices.get(sessionOf(request).accountId, request.params.deviceId);
      return tsm.view(device.id);
    },
  );
};
