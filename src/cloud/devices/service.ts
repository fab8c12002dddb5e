/**
 * Phones bound to accounts.
 *
 * - Binding: a signed-in user's phone sends its model, region, SE id and a fresh ECDSA P-256 public key,
 *   and signs that very request with the matching private key (proof of possession). Only supported
 *   models in mainland China are accepted; each refusal says why.
 * - Afterwards the phone signs every request (see `signing.ts`); the server checks the timestamp window,
 *   the signature, and that the nonce is new for that key (nonces are kept in the database, so a replay
 *   through another instance is refused too).
 * - An account sees and changes only its own phones. Another account's device id answers 404 exactly as
 *   an unknown id does, so ids cannot be probed (docs/CLOUD.md).
 * - Reporting a phone lost sets a flag and runs the `onLost` hooks inside the same transaction: the
 *   token service will register one that suspends the phone's cards.
 * - The imported public keys are kept in a bounded LRU keyed by the stored SPKI (`key-cache.ts`): data derived
 *   from the row, not state — the row itself is read on every request.
 */
import type { Transaction } from "kysely";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import type { DevicesTable } from "./tables.js";
import { forUpdate, isUniqueViolation, lockAccount, transaction, type Executor } from "../db/tx.js";
import { CloudError } from "../errors.js";
import type { Notifications } from "../notifications/service.js";
import { randomId } from "../random.js";
import type { RateLimits } from "../ratelimit/service.js";
import { SUPPORTED_MODELS, findModel, type PhoneModel } from "../../protocol/phone-models.js";
import { DeviceKeyCache } from "./key-cache.js";
import { regionRefusal } from "./regions.js";
import {
  canonicalString,
  parseDevicePublicKey,
  parseSignatureHeaders,
  verifyCanonical,
  type DevicePublicKey,
  type SignatureHeaders,
} from "../../protocol/request-signing.js";

export interface DeviceView {
  id: string;
  model: PhoneModel;
  name: string;
  region: string;
  seId: string;
  appVersion: string | null;
  createdAt: string;
  lastSeenAt: string | null;
  lost: boolean;
  lostAt: string | null;
}

export interface DevicePrincipal {
  kind: "device";
  accountId: string;
  deviceId: string;
}

/** What the signature check needs of an HTTP request. */
export interface SignedRequest {
  method: string;
  /** Path and query as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Uint8Array;
}

export interface BindInput {
  model: string;
  region: string;
  name?: string;
  /** base64 SPKI DER of an ECDSA P-256 key. */
  publicKey: string;
  seId: string;
}

/** Runs inside the transaction that changes the device, so its effects commit or roll back with it. */
export type DeviceHook = (
  trx: Transaction<Database>,
  device: DeviceView & { accountId: string },
) => Promise<void>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function unauthenticated(code: string, zh: string, en: string): CloudError {
  return new CloudError("unauthenticated", code, zh, en);
}

/** Another account's phone answers exactly as an unknown one (docs/CLOUD.md): every module throws this. */
export function deviceNotFound(): CloudError {
  return new CloudError("not_found", "device_not_found", "设备不存在", "No such device");
}

export class DeviceService {
  private readonly lostHooks: DeviceHook[] = [];
  private readonly removedHooks: DeviceHook[] = [];
  /** Imported keys by their stored SPKI: derived from the rows, never deciding anything (key-cache.ts). */
  private readonly keys: DeviceKeyCache;

  constructor(
    private readonly ctx: CloudContext,
    private readonly rateLimits: RateLimits,
    private readonly notifications: Notifications,
  ) {
    this.keys = new DeviceKeyCache(ctx.policy.deviceKeyCacheSize);
  }

  /** Registers work to do when an owner reports a phone lost (e.g. suspend its tokens). */
  onLost(hook: DeviceHook): void {
    this.lostHooks.push(hook);
  }

  /** Registers work to do when an owner removes a phone (e.g. delete its cards' keys). */
  onRemoved(hook: DeviceHook): void {
    this.removedHooks.push(hook);
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  private view(row: DevicesTable): DeviceView {
    // A stored model code is always one we accepted; fall back to the code itself if the table shrank.
    const model = findModel(row.model_code) ?? {
      code: row.model_code,
      zh: row.model_code,
      en: row.model_code,
    };
    return {
      id: row.id,
      model,
      name: row.name,
      region: row.region,
      seId: row.se_id,
      appVersion: row.app_version,
      createdAt: new Date(row.created_at).toISOString(),
      lastSeenAt: iso(row.last_seen_at),
      lost: row.lost_at !== null,
      lostAt: iso(row.lost_at),
    };
  }

  /** Checks window, signature and nonce of a request signed with `key`; consumes the nonce. */
  private async verifySigned(
    request: SignedRequest,
    sig: SignatureHeaders,
    key: DevicePublicKey,
  ): Promise<void> {
    const now = this.now();
    const window = this.ctx.policy.signatureWindowMs;
    if (Math.abs(now - sig.timestamp) > window) {
      throw unauthenticated(
        "timestamp_out_of_window",
        "请求时间戳超出允许范围，请校准手机时间",
        "Request timestamp is outside the allowed window; check the phone's clock",
      );
    }
    const canonical = canonicalString({
      method: request.method,
      path: request.url,
      timestamp: sig.timestamp,
      nonce: sig.nonce,
      body: request.rawBody,
    });
    if (!verifyCanonical(key.key, canonical, sig.signature)) {
      throw unauthenticated("bad_signature", "请求签名无效", "The request signature does not verify");
    }
    // Only after the signature verifies, so strangers cannot fill the table.
    const stored = await this.ctx.db.db
      .insertInto("signature_nonces")
      .values({
        key_fingerprint: key.fingerprint,
        nonce: sig.nonce,
        expires_at: Math.max(now, sig.timestamp) + window,
      })
      .onConflict((oc) => oc.columns(["key_fingerprint", "nonce"]).doNothing())
      .returning("nonce")
      .executeTakeFirst();
    if (!stored) {
      throw unauthenticated(
        "nonce_replayed",
        "重复的请求（随机数已使用）",
        "Replayed request: the nonce was already used",
      );
    }
  }

  /** Authenticates a request signed by a bound phone. */
  async authenticateSigned(request: SignedRequest): Promise<DevicePrincipal> {
    const sig = parseSignatureHeaders(request.headers);
    if (!sig.ok) {
      throw sig.error === "missing"
        ? unauthenticated("signature_missing", "请求缺少设备签名", "The request carries no device signature")
        : unauthenticated(
            "signature_malformed",
            "设备签名格式错误",
            "The device signature headers are malformed",
          );
    }
    if (!sig.value.deviceId) {
      throw unauthenticated(
        "signature_malformed",
        "设备签名缺少设备标识",
        "The device signature has no device id",
      );
    }
    const row = await this.ctx.db.db
      .selectFrom("devices")
      .select(["id", "account_id", "public_key", "removed_at"])
      .where("id", "=", sig.value.deviceId)
      .executeTakeFirst();
    if (!row) throw unauthenticated("unknown_device", "设备未绑定", "The device is not bound");
    if (row.removed_at !== null) {
      throw unauthenticated(
        "device_removed",
        "设备已被移除，请重新绑定",
        "The device was removed; bind it again",
      );
    }
    const key = this.keys.get(row.public_key);
    if (!key.ok) throw unauthenticated("unknown_device", "设备未绑定", "The device is not bound");
    await this.verifySigned(request, sig.value, key.value);
    return { kind: "device", accountId: row.account_id, deviceId: row.id };
  }

  /** Binds a phone to the account; the request must be signed by the key it registers. */
  async bind(accountId: string, input: BindInput, request: SignedRequest): Promise<DeviceView> {
    const model = findModel(input.model);
    if (!model) {
      throw new CloudError(
        "refused",
        "unsupported_model",
        `该机型（${input.model}）不支持小米支付`,
        `This phone model (${input.model}) does not support Mi Pay`,
        { supportedModels: SUPPORTED_MODELS.map((m) => m.code) },
      );
    }
    const refusal = regionRefusal(input.region);
    if (refusal)
      throw new CloudError("refused", "region_not_supported", refusal.zh, refusal.en, {
        region: input.region,
      });
    const key = parseDevicePublicKey(input.publicKey);
    if (!key.ok) {
      throw new CloudError(
        "invalid",
        "invalid_public_key",
        "设备公钥无效（需 ECDSA P-256）",
        "Invalid device public key (ECDSA P-256 required)",
      );
    }
    const sig = parseSignatureHeaders(request.headers);
    if (!sig.ok || sig.value.deviceId) {
      throw unauthenticated(
        "proof_of_possession_required",
        "绑定请求须用新设备私钥签名",
        "The binding request must be signed with the new device key",
      );
    }
    await this.rateLimits.hit(`bind:${accountId}`, this.ctx.policy.bindsPerAccount);
    await this.verifySigned(request, sig.value, key.value);

    try {
      return await transaction(this.ctx.db.db, async (trx) => {
        // Serialises binds of one account, so the device limit holds under concurrency.
        await lockAccount(trx, this.ctx.db.dialect, accountId);
        const active = await trx
          .selectFrom("devices")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("account_id", "=", accountId)
          .where("removed_at", "is", null)
          .executeTakeFirstOrThrow();
        if (Number(active.n) >= this.ctx.policy.maxDevicesPerAccount) {
          throw new CloudError(
            "conflict",
            "too_many_devices",
            `每个账户最多绑定 ${this.ctx.policy.maxDevicesPerAccount} 台设备`,
            `An account may bind at most ${this.ctx.policy.maxDevicesPerAccount} devices`,
          );
        }
        const seTaken = await trx
          .selectFrom("devices")
          .select("id")
          .where("se_id", "=", input.seId)
          .where("removed_at", "is", null)
          .executeTakeFirst();
        if (seTaken) throw seAlreadyBound();
        const now = this.now();
        const row: DevicesTable = {
          id: randomId(this.ctx.rng, "dev"),
          account_id: accountId,
          model_code: model.code,
          name: input.name?.trim() || model.zh,
          region: input.region,
          public_key: key.value.spki,
          key_fingerprint: key.value.fingerprint,
          se_id: input.seId,
          app_version: null,
          created_at: now,
          last_seen_at: now,
          lost_at: null,
          removed_at: null,
        };
        await trx.insertInto("devices").values(row).execute();
        const view = this.view(row);
        await this.notifications.publish(
          accountId,
          "device.bound",
          { deviceId: view.id, name: view.name },
          trx,
        );
        return view;
      });
    } catch (e) {
      // A key binds once; a secure element has one live binding. Racing binds end here.
      if (isUniqueViolation(e)) throw seAlreadyBound();
      throw e;
    }
  }

  async list(accountId: string): Promise<DeviceView[]> {
    const rows = await this.ctx.db.db
      .selectFrom("devices")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("removed_at", "is", null)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => this.view(r));
  }

  /** The account's own active device; 404 for anyone else's (indistinguishable from a missing one). */
  async get(accountId: string, deviceId: string): Promise<DeviceView> {
    const row = await this.ownRow(this.ctx.db.db, accountId, deviceId);
    return this.view(row);
  }

  private async ownRow(exec: Executor, accountId: string, deviceId: string) {
    const row = await exec
      .selectFrom("devices")
      .selectAll()
      .where("id", "=", deviceId)
      .where("account_id", "=", accountId)
      .where("removed_at", "is", null)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
    if (!row) throw deviceNotFound();
    return row;
  }

  async rename(accountId: string, deviceId: string, name: string): Promise<DeviceView> {
    const trimmed = name.trim();
    if (!trimmed)
      throw new CloudError(
        "invalid",
        "invalid_device_name",
        "设备名称不能为空",
        "The device name cannot be empty",
      );
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownRow(trx, accountId, deviceId);
      await trx.updateTable("devices").set({ name: trimmed }).where("id", "=", row.id).execute();
      return this.view({ ...row, name: trimmed });
    });
  }

  /** Unbinds the phone: its key stops working at once; the `onRemoved` hooks run in the same commit. */
  async remove(accountId: string, deviceId: string): Promise<void> {
    await transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownRow(trx, accountId, deviceId);
      const now = this.now();
      await trx.updateTable("devices").set({ removed_at: now }).where("id", "=", row.id).execute();
      const view = this.view({ ...row, removed_at: now });
      for (const hook of this.removedHooks) await hook(trx, { ...view, accountId });
      await this.notifications.publish(accountId, "device.removed", { deviceId: row.id }, trx);
    });
  }

  /** Flags the phone lost (idempotent). Its key keeps working so that, on its next contact, it can be told to wipe. */
  async markLost(accountId: string, deviceId: string): Promise<DeviceView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownRow(trx, accountId, deviceId);
      if (row.lost_at !== null) return this.view(row);
      const now = this.now();
      await trx.updateTable("devices").set({ lost_at: now }).where("id", "=", row.id).execute();
      const view = this.view({ ...row, lost_at: now });
      for (const hook of this.lostHooks) await hook(trx, { ...view, accountId });
      await this.notifications.publish(accountId, "device.lost", { deviceId: row.id }, trx);
      return view;
    });
  }

  /** A phone's periodic contact: records when it was seen and its app version; tells it whether it is flagged lost. */
  async checkIn(principal: DevicePrincipal, appVersion: string): Promise<DeviceView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const row = await this.ownRow(trx, principal.accountId, principal.deviceId);
      const now = this.now();
      await trx
        .updateTable("devices")
        .set({ last_seen_at: now, app_version: appVersion })
        .where("id", "=", row.id)
        .execute();
      return this.view({ ...row, last_seen_at: now, app_version: appVersion });
    });
  }

  /** True while the device is bound (not removed). Used by long-lived streams to re-check their caller. */
  async isActive(deviceId: string): Promise<boolean> {
    const row = await this.ctx.db.db
      .selectFrom("devices")
      .select("removed_at")
      .where("id", "=", deviceId)
      .executeTakeFirst();
    return row !== undefined && row.removed_at === null;
  }

  async purgeExpiredNonces(): Promise<number> {
    const r = await this.ctx.db.db
      .deleteFrom("signature_nonces")
      .where("expires_at", "<=", this.now())
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function seAlreadyBound(): CloudError {
  return new CloudError(
    "conflict",
    "device_already_bound",
    "该设备（安全元件或密钥）已绑定，请先在原账户中移除",
    "This device (secure element or key) is already bound; remove it from its account first",
  );
}
