/**
 * The wallet on the virtual phone: sign in, register the phone with the cloud, sync (relay the TSM's
 * scripts to the SE and report back), lost-device handling, and the account's activity.
 *
 * Sync: a check-in (the cloud records the contact and says whether the phone is reported lost), then one
 * TSM session driven to its end (relay.ts). A session that broke off for a reason another try may cure (a
 * command refused by the SE because it was altered on the way, no answer) is retried, at most
 * `MAX_SYNC_SESSIONS` times in all. A phone reported lost gets the delete scripts of its cards in that same
 * session: on its next contact, it wipes them.
 *
 * Register binds the phone and syncs at once: an SE bound before (its phone removed from an account) still
 * holds that binding's applets, which the TSM deletes at the new binding's first sync — before the user adds a
 * card, so the phone's own checks (one T-Union card) see the SE as it will be. A signed request answered
 * `device_removed` drops the phone's binding (device id, device key): `register` works again at once.
 */
import { generateKeyPairSync } from "node:crypto";
import { TapwalletError } from "../core/errors.js";
import { type Result, err, ok } from "../core/result.js";
import {
  CloudClient,
  CloudRequestError,
  type DeviceInfo,
  type Fetch,
  type Notification,
} from "./cloud-client.js";
import type { VirtualPhone } from "./phone.js";
import { parseSyncStep, runOperations } from "./relay.js";
import { type CardRecord, deleteDeviceKey, readDeviceKey, writeDeviceKey } from "./state.js";

const PHONE_APP_VERSION = "tapwallet-phone/0.1.0";
const DEFAULT_SERVER = "http://127.0.0.1:8080";
const MAX_SYNC_SESSIONS = 3;
/** Outcomes worth another session at once. */
const RETRYABLE = new Set(["secure_channel_refused", "se_no_answer", "response_not_authentic"]);
/** Events that only ask the phone to sync. */
const SYNC_NUDGES = new Set(["tsm.work"]);
/** A sync session has at most this many steps (a guard against a cloud that never ends it). */
const MAX_STEPS = 1000;

export interface ScriptOutcome {
  id: string;
  kind: string;
  aid: string;
  owner: string;
  ref: string;
  state: string;
  error: { code: string; zh: string; en: string } | null;
}

export interface SessionSummary {
  outcome: string;
  message: { zh: string; en: string } | null;
  scripts: ScriptOutcome[];
  instances: (CardRecord & { state: string })[];
  pending: number;
  lost: boolean;
}

export interface SyncOutcome {
  /** The phone is reported lost (its cards were wiped in this sync). */
  lost: boolean;
  sessions: SessionSummary[];
  /** Every script the sync finished or tried, in order. */
  scripts: ScriptOutcome[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const textPair = (v: unknown): v is { zh: string; en: string } =>
  isObject(v) && typeof v["zh"] === "string" && typeof v["en"] === "string";

/** Checks a sync summary from the cloud; never throws. */
export function parseSummary(v: unknown): Result<SessionSummary> {
  if (!isObject(v)) return err("summary is not an object");
  const { outcome, message, scripts, instances, pending, lost } = v;
  if (typeof outcome !== "string" || typeof pending !== "number" || typeof lost !== "boolean")
    return err("summary without outcome, pending or lost");
  if (message !== null && !textPair(message)) return err("summary message");
  if (!Array.isArray(scripts) || !Array.isArray(instances)) return err("summary lists");
  const outScripts: ScriptOutcome[] = [];
  for (const s of scripts) {
    if (!isObject(s)) return err("a script is not an object");
    const f = ["id", "kind", "aid", "owner", "ref", "state"] as const;
    if (!f.every((k) => typeof s[k] === "string")) return err("a script lacks a field");
    const e = s["error"];
    outScripts.push({
      id: s["id"] as string,
      kind: s["kind"] as string,
      aid: s["aid"] as string,
      owner: s["owner"] as string,
      ref: s["ref"] as string,
      state: s["state"] as string,
      error:
        isObject(e) &&
        typeof e["code"] === "string" &&
        typeof e["zh"] === "string" &&
        typeof e["en"] === "string"
          ? { code: e["code"], zh: e["zh"], en: e["en"] }
          : null,
    });
  }
  const outInstances: SessionSummary["instances"] = [];
  for (const i of instances) {
    if (!isObject(i) || typeof i["aid"] !== "string" || typeof i["state"] !== "string")
      return err("an instance");
    const str = (k: string) => (typeof i[k] === "string" ? (i[k] as string) : null);
    outInstances.push({
      aid: i["aid"],
      state: i["state"],
      packageId: str("packageId"),
      owner: str("owner"),
      ref: str("ref"),
      label: textPair(i["label"]) ? { zh: i["label"].zh, en: i["label"].en } : null,
    });
  }
  return ok({
    outcome,
    message: message as SessionSummary["message"],
    scripts: outScripts,
    instances: outInstances,
    pending,
    lost,
  });
}

/** A binding, and the sync run straight after it. */
export interface Registration extends DeviceInfo {
  /** The first sync (an earlier binding's applets deleted); null when it could not run. */
  sync: SyncOutcome | null;
  /** Why that sync could not run: the binding stands, `phone sync` finishes the job later. */
  syncError: { code: string; zh: string; en: string } | null;
}

export interface WalletOptions {
  fetch?: Fetch;
}

export function maskMobile(mobile: string): string {
  const digits = mobile.replace(/\D/g, "").slice(-11);
  return digits.length === 11 ? `${digits.slice(0, 3)}****${digits.slice(7)}` : "****";
}

export class Wallet {
  constructor(
    readonly phone: VirtualPhone,
    private readonly options: WalletOptions = {},
  ) {}

  /** A client for the phone's server, with its session and device key. */
  client(server?: string): CloudClient {
    const c = this.phone.cloud;
    return new CloudClient({
      server: server ?? c?.server ?? DEFAULT_SERVER,
      clock: this.phone.clock,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      session: c?.session?.token ?? null,
      deviceKey: readDeviceKey(this.phone.dir),
      deviceId: c?.deviceId ?? null,
      onDeviceRemoved: (deviceId) => this.dropBinding(deviceId),
    });
  }

  /** Asks the cloud whether the phone's binding is still there; a removed one is dropped on the way. */
  private async bindingRemoved(): Promise<boolean> {
    try {
      await this.client().request("GET", "/api/v1/device", "device");
      return false;
    } catch (e) {
      if (e instanceof CloudRequestError && e.code === "device_removed") return true;
      throw e;
    }
  }

  /**
   * The cloud removed this binding: forget the device id and delete its key (it can never sign for the phone
   * again). The session and the cards on the SE stay: `register` binds again, and its first sync clears what
   * the old binding left on the SE.
   */
  private dropBinding(deviceId: string): void {
    const c = this.phone.cloud;
    if (c?.deviceId !== deviceId) return;
    deleteDeviceKey(this.phone.dir);
    this.phone.setCloud({ ...c, deviceId: null });
  }

  // ---- sign in -----------------------------------------------------------------------------------

  async requestCode(mobile: string, server?: string): Promise<{ expiresInSeconds: number }> {
    return this.client(server ?? this.phone.cloud?.server).requestCode(mobile);
  }

  /** Signs in with the code; a new server or another account resets the phone's binding. */
  async signIn(
    mobile: string,
    code: string,
    server?: string,
  ): Promise<{ accountId: string; created: boolean }> {
    const target = server ?? this.phone.cloud?.server ?? DEFAULT_SERVER;
    const r = await this.client(target).signIn(mobile, code);
    const previous = this.phone.cloud;
    const same = previous && previous.server === target && previous.accountId === r.account.id;
    this.phone.setCloud({
      server: target,
      accountId: r.account.id,
      mobile: maskMobile(r.account.phone),
      session: { token: r.token, expiresAt: r.expiresAt },
      deviceId: same ? previous.deviceId : null,
    });
    return { accountId: r.account.id, created: r.created };
  }

  // ---- register ----------------------------------------------------------------------------------

  /**
   * Binds the phone to the signed-in account with a fresh device key (kept only if the cloud accepts it),
   * then syncs at once.
   */
  async register(name?: string): Promise<Registration> {
    if (this.requireSignedIn().deviceId && !(await this.bindingRemoved()))
      throw new TapwalletError(
        "already_registered",
        `本机已注册（设备 ${this.phone.cloud!.deviceId}）`,
        `this phone is already registered (device ${this.phone.cloud!.deviceId})`,
      );
    const cloud = this.requireSignedIn();
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const device = await this.client().bind(
      {
        model: this.phone.model.code,
        region: this.phone.region,
        name: name ?? this.phone.name.slice(0, 40),
        publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
        seId: this.phone.seId,
      },
      privateKey,
    );
    writeDeviceKey(this.phone.dir, privateKey);
    this.phone.setCloud({ ...cloud, deviceId: device.id });
    try {
      return { ...device, sync: await this.sync(), syncError: null };
    } catch (e) {
      if (!(e instanceof TapwalletError)) throw e;
      return { ...device, sync: null, syncError: { code: e.code, zh: e.zh, en: e.en } };
    }
  }

  // ---- sync --------------------------------------------------------------------------------------

  async sync(): Promise<SyncOutcome> {
    this.requireRegistered();
    const client = this.client();
    const check = await client.checkIn(PHONE_APP_VERSION);
    const sessions: SessionSummary[] = [];
    for (let n = 0; n < MAX_SYNC_SESSIONS; n++) {
      const summary = await this.session(client);
      sessions.push(summary);
      if (summary.outcome === "ok" || !RETRYABLE.has(summary.outcome) || summary.pending === 0) break;
    }
    const last = sessions[sessions.length - 1]!;
    this.remember(last);
    return { lost: check.device.lost || last.lost, sessions, scripts: sessions.flatMap((s) => s.scripts) };
  }

  private async session(client: CloudClient): Promise<SessionSummary> {
    const se = this.phone.se;
    let raw = await client.openSync(this.phone.registryReport());
    try {
      for (let n = 0; n < MAX_STEPS; n++) {
        const step = parseSyncStep(raw);
        if (!step.ok) throw badStep(step.error);
        if (step.value.done) {
          const summary = parseSummary(step.value.summary);
          if (!summary.ok) throw badStep(summary.error);
          return summary.value;
        }
        const results = runOperations(se, step.value.operations);
        raw = await client.stepSync(step.value.session, step.value.step, results);
      }
      throw badStep("the sync never ended");
    } finally {
      se.host.reset();
    }
  }

  /** Keeps the TSM's names for the cards (and the records of cards added locally, which it does not know). */
  private remember(summary: SessionSummary): void {
    const fromCloud = summary.instances.filter((i) => i.state === "present");
    const onSe = new Set(this.phone.cards().map((c) => c.aid));
    const local = this.phone
      .cards()
      .filter((c) => c.owner === "local" && !fromCloud.some((i) => i.aid === c.aid));
    this.phone.rememberCards([
      ...fromCloud.filter((i) => onSe.has(i.aid)).map(({ state: _state, ...record }) => record),
      ...local.map((c) => ({
        aid: c.aid,
        packageId: c.packageId,
        owner: c.owner,
        ref: c.ref,
        label: c.label,
      })),
    ]);
  }

  // ---- activity ----------------------------------------------------------------------------------

  /**
   * The account's events (payments, top-ups, cards added and removed) as the cloud recorded them; the
   * cloud's nudges to sync (`tsm.work`) are not activity and are left out.
   */
  async activity(after = 0): Promise<Notification[]> {
    this.requireRegistered();
    const out: Notification[] = [];
    let cursor = after;
    for (;;) {
      const page = (await this.client().notifications(cursor)).events;
      out.push(...page.filter((e) => !SYNC_NUDGES.has(e.type)));
      if (page.length < 100) return out;
      cursor = page[page.length - 1]!.seq;
    }
  }

  requireSignedIn() {
    const c = this.phone.cloud;
    if (!c?.session)
      throw new TapwalletError(
        "not_signed_in",
        "请先登录（tapwallet phone login）",
        "sign in first (tapwallet phone login)",
      );
    return { ...c, session: c.session };
  }

  /** The phone's binding; its own requests need only the device key, not a live session. */
  requireRegistered() {
    const c = this.phone.cloud;
    if (!c?.deviceId)
      throw new TapwalletError(
        "not_registered",
        "手机尚未注册（tapwallet phone register）",
        "this phone is not registered (tapwallet phone register)",
      );
    return { ...c, deviceId: c.deviceId };
  }
}

function badStep(detail: string): TapwalletError {
  return new TapwalletError(
    "cloud_bad_answer",
    `钱包云端发来的同步步骤无效：${detail}`,
    `the wallet cloud sent an invalid sync step: ${detail}`,
  );
}
