/**
 * The simulator's errors leave it in the cloud's shape — `{error, message: {zh, en}, details?}` — so the web
 * app words them the same way. A refusal the cloud made (the phone's request came back refused) keeps the
 * cloud's status and body; a refusal the phone made itself (its own rules, a file it cannot read) gets the
 * status the cloud gives the same kind of refusal.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { TapwalletError, isTapwalletError } from "../core/errors.js";
import { CloudRequestError } from "../device/index.js";

export const simErrorSchema = {
  type: "object",
  required: ["error", "message"],
  properties: {
    error: { type: "string" },
    message: {
      type: "object",
      required: ["zh", "en"],
      properties: { zh: { type: "string" }, en: { type: "string" } },
    },
    details: { type: "object", additionalProperties: true },
  },
} as const;

/** Statuses of the phone's own refusals; any other is 409 (the phone's state does not allow it). */
const STATUS: Readonly<Record<string, number>> = {
  sim_phone_not_found: 404,
  card_not_found: 404,
  unknown_model: 400,
  unknown_product: 400,
  unknown_station: 400,
  cloud_unreachable: 502,
  cloud_bad_answer: 502,
};

/** What the user sent cannot be read (a dump file the parsers refuse): 400 with the parser's code. */
export class BadInputError extends TapwalletError {}

export function simErrorHandler(e: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (e instanceof CloudRequestError) {
    return reply.code(e.status).send({
      error: e.code,
      message: { zh: e.zh, en: e.en },
      ...(e.details ? { details: e.details } : {}),
    });
  }
  if (isTapwalletError(e)) {
    const status = e instanceof BadInputError ? 400 : (STATUS[e.code] ?? 409);
    return reply.code(status).send({
      error: e.code,
      message: { zh: e.zh, en: e.en },
      ...(e.details ? { details: e.details } : {}),
    });
  }
  if (e.validation) {
    const first = e.validation[0];
    const where = `${e.validationContext ?? "request"}${first?.instancePath ?? ""}`;
    const rule = first?.message ?? "is invalid";
    return reply.code(400).send({
      error: "invalid_request",
      message: { zh: `请求参数不合法：${where} ${rule}`, en: `Invalid request: ${where} ${rule}` },
      details: { field: where },
    });
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return reply
      .code(e.statusCode)
      .send({ error: "bad_request", message: { zh: "请求无效", en: "Bad request" } });
  request.log.error({ err: e }, "simulator: unhandled error");
  return reply
    .code(500)
    .send({ error: "internal_error", message: { zh: "模拟器内部错误", en: "Simulator internal error" } });
}
