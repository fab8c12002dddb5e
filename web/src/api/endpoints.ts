/**
 * The cloud's API as typed functions, grouped by service. To add an endpoint: a row in `routes.ts`, its
 * response type in `types.ts`, and a function here; the contract test then checks the row against the
 * server's OpenAPI document.
 */
import { ApiError, type ApiClient, type DeviceCredentials } from "./client.js";
import { ROUTES } from "./routes.js";
import { SseParser, readEventStream, type SseMessage } from "./sse.js";
import type {
  AccountView,
  BindInput,
  CheckIn,
  CodeSent,
  DeviceView,
  ModelsResponse,
  NotificationEvent,
  NotificationPage,
  SignedIn,
} from "./types.js";

export interface StreamHandlers {
  onOpen?(): void;
  onEvent(event: NotificationEvent): void;
}

export function createApi(client: ApiClient) {
  return {
    accounts: {
      requestCode: (phone: string) => client.call<CodeSent>(ROUTES.requestCode, { body: { phone } }),
      signIn: (phone: string, code: string) =>
        client.call<SignedIn>(ROUTES.signIn, { body: { phone, code } }),
      signOut: () => client.call<void>(ROUTES.signOut),
      me: () => client.call<AccountView>(ROUTES.me),
    },

    devices: {
      models: () => client.call<ModelsResponse>(ROUTES.models),
      list: () => client.call<{ devices: DeviceView[] }>(ROUTES.listDevices).then((r) => r.devices),
      /** Binding is a session call signed by the new key (proof of possession; no device id yet). */
      bind: (input: BindInput, device: DeviceCredentials) =>
        client.call<DeviceView>(ROUTES.bindDevice, { body: input, device }),
      get: (deviceId: string) => client.call<DeviceView>(ROUTES.getDevice, { params: { deviceId } }),
      rename: (deviceId: string, name: string) =>
        client.call<DeviceView>(ROUTES.renameDevice, { params: { deviceId }, body: { name } }),
      remove: (deviceId: string) => client.call<void>(ROUTES.removeDevice, { params: { deviceId } }),
      reportLost: (deviceId: string) => client.call<DeviceView>(ROUTES.reportLost, { params: { deviceId } }),
    },

    /** Calls the phone makes for itself, signed with its device key. */
    device: {
      checkIn: (device: DeviceCredentials, appVersion: string) =>
        client.call<CheckIn>(ROUTES.checkIn, { body: { appVersion }, device }),
    },

    notifications: {
      list: (after: number, limit = 100) =>
        client.call<NotificationPage>(ROUTES.notifications, { query: { after, limit } }),
      /**
       * One connection to the event stream, resuming after `after`. Resolves when the server ends the
       * stream; rejects with an ApiError if it cannot be opened. The caller reconnects.
       */
      async stream(after: number, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
        const { url, headers } = await client.prepare(ROUTES.notificationStream, { query: { after } });
        headers["accept"] = "text/event-stream";
        let response: Response;
        try {
          response = await fetch(url, { headers, signal });
        } catch {
          throw new ApiError(0, signal.aborted ? "aborted" : "network_error");
        }
        if (!response.ok || !response.body) {
          const body: unknown = await response.json().catch(() => undefined);
          const e = body as { error?: string; message?: { zh: string; en: string } } | undefined;
          throw new ApiError(response.status, e?.error ?? "bad_response", e?.message);
        }
        handlers.onOpen?.();
        const onMessage = (m: SseMessage) => {
          try {
            handlers.onEvent(JSON.parse(m.data) as NotificationEvent);
          } catch {
            // A frame that is not our JSON is ignored; the cursor stays where it was.
          }
        };
        try {
          await readEventStream(response.body, new SseParser(), onMessage, signal);
        } catch {
          if (!signal.aborted) throw new ApiError(0, "network_error");
        }
      },
    },
  };
}

export type Api = ReturnType<typeof createApi>;
