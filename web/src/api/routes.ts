/**
 * Every cloud endpoint the web app calls, as data: method, path under `/api/v1` and who may call it
 * (`none`, a signed-in `session`, or a `device` signature). `endpoints.ts` builds the typed calls from
 * this table, and `test/browser/api-contract.test.ts` checks each row against the server's OpenAPI
 * document, so a renamed or removed route fails a test rather than a user. Pure data: no imports.
 */
export const API_PREFIX = "/api/v1";

export type Caller = "none" | "session" | "device";
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteSpec {
  method: Method;
  /** Path under the prefix; `:name` marks a path parameter. */
  path: string;
  caller: Caller;
}

export const ROUTES = {
  requestCode: { method: "POST", path: "/auth/code", caller: "none" },
  signIn: { method: "POST", path: "/auth/session", caller: "none" },
  signOut: { method: "DELETE", path: "/auth/session", caller: "session" },
  me: { method: "GET", path: "/me", caller: "session" },

  models: { method: "GET", path: "/models", caller: "none" },
  listDevices: { method: "GET", path: "/devices", caller: "session" },
  bindDevice: { method: "POST", path: "/devices", caller: "session" },
  getDevice: { method: "GET", path: "/devices/:deviceId", caller: "session" },
  renameDevice: { method: "PATCH", path: "/devices/:deviceId", caller: "session" },
  removeDevice: { method: "DELETE", path: "/devices/:deviceId", caller: "session" },
  reportLost: { method: "POST", path: "/devices/:deviceId/lost", caller: "session" },
  checkIn: { method: "POST", path: "/device/checkin", caller: "device" },

  notifications: { method: "GET", path: "/notifications", caller: "session" },
  notificationStream: { method: "GET", path: "/notifications/stream", caller: "session" },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

/** `/devices/:deviceId` + `{deviceId: "dev_1"}` → `/api/v1/devices/dev_1` (parameters URL-encoded). */
export function routePath(spec: RouteSpec, params: Record<string, string> = {}): string {
  const path = spec.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
  return API_PREFIX + path;
}
