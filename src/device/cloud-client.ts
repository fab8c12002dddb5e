/**
 * The phone's client for the wallet cloud, over HTTP (`fetch`). User actions carry the signed-in session
 * (`Authorization: Bearer …`); the phone's own requests (check-in, sync) are signed with its device key in
 * the cloud's scheme (`TW1-ECDSA-P256-SHA256`, the pure src/protocol/request-signing.ts: the same canonical
 * string the server verifies, over the exact body bytes sent and the path as on the request line).
 *
 * Every failure is a `TapwalletError`: the server's own `{error, message: {zh, en}}` when it answered, or
 * `cloud_unreachable` / `cloud_bad_answer` when it did not answer sensibly. A signed request answered
 * `401 device_removed` (the owner removed this phone from the account) runs `onDeviceRemoved` first, so the
 * phone can drop a binding that will never work again, and says so.
 */
import { type KeyObject, randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import { signRequest } from "../protocol/request-signing.js";
import type { OperationResult, SyncReport } from "../protocol/tsm-wire.js";

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export class CloudRequestError extends TapwalletError {
  constructor(
    code: string,
    zh: string,
    en: string,
    readonly status: number,
    details?: Record<string, unknown>,
  ) {
    super(code, zh, en, details);
    this.name = "CloudRequestError";
  }
}

export interface CloudClientOptions {
  server: string;
  clock: Clock;
  fetch?: Fetch;
  session?: string | null;
  deviceKey?: KeyObject | null;
  deviceId?: string | null;
  /** The cloud said the device this client signs for was removed from its account. */
  onDeviceRemoved?: (deviceId: string) => void;
}

type Auth = "none" | "session" | "device" | { bindWith: KeyObject };

export class CloudClient {
  private readonly base: string;
  private readonly fetchFn: Fetch;
  session: string | null;
  deviceKey: KeyObject | null;
  deviceId: string | null;

  constructor(private readonly options: CloudClientOptions) {
    this.base = options.server.replace(/\/+$/, "");
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.session = options.session ?? null;
    this.deviceKey = options.deviceKey ?? null;
    this.deviceId = options.deviceId ?? null;
  }

  // ---- accounts ----------------------------------------------------------------------------------

  requestCode(mobile: string): Promise<{ expiresInSeconds: number; resendAfterSeconds: number }> {
    return this.call("POST", "/api/v1/auth/code", "none", { phone: mobile });
  }

  signIn(
    mobile: string,
    code: string,
  ): Promise<{ token: string; expiresAt: string; account: { id: string; phone: string }; created: boolean }> {
    return this.call("POST", "/api/v1/auth/session", "none", { phone: mobile, code });
  }

  // ---- devices -----------------------------------------------------------------------------------

  /** Binds this phone: session plus a request signed by the new key (proof of possession). */
  bind(
    body: { model: string; region: string; name: string; publicKey: string; seId: string },
    key: KeyObject,
  ): Promise<DeviceInfo> {
    return this.call("POST", "/api/v1/devices", { bindWith: key }, body);
  }

  checkIn(appVersion: string): Promise<{ device: DeviceInfo; serverTime: string }> {
    return this.call("POST", "/api/v1/device/checkin", "device", { appVersion });
  }

  /** The account's events after `after` (the phone reads them with its signature). */
  notifications(after = 0, limit = 100): Promise<{ events: Notification[] }> {
    return this.call("GET", `/api/v1/notifications?after=${after}&limit=${limit}`, "device");
  }

  // ---- TSM ---------------------------------------------------------------------------------------

  openSync(report: SyncReport): Promise<unknown> {
    return this.call("POST", "/api/v1/device/tsm/sessions", "device", { report });
  }

  stepSync(session: string, step: number, results: OperationResult[]): Promise<unknown> {
    return this.call("POST", `/api/v1/device/tsm/sessions/${encodeURIComponent(session)}`, "device", {
      step,
      results,
    });
  }

  pendingScripts(): Promise<{ scripts: unknown[] }> {
    return this.call("GET", "/api/v1/device/tsm/scripts", "device");
  }

  // ---- door cards (user actions) -----------------------------------------------------------------

  uploadDoorCard(body: { dump: string; fileName?: string; name?: string }): Promise<DoorCardInfo> {
    return this.call("POST", "/api/v1/access/cards", "session", body);
  }

  doorCards(): Promise<{ cards: DoorCardInfo[] }> {
    return this.call("GET", "/api/v1/access/cards", "session");
  }

  installDoorCard(cardId: string, deviceId: string, activate: boolean): Promise<DoorPlacementInfo> {
    return this.call("POST", `/api/v1/access/cards/${encodeURIComponent(cardId)}/install`, "session", {
      deviceId,
      activate,
    });
  }

  // ---- any route (the card services' phone-side modules, e.g. src/device/transit.ts) ---------------

  request<T>(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    auth: "session" | "device",
    body?: unknown,
  ): Promise<T> {
    return this.call(method, path, auth, body);
  }

  // ---- transport ---------------------------------------------------------------------------------

  private async call<T>(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    auth: Auth,
    body?: unknown,
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (auth === "session" || typeof auth === "object") {
      if (!this.session)
        throw new TapwalletError(
          "not_signed_in",
          "请先登录（tapwallet phone login）",
          "sign in first (tapwallet phone login)",
        );
      headers["authorization"] = `Bearer ${this.session}`;
    }
    if (auth === "device" || typeof auth === "object") {
      const key = typeof auth === "object" ? auth.bindWith : this.deviceKey;
      const deviceId = typeof auth === "object" ? undefined : this.deviceId;
      if (!key || (auth === "device" && !deviceId))
        throw new TapwalletError(
          "not_registered",
          "手机尚未注册（tapwallet phone register）",
          "this phone is not registered (tapwallet phone register)",
        );
      Object.assign(
        headers,
        signRequest(
          key,
          {
            method,
            path,
            timestamp: this.options.clock.now().getTime(),
            nonce: randomBytes(18).toString("base64url"),
            body: payload,
          },
          deviceId ?? undefined,
        ),
      );
    }
    let response: Response;
    try {
      response = await this.fetchFn(this.base + path, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
    } catch (e) {
      throw new TapwalletError(
        "cloud_unreachable",
        `无法连接钱包云端 ${this.base}`,
        `cannot reach the wallet cloud at ${this.base}`,
        { cause: e instanceof Error ? e.message : String(e) },
      );
    }
    const text = await response.text();
    let json: unknown = null;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        throw badAnswer(response.status);
      }
    }
    if (response.ok) return json as T;
    const e = json as { error?: unknown; message?: { zh?: unknown; en?: unknown }; details?: unknown } | null;
    if (auth === "device" && response.status === 401 && e?.error === "device_removed" && this.deviceId) {
      this.options.onDeviceRemoved?.(this.deviceId);
      throw new CloudRequestError(
        "device_removed",
        "本机已从账户中移除，已清除本机的绑定和设备密钥；登录后可重新注册（tapwallet phone register）",
        "this phone was removed from its account; its binding and device key were cleared here — register it " +
          "again (tapwallet phone register)",
        401,
      );
    }
    if (
      e &&
      typeof e.error === "string" &&
      typeof e.message?.zh === "string" &&
      typeof e.message.en === "string"
    )
      throw new CloudRequestError(
        e.error,
        e.message.zh,
        e.message.en,
        response.status,
        typeof e.details === "object" && e.details !== null
          ? (e.details as Record<string, unknown>)
          : undefined,
      );
    throw badAnswer(response.status);
  }
}

function badAnswer(status: number): TapwalletError {
  return new TapwalletError(
    "cloud_bad_answer",
    `钱包云端的应答无法识别（HTTP ${status}）`,
    `the wallet cloud's answer was not understood (HTTP ${status})`,
  );
}

export interface DeviceInfo {
  id: string;
  model: { code: string; zh: string; en: string };
  name: string;
  region: string;
  seId: string;
  lost: boolean;
}

export interface Notification {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface DoorPlacementInfo {
  deviceId: string;
  aid: string;
  state: string;
  error: { code: string; zh: string; en: string } | null;
}

export interface DoorCardInfo {
  id: string;
  name: string;
  uid: string;
  type: string;
  placements: DoorPlacementInfo[];
}
