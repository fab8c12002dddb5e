/**
 * The TSM (trusted service manager): the only party that can change what is on a phone's SE.
 *
 * - Holds each SE's static SCP03 keys, sealed at rest; an SE is enrolled the first time the TSM meets it
 *   (keys diversified from the factory master by its serial, see src/se/factory-keys.ts).
 * - Keeps its view of each SE (`tsm_instances`) and a queue of scripts per SE (`tsm_scripts`): install,
 *   personalise, delete, registry changes and relay conversations, enqueued by the card services
 *   (`enqueueInstall`, …) and run in order when the phone syncs.
 * - A sync is a session the phone drives step by step (`openSession`, `advanceSession`): SELECT ISD +
 *   INITIALIZE UPDATE with the TSM's host challenge; EXTERNAL AUTHENTICATE + GET STATUS (answered under
 *   R-MAC, so the registry the TSM reconciles against comes from the SE, not from the phone's word); the
 *   scripts' commands, wrapped (C-MAC + C-DECRYPTION); then relay conversations with applets. Nothing of a
 *   session lives in memory: each step rebuilds the channel from the database (channel.ts).
 * - Reconciles after GET STATUS: an instance it installed that the SE no longer has is marked lost (its
 *   owner is told); an instance it does not know is recorded as unknown and reported to the account. Its
 *   view is per binding: an instance it installed for an earlier binding of the SE (a phone removed from its
 *   account, whose cards the services already parked, refunded or deleted in the cloud) is an orphan, and the
 *   first sync of the new binding deletes it through the secure channel before anything else runs.
 * - Tells the owning service when a script finishes (`subscribe(owner, …)`), inside the transaction that
 *   records it, so a service's own state commits with the script's.
 */
import { type Transaction, sql } from "kysely";
import { encodeCommand } from "../../core/apdu.js";
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { ISD_AID, LIFECYCLE, getStatusCommand, selectByAid } from "../../se/gp.js";
import type { Json } from "../../se/applet.js";
import { initializeUpdateCommand } from "../../se/scp03-host.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { type Executor, forUpdate, transaction } from "../db/tx.js";
import { type DeviceService, type DeviceView, deviceNotFound } from "../devices/service.js";
import { CloudError } from "../errors.js";
import type { Notifications } from "../notifications/service.js";
import { randomId } from "../random.js";
import { ChannelReplay } from "./channel.js";
import { SealedBox } from "./sealed-box.js";
import { diversificationData, diversifySeKeys } from "../../se/factory-keys.js";
import {
  type DeleteSpec,
  type InstallSpec,
  type Label,
  type PersonalizeSpec,
  type RegistrySpec,
  type RelaySpec,
  type StoredSpec,
  checkAid,
  checkDgis,
  encodeDgis,
  isStoredSpec,
  plan,
} from "./scripts.js";
import type { TsmSecrets } from "./secrets.js";
import { type StatusEntry, isBuiltIn, parseStatusEntries } from "./status.js";
import type {
  InstanceState,
  ScriptKind,
  ScriptState,
  TsmInstancesTable,
  TsmScriptsTable,
  TsmSessionsTable,
} from "./tables.js";
import type { Operation, OperationResult, RegistryAction, SyncReport } from "../../protocol/tsm-wire.js";

/** The TSM's limits. */
const TSM_LIMITS = {
  /** A session not advanced for this long is over; its scripts go back to the queue. */
  sessionTtlMs: 2 * 60_000,
  /** Sessions that broke off (secure channel refused, no answer) before a script is given up as failed. */
  maxAttempts: 3,
  /** Scripts and card-manager commands carried in one step. */
  scriptsPerStep: 16,
  commandsPerStep: 64,
  /** Commands per relay step, and steps per relay conversation. */
  relayCommandsPerStep: 16,
  relaySteps: 32,
  /** Finished scripts listed in a view. */
  recentScripts: 50,
} as const;

export interface ScriptError {
  code: string;
  zh: string;
  en: string;
  /** The failing command (e.g. "E6 command 2") and the SE's status word, when the SE refused. */
  step?: string;
  sw?: string;
}

export interface ScriptView {
  id: string;
  deviceId: string;
  kind: ScriptKind;
  aid: string;
  owner: string;
  ref: string;
  state: ScriptState;
  attempts: number;
  error: ScriptError | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface InstanceView {
  aid: string;
  packageId: string | null;
  lifecycle: number | null;
  state: InstanceState;
  owner: string | null;
  ref: string | null;
  label: Label | null;
  updatedAt: string;
}

/** A finished script, as its owner hears of it. */
export interface ScriptEvent {
  scriptId: string;
  kind: ScriptKind;
  state: "done" | "failed" | "cancelled";
  deviceId: string;
  accountId: string;
  seId: string;
  aid: string;
  owner: string;
  ref: string;
  error: ScriptError | null;
  /** A relay conversation's result. */
  result: Json | null;
}

/** An instance the TSM installed that the SE turned out not to have. */
export interface InstanceEvent {
  seId: string;
  deviceId: string | null;
  accountId: string | null;
  aid: string;
  owner: string;
  ref: string;
}

export interface TsmSubscriber {
  scriptFinished?(event: ScriptEvent, trx: Transaction<Database>): Promise<void>;
  instanceLost?(event: InstanceEvent, trx: Transaction<Database>): Promise<void>;
}

/** One step of a relay conversation, as a handler decides it. */
export type RelayStep =
  | { commands: Bytes[]; state: Json }
  | { done: true; result: Json }
  | { failed: { code: string; zh: string; en: string } };

export interface RelayContext {
  scriptId: string;
  deviceId: string;
  accountId: string;
  seId: string;
  aid: Bytes;
  owner: string;
  ref: string;
  /** The transaction recording this step: write through it so the service's state commits with the step. */
  trx: Transaction<Database>;
}

/**
 * A card service's side of an applet conversation (e.g. a transit top-up: INITIALIZE FOR LOAD, then CREDIT
 * FOR LOAD with the MAC2 the service computes). Runs inside a database transaction that may be retried, so
 * it must do its I/O through `ctx.trx` only.
 */
export interface RelayHandler {
  /** The first commands; `resumed` when an earlier attempt was cut off after its first step was sent. */
  start(ctx: RelayContext, state: Json, resumed: boolean): Promise<RelayStep>;
  /** The applet's answers (R-APDUs, data ‖ SW; empty when the SE gave none) to the last commands. */
  next(ctx: RelayContext, state: Json, answers: Bytes[]): Promise<RelayStep>;
}

export interface SyncSummary {
  /** `ok`, or why the session ended early (`se_keys_mismatch`, `secure_channel_refused`, …). */
  outcome: string;
  message: { zh: string; en: string } | null;
  /** Scripts this session finished or tried. */
  scripts: ScriptView[];
  /** The TSM's view of the SE afterwards. */
  instances: InstanceView[];
  /** Scripts still waiting for this SE. */
  pending: number;
  /** The phone is reported lost: it should wipe (the delete scripts are among these). */
  lost: boolean;
}

export type StepAnswer =
  | { session: string; step: number; done: false; operations: Operation[] }
  | { session: string; step: number; done: true; summary: SyncSummary };

export interface SeView {
  deviceId: string;
  seId: string;
  enrolled: boolean;
  lastStatusAt: string | null;
  instances: InstanceView[];
  scripts: ScriptView[];
  registryReport: SyncReport | null;
  registryReportedAt: string | null;
}

/** What a session remembers between steps (sealed in `tsm_sessions.state_sealed`). */
interface SessionState {
  /** Plain commands sent inside the secure channel, in order (hex). */
  transcript: string[];
  registry: StatusEntry[];
  /** The step in flight: one entry per operation sent. */
  ops: StepOp[];
  /** Scripts carried in this session (each at most once). */
  tried: string[];
  /** Whether the card manager's secure channel is still usable. */
  channel: boolean;
}

type StepOp =
  | { op: "plain"; purpose: "select-isd" | "initialize-update" | "select-applet" | "relay"; script?: string }
  | { op: "scp"; purpose: "external-authenticate" | "status" | "script"; script?: string; index: number }
  | { op: "registry"; script: string };

type Trx = Transaction<Database>;
type ScriptRow = TsmScriptsTable;
type SessionRow = TsmSessionsTable;

const SW_OK = "9000";
const SW_MORE = "6310";
const SW_NOT_FOUND = "6A88";
const SW_SECURITY = "6982";
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const selectByAidHex = (aid: Bytes): string => toHex(encodeCommand(selectByAid(aid)));
const swText = (b: Bytes): string => (b.length >= 2 ? toHex(b.subarray(b.length - 2)) : "");

function parseJson<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Who the TSM's deletes of an earlier binding's instances are from (run before every other script). */
const ORPHAN = { owner: "tsm", ref: "earlier-binding" } as const;

const notFound = () =>
  new CloudError("not_found", "tsm_session_not_found", "同步会话不存在", "No such sync session");

export class TsmService {
  private readonly box: SealedBox;
  private readonly subscribers = new Map<string, TsmSubscriber[]>();
  private readonly relays = new Map<string, RelayHandler>();

  constructor(
    private readonly ctx: CloudContext,
    private readonly devices: DeviceService,
    private readonly notifications: Notifications,
    private readonly secrets: TsmSecrets,
  ) {
    this.box = new SealedBox(secrets.keyEncryptionKey);
    devices.onLost((trx, device) => this.deviceLost(trx, device));
    devices.onRemoved((trx, device) => this.deviceRemoved(trx, device));
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  // ---- the card services' API ---------------------------------------------------------------------

  /** Tells `owner` (a card service) when its scripts finish and when its instances go missing. */
  subscribe(owner: string, subscriber: TsmSubscriber): void {
    this.subscribers.set(owner, [...(this.subscribers.get(owner) ?? []), subscriber]);
  }

  /** Registers the service side of a relay conversation under `name` (used by `enqueueRelay`). */
  registerRelay(name: string, handler: RelayHandler): void {
    if (this.relays.has(name)) throw new Error(`relay handler ${name} registered twice`);
    this.relays.set(name, handler);
  }

  /** Queues INSTALL (+ STORE DATA personalisation) of an instance on the device's SE. */
  async enqueueInstall(deviceId: string, spec: InstallSpec, exec?: Executor): Promise<ScriptView> {
    if (spec.personalization) checkDgis(spec.personalization);
    if (!spec.packageId || spec.packageId.length > 64)
      throw new RangeError("a package id is 1–64 characters");
    return this.enqueue(deviceId, "install", checkAid(spec.aid), spec, exec, {
      kind: "install",
      packageId: spec.packageId,
      params: spec.params ?? null,
      privileges: toHex(spec.privileges ?? new Uint8Array(0)),
      dgis: spec.personalization ? encodeDgis(spec.personalization) : null,
      label: spec.label ?? null,
    });
  }

  /** Queues DELETE of an instance (done at once on the phone if it is already gone). */
  async enqueueDelete(deviceId: string, spec: DeleteSpec, exec?: Executor): Promise<ScriptView> {
    return this.enqueue(deviceId, "delete", checkAid(spec.aid), spec, exec, { kind: "delete" });
  }

  /** Queues STORE DATA to an installed instance (new keys, an encoder window…). */
  async enqueuePersonalize(deviceId: string, spec: PersonalizeSpec, exec?: Executor): Promise<ScriptView> {
    checkDgis(spec.personalization);
    return this.enqueue(deviceId, "personalize", checkAid(spec.aid), spec, exec, {
      kind: "personalize",
      dgis: encodeDgis(spec.personalization),
    });
  }

  /** Queues a contactless registry change the phone makes (activate, default payment, express transit). */
  async enqueueRegistry(deviceId: string, spec: RegistrySpec, exec?: Executor): Promise<ScriptView> {
    return this.enqueue(deviceId, "registry", checkAid(spec.aid), spec, exec, {
      kind: "registry",
      action: spec.action,
    });
  }

  /** Queues a conversation with an applet, driven by the handler registered as `spec.handler`. */
  async enqueueRelay(deviceId: string, spec: RelaySpec, exec?: Executor): Promise<ScriptView> {
    if (!this.relays.has(spec.handler)) throw new RangeError(`no relay handler named ${spec.handler}`);
    return this.enqueue(deviceId, "relay", checkAid(spec.aid), spec, exec, {
      kind: "relay",
      handler: spec.handler,
      state: spec.state,
      started: false,
      steps: 0,
    });
  }

  /** Cancels a script that has not been sent yet; false when it is already under way or finished. */
  async cancel(scriptId: string, exec?: Executor): Promise<boolean> {
    return transaction(exec ?? this.ctx.db.db, async (trx) => {
      const row = await trx
        .selectFrom("tsm_scripts")
        .selectAll()
        .where("id", "=", scriptId)
        .$call(forUpdate(this.ctx.db.dialect))
        .executeTakeFirst();
      if (!row || row.state !== "pending") return false;
      await this.finish(trx, row, "cancelled", {});
      return true;
    });
  }

  /** The TSM's view of a device's SE: its instances and its scripts (pending and recent). */
  async view(deviceId: string, exec: Executor = this.ctx.db.db): Promise<SeView> {
    const device = await exec
      .selectFrom("devices")
      .select(["id", "se_id"])
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();
    const se = await exec
      .selectFrom("tsm_secure_elements")
      .selectAll()
      .where("se_id", "=", device.se_id)
      .executeTakeFirst();
    const scripts = await exec
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("device_id", "=", deviceId)
      .orderBy("seq", "desc")
      .limit(TSM_LIMITS.recentScripts)
      .execute();
    return {
      deviceId,
      seId: device.se_id,
      enrolled: se !== undefined,
      lastStatusAt: iso(se?.last_status_at ?? null),
      instances: await this.instances(exec, device.se_id, device.id),
      scripts: scripts.reverse().map((s) => this.scriptView(s)),
      registryReport: parseJson<SyncReport>(se?.registry_report ?? null),
      registryReportedAt: iso(se?.registry_reported_at ?? null),
    };
  }

  /** AIDs on the device's SE, or about to be (present, unknown, lost, and pending installs). */
  async occupiedAids(deviceId: string, exec: Executor = this.ctx.db.db): Promise<Set<string>> {
    const device = await exec
      .selectFrom("devices")
      .select("se_id")
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();
    const rows = await exec
      .selectFrom("tsm_instances")
      .select("aid")
      .where("se_id", "=", device.se_id)
      .execute();
    const queued = await exec
      .selectFrom("tsm_scripts")
      .select("aid")
      .where("se_id", "=", device.se_id)
      .where("kind", "=", "install")
      .where("state", "in", ["pending", "sent"])
      .execute();
    return new Set([...rows.map((r) => r.aid), ...queued.map((r) => r.aid)]);
  }

  // ---- the phone's side: what waits, and the sync session -----------------------------------------

  async pendingFor(deviceId: string): Promise<ScriptView[]> {
    const rows = await this.ctx.db.db
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("state", "in", ["pending", "sent"])
      .orderBy("seq")
      .execute();
    return rows.map((r) => this.scriptView(r));
  }

  /** Starts a sync: SELECT ISD and INITIALIZE UPDATE with a fresh host challenge. */
  async openSession(deviceId: string, report: SyncReport | undefined): Promise<StepAnswer> {
    return transaction(this.ctx.db.db, async (trx) => {
      const device = await this.activeDevice(trx, deviceId);
      await this.enrol(trx, device.se_id);
      const now = this.now();
      if (report)
        await trx
          .updateTable("tsm_secure_elements")
          .set({ registry_report: JSON.stringify(report), registry_reported_at: now })
          .where("se_id", "=", device.se_id)
          .execute();
      // One secure channel per SE: a new session ends the previous ones (their scripts go back to the queue).
      const open = await trx
        .selectFrom("tsm_sessions")
        .selectAll()
        .where("se_id", "=", device.se_id)
        .where("closed_at", "is", null)
        .$call(forUpdate(this.ctx.db.dialect))
        .execute();
      for (const s of open) await this.closeSession(trx, s, "superseded");
      const hostChallenge = this.ctx.rng.bytes(8);
      const id = randomId(this.ctx.rng, "tss");
      const state: SessionState = {
        transcript: [],
        registry: [],
        ops: [
          { op: "plain", purpose: "select-isd" },
          { op: "plain", purpose: "initialize-update" },
        ],
        tried: [],
        channel: false,
      };
      const keyVersion = (
        await trx
          .selectFrom("tsm_secure_elements")
          .select("key_version")
          .where("se_id", "=", device.se_id)
          .executeTakeFirstOrThrow()
      ).key_version;
      await trx
        .insertInto("tsm_sessions")
        .values({
          id,
          se_id: device.se_id,
          device_id: device.id,
          phase: "opening",
          step: 1,
          host_challenge: toHex(hostChallenge),
          iu_answer: null,
          state_sealed: this.box.sealJson(state, `tsm.session:${id}`),
          created_at: now,
          expires_at: now + TSM_LIMITS.sessionTtlMs,
          outcome: null,
          closed_at: null,
        })
        .execute();
      return {
        session: id,
        step: 1,
        done: false,
        operations: [
          { type: "apdu", apdu: selectByAidHex(ISD_AID), expect: [SW_OK] },
          {
            type: "apdu",
            apdu: toHex(encodeCommand(initializeUpdateCommand(hostChallenge, keyVersion))),
            expect: [SW_OK],
          },
        ],
      };
    });
  }

  /** The phone's results for step `step` of a session; answers with the next step or the summary. */
  async advanceSession(
    deviceId: string,
    sessionId: string,
    step: number,
    results: OperationResult[],
  ): Promise<StepAnswer> {
    const expired = await transaction(this.ctx.db.db, async (trx) => {
      const s = await this.sessionRow(trx, deviceId, sessionId);
      if (s.closed_at !== null || s.expires_at > this.now()) return false;
      await this.closeSession(trx, s, "expired");
      return true;
    });
    if (expired)
      throw new CloudError(
        "conflict",
        "tsm_session_expired",
        "同步会话已超时，请重新同步",
        "The sync session timed out; sync again",
      );
    return transaction(this.ctx.db.db, async (trx) => {
      const s = await this.sessionRow(trx, deviceId, sessionId);
      if (s.closed_at !== null)
        throw new CloudError(
          "conflict",
          "tsm_session_closed",
          "同步会话已结束",
          "The sync session has ended",
          {
            outcome: s.outcome,
          },
        );
      if (step !== s.step)
        throw new CloudError(
          "conflict",
          "tsm_step_mismatch",
          `同步步骤不符（应为第 ${s.step} 步）`,
          `Out of step: the session expects step ${s.step}`,
          { expected: s.step },
        );
      const state = this.sessionState(s);
      return this.advance(trx, s, state, results);
    });
  }

  /**
   * Closes sessions past their time (their scripts go back to the queue) and deletes sessions closed more
   * than a day ago. Returns the rows deleted.
   */
  async purgeSessions(): Promise<number> {
    const now = this.now();
    const stale = await this.ctx.db.db
      .selectFrom("tsm_sessions")
      .select("id")
      .where("closed_at", "is", null)
      .where("expires_at", "<=", now)
      .execute();
    for (const { id } of stale)
      await transaction(this.ctx.db.db, async (trx) => {
        const s = await trx
          .selectFrom("tsm_sessions")
          .selectAll()
          .where("id", "=", id)
          .$call(forUpdate(this.ctx.db.dialect))
          .executeTakeFirstOrThrow();
        if (s.closed_at === null) await this.closeSession(trx, s, "expired");
      });
    const r = await this.ctx.db.db
      .deleteFrom("tsm_sessions")
      .where("closed_at", "<=", now - 24 * 3600_000)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- session engine -----------------------------------------------------------------------------

  private async advance(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    results: OperationResult[],
  ): Promise<StepAnswer> {
    const keys = await this.keysOf(trx, s.se_id);
    switch (s.phase) {
      case "opening": {
        const select = apduResult(results[0]);
        const iu = apduResult(results[1]);
        if (!select || swText(select) !== SW_OK || !iu || iu.length === 0)
          return this.end(trx, s, state, "se_no_answer");
        if (swText(iu) !== SW_OK) return this.end(trx, s, state, "se_refused_channel");
        const opened = ChannelReplay.open(keys, fromHex(s.host_challenge), iu);
        if (!opened.ok) return this.end(trx, s, state, "se_keys_mismatch");
        if (toHex(iu.subarray(0, 10)) !== toHex(diversificationData(fromHex(s.se_id))))
          return this.end(trx, s, state, "se_identity_mismatch");
        const status = toHex(encodeCommand(getStatusCommand(0x40)));
        state.transcript = [status];
        state.channel = true;
        state.ops = [
          { op: "scp", purpose: "external-authenticate", index: -1 },
          { op: "scp", purpose: "status", index: 0 },
        ];
        await trx
          .updateTable("tsm_sessions")
          .set({ iu_answer: toHex(iu) })
          .where("id", "=", s.id)
          .execute();
        return this.nextStep(trx, s, state, "status", [
          { type: "apdu", apdu: toHex(opened.value.externalAuthenticate), expect: [SW_OK] },
          { type: "apdu", apdu: toHex(opened.value.wrap(status)), expect: [SW_OK, SW_MORE, SW_NOT_FOUND] },
        ]);
      }
      case "status":
        return this.afterStatus(trx, s, state, results, keys);
      case "operations":
        return this.afterOperations(trx, s, state, results, keys);
      case "relay":
        return this.afterRelay(trx, s, state, results);
      case "closed":
        throw new CloudError(
          "conflict",
          "tsm_session_closed",
          "同步会话已结束",
          "The sync session has ended",
        );
    }
  }

  /** Rebuilds the channel up to the step in flight; `answer(i)` then checks the i-th op's R-MAC. */
  private replay(s: SessionRow, state: SessionState, keys: Parameters<typeof ChannelReplay.open>[0]) {
    const channel = ChannelReplay.open(keys, fromHex(s.host_challenge), fromHex(s.iu_answer ?? ""));
    if (!channel.ok) throw new Error("a stored session no longer opens");
    const firstOfStep = firstCommandOfStep(state);
    for (let i = 0; i < firstOfStep; i++) channel.value.wrap(state.transcript[i]!);
    return channel.value;
  }

  private async afterStatus(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    results: OperationResult[],
    keys: Parameters<typeof ChannelReplay.open>[0],
  ): Promise<StepAnswer> {
    const channel = this.replay(s, state, keys);
    let index = 0;
    for (const [i, op] of state.ops.entries()) {
      const raw = apduResult(results[i]);
      if (op.op !== "scp") continue;
      if (op.purpose === "external-authenticate") {
        if (!raw || raw.length === 0) return this.end(trx, s, state, "se_no_answer");
        if (swText(raw) !== SW_OK) return this.end(trx, s, state, "secure_channel_refused");
        continue;
      }
      channel.wrap(state.transcript[op.index]!);
      index = op.index;
      if (!raw || raw.length === 0) return this.end(trx, s, state, "se_no_answer");
      const r = channel.unwrap(raw);
      if (!r.ok) return this.end(trx, s, state, "response_not_authentic");
      const sw = r.value.sw;
      if (sw === 0x6a88) break;
      if (sw !== 0x9000 && sw !== 0x6310) return this.end(trx, s, state, "status_refused");
      const entries = parseStatusEntries(r.value.data);
      if (!entries.ok) return this.end(trx, s, state, "status_malformed");
      state.registry.push(...entries.value);
      if (sw === 0x6310) {
        const next = toHex(encodeCommand(getStatusCommand(0x40, new Uint8Array(0), true)));
        state.transcript.push(next);
        state.ops = [{ op: "scp", purpose: "status", index: index + 1 }];
        return this.nextStep(trx, s, state, "status", [
          { type: "apdu", apdu: toHex(channel.wrap(next)), expect: [SW_OK, SW_MORE, SW_NOT_FOUND] },
        ]);
      }
    }
    await this.reconcile(trx, s, state.registry);
    return this.planOperations(trx, s, state, keys);
  }

  /** The TSM's view against the registry the SE just reported (authenticated). */
  private async reconcile(trx: Trx, s: SessionRow, registry: StatusEntry[]): Promise<void> {
    const now = this.now();
    const onSe = new Map(registry.filter((e) => !isBuiltIn(e.aid)).map((e) => [e.aid, e]));
    const all = await trx.selectFrom("tsm_instances").selectAll().where("se_id", "=", s.se_id).execute();
    const device = await trx
      .selectFrom("devices")
      .select(["id", "account_id"])
      .where("id", "=", s.device_id)
      .executeTakeFirstOrThrow();
    const rows = all.filter((r) => r.device_id === null || r.device_id === device.id);
    await this.purgeEarlierBindings(
      trx,
      s,
      device,
      all.filter((r) => r.device_id !== null && r.device_id !== device.id),
      onSe,
    );
    const known = new Map(rows.map((r) => [r.aid, r]));
    // Instances a queued install (or delete) targets are not strangers: a cut-off session may have landed
    // them, or they are an earlier binding's, about to go.
    const targeted = new Set(
      (
        await trx
          .selectFrom("tsm_scripts")
          .select("aid")
          .where("se_id", "=", s.se_id)
          .where("kind", "in", ["install", "delete"])
          .where("state", "in", ["pending", "sent"])
          .execute()
      ).map((r) => r.aid),
    );
    for (const row of rows) {
      const entry = onSe.get(row.aid);
      if (entry) {
        const state: InstanceState = row.state === "lost" ? "present" : row.state;
        if (row.state !== state || row.lifecycle !== entry.lifecycle || row.package_id !== entry.packageId)
          await trx
            .updateTable("tsm_instances")
            .set({
              state,
              lifecycle: entry.lifecycle,
              package_id: entry.packageId ?? row.package_id,
              updated_at: now,
            })
            .where("se_id", "=", s.se_id)
            .where("aid", "=", row.aid)
            .execute();
        continue;
      }
      if (row.state === "unknown") {
        await trx
          .deleteFrom("tsm_instances")
          .where("se_id", "=", s.se_id)
          .where("aid", "=", row.aid)
          .execute();
        continue;
      }
      if (row.state === "lost") continue;
      await trx
        .updateTable("tsm_instances")
        .set({ state: "lost", updated_at: now })
        .where("se_id", "=", s.se_id)
        .where("aid", "=", row.aid)
        .execute();
      const event: InstanceEvent = {
        seId: s.se_id,
        deviceId: device.id,
        accountId: device.account_id,
        aid: row.aid,
        owner: row.owner ?? "",
        ref: row.ref ?? "",
      };
      for (const sub of this.subscribers.get(row.owner ?? "") ?? []) await sub.instanceLost?.(event, trx);
      await this.notifications.publish(
        device.account_id,
        "tsm.instance.lost",
        { deviceId: device.id, aid: row.aid, owner: row.owner, ref: row.ref },
        trx,
      );
    }
    for (const entry of onSe.values()) {
      if (known.has(entry.aid) || targeted.has(entry.aid)) continue;
      await trx
        .insertInto("tsm_instances")
        .values({
          se_id: s.se_id,
          device_id: device.id,
          aid: entry.aid,
          package_id: entry.packageId,
          lifecycle: entry.lifecycle,
          state: "unknown",
          owner: null,
          ref: null,
          label: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await this.notifications.publish(
        device.account_id,
        "tsm.instance.unknown",
        { deviceId: device.id, aid: entry.aid, packageId: entry.packageId },
        trx,
      );
    }
    await trx
      .updateTable("tsm_secure_elements")
      .set({ last_status_at: now })
      .where("se_id", "=", s.se_id)
      .execute();
  }

  /**
   * The SE is bound again (a phone removed from its account, bound by the same or another account): what
   * the TSM installed for an earlier binding is no longer anyone's — its card services parked, refunded or
   * deleted those cards when the phone was removed, which could not be told (its key stopped working at
   * once). An orphan still on the SE gets a delete, run before any other script of this SE (so a new card
   * of the same AID is installed, not taken for the old one); it leaves the view at once. Orphans no longer
   * on the SE, and an earlier binding's unknown instances (found again below as this binding's), just go.
   */
  private async purgeEarlierBindings(
    trx: Trx,
    s: SessionRow,
    device: { id: string; account_id: string },
    earlier: TsmInstancesTable[],
    onSe: Map<string, StatusEntry>,
  ): Promise<void> {
    for (const row of earlier) {
      await trx.deleteFrom("tsm_instances").where("se_id", "=", s.se_id).where("aid", "=", row.aid).execute();
      if (row.state === "unknown" || !onSe.has(row.aid)) continue;
      const queued = await trx
        .selectFrom("tsm_scripts")
        .select("id")
        .where("se_id", "=", s.se_id)
        .where("aid", "=", row.aid)
        .where("kind", "=", "delete")
        .where("state", "in", ["pending", "sent"])
        .executeTakeFirst();
      if (!queued)
        await this.insertScript(trx, device.id, device.account_id, s.se_id, "delete", row.aid, ORPHAN, {
          kind: "delete",
        });
      await this.notifications.publish(
        device.account_id,
        "tsm.instance.orphaned",
        { deviceId: device.id, aid: row.aid, packageId: row.package_id },
        trx,
      );
    }
  }

  /** Picks the next queued card-manager and registry scripts and sends their operations. */
  private async planOperations(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    keys: Parameters<typeof ChannelReplay.open>[0],
  ): Promise<StepAnswer> {
    if (!state.channel) return this.planRelay(trx, s, state);
    const queued = await trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("se_id", "=", s.se_id)
      .where("state", "=", "pending")
      .where("kind", "!=", "relay")
      // An earlier binding's orphans go first; then the queue in order.
      .orderBy(sql`case when owner = ${ORPHAN.owner} and ref = ${ORPHAN.ref} then 0 else 1 end`)
      .orderBy("seq")
      .$call(forUpdate(this.ctx.db.dialect))
      .execute();
    const channel = this.replay(s, { ...state, ops: [] }, keys);
    const ops: StepOp[] = [];
    const operations: Operation[] = [];
    let scripts = 0;
    for (const row of queued) {
      if (state.tried.includes(row.id)) continue;
      if (scripts >= TSM_LIMITS.scriptsPerStep) break;
      const spec = this.spec(row);
      const p = plan(row.aid, spec, state.registry);
      if (
        p.type === "commands" &&
        ops.length + p.commands.length > TSM_LIMITS.commandsPerStep &&
        ops.length > 0
      )
        break;
      state.tried.push(row.id);
      scripts++;
      if (p.type === "done") {
        await this.finish(trx, row, "done", { reconciled: true, registry: state.registry });
        continue;
      }
      if (p.type === "failed") {
        await this.finish(trx, row, "failed", { error: { code: p.code, zh: p.zh, en: p.en } });
        continue;
      }
      await trx
        .updateTable("tsm_scripts")
        .set({ state: "sent", session_id: s.id, updated_at: this.now() })
        .where("id", "=", row.id)
        .execute();
      if (p.type === "registry") {
        ops.push({ op: "registry", script: row.id });
        operations.push({ type: "registry", action: p.action as RegistryAction, aid: row.aid });
        continue;
      }
      // Scripts planned after a delete in this session see the AID free (a new install is sent, not skipped).
      if (spec.kind === "delete") state.registry = state.registry.filter((e) => e.aid !== row.aid);
      for (const c of p.commands) {
        const text = toHex(encodeCommand(c));
        state.transcript.push(text);
        ops.push({ op: "scp", purpose: "script", script: row.id, index: state.transcript.length - 1 });
        operations.push({ type: "apdu", apdu: toHex(channel.wrap(text)), expect: [SW_OK] });
      }
    }
    if (operations.length === 0) return this.planRelay(trx, s, state);
    state.ops = ops;
    return this.nextStep(trx, s, state, "operations", operations);
  }

  private async afterOperations(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    results: OperationResult[],
    keys: Parameters<typeof ChannelReplay.open>[0],
  ): Promise<StepAnswer> {
    const channel = this.replay(s, state, keys);
    /** Per script: what happened to its operations. */
    const outcome = new Map<string, { ok: number; failure?: ScriptError; broken?: ScriptError }>();
    const ops = state.ops;
    let sentUpTo = firstCommandOfStep(state);
    let broken: ScriptError | null = null;
    for (const [i, op] of ops.entries()) {
      const script = (op as { script?: string }).script!;
      const o = outcome.get(script) ?? { ok: 0 };
      outcome.set(script, o);
      const result = results[i];
      if (broken || result === undefined || o.failure || o.broken) break;
      if (op.op === "registry") {
        if (result.type !== "registry") {
          broken = o.broken = brokenError("result_mismatch");
          break;
        }
        if (result.ok) o.ok++;
        else o.failure = registryFailure(result.reason);
        continue;
      }
      if (op.op !== "scp") continue;
      channel.wrap(state.transcript[op.index]!);
      sentUpTo = op.index + 1;
      const raw = apduResult(result);
      if (!raw || raw.length === 0) {
        broken = o.broken = brokenError("se_no_answer");
        break;
      }
      const sw = swText(raw);
      if (sw === SW_SECURITY) {
        broken = o.broken = brokenError("secure_channel_refused");
        break;
      }
      const r = channel.unwrap(raw);
      if (!r.ok) {
        broken = o.broken = brokenError("response_not_authentic");
        break;
      }
      if (r.value.sw === 0x9000) o.ok++;
      else
        o.failure = {
          code: "se_refused",
          zh: `安全元件拒绝了第 ${o.ok + 1} 条命令（${sw}）`,
          en: `the SE refused command ${o.ok + 1} (${sw})`,
          step: `command ${o.ok + 1}`,
          sw,
        };
    }
    // The SE's MAC chain went as far as the last command it answered.
    state.transcript = state.transcript.slice(0, sentUpTo);
    for (const id of new Set(ops.map((o) => (o as { script?: string }).script!))) {
      const row = await this.scriptRow(trx, id);
      const o = outcome.get(id) ?? { ok: 0 };
      const count = ops.filter((op) => (op as { script?: string }).script === id).length;
      if (o.broken) {
        await this.breakOff(trx, row, o.broken);
      } else if (o.failure) {
        await this.finish(trx, row, "failed", { error: o.failure });
        // INSTALL landed but personalisation was refused: take the half-made instance off again.
        if (row.kind === "install" && o.ok > 0) await this.cleanupInstall(trx, row);
      } else if (o.ok === count) {
        await this.finish(trx, row, "done", { registry: state.registry });
      } else {
        // Not reached (the phone stopped before it): it may go in the next step.
        await this.requeue(trx, row);
        state.tried = state.tried.filter((t) => t !== id);
      }
    }
    if (broken) {
      state.channel = false;
      return this.end(trx, s, state, broken.code);
    }
    state.ops = [];
    return this.planOperations(trx, s, state, keys);
  }

  // ---- relay conversations ------------------------------------------------------------------------

  private async planRelay(trx: Trx, s: SessionRow, state: SessionState): Promise<StepAnswer> {
    const row = await trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("se_id", "=", s.se_id)
      .where("state", "=", "pending")
      .where("kind", "=", "relay")
      .where("id", "not in", state.tried.length > 0 ? state.tried : [""])
      .orderBy("seq")
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
    if (!row) return this.end(trx, s, state, "ok");
    state.tried.push(row.id);
    const spec = this.spec(row);
    if (spec.kind !== "relay") throw new Error("relay script without a relay spec");
    const handler = this.relays.get(spec.handler);
    if (!handler) {
      await this.finish(trx, row, "failed", {
        error: {
          code: "relay_handler_missing",
          zh: "服务端无法处理该操作",
          en: "no handler for this conversation",
        },
      });
      return this.planRelay(trx, s, state);
    }
    const step = await this.runHandler(trx, row, () =>
      handler.start(this.relayContext(trx, row), spec.state, spec.started),
    );
    return this.relayStep(trx, s, state, row, spec, step, true);
  }

  private async afterRelay(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    results: OperationResult[],
  ): Promise<StepAnswer> {
    const id = (state.ops[0] as { script?: string } | undefined)?.script;
    if (!id) return this.end(trx, s, state, "ok");
    const row = await this.scriptRow(trx, id);
    const spec = this.spec(row);
    if (spec.kind !== "relay") throw new Error("relay script without a relay spec");
    const handler = this.relays.get(spec.handler)!;
    let offset = 0;
    if (state.ops[0]!.op === "plain" && state.ops[0]!.purpose === "select-applet") {
      const selected = apduResult(results[0]);
      offset = 1;
      if (!selected || swText(selected) !== SW_OK) {
        await this.finish(trx, row, "failed", {
          error: {
            code: "applet_not_selectable",
            zh: `无法选择应用 ${row.aid}`,
            en: `the applet ${row.aid} could not be selected`,
            ...(selected && selected.length >= 2 ? { sw: swText(selected) } : {}),
          },
        });
        return this.planRelay(trx, s, state);
      }
    }
    const answers = state.ops
      .slice(offset)
      .map((_, i) => apduResult(results[offset + i]) ?? new Uint8Array(0));
    const step = await this.runHandler(trx, row, () =>
      handler.next(this.relayContext(trx, row), spec.state, answers),
    );
    return this.relayStep(trx, s, state, row, spec, step, false);
  }

  private async runHandler(trx: Trx, row: ScriptRow, fn: () => Promise<RelayStep>): Promise<RelayStep> {
    try {
      return await fn();
    } catch (e) {
      this.ctx.log.error(
        { scriptId: row.id, err: e instanceof Error ? e.message : "unknown" },
        "relay handler failed",
      );
      return {
        failed: { code: "relay_error", zh: "服务端处理出错", en: "the service failed to handle the answer" },
      };
    }
  }

  private async relayStep(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    row: ScriptRow,
    spec: Extract<StoredSpec, { kind: "relay" }>,
    step: RelayStep,
    first: boolean,
  ): Promise<StepAnswer> {
    if ("done" in step) {
      await this.finish(trx, row, "done", { result: step.result });
      return this.planRelay(trx, s, state);
    }
    if ("failed" in step) {
      await this.finish(trx, row, "failed", { error: step.failed });
      return this.planRelay(trx, s, state);
    }
    if (
      step.commands.length === 0 ||
      step.commands.length > TSM_LIMITS.relayCommandsPerStep ||
      spec.steps >= TSM_LIMITS.relaySteps
    ) {
      await this.finish(trx, row, "failed", {
        error: {
          code: "relay_out_of_bounds",
          zh: "操作步骤超出限制",
          en: "the conversation went beyond its limits",
        },
      });
      return this.planRelay(trx, s, state);
    }
    const next: StoredSpec = { ...spec, state: step.state, started: true, steps: spec.steps + 1 };
    await trx
      .updateTable("tsm_scripts")
      .set({
        state: "sent",
        session_id: s.id,
        spec_sealed: this.box.sealJson(next, `tsm.script:${row.id}`),
        updated_at: this.now(),
      })
      .where("id", "=", row.id)
      .execute();
    const operations: Operation[] = [];
    state.ops = [];
    if (first) {
      state.channel = false; // selecting an applet ends the card manager's session
      state.ops.push({ op: "plain", purpose: "select-applet", script: row.id });
      operations.push({ type: "apdu", apdu: selectByAidHex(fromHex(row.aid)), expect: [SW_OK] });
    }
    for (const c of step.commands) {
      state.ops.push({ op: "plain", purpose: "relay", script: row.id });
      operations.push({ type: "apdu", apdu: toHex(c) });
    }
    return this.nextStep(trx, s, state, "relay", operations);
  }

  private relayContext(trx: Trx, row: ScriptRow): RelayContext {
    return {
      scriptId: row.id,
      deviceId: row.device_id,
      accountId: row.account_id,
      seId: row.se_id,
      aid: fromHex(row.aid),
      owner: row.owner,
      ref: row.ref,
      trx,
    };
  }

  // ---- session bookkeeping ------------------------------------------------------------------------

  private async nextStep(
    trx: Trx,
    s: SessionRow,
    state: SessionState,
    phase: SessionRow["phase"],
    operations: Operation[],
  ): Promise<StepAnswer> {
    const step = s.step + 1;
    await trx
      .updateTable("tsm_sessions")
      .set({
        phase,
        step,
        state_sealed: this.box.sealJson(state, `tsm.session:${s.id}`),
        expires_at: this.now() + TSM_LIMITS.sessionTtlMs,
      })
      .where("id", "=", s.id)
      .execute();
    return { session: s.id, step, done: false, operations };
  }

  private async end(trx: Trx, s: SessionRow, state: SessionState, outcome: string): Promise<StepAnswer> {
    await this.closeSession(trx, s, outcome);
    const tried = state.tried.length > 0 ? state.tried : [""];
    const scripts = await trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("id", "in", tried)
      .orderBy("seq")
      .execute();
    const pending = await trx
      .selectFrom("tsm_scripts")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("se_id", "=", s.se_id)
      .where("state", "=", "pending")
      .executeTakeFirstOrThrow();
    const device = await trx
      .selectFrom("devices")
      .select("lost_at")
      .where("id", "=", s.device_id)
      .executeTakeFirstOrThrow();
    return {
      session: s.id,
      step: s.step + 1,
      done: true,
      summary: {
        outcome,
        message: outcome === "ok" ? null : (OUTCOMES[outcome] ?? { zh: outcome, en: outcome }),
        scripts: scripts.map((r) => this.scriptView(r)),
        instances: await this.instances(trx, s.se_id, s.device_id),
        pending: Number(pending.n),
        lost: device.lost_at !== null,
      },
    };
  }

  /** Ends a session; scripts it was carrying go back to the queue (a cut-off relay resumes next time). */
  private async closeSession(trx: Trx, s: SessionRow, outcome: string): Promise<void> {
    const now = this.now();
    await trx
      .updateTable("tsm_sessions")
      .set({ phase: "closed", outcome, closed_at: now })
      .where("id", "=", s.id)
      .execute();
    const carried = await trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("session_id", "=", s.id)
      .where("state", "=", "sent")
      .execute();
    for (const row of carried) await this.requeue(trx, row);
  }

  private async requeue(trx: Trx, row: ScriptRow): Promise<void> {
    await trx
      .updateTable("tsm_scripts")
      .set({ state: "pending", session_id: null, updated_at: this.now() })
      .where("id", "=", row.id)
      .execute();
  }

  /** The session carrying `row` broke off: try again next sync, or give up after `maxAttempts`. */
  private async breakOff(trx: Trx, row: ScriptRow, error: ScriptError): Promise<void> {
    const attempts = row.attempts + 1;
    if (attempts >= TSM_LIMITS.maxAttempts) {
      await trx.updateTable("tsm_scripts").set({ attempts }).where("id", "=", row.id).execute();
      await this.finish(trx, { ...row, attempts }, "failed", { error });
      return;
    }
    await trx
      .updateTable("tsm_scripts")
      .set({
        state: "pending",
        session_id: null,
        attempts,
        error: JSON.stringify(error),
        updated_at: this.now(),
      })
      .where("id", "=", row.id)
      .execute();
  }

  private async cleanupInstall(trx: Trx, row: ScriptRow): Promise<void> {
    await this.insertScript(
      trx,
      row.device_id,
      row.account_id,
      row.se_id,
      "delete",
      row.aid,
      { owner: "tsm", ref: row.id },
      {
        kind: "delete",
      },
    );
  }

  /**
   * Records a script's end: its state, the TSM's view of the instance, the owner's hooks and a notification,
   * all in `trx`.
   */
  private async finish(
    trx: Trx,
    row: ScriptRow,
    state: "done" | "failed" | "cancelled",
    extra: { error?: ScriptError; result?: Json; reconciled?: boolean; registry?: StatusEntry[] },
  ): Promise<void> {
    const now = this.now();
    await trx
      .updateTable("tsm_scripts")
      .set({
        state,
        session_id: null,
        error: extra.error ? JSON.stringify(extra.error) : state === "done" ? null : row.error,
        result: extra.result === undefined ? null : JSON.stringify(extra.result),
        updated_at: now,
        finished_at: now,
      })
      .where("id", "=", row.id)
      .execute();
    if (state === "done") await this.applyToView(trx, row, extra.registry ?? []);
    const event: ScriptEvent = {
      scriptId: row.id,
      kind: row.kind,
      state,
      deviceId: row.device_id,
      accountId: row.account_id,
      seId: row.se_id,
      aid: row.aid,
      owner: row.owner,
      ref: row.ref,
      error: extra.error ?? null,
      result: extra.result ?? null,
    };
    for (const sub of this.subscribers.get(row.owner) ?? []) await sub.scriptFinished?.(event, trx);
    await this.notifications.publish(
      row.account_id,
      "tsm.script.finished",
      {
        scriptId: row.id,
        deviceId: row.device_id,
        kind: row.kind,
        aid: row.aid,
        owner: row.owner,
        ref: row.ref,
        state,
      },
      trx,
    );
  }

  private async applyToView(trx: Trx, row: ScriptRow, registry: StatusEntry[]): Promise<void> {
    const now = this.now();
    if (row.kind === "delete") {
      await trx
        .deleteFrom("tsm_instances")
        .where("se_id", "=", row.se_id)
        .where("aid", "=", row.aid)
        .execute();
      return;
    }
    if (row.kind === "install") {
      const spec = this.spec(row);
      if (spec.kind !== "install") return;
      const seen = registry.find((e) => e.aid === row.aid);
      const lifecycle = spec.dgis ? LIFECYCLE.PERSONALIZED : (seen?.lifecycle ?? LIFECYCLE.SELECTABLE);
      const values = {
        device_id: row.device_id,
        package_id: spec.packageId,
        lifecycle,
        state: "present" as const,
        owner: row.owner,
        ref: row.ref,
        label: spec.label ? JSON.stringify(spec.label) : null,
        updated_at: now,
      };
      await trx
        .insertInto("tsm_instances")
        .values({ se_id: row.se_id, aid: row.aid, created_at: now, ...values })
        .onConflict((oc) => oc.columns(["se_id", "aid"]).doUpdateSet(values))
        .execute();
      return;
    }
    if (row.kind === "personalize")
      await trx
        .updateTable("tsm_instances")
        .set({ lifecycle: LIFECYCLE.PERSONALIZED, updated_at: now })
        .where("se_id", "=", row.se_id)
        .where("aid", "=", row.aid)
        .execute();
  }

  // ---- device hooks -------------------------------------------------------------------------------

  /** A lost phone gets no new cards: queued installs and personalisations are cancelled. */
  private async deviceLost(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    const queued = await trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("device_id", "=", device.id)
      .where("state", "=", "pending")
      .where("kind", "in", ["install", "personalize"])
      .execute();
    for (const row of queued) await this.finish(trx, row, "cancelled", {});
  }

  /** A removed phone cannot sync any more: everything queued for it is cancelled. */
  private async deviceRemoved(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    const sessions = await trx
      .selectFrom("tsm_sessions")
      .selectAll()
      .where("device_id", "=", device.id)
      .where("closed_at", "is", null)
      .execute();
    for (const s of sessions) await this.closeSession(trx, s, "device_removed");
    const queued = await trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("device_id", "=", device.id)
      .where("state", "in", ["pending", "sent"])
      .execute();
    for (const row of queued) await this.finish(trx, row, "cancelled", {});
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private async enqueue(
    deviceId: string,
    kind: ScriptKind,
    aid: string,
    owner: { owner: string; ref: string },
    exec: Executor | undefined,
    spec: StoredSpec,
  ): Promise<ScriptView> {
    if (!owner.owner || !owner.ref) throw new RangeError("a script needs its owner and reference");
    return transaction(exec ?? this.ctx.db.db, async (trx) => {
      const device = await this.activeDevice(trx, deviceId);
      if (device.lost_at !== null && (kind === "install" || kind === "personalize"))
        throw new CloudError(
          "conflict",
          "device_lost",
          "该设备已挂失，不能再添加卡片",
          "This phone is reported lost; no cards can be added to it",
        );
      await this.enrol(trx, device.se_id);
      const row = await this.insertScript(
        trx,
        device.id,
        device.account_id,
        device.se_id,
        kind,
        aid,
        owner,
        spec,
      );
      await this.notifications.publish(device.account_id, "tsm.work", { deviceId: device.id }, trx);
      return this.scriptView(row);
    });
  }

  private async insertScript(
    trx: Trx,
    deviceId: string,
    accountId: string,
    seId: string,
    kind: ScriptKind,
    aid: string,
    owner: { owner: string; ref: string },
    spec: StoredSpec,
  ): Promise<ScriptRow> {
    const se = await trx
      .selectFrom("tsm_secure_elements")
      .select("next_seq")
      .where("se_id", "=", seId)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
    await trx
      .updateTable("tsm_secure_elements")
      .set({ next_seq: se.next_seq + 1 })
      .where("se_id", "=", seId)
      .execute();
    const now = this.now();
    const id = randomId(this.ctx.rng, "scr");
    const row: ScriptRow = {
      id,
      se_id: seId,
      device_id: deviceId,
      account_id: accountId,
      seq: se.next_seq,
      kind,
      aid,
      owner: owner.owner,
      ref: owner.ref,
      spec_sealed: this.box.sealJson(spec, `tsm.script:${id}`),
      state: "pending",
      session_id: null,
      attempts: 0,
      error: null,
      result: null,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    await trx.insertInto("tsm_scripts").values(row).execute();
    return row;
  }

  private async activeDevice(trx: Trx, deviceId: string) {
    const device = await trx
      .selectFrom("devices")
      .select(["id", "account_id", "se_id", "lost_at", "removed_at"])
      .where("id", "=", deviceId)
      .executeTakeFirst();
    if (!device || device.removed_at !== null) throw deviceNotFound();
    return device;
  }

  /** Enrols an SE the TSM meets for the first time: its keys from the factory master, sealed. */
  private async enrol(trx: Trx, seId: string): Promise<void> {
    if (!/^[0-9A-F]{16}$/.test(seId))
      throw new CloudError(
        "refused",
        "se_not_manageable",
        "该安全元件不是本平台出厂的（标识应为 8 字节序列号）",
        "This secure element is not one of ours (its id should be its 8-byte serial)",
      );
    const keys = diversifySeKeys(this.secrets.seMasterKey, fromHex(seId));
    const sealed = this.box.seal(Buffer.concat([keys.enc, keys.mac, keys.dek]), `tsm.se-keys:${seId}`);
    await trx
      .insertInto("tsm_secure_elements")
      .values({
        se_id: seId,
        key_version: keys.version,
        keys_sealed: sealed,
        next_seq: 1,
        enrolled_at: this.now(),
        last_status_at: null,
        registry_report: null,
        registry_reported_at: null,
      })
      .onConflict((oc) => oc.column("se_id").doNothing())
      .execute();
  }

  private async keysOf(trx: Trx, seId: string) {
    const row = await trx
      .selectFrom("tsm_secure_elements")
      .select(["keys_sealed", "key_version"])
      .where("se_id", "=", seId)
      .executeTakeFirstOrThrow();
    const raw = this.box.open(row.keys_sealed, `tsm.se-keys:${seId}`);
    if (!raw.ok) throw new Error(`the keys of SE ${seId} do not open: ${raw.error}`);
    const n = raw.value.length / 3;
    return {
      enc: new Uint8Array(raw.value.subarray(0, n)),
      mac: new Uint8Array(raw.value.subarray(n, 2 * n)),
      dek: new Uint8Array(raw.value.subarray(2 * n)),
      version: row.key_version,
    };
  }

  private async sessionRow(trx: Trx, deviceId: string, sessionId: string): Promise<SessionRow> {
    const s = await trx
      .selectFrom("tsm_sessions")
      .selectAll()
      .where("id", "=", sessionId)
      .where("device_id", "=", deviceId)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
    if (!s) throw notFound();
    return s;
  }

  private sessionState(s: SessionRow): SessionState {
    const st = this.box.openJson(s.state_sealed, `tsm.session:${s.id}`);
    if (!st.ok) throw new Error(`session ${s.id} state does not open: ${st.error}`);
    return st.value as SessionState;
  }

  private async scriptRow(trx: Trx, id: string): Promise<ScriptRow> {
    return trx
      .selectFrom("tsm_scripts")
      .selectAll()
      .where("id", "=", id)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
  }

  private spec(row: ScriptRow): StoredSpec {
    const spec = this.box.openJson(row.spec_sealed, `tsm.script:${row.id}`);
    if (!spec.ok || !isStoredSpec(spec.value, row.kind))
      throw new Error(`script ${row.id} spec does not open`);
    return spec.value;
  }

  /** The instances of `deviceId`'s binding (an earlier binding's, not yet deleted, are not shown). */
  private async instances(exec: Executor, seId: string, deviceId: string): Promise<InstanceView[]> {
    const rows = await exec
      .selectFrom("tsm_instances")
      .selectAll()
      .where("se_id", "=", seId)
      .where((eb) => eb.or([eb("device_id", "=", deviceId), eb("device_id", "is", null)]))
      .orderBy("created_at")
      .orderBy("aid")
      .execute();
    return rows.map((r) => instanceView(r));
  }

  private scriptView(r: ScriptRow): ScriptView {
    return {
      id: r.id,
      deviceId: r.device_id,
      kind: r.kind,
      aid: r.aid,
      owner: r.owner,
      ref: r.ref,
      state: r.state,
      attempts: r.attempts,
      error: parseJson<ScriptError>(r.error),
      createdAt: new Date(r.created_at).toISOString(),
      finishedAt: iso(r.finished_at),
    };
  }
}

function instanceView(r: TsmInstancesTable): InstanceView {
  return {
    aid: r.aid,
    packageId: r.package_id,
    lifecycle: r.lifecycle,
    state: r.state,
    owner: r.owner,
    ref: r.ref,
    label: parseJson<Label>(r.label),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Index in the transcript of the first card-manager command of the step in flight. */
function firstCommandOfStep(state: SessionState): number {
  let first = state.transcript.length;
  for (const o of state.ops) if (o.op === "scp" && o.index >= 0 && o.index < first) first = o.index;
  return first;
}

/** The R-APDU of an APDU result, or null when the result is missing or of another type. */
function apduResult(r: OperationResult | undefined): Bytes | null {
  return r && r.type === "apdu" ? fromHex(r.response) : null;
}

const OUTCOMES: Record<string, { zh: string; en: string }> = {
  se_no_answer: { zh: "安全元件没有应答", en: "the secure element did not answer" },
  se_refused_channel: {
    zh: "安全元件拒绝建立安全通道",
    en: "the secure element refused to open a secure channel",
  },
  se_keys_mismatch: {
    zh: "安全元件的密钥与 TSM 所持不符（不是本平台出厂的安全元件，或出厂主密钥不同）",
    en: "the secure element's keys are not the ones the TSM holds (not one of our SEs, or another factory master key)",
  },
  se_identity_mismatch: {
    zh: "安全元件的序列号与该设备登记的不符",
    en: "the secure element's serial is not the one this phone registered",
  },
  secure_channel_refused: {
    zh: "安全元件拒绝了 TSM 的指令（校验失败，指令可能在传输中被篡改）",
    en: "the secure element refused the TSM's command (MAC check failed: it may have been altered on the way)",
  },
  response_not_authentic: {
    zh: "安全元件的应答未通过校验（R-MAC 不符）",
    en: "the secure element's answer failed its R-MAC check",
  },
  status_refused: {
    zh: "安全元件拒绝报告应用列表",
    en: "the secure element refused to report its applications",
  },
  status_malformed: {
    zh: "安全元件的应用列表格式错误",
    en: "the secure element's application list is malformed",
  },
  result_mismatch: { zh: "手机返回的结果与操作不符", en: "the phone's results do not match the operations" },
};

function brokenError(code: string): ScriptError {
  const m = OUTCOMES[code] ?? { zh: code, en: code };
  return { code, ...m };
}

function registryFailure(reason: string | undefined): ScriptError {
  const r = reason ?? "refused";
  return {
    code: `registry_${r}`.slice(0, 64),
    zh: `手机未能更改非接触注册表（${r}）`,
    en: `the phone could not change its contactless registry (${r})`,
  };
}
