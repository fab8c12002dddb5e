/**
 * The terminal simulator: a phone held to a QuickPass POS, a metro gate, a bus validator or a door reader.
 * Each tap runs the real terminal code of its card technology against the phone's SE (`VirtualPhone.isoDep`
 * through a `TracingLink`, or its door card at frame level), and answers with the outcome, the decoded
 * timeline, the software time and the air-time bound.
 *
 * - POS: src/emv's entry point and C-7 kernel; online authorisation through the cloud's issuer endpoint
 *   (`POST /api/v1/issuer/authorisations`) with the acquirer's API key. Floor limit 0: every payment goes
 *   online, so the cloud records it and tells the phone. Its trace number (STAN) is kept on disk: the issuer
 *   answers a repeated terminal + STAN + date with its first answer.
 * - Gate and bus: src/transit's MetroGate and BusValidator of the example operator (Beijing Subway), their
 *   PSAM holding the purchase keys of the transit issuer's seed (`TRANSIT_ISSUER_KEY_SEED`, the public
 *   development seed by default — the cloud's own). Each tap's log record goes to the cloud's clearing at
 *   once (`POST /api/v1/transit/clearing/uploads` with the operator's upload key), so the ride shows in the
 *   card's history; without a key the record stays on the gate and the answer says so. Before each tap the
 *   gate brings its copy of the issuer's blacklist up to date with the same key (gate-blacklist.ts): a card
 *   the cloud parked, refunded or retired is refused.
 * - Door reader: src/mifare's DoorReader in UID-whitelist or sector mode, with the cards its owner enrolled
 *   (by tapping the phone with `enrol`).
 */
import { randomBytes } from "node:crypto";
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { type Clock, ManualClock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import { type Fen, formatCny } from "../core/money.js";
import type { Fetch, VirtualPhone } from "../device/index.js";
import type { AuthorisationRequest, Issuer } from "../emv/authorisation.js";
import { AID } from "../emv/profile.js";
import { defaultTerminalConfig, unionPayAid } from "../emv/terminal/config.js";
import { IssuerClient } from "../emv/terminal/issuer-client.js";
import { Pos } from "../emv/terminal/pos.js";
import { formatReceipt } from "../emv/terminal/receipt.js";
import { maskPan } from "../emv/track2.js";
import { ClassicReader } from "../mifare/reader.js";
import { DoorReader } from "../mifare/door-reader.js";
import { MemoryFrameLink } from "../nfc/frame.js";
import { MemoryLink } from "../nfc/memory.js";
import { TracingLink } from "../nfc/trace.js";
import {
  BusValidator,
  EXAMPLE_FARES,
  GateLog,
  type GateUpload,
  IssuerKeyStore,
  MetroGate,
  PRODUCTS,
  Psam,
  PsamClient,
  type TapOutcome,
  keyDomainOf,
} from "../transit/index.js";
import { EXAMPLE_OPERATOR } from "../transit/sandbox.js";
import { station as findStation } from "../transit/terminal/fares.js";
import { DOOR_SITE } from "./door.js";
import { gateBlacklist } from "./gate-blacklist.js";
import type { Bilingual } from "../core/text.js";
import type { SimStore } from "./store.js";
import { type ApduTimeline, type FrameTimeline, apduTimeline, frameTimeline } from "./timeline.js";

export type TerminalSpec =
  | { kind: "pos"; amount: Fen }
  /** `at`: the gate's own date-time (default now), as `tapwallet gate --at` — rides on another day. */
  | { kind: "gate"; direction: "entry" | "exit"; station: string; at?: string }
  | { kind: "bus"; at?: string }
  | { kind: "door"; mode: "uid" | "sector"; enrol?: boolean };

export interface TerminalDeps {
  store: SimStore;
  clock: Clock;
  cloudUrl: string;
  fetch: Fetch;
  acquirerKey: string;
  /** The example operator's upload key for clearing (asked at the first upload); null: records stay on the gate. */
  operatorKey: () => Promise<string | null>;
  transitKeys: IssuerKeyStore;
}

export interface ClearingOutcome {
  sent: boolean;
  cleared?: number;
  duplicates?: number;
  rejected?: number;
  message: Bilingual;
}

export interface TapResult {
  terminal: { kind: TerminalSpec["kind"]; id: string; name: Bilingual };
  ok: boolean;
  code: string;
  message: Bilingual;
  /** What the terminal decided, per kind (amounts in fen). */
  details: Record<string, unknown>;
  timeline: ApduTimeline | FrameTimeline;
  /** The tap in software: terminal and SE, without the online authorisation's round trip. */
  softwareMs: number;
  /** The issuer's round trip (POS only). */
  onlineMs: number | null;
  clearing: ClearingOutcome | null;
  at: string;
}

/** The bus line and its flat fare (¥2.00, Beijing's standard bus fare). */
const BUS_LINE = { line: "0300", fare: 200 as Fen, name: { zh: "300 路公交", en: "Bus 300" } };
const POS_TERMINAL = {
  terminalId: "TWSIM001",
  merchantId: "898310048160099",
  merchantName: "Tapwallet Simulator Store",
};

/** What the terminal simulator offers (for the web app's forms). */
export function terminalCatalogue() {
  return {
    pos: { ...POS_TERMINAL, currency: "CNY", cvmLimit: 100000 },
    gate: {
      operator: { id: EXAMPLE_OPERATOR.id, name: EXAMPLE_OPERATOR.name },
      stations: EXAMPLE_FARES.stations.map((s) => ({ code: s.code, name: s.name, km: s.km })),
    },
    bus: { line: BUS_LINE.line, name: BUS_LINE.name, fare: BUS_LINE.fare },
    door: { modes: ["uid", "sector"] as const, sectorBlock: DOOR_SITE.block },
  };
}

// ---- the POS ----------------------------------------------------------------------------------------

/** The POS's next trace number, kept across restarts (a random start the first time). */
async function nextStan(store: SimStore): Promise<number> {
  return store.exclusive("terminal:pos", async () => {
    const s = store.readTerminalFile<{ stan?: number }>("pos.json", {});
    const stan =
      typeof s.stan === "number" && s.stan >= 1 && s.stan <= 999999
        ? s.stan
        : 1 + (randomBytes(3).readUIntBE(0, 3) % 900000);
    store.writeTerminalFile("pos.json", { stan: (stan % 999999) + 1 });
    return stan;
  });
}

async function posTap(phone: VirtualPhone, amount: Fen, deps: TerminalDeps): Promise<TapResult> {
  const config = defaultTerminalConfig({
    ...POS_TERMINAL,
    ifdSerialNumber: POS_TERMINAL.terminalId,
    aids: [unionPayAid(AID.debit), unionPayAid(AID.credit), unionPayAid(AID.quasiCredit)],
  });
  const remote = new IssuerClient({ url: deps.cloudUrl, apiKey: deps.acquirerKey, fetch: deps.fetch });
  let onlineMs = 0;
  const issuer: Issuer = {
    async authorise(request: AuthorisationRequest) {
      const t = performance.now();
      try {
        return await remote.authorise(request);
      } finally {
        onlineMs += performance.now() - t;
      }
    },
  };
  const pos = new Pos({
    config,
    clock: deps.clock,
    random: (n) => new Uint8Array(randomBytes(n)),
    issuer,
    firstStan: await nextStan(deps.store),
  });
  const link = new TracingLink(new MemoryLink(phone.isoDep));
  const started = performance.now();
  const r = await pos.pay(link, amount);
  const totalMs = performance.now() - started;
  const card = r.outcome.card;
  const auth = r.authorisation?.response;
  return {
    terminal: { kind: "pos", id: config.terminalId, name: { zh: "闪付 POS", en: "QuickPass POS" } },
    ok: r.status === "approved",
    code: r.status,
    message: { zh: r.reason.zh, en: r.reason.en },
    details: {
      amount,
      status: r.status,
      decidedBy: r.decidedBy,
      kernelOutcome: r.outcome.kind,
      cvm: r.outcome.cvm,
      stan: r.stan,
      card: card ? { pan: maskPan(card.pan), label: card.label ?? null, aid: toHex(card.aid) } : null,
      issuer: auth
        ? {
            responseCode: auth.responseCode,
            approved: auth.approved,
            authorisationCode: auth.authorisationCode ?? null,
            message: auth.message,
          }
        : null,
      issuerAuthentication: r.issuerAuthentication,
      receipt: r.status === "approved" ? formatReceipt(r, config) : [],
    },
    timeline: apduTimeline(link.records, link.activation),
    softwareMs: totalMs - onlineMs,
    onlineMs,
    clearing: null,
    at: r.at.toISOString(),
  };
}

// ---- gates and validators -----------------------------------------------------------------------------

function psam(keys: IssuerKeyStore): PsamClient {
  const domains = [...new Set(PRODUCTS.map(keyDomainOf))];
  return new PsamClient(
    new Psam(
      domains.flatMap((d) => (["3des", "sm4"] as const).map((a) => keys.purchaseKey(d, a))),
      fromHex("000030008999"),
    ),
  );
}

async function upload(log: GateLog, deps: TerminalDeps): Promise<ClearingOutcome> {
  const operatorKey = await deps.operatorKey();
  if (!operatorKey)
    return {
      sent: false,
      message: {
        zh: "未配置运营方上传密钥，记录留在闸机上",
        en: "no operator upload key: the record stays on the gate",
      },
    };
  const body: GateUpload = log.upload(deps.clock.now());
  try {
    const res = await deps.fetch(`${deps.cloudUrl.replace(/\/+$/, "")}/api/v1/transit/clearing/uploads`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-operator-key": operatorKey },
      body: JSON.stringify(body),
    });
    const j = (await res.json()) as {
      cleared?: number;
      duplicates?: number;
      rejected?: unknown[];
      message?: Bilingual;
    };
    if (!res.ok)
      return {
        sent: false,
        message: j.message ?? {
          zh: `清分上传失败（HTTP ${res.status}）`,
          en: `clearing upload failed (HTTP ${res.status})`,
        },
      };
    return {
      sent: true,
      cleared: j.cleared ?? 0,
      duplicates: j.duplicates ?? 0,
      rejected: j.rejected?.length ?? 0,
      message: { zh: "记录已上传清分", en: "the record went to clearing" },
    };
  } catch {
    return { sent: false, message: { zh: "无法连接清分系统", en: "cannot reach clearing" } };
  }
}

function stationName(code: string): Bilingual {
  return findStation(EXAMPLE_FARES, code)?.name ?? { zh: code, en: code };
}

function transitWords(r: TapOutcome, spec: TerminalSpec): Bilingual {
  if (!r.ok) return r.message;
  const fare = formatCny(r.amount);
  const left = formatCny(r.balanceAfter);
  if (r.kind === "metro-entry")
    return { zh: `闸门打开：进站（余额 ${left}）`, en: `Gate opens: entry (balance ${left})` };
  if (r.kind === "metro-exit") {
    const max =
      r.fareRule === "max-fare-no-entry"
        ? { zh: "，无进站记录按最高票价", en: ", no entry on the card: maximum fare" }
        : r.fareRule === "max-fare-stale-entry"
          ? { zh: "，进站记录超时按最高票价", en: ", entry too old: maximum fare" }
          : { zh: "", en: "" };
    return {
      zh: `闸门打开：出站，扣费 ${fare}${max.zh}（余额 ${left}）`,
      en: `Gate opens: exit, ${fare} charged${max.en} (balance ${left})`,
    };
  }
  void spec;
  return { zh: `刷卡成功，扣费 ${fare}（余额 ${left}）`, en: `Paid ${fare} (balance ${left})` };
}

async function transitTap(
  phone: VirtualPhone,
  spec: Extract<TerminalSpec, { kind: "gate" | "bus" }>,
  deps: TerminalDeps,
): Promise<TapResult> {
  const clock = spec.at ? new ManualClock(new Date(spec.at)) : deps.clock;
  const accepts = ["t-union", "city-union", "beijing"] as const;
  const listed = await gateBlacklist(deps.store, accepts, {
    url: deps.cloudUrl,
    fetch: deps.fetch,
    operatorKey: deps.operatorKey,
  });
  const common = {
    operator: EXAMPLE_OPERATOR,
    accepts,
    psam: psam(deps.transitKeys),
    blacklist: listed.blacklist,
    clock,
  };
  let id: string;
  let name: Bilingual;
  let log: GateLog;
  let terminal: MetroGate | BusValidator;
  if (spec.kind === "gate") {
    if (!findStation(EXAMPLE_FARES, spec.station))
      throw new TapwalletError("unknown_station", `没有车站 ${spec.station}`, `no station ${spec.station}`);
    id = `GATE-${spec.station}-${spec.direction === "entry" ? "IN" : "OUT"}`;
    const where = stationName(spec.station);
    name =
      spec.direction === "entry"
        ? { zh: `${where.zh} 进站闸机`, en: `${where.en} entry gate` }
        : { zh: `${where.zh} 出站闸机`, en: `${where.en} exit gate` };
    log = new GateLog(id, EXAMPLE_OPERATOR.id);
    terminal = new MetroGate({
      ...common,
      id,
      log,
      station: spec.station,
      direction: spec.direction,
      fares: EXAMPLE_FARES,
    });
  } else {
    id = `BUS-${BUS_LINE.line}`;
    name = { zh: `${BUS_LINE.name.zh}车载机`, en: `${BUS_LINE.name.en} validator` };
    log = new GateLog(id, EXAMPLE_OPERATOR.id);
    terminal = new BusValidator({ ...common, id, log, line: BUS_LINE.line, fare: BUS_LINE.fare });
  }
  const link = new TracingLink(new MemoryLink(phone.isoDep));
  const started = performance.now();
  let r: TapOutcome;
  try {
    await link.fieldOn();
    r = await terminal.tap(link);
  } catch {
    r = {
      ok: false,
      reason: "no_card",
      message: { zh: "未检测到卡片", en: "no card answered" },
      exchanges: [],
    };
  } finally {
    await link.fieldOff();
  }
  const softwareMs = performance.now() - started;
  const details: Record<string, unknown> = r.ok
    ? {
        kind: r.kind,
        system: r.system,
        product: r.product ?? null,
        cardNumber: r.cardNumber,
        amount: r.amount,
        balanceAfter: r.balanceAfter,
        fareRule: r.fareRule ?? null,
        recovered: r.recovered ?? false,
        tac: r.record.tac,
        location: r.record.location,
      }
    : {
        reason: r.reason,
        system: r.system ?? null,
        cardNumber: r.cardNumber ?? null,
        balance: r.balance ?? null,
      };
  if (spec.kind === "gate") details["station"] = { code: spec.station, name: stationName(spec.station) };
  details["blacklist"] = { cards: listed.cards, fresh: listed.fresh, message: listed.message };
  return {
    terminal: { kind: spec.kind, id, name },
    ok: r.ok,
    code: r.ok ? r.kind : r.reason,
    message: transitWords(r, spec),
    details,
    timeline: apduTimeline(link.records, link.activation),
    softwareMs,
    onlineMs: null,
    clearing: log.all.length > 0 ? await upload(log, deps) : null,
    at: clock.now().toISOString(),
  };
}

// ---- the door reader --------------------------------------------------------------------------------

/** The cards a user's door reader lets in: UIDs (whitelist mode) and credential blocks (sector mode). */
interface Enrolment {
  uids: string[];
  credentials: string[];
}

const enrolmentFile = (accountId: string) => `door-reader-${accountId.replace(/[^A-Za-z0-9_-]/g, "")}.json`;

export function doorEnrolment(store: SimStore, accountId: string): Enrolment {
  const e = store.readTerminalFile<Partial<Enrolment>>(enrolmentFile(accountId), {});
  return {
    uids: Array.isArray(e.uids) ? e.uids.filter((u) => typeof u === "string") : [],
    credentials: Array.isArray(e.credentials) ? e.credentials.filter((c) => typeof c === "string") : [],
  };
}

export function clearDoorEnrolment(store: SimStore, accountId: string): void {
  store.writeTerminalFile(enrolmentFile(accountId), { uids: [], credentials: [] });
}

async function doorTap(
  phone: VirtualPhone,
  spec: Extract<TerminalSpec, { kind: "door" }>,
  accountId: string,
  deps: TerminalDeps,
): Promise<TapResult> {
  const link = new MemoryFrameLink(phone.door, { trace: true });
  const enrolled = doorEnrolment(deps.store, accountId);
  const id = spec.mode === "uid" ? "DOOR-UID" : "DOOR-SECTOR";
  const name =
    spec.mode === "uid"
      ? { zh: "门禁读卡器（卡号白名单）", en: "Door reader (UID whitelist)" }
      : { zh: "门禁读卡器（扇区数据）", en: "Door reader (sector data)" };
  const started = performance.now();
  // Every door tap answers the same way: what happened, what the reader knows, the frames and their timing.
  const result = (
    ok: boolean,
    code: string,
    message: Bilingual,
    uid: string | null,
    softwareMs: number,
  ): TapResult => ({
    terminal: { kind: "door", id, name },
    ok,
    code,
    message,
    details: {
      mode: spec.mode,
      uid,
      enrolled: { uids: enrolled.uids.length, credentials: enrolled.credentials.length },
    },
    timeline: frameTimeline(link.trace),
    softwareMs,
    onlineMs: null,
    clearing: null,
    at: deps.clock.now().toISOString(),
  });
  if (spec.enrol) {
    // The installer's console: read what this reader will check, and add it to the list.
    const reader = new ClassicReader(link);
    await link.fieldOn();
    let value: Bytes | null = null;
    let uid: string | null = null;
    try {
      const card = await reader.activate();
      if (card) {
        uid = toHex(card.uid);
        if (spec.mode === "uid") value = card.uid;
        else if (await reader.authenticate(DOOR_SITE.block, DOOR_SITE.keyType, DOOR_SITE.key))
          value = await reader.readBlock(DOOR_SITE.block);
        await reader.halt();
      }
    } finally {
      await link.fieldOff();
    }
    const softwareMs = performance.now() - started;
    if (value) {
      const list = spec.mode === "uid" ? enrolled.uids : enrolled.credentials;
      const hex = toHex(value);
      if (!list.includes(hex)) list.push(hex);
      deps.store.writeTerminalFile(enrolmentFile(accountId), enrolled);
    }
    return result(
      value !== null,
      value ? "enrolled" : uid ? "read_failed" : "no_card",
      value
        ? { zh: `已登记门卡 ${uid}`, en: `Card ${uid} enrolled` }
        : uid
          ? { zh: "无法读取凭证块", en: "could not read the credential block" }
          : {
              zh: "未检测到门卡（没有启用的门卡，或手机已锁屏）",
              en: "no card answered (no active door card, or the phone is locked)",
            },
      uid,
      softwareMs,
    );
  }
  const reader = new DoorReader(
    spec.mode === "uid"
      ? { mode: "uid", whitelist: enrolled.uids.map(fromHex) }
      : { mode: "sector", ...DOOR_SITE, credentials: enrolled.credentials.map(fromHex) },
    deps.clock,
    { id },
  );
  const d = await reader.tap(link);
  return result(
    d.granted,
    d.outcome,
    d.granted
      ? { zh: "门已打开", en: "Door opened" }
      : { zh: `门未打开：${d.zh}`, en: `Door stays shut: ${d.en}` },
    d.uid,
    performance.now() - started,
  );
}

/** One tap of `phone` at the terminal `spec` describes. */
export function tap(
  phone: VirtualPhone,
  spec: TerminalSpec,
  accountId: string,
  deps: TerminalDeps,
): Promise<TapResult> {
  switch (spec.kind) {
    case "pos":
      return posTap(phone, spec.amount, deps);
    case "gate":
    case "bus":
      return transitTap(phone, spec, deps);
    case "door":
      return doorTap(phone, spec, accountId, deps);
  }
}
