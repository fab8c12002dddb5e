/**
 * `/sim/v1/…`: the phone and terminal simulator as HTTP, for the web app. Every route has a schema (they
 * appear in the OpenAPI document at /docs beside the cloud's). Callers are the cloud's users: the
 * `Authorization: Bearer …` session of the web app, which the simulator checks with the cloud
 * (`GET /api/v1/me`) on every request and never keeps. A phone belongs to the account that made it; another
 * account's phone answers 404 as an unknown one does.
 *
 *   GET    /terminals                               what the terminal simulator offers (stations, bus fare…)
 *   GET    /phones · POST /phones                   my simulated phones · make one (it registers with the cloud)
 *   GET    /phones/{id} · DELETE /phones/{id}        one phone · remove it (from the account too)
 *   POST   /phones/{id}/sync                        check in and run what the TSM queued
 *   POST   /phones/{id}/lock | unlock | verify      the phone's lock screen and CDCVM
 *   POST   /phones/{id}/default | express | lost    default bank card, express transit card, report lost
 *   POST   /phones/{id}/transit/cards               open a transit card (fee + first top-up)
 *   POST   /phones/{id}/transit/cards/{card}/topups | refund | transfer
 *   POST   /phones/{id}/taps                        hold the phone to a POS, gate, bus validator or door reader
 *   GET · DELETE /door-reader                       the door reader's enrolled cards (counts) · forget them
 *   POST   /door-cards/inspect                      the phone's check of a dump (verdict and reasons)
 *   POST   /reader/door-cards                       read a sample fob on the simulator's reader
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { TapwalletError } from "../core/errors.js";
import type { FundingChannel } from "../device/transit.js";
import { SAMPLE_FOBS, type SampleFob, inspectDump, readSampleFob } from "./door.js";
import { simErrorHandler, simErrorSchema } from "./errors.js";
import type { PhoneSimulator } from "./phones.js";
import { type TerminalSpec, clearDoorEnrolment, doorEnrolment, terminalCatalogue } from "./terminals.js";
import { type Account, SessionClient } from "./transport.js";

export const SIM_PREFIX = "/sim/v1";

export interface SimRouteOptions {
  simulator: PhoneSimulator;
  cloudUrl: string;
  fetch: ConstructorParameters<typeof SessionClient>[1];
}

declare module "fastify" {
  interface FastifyRequest {
    simCaller?: { account: Account; session: SessionClient };
  }
}

const tags = ["simulator"];
const security = [{ session: [] }];
const text2 = {
  type: "object",
  required: ["zh", "en"],
  properties: { zh: { type: "string" }, en: { type: "string" } },
} as const;
const nullableText2 = { ...text2, type: ["object", "null"] } as const;
const errors = { "4xx": simErrorSchema, "5xx": simErrorSchema } as const;
const method = { type: "string", enum: ["fingerprint", "passcode"] } as const;
const fen = { type: "integer", minimum: 0, maximum: 100_000_000 } as const;
/** How the user pays for transit (the phone's wallet offers these; the cloud decides). */
const CHANNELS = ["wechat", "alipay", "unionpay"] as const satisfies readonly FundingChannel[];
const channel = { type: "string", enum: CHANNELS } as const;
const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const emptyBody = { type: "object", additionalProperties: false, properties: {} } as const;
const phoneParams = {
  type: "object",
  required: ["phoneId"],
  properties: { phoneId: id },
} as const;
const cardParams = {
  type: "object",
  required: ["phoneId", "cardId"],
  properties: { phoneId: id, cardId: id },
} as const;

const phoneView = {
  type: "object",
  required: [
    "id",
    "name",
    "model",
    "region",
    "seId",
    "deviceId",
    "createdAt",
    "locked",
    "verification",
    "fieldMode",
    "activeDoorUid",
    "cards",
    "lastSync",
  ],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    model: {
      type: "object",
      required: ["code", "zh", "en", "supported"],
      properties: {
        code: { type: "string" },
        zh: { type: "string" },
        en: { type: "string" },
        supported: { type: "boolean" },
      },
    },
    region: { type: "string" },
    seId: { type: "string", description: "the SE's serial (hex), the id the phone registered with" },
    deviceId: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    locked: { type: "boolean" },
    verification: {
      type: ["object", "null"],
      required: ["at", "method"],
      properties: { at: { type: "string" }, method },
    },
    fieldMode: {
      type: "string",
      enum: ["door", "iso-dep"],
      description: "what the phone answers a reader with first",
    },
    activeDoorUid: { type: ["string", "null"] },
    cards: {
      type: "array",
      description: "the SE's contactless registry with the names the TSM gave",
      items: {
        type: "object",
        required: ["aid", "packageId", "category", "state", "defaultPayment", "expressTransit", "label"],
        properties: {
          aid: { type: "string" },
          packageId: { type: "string" },
          category: { type: ["string", "null"] },
          state: { type: "string" },
          defaultPayment: { type: "boolean" },
          expressTransit: { type: "boolean" },
          label: nullableText2,
          owner: { type: ["string", "null"] },
          ref: { type: ["string", "null"] },
        },
      },
    },
    lastSync: {
      type: ["object", "null"],
      required: ["at", "outcome", "lost"],
      properties: { at: { type: "string" }, outcome: { type: "string" }, lost: { type: "boolean" } },
    },
  },
} as const;

const syncView = {
  type: "object",
  required: ["lost", "scripts", "transit"],
  properties: {
    lost: { type: "boolean", description: "the phone is reported lost: its cards were wiped" },
    scripts: {
      type: "array",
      items: {
        type: "object",
        properties: {
          kind: { type: "string" },
          owner: { type: "string" },
          ref: { type: "string" },
          state: { type: "string" },
          error: {
            type: ["object", "null"],
            properties: { code: { type: "string" }, zh: { type: "string" }, en: { type: "string" } },
          },
        },
      },
    },
    transit: { type: "array", items: { type: "object", additionalProperties: true } },
  },
} as const;

const phoneAndSync = {
  type: "object",
  required: ["phone", "sync"],
  properties: { phone: phoneView, sync: syncView },
} as const;

const cloudView = (what: string) =>
  ({ type: "object", additionalProperties: true, description: `the cloud's ${what}` }) as const;

const inspection = {
  type: "object",
  required: ["format", "type", "uid", "sak", "atqa", "kind", "emulatable", "reasons", "warnings", "sectors"],
  properties: {
    format: { type: "string" },
    type: { type: "string", enum: ["mini", "1k", "4k"] },
    uid: { type: "string" },
    sak: { type: "string" },
    atqa: { type: "string" },
    kind: { type: "string", enum: ["classic", "uid-only"] },
    emulatable: { type: "boolean" },
    reasons: {
      type: "array",
      items: {
        type: "object",
        required: ["code", "sector", "zh", "en"],
        properties: {
          code: { type: "string" },
          sector: { type: ["integer", "null"] },
          zh: { type: "string" },
          en: { type: "string" },
        },
      },
    },
    warnings: {
      type: "array",
      items: {
        type: "object",
        properties: { code: { type: "string" }, zh: { type: "string" }, en: { type: "string" } },
      },
    },
    sectors: {
      type: "array",
      items: {
        type: "object",
        properties: {
          index: { type: "integer" },
          defaultKeys: { type: "boolean" },
          accessBitsValid: { type: "boolean" },
        },
      },
    },
  },
} as const;

const timeline = {
  type: "object",
  additionalProperties: true,
  description:
    "`kind: apdu` (decoded APDUs, PANs masked, with software and air time per exchange) or `kind: frames` " +
    "(MIFARE Classic frames, named); `air`: the ISO/IEC 14443 air-time lower bound at 106 (and 848) kbit/s",
} as const;

const tapResult = {
  type: "object",
  required: [
    "terminal",
    "ok",
    "code",
    "message",
    "details",
    "timeline",
    "softwareMs",
    "onlineMs",
    "clearing",
    "at",
  ],
  properties: {
    terminal: {
      type: "object",
      required: ["kind", "id", "name"],
      properties: { kind: { type: "string" }, id: { type: "string" }, name: text2 },
    },
    ok: { type: "boolean" },
    code: { type: "string" },
    message: text2,
    details: { type: "object", additionalProperties: true },
    timeline,
    softwareMs: { type: "number", description: "the tap in software (terminal and SE), ms" },
    onlineMs: { type: ["number", "null"], description: "the issuer's round trip (POS), ms" },
    clearing: {
      type: ["object", "null"],
      properties: {
        sent: { type: "boolean" },
        cleared: { type: "integer" },
        duplicates: { type: "integer" },
        rejected: { type: "integer" },
        message: text2,
      },
    },
    at: { type: "string", format: "date-time" },
  },
} as const;

const gateTime = {
  type: "string",
  format: "date-time",
  description: "the terminal's own date-time (default now), as `tapwallet gate --at`",
} as const;

const terminalBody = {
  type: "object",
  required: ["terminal"],
  additionalProperties: false,
  properties: {
    terminal: {
      oneOf: [
        {
          type: "object",
          required: ["kind", "amount"],
          additionalProperties: false,
          properties: {
            kind: { const: "pos" },
            amount: { type: "integer", minimum: 1, maximum: 99_999_999 },
          },
        },
        {
          type: "object",
          required: ["kind", "direction", "station"],
          additionalProperties: false,
          properties: {
            kind: { const: "gate" },
            direction: { type: "string", enum: ["entry", "exit"] },
            station: { type: "string", pattern: "^[0-9]{4}$" },
            at: gateTime,
          },
        },
        {
          type: "object",
          required: ["kind"],
          additionalProperties: false,
          properties: { kind: { const: "bus" }, at: gateTime },
        },
        {
          type: "object",
          required: ["kind", "mode"],
          additionalProperties: false,
          properties: {
            kind: { const: "door" },
            mode: { type: "string", enum: ["uid", "sector"] },
            enrol: { type: "boolean" },
          },
        },
      ],
    },
  },
} as const;

function callerOf(request: FastifyRequest) {
  if (!request.simCaller) throw new TapwalletError("unauthenticated", "请先登录", "Sign in first");
  return request.simCaller;
}

export const simRoutes: FastifyPluginAsync<SimRouteOptions> = async (app, o) => {
  const sim = o.simulator;
  app.setErrorHandler(simErrorHandler);

  /** The caller is a signed-in user of the cloud (asked every time: the simulator keeps no sessions). */
  const session = async (request: FastifyRequest) => {
    const m = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? "");
    if (!m) throw new TapwalletError("unauthenticated", "请先登录", "Sign in first");
    const client = new SessionClient(o.cloudUrl, o.fetch, m[1]!);
    request.simCaller = { account: await client.me(), session: client };
  };
  const base = { preHandler: session } as const;

  app.get(
    "/terminals",
    {
      schema: {
        tags,
        summary:
          "终端模拟器 / what the terminal simulator offers: POS, metro stations, bus fare, door reader",
        security: [],
        response: { 200: { type: "object", additionalProperties: true }, ...errors },
      },
    },
    async () => terminalCatalogue(),
  );

  app.get(
    "/phones",
    {
      ...base,
      schema: {
        tags,
        summary: "我的模拟手机 / my simulated phones",
        security,
        response: {
          200: {
            type: "object",
            required: ["phones"],
            properties: { phones: { type: "array", items: phoneView } },
          },
          ...errors,
        },
      },
    },
    async (request) => ({ phones: await sim.list(callerOf(request).account) }),
  );

  app.post<{ Body: { model: string; region: string; name?: string } }>(
    "/phones",
    {
      ...base,
      schema: {
        tags,
        summary: "新建模拟手机 / make a phone (model, region) and register it with my account",
        description:
          "The factory makes the phone (a fresh SE, its keys from the factory master) and it binds to the " +
          "account with a new device key. The cloud's refusals pass through: `unsupported_model` (403, " +
          "`details.supportedModels`), `region_not_supported` (403). A refused phone is not kept.",
        security,
        body: {
          type: "object",
          required: ["model", "region"],
          additionalProperties: false,
          properties: {
            model: {
              type: "string",
              minLength: 1,
              maxLength: 40,
              description: "model name or Android code name",
            },
            region: { type: "string", pattern: "^[A-Z]{2}$" },
            name: { type: "string", maxLength: 40 },
          },
        },
        response: { 201: phoneView, ...errors },
      },
    },
    async (request, reply) => {
      const c = callerOf(request);
      return reply.code(201).send(await sim.create(c.session, c.account, request.body));
    },
  );

  app.get<{ Params: { phoneId: string } }>(
    "/phones/:phoneId",
    {
      ...base,
      schema: {
        tags,
        summary: "模拟手机 / one of my simulated phones",
        security,
        params: phoneParams,
        response: { 200: phoneView, ...errors },
      },
    },
    async (request) => sim.show(callerOf(request).account, request.params.phoneId),
  );

  app.delete<{ Params: { phoneId: string } }>(
    "/phones/:phoneId",
    {
      ...base,
      schema: {
        tags,
        summary: "移除模拟手机 / remove the phone from my account and from the simulator",
        security,
        params: phoneParams,
        response: { 204: { type: "null" }, ...errors },
      },
    },
    async (request, reply) => {
      const c = callerOf(request);
      await sim.remove(c.session, c.account, request.params.phoneId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { phoneId: string } }>(
    "/phones/:phoneId/sync",
    {
      ...base,
      schema: {
        tags,
        summary: "同步 / the phone checks in and runs what the TSM queued (and its transit checks)",
        security,
        params: phoneParams,
        body: emptyBody,
        response: { 200: phoneAndSync, ...errors },
      },
    },
    async (request) => sim.sync(callerOf(request).account, request.params.phoneId),
  );

  app.post<{ Params: { phoneId: string } }>(
    "/phones/:phoneId/lock",
    {
      ...base,
      schema: {
        tags,
        summary: "锁屏 / lock the phone (only the express transit card answers readers)",
        security,
        params: phoneParams,
        body: emptyBody,
        response: { 200: phoneView, ...errors },
      },
    },
    async (request) => sim.lock(callerOf(request).account, request.params.phoneId),
  );

  for (const action of ["unlock", "verify"] as const) {
    app.post<{ Params: { phoneId: string }; Body: { method: "fingerprint" | "passcode" } }>(
      `/phones/:phoneId/${action}`,
      {
        ...base,
        schema: {
          tags,
          summary:
            action === "unlock"
              ? "解锁 / unlock the phone (a user verification too)"
              : "验证身份 / the user verifies on the phone (CDCVM for the next payment)",
          security,
          params: phoneParams,
          body: { type: "object", required: ["method"], additionalProperties: false, properties: { method } },
          response: { 200: phoneView, ...errors },
        },
      },
      async (request) =>
        (action === "unlock" ? sim.unlock : sim.verify).call(
          sim,
          callerOf(request).account,
          request.params.phoneId,
          request.body.method,
        ),
    );
  }

  app.post<{ Params: { phoneId: string }; Body: { bankCardId: string } }>(
    "/phones/:phoneId/default",
    {
      ...base,
      schema: {
        tags,
        summary: "默认银行卡 / make a bank card the default (through the cloud), then sync",
        security,
        params: phoneParams,
        body: {
          type: "object",
          required: ["bankCardId"],
          additionalProperties: false,
          properties: { bankCardId: id },
        },
        response: { 200: phoneAndSync, ...errors },
      },
    },
    async (request) => {
      const c = callerOf(request);
      return sim.setDefault(c.session, c.account, request.params.phoneId, request.body.bankCardId);
    },
  );

  app.post<{ Params: { phoneId: string }; Body: { aid: string } }>(
    "/phones/:phoneId/express",
    {
      ...base,
      schema: {
        tags,
        summary: "快捷交通卡 / make a transit card the express card (a setting of the phone), then sync",
        security,
        params: phoneParams,
        body: {
          type: "object",
          required: ["aid"],
          additionalProperties: false,
          properties: { aid: { type: "string", pattern: "^([0-9A-Fa-f]{2}){5,16}$" } },
        },
        response: { 200: phoneAndSync, ...errors },
      },
    },
    async (request) => sim.setExpress(callerOf(request).account, request.params.phoneId, request.body.aid),
  );

  app.post<{ Params: { phoneId: string } }>(
    "/phones/:phoneId/lost",
    {
      ...base,
      schema: {
        tags,
        summary: "挂失 / report the phone lost (its cards are suspended) — it hears it and wipes its cards",
        security,
        params: phoneParams,
        body: emptyBody,
        response: { 200: phoneAndSync, ...errors },
      },
    },
    async (request) => {
      const c = callerOf(request);
      return sim.reportLost(c.session, c.account, request.params.phoneId);
    },
  );

  app.post<{
    Params: { phoneId: string };
    Body: { productId: string; firstTopUp: number; channel: FundingChannel };
  }>(
    "/phones/:phoneId/transit/cards",
    {
      ...base,
      schema: {
        tags,
        summary: "开卡 / open a transit card on the phone: fee and first top-up paid, installed at once",
        description:
          "The phone's own rules first (one China T-Union card per phone: `t_union_limit`; a closed product: " +
          "`product_closed`, naming its successor), then the cloud's (`model_not_supported`, the top-up limits).",
        security,
        params: phoneParams,
        body: {
          type: "object",
          required: ["productId", "firstTopUp", "channel"],
          additionalProperties: false,
          properties: { productId: id, firstTopUp: fen, channel },
        },
        response: { 201: cloudView("transit card (GET /api/v1/transit/cards/{id})"), ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await sim.openTransit(callerOf(request).account, request.params.phoneId, request.body)),
  );

  app.post<{
    Params: { phoneId: string; cardId: string };
    Body: { amount: number; channel: FundingChannel };
  }>(
    "/phones/:phoneId/transit/cards/:cardId/topups",
    {
      ...base,
      schema: {
        tags,
        summary: "充值 / top up: the phone relays the cloud's load (MAC1, MAC2, TAC) to its card",
        security,
        params: cardParams,
        body: {
          type: "object",
          required: ["amount", "channel"],
          additionalProperties: false,
          properties: { amount: fen, channel },
        },
        response: { 200: cloudView("top-up (GET /api/v1/transit/topups/{id})"), ...errors },
      },
    },
    async (request) =>
      sim.topUp(callerOf(request).account, request.params.phoneId, request.params.cardId, request.body),
  );

  app.post<{ Params: { phoneId: string; cardId: string } }>(
    "/phones/:phoneId/transit/cards/:cardId/refund",
    {
      ...base,
      schema: {
        tags,
        summary: "退卡 / refund the card: the phone proves its balance, the card is deleted, money goes back",
        security,
        params: cardParams,
        body: emptyBody,
        response: { 200: cloudView("refund (GET /api/v1/transit/refunds/{id})"), ...errors },
      },
    },
    async (request) => sim.refund(callerOf(request).account, request.params.phoneId, request.params.cardId),
  );

  app.post<{ Params: { phoneId: string; cardId: string }; Body: { targetPhoneId: string } }>(
    "/phones/:phoneId/transit/cards/:cardId/transfer",
    {
      ...base,
      schema: {
        tags,
        summary: "移卡 / move the card to another of my simulated phones (both phones take part)",
        security,
        params: cardParams,
        body: {
          type: "object",
          required: ["targetPhoneId"],
          additionalProperties: false,
          properties: { targetPhoneId: id },
        },
        response: { 200: cloudView("transfer (GET /api/v1/transit/transfers/{id})"), ...errors },
      },
    },
    async (request) =>
      sim.transfer(
        callerOf(request).account,
        request.params.phoneId,
        request.params.cardId,
        request.body.targetPhoneId,
      ),
  );

  app.post<{ Params: { phoneId: string }; Body: { terminal: TerminalSpec } }>(
    "/phones/:phoneId/taps",
    {
      ...base,
      schema: {
        tags,
        summary: "刷卡 / hold the phone to a terminal: POS (amount), metro gate, bus validator, door reader",
        description:
          "Answers the terminal's outcome, the decoded APDU (or MIFARE frame) timeline, the software time and " +
          "the air-time bound. POS payments are authorised online by the cloud's issuer; gate and bus records " +
          "go to clearing at once.",
        security,
        params: phoneParams,
        body: terminalBody,
        response: { 200: tapResult, ...errors },
      },
    },
    async (request) => sim.tap(callerOf(request).account, request.params.phoneId, request.body.terminal),
  );

  app.get(
    "/door-reader",
    {
      ...base,
      schema: {
        tags,
        summary: "门禁读卡器 / how many cards my door reader lets in, per mode",
        security,
        response: {
          200: {
            type: "object",
            required: ["uids", "credentials"],
            properties: { uids: { type: "integer" }, credentials: { type: "integer" } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const e = doorEnrolment(sim.store, callerOf(request).account.id);
      return { uids: e.uids.length, credentials: e.credentials.length };
    },
  );

  app.delete(
    "/door-reader",
    {
      ...base,
      schema: {
        tags,
        summary: "清空门禁登记 / forget every card my door reader lets in",
        security,
        response: { 204: { type: "null" }, ...errors },
      },
    },
    async (request, reply) => {
      clearDoorEnrolment(sim.store, callerOf(request).account.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { dump: string; fileName?: string } }>(
    "/door-cards/inspect",
    {
      ...base,
      schema: {
        tags,
        summary: "检查门卡转储 / the phone's check of a dump: what it is and whether it can be emulated",
        description:
          "Any format the cloud takes (proxmark3 JSON, .bin/.mfd/.dump, .eml, MCT, Flipper .nfc). Keys are " +
          "never returned: each sector says whether default keys open it.",
        security,
        body: {
          type: "object",
          required: ["dump"],
          additionalProperties: false,
          properties: {
            dump: { type: "string", minLength: 1, maxLength: 60000, description: "the file's bytes, base64" },
            fileName: { type: "string", minLength: 1, maxLength: 255 },
          },
        },
        response: { 200: inspection, ...errors },
      },
    },
    async (request) => inspectDump(Buffer.from(request.body.dump, "base64"), request.body.fileName),
  );

  app.post<{ Body: { sample: SampleFob } }>(
    "/reader/door-cards",
    {
      ...base,
      schema: {
        tags,
        summary: "读卡器读门卡 / read a sample access fob on the simulator's reader (dictionary attack)",
        security,
        body: {
          type: "object",
          required: ["sample"],
          additionalProperties: false,
          properties: { sample: { type: "string", enum: SAMPLE_FOBS } },
        },
        response: {
          200: {
            type: "object",
            required: [
              "sample",
              "name",
              "fileName",
              "dump",
              "sectorsRead",
              "sectors",
              "inspection",
              "timeline",
              "softwareMs",
            ],
            properties: {
              sample: { type: "string" },
              name: text2,
              fileName: { type: "string" },
              dump: { type: "string", description: "Flipper .nfc, base64 (unread bytes unknown)" },
              sectorsRead: { type: "integer" },
              sectors: { type: "integer" },
              inspection,
              timeline,
              softwareMs: { type: "number" },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => readSampleFob(request.body.sample),
  );

  // Anything else under /sim/v1 is a JSON 404 (the web app's catch-all serves only app paths).
  app.all("/*", { schema: { hide: true } }, async (_request, reply) =>
    reply.code(404).send({ error: "not_found", message: { zh: "请求的资源不存在", en: "No such resource" } }),
  );
};
