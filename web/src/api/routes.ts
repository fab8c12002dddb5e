/**
 * Every endpoint the web app calls, as data: method, path, who may call it (`none` or a signed-in
 * `session`), and which server part answers it — the cloud's API under `/api/v1`, or the phone and
 * terminal simulator under `/sim/v1` (src/sim: the phones' side, served beside the API). `endpoints.ts`
 * builds the typed calls from this table, and `test/browser/api-contract.test.ts` checks each row against
 * the server's OpenAPI document, so a renamed or removed route fails a test rather than a user. Pure data.
 */
const API_PREFIX = "/api/v1";
const SIM_PREFIX = "/sim/v1";

export type Caller = "none" | "session";
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteSpec {
  method: Method;
  /** Path under the prefix; `:name` marks a path parameter. */
  path: string;
  caller: Caller;
  /** `sim` for the simulator's routes; the cloud's API otherwise. */
  base?: "sim";
}

export const ROUTES = {
  requestCode: { method: "POST", path: "/auth/code", caller: "none" },
  signIn: { method: "POST", path: "/auth/session", caller: "none" },
  signOut: { method: "DELETE", path: "/auth/session", caller: "session" },
  me: { method: "GET", path: "/me", caller: "session" },

  models: { method: "GET", path: "/models", caller: "none" },
  listDevices: { method: "GET", path: "/devices", caller: "session" },
  reportLost: { method: "POST", path: "/devices/:deviceId/lost", caller: "session" },
  removeDevice: { method: "DELETE", path: "/devices/:deviceId", caller: "session" },

  notifications: { method: "GET", path: "/notifications", caller: "session" },
  notificationStream: { method: "GET", path: "/notifications/stream", caller: "session" },

  bankTerms: { method: "GET", path: "/bank-cards/terms", caller: "none" },
  addBankCard: { method: "POST", path: "/bank-cards", caller: "session" },
  verifyBankCode: { method: "POST", path: "/bank-cards/enrolments/:enrolmentId", caller: "session" },
  resendBankCode: { method: "POST", path: "/bank-cards/enrolments/:enrolmentId/code", caller: "session" },
  listBankCards: { method: "GET", path: "/bank-cards", caller: "session" },
  getBankCard: { method: "GET", path: "/bank-cards/:cardId", caller: "session" },
  updateBankCard: { method: "PATCH", path: "/bank-cards/:cardId", caller: "session" },
  deleteBankCard: { method: "DELETE", path: "/bank-cards/:cardId", caller: "session" },
  bankCardTransactions: { method: "GET", path: "/bank-cards/:cardId/transactions", caller: "session" },

  transitProducts: { method: "GET", path: "/transit/products", caller: "session" },
  listTransitCards: { method: "GET", path: "/transit/cards", caller: "session" },
  getTransitCard: { method: "GET", path: "/transit/cards/:cardId", caller: "session" },
  transitTransactions: { method: "GET", path: "/transit/cards/:cardId/transactions", caller: "session" },

  uploadDoorCard: { method: "POST", path: "/access/cards", caller: "session" },
  listDoorCards: { method: "GET", path: "/access/cards", caller: "session" },
  deleteDoorCard: { method: "DELETE", path: "/access/cards/:cardId", caller: "session" },
  installDoorCard: { method: "POST", path: "/access/cards/:cardId/install", caller: "session" },
  activateDoorCard: { method: "POST", path: "/access/cards/:cardId/activate", caller: "session" },

  simTerminals: { method: "GET", path: "/terminals", caller: "none", base: "sim" },
  simPhones: { method: "GET", path: "/phones", caller: "session", base: "sim" },
  simCreatePhone: { method: "POST", path: "/phones", caller: "session", base: "sim" },
  simPhone: { method: "GET", path: "/phones/:phoneId", caller: "session", base: "sim" },
  simRemovePhone: { method: "DELETE", path: "/phones/:phoneId", caller: "session", base: "sim" },
  simSync: { method: "POST", path: "/phones/:phoneId/sync", caller: "session", base: "sim" },
  simLock: { method: "POST", path: "/phones/:phoneId/lock", caller: "session", base: "sim" },
  simUnlock: { method: "POST", path: "/phones/:phoneId/unlock", caller: "session", base: "sim" },
  simVerify: { method: "POST", path: "/phones/:phoneId/verify", caller: "session", base: "sim" },
  simDefault: { method: "POST", path: "/phones/:phoneId/default", caller: "session", base: "sim" },
  simExpress: { method: "POST", path: "/phones/:phoneId/express", caller: "session", base: "sim" },
  simLost: { method: "POST", path: "/phones/:phoneId/lost", caller: "session", base: "sim" },
  simOpenTransit: { method: "POST", path: "/phones/:phoneId/transit/cards", caller: "session", base: "sim" },
  simTopUp: {
    method: "POST",
    path: "/phones/:phoneId/transit/cards/:cardId/topups",
    caller: "session",
    base: "sim",
  },
  simRefund: {
    method: "POST",
    path: "/phones/:phoneId/transit/cards/:cardId/refund",
    caller: "session",
    base: "sim",
  },
  simTransfer: {
    method: "POST",
    path: "/phones/:phoneId/transit/cards/:cardId/transfer",
    caller: "session",
    base: "sim",
  },
  simTap: { method: "POST", path: "/phones/:phoneId/taps", caller: "session", base: "sim" },
  simDoorReader: { method: "GET", path: "/door-reader", caller: "session", base: "sim" },
  simClearDoorReader: { method: "DELETE", path: "/door-reader", caller: "session", base: "sim" },
  simInspectDump: { method: "POST", path: "/door-cards/inspect", caller: "session", base: "sim" },
  simReadFob: { method: "POST", path: "/reader/door-cards", caller: "session", base: "sim" },
} as const satisfies Record<string, RouteSpec>;

/** The prefix a route lives under. */
export function routePrefix(spec: RouteSpec): string {
  return spec.base === "sim" ? SIM_PREFIX : API_PREFIX;
}

/** `/devices/:deviceId` + `{deviceId: "dev_1"}` → `/api/v1/devices/dev_1` (parameters URL-encoded). */
export function routePath(spec: RouteSpec, params: Record<string, string> = {}): string {
  const path = spec.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
  return routePrefix(spec) + path;
}
