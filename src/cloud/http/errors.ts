/**
 * Every error leaves the server as `{ error: code, message: { zh, en }, details? }` with a 4xx status (or
 * 500 `internal_error` with no detail at all). Never a stack trace, never the request's values: validation
 * messages name the field and the rule, not what was sent.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isCloudError, type ErrorKind } from "../errors.js";
import { zhEn } from "./schemas.js";

const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  refused: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

export interface ErrorBody {
  error: string;
  message: { zh: string; en: string };
  details?: Record<string, unknown>;
}

const errorSchema = {
  $id: "Error",
  type: "object",
  description: "错误 / error: a stable code and a message in zh-CN and English",
  required: ["error", "message"],
  properties: {
    error: { type: "string", description: "stable machine-readable code, e.g. `otp_locked`" },
    message: zhEn,
    details: { type: "object", additionalProperties: true },
  },
} as const;

const errorRef = { $ref: "Error#" } as const;

/** Adds the shared error body for 4xx and 5xx to a route's response schemas. */
export function withErrors<R extends Record<string, unknown>>(
  responses: R,
): R & { "4xx": typeof errorRef; "5xx": typeof errorRef } {
  return { ...responses, "4xx": errorRef, "5xx": errorRef };
}

function body(error: string, zh: string, en: string, details?: Record<string, unknown>): ErrorBody {
  return details ? { error, message: { zh, en }, details } : { error, message: { zh, en } };
}

/** Fastify's own errors (parsing, limits, validation) in our shape. */
function fromFastify(e: FastifyError): { status: number; body: ErrorBody } | undefined {
  if (e.validation) {
    const first = e.validation[0];
    const where = `${e.validationContext ?? "request"}${first?.instancePath ?? ""}`;
    const rule = first?.message ?? "is invalid";
    return {
      status: 400,
      body: body("invalid_request", `请求参数不合法：${where} ${rule}`, `Invalid request: ${where} ${rule}`, {
        field: where,
      }),
    };
  }
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: body("body_too_large", "请求体过大", "Request body is too large") };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return {
        status: 400,
        body: body("malformed_json", "请求体不是合法的 JSON", "Request body is not valid JSON"),
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        body: body("empty_body", "请求体为空", "Request body is empty but content-type is JSON"),
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: body(
          "unsupported_media_type",
          "不支持的内容类型，请使用 application/json",
          "Unsupported content type; use application/json",
        ),
      };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return {
        status: 400,
        body: body(
          "bad_content_length",
          "Content-Length 与请求体不符",
          "Content-Length does not match the body",
        ),
      };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: body("bad_request", "请求无效", "Bad request") };
  }
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.addSchema(errorSchema);

  app.setErrorHandler((e: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isCloudError(e)) {
      const retry = e.details?.["retryAfterSeconds"];
      if (typeof retry === "number") void reply.header("retry-after", String(retry));
      return reply.code(STATUS_OF[e.kind]).send(body(e.code, e.zh, e.en, e.details));
    }
    const known = fromFastify(e);
    if (known) return reply.code(known.status).send(known.body);
    // Unexpected: log it (our own messages never hold secrets) and answer without detail.
    request.log.error({ err: e }, "unhandled error");
    return reply.code(500).send(body("internal_error", "服务器内部错误", "Internal server error"));
  });

  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(body("not_found", "请求的资源不存在", "No such resource")),
  );
}
