/**
 * Who is calling. Two ways in, as Fastify preHandlers:
 *   - `session`: `Authorization: Bearer tws_…` from sign-in (the web app, or the phone's user actions);
 *   - `device`: a request signed by a bound phone's key (see src/protocol/request-signing.ts);
 *   - `any`: either (notifications reach the web app and the phone alike).
 */
import type { FastifyRequest } from "fastify";
import type { SessionPrincipal } from "../accounts/service.js";
import type { DevicePrincipal } from "../devices/service.js";
import { CloudError } from "../errors.js";
import type { Services } from "../services.js";
import { SIGNATURE_HEADERS } from "../../protocol/request-signing.js";

export type Principal = SessionPrincipal | DevicePrincipal;

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
    /** The JSON body's bytes as received, for the signature's body digest. */
    rawBody?: Buffer;
  }
}

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== "string") return undefined;
  const m = /^Bearer ([^\s]+)$/.exec(h);
  return m?.[1];
}

function notSignedIn(): CloudError {
  return new CloudError("unauthenticated", "unauthenticated", "请先登录", "Sign in first");
}

export class Auth {
  constructor(private readonly services: Services) {}

  readonly session = async (request: FastifyRequest): Promise<void> => {
    const token = bearer(request);
    if (!token) throw notSignedIn();
    request.principal = await this.services.accounts.authenticate(token);
  };

  readonly device = async (request: FastifyRequest): Promise<void> => {
    request.principal = await this.services.devices.authenticateSigned({
      method: request.method,
      url: request.url,
      headers: request.headers,
      rawBody: request.rawBody,
    });
  };

  readonly any = async (request: FastifyRequest): Promise<void> => {
    if (request.headers.authorization !== undefined) return this.session(request);
    if (request.headers[SIGNATURE_HEADERS.signature] !== undefined) return this.device(request);
    throw notSignedIn();
  };

  /** Still valid? (long-lived streams re-check their caller now and then). */
  async stillValid(principal: Principal): Promise<boolean> {
    return principal.kind === "session"
      ? this.services.accounts.isSessionLive(principal.sessionId)
      : this.services.devices.isActive(principal.deviceId);
  }
}

/** The caller's principal; routes behind an auth preHandler always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw notSignedIn();
  return request.principal;
}

export function sessionOf(request: FastifyRequest): SessionPrincipal {
  const p = principalOf(request);
  if (p.kind !== "session") throw notSignedIn();
  return p;
}

export function deviceOf(request: FastifyRequest): DevicePrincipal {
  const p = principalOf(request);
  if (p.kind !== "device") {
    throw new CloudError(
      "unauthenticated",
      "signature_missing",
      "请求缺少设备签名",
      "The request carries no device signature",
    );
  }
  return p;
}

/** Schema fragments for OpenAPI's security requirement on a route. */
export const security = {
  session: [{ session: [] }],
  device: [{ deviceSignature: [] }],
  any: [{ session: [] }, { deviceSignature: [] }],
} as const;
