/**
 * `/api/v1/notifications`: a page of events after a cursor, and a server-sent-events stream.
 *
 * The stream polls the database with its cursor (the last event number sent), so any server instance
 * can serve any account and a reconnecting client resumes with `Last-Event-ID`. It sends a comment line
 * when idle so proxies keep it open, and closes when the session or device stops being valid.
 */
import type { FastifyPluginAsync } from "fastify";
import { principalOf, security } from "../http/auth.js";
import { withErrors } from "../http/errors.js";
import type { RouteDeps } from "../module.js";
import { MAX_PAGE, type NotificationEvent } from "./service.js";

const event = {
  type: "object",
  required: ["seq", "type", "payload", "createdAt"],
  properties: {
    seq: { type: "integer" },
    type: { type: "string" },
    payload: { type: "object", additionalProperties: true },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

interface ListQuery {
  after?: string;
  limit?: string;
}

/** A cursor or count in a query string: decimal digits (validated by the schema). */
const digits = (description: string) => ({ type: "string", pattern: "^[0-9]{1,15}$", description }) as const;

function sseFrame(e: NotificationEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

export const notificationRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services, auth }) => {
  const notifications = services.notifications;
  const policy = services.ctx.policy;
  /** Open streams: how to stop each, and a promise settled once it has ended its response. */
  const open = new Map<() => void, Promise<void>>();

  // Server shutdown ends every stream and waits for them, so their connections are idle (and closed
  // at once) when the server closes, rather than lingering until the keep-alive timeout.
  app.addHook("preClose", async () => {
    for (const stop of open.keys()) stop();
    await Promise.all(open.values());
  });

  app.get<{ Querystring: ListQuery }>(
    "/notifications",
    {
      preHandler: auth.any,
      schema: {
        tags: ["notifications"],
        summary: "通知列表 / events after a cursor, oldest first",
        security: security.any,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            after: digits("last event number seen (default 0)"),
            limit: digits(`page size, 1–${MAX_PAGE} (default 50)`),
          },
        },
        response: withErrors({
          200: {
            type: "object",
            required: ["events", "cursor"],
            properties: {
              events: { type: "array", items: event },
              cursor: { type: "integer", description: "pass as `after` to get the next page" },
            },
          },
        }),
      },
    },
    async (request) => {
      const after = Number(request.query.after ?? 0);
      const limit = Math.min(MAX_PAGE, Math.max(1, Number(request.query.limit ?? 50)));
      const events = await notifications.list(principalOf(request).accountId, after, limit);
      return { events, cursor: events.at(-1)?.seq ?? after };
    },
  );

  app.get<{ Querystring: { after?: string } }>(
    "/notifications/stream",
    {
      preHandler: auth.any,
      schema: {
        tags: ["notifications"],
        summary: "通知推送（SSE）/ server-sent events",
        description:
          "Resumes after `Last-Event-ID` or `after`; with neither, sends only events newer than the connection. " +
          "Each event: `id` = seq, `event` = type, `data` = the event as JSON.",
        security: security.any,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { after: digits("resume after this event number") },
        },
        response: withErrors({
          200: {
            description: "text/event-stream",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const lastId = request.headers["last-event-id"];
      const resumeAt = typeof lastId === "string" && /^\d{1,15}$/.test(lastId) ? Number(lastId) : undefined;
      const after = request.query.after === undefined ? undefined : Number(request.query.after);
      let cursor = resumeAt ?? after ?? (await notifications.latest(principal.accountId));

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(`retry: 2000\n\n`);

      let closed = false;
      let wake: (() => void) | undefined;
      const stop = () => {
        closed = true;
        wake?.();
      };
      let ended!: () => void;
      open.set(
        stop,
        new Promise<void>((resolve) => {
          ended = resolve;
        }),
      );
      // 'close' comes when the client goes away, or after our own end has been flushed.
      res.on("close", () => {
        stop();
        ended();
      });
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });

      let lastWrite = Date.now();
      let lastCheck = Date.now();
      try {
        while (!closed) {
          const events = await notifications.list(principal.accountId, cursor, MAX_PAGE);
          for (const e of events) {
            res.write(sseFrame(e));
            cursor = e.seq;
            lastWrite = Date.now();
          }
          if (events.length === MAX_PAGE) continue;
          const now = Date.now();
          if (now - lastWrite >= policy.notificationHeartbeatMs) {
            res.write(`: keep-alive\n\n`);
            lastWrite = now;
          }
          if (now - lastCheck >= policy.notificationRecheckMs) {
            lastCheck = now;
            if (!(await auth.stillValid(principal))) break;
          }
          await pause(policy.notificationPollMs);
        }
      } catch (e) {
        request.log.warn(
          { err: e instanceof Error ? e.message : "unknown" },
          "notification stream ended by error",
        );
      } finally {
        open.delete(stop);
        res.end();
      }
    },
  );
};
