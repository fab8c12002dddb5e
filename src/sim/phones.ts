/**
 * The phone simulator: virtual phones (src/device) that a signed-in user makes and drives from the web app.
 * Each is a whole phone — its own SE file, device key and wallet — bound to the user's account through the
 * same calls a real phone makes: registration with the user's session and a new key (proof of possession),
 * then signed requests of its own (sync, transit). The user's session token comes with each request and is
 * never written down: only the phone's own device key stays on its disk.
 */
import { generateKeyPairSync } from "node:crypto";
import { type Bytes, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import type { Fen } from "../core/money.js";
import {
  CloudClient,
  CloudRequestError,
  type Fetch,
  VirtualPhone,
  Wallet,
  activeDoorUid,
  maskMobile,
  resolveModel,
  type PhoneCard,
  type VerificationMethod,
} from "../device/index.js";
import { writeDeviceKey } from "../device/state.js";
import {
  type FundingChannel,
  openTransitCard,
  refundTransitCard,
  topUpTransitCard,
  transferTransitCard,
  transitSync,
} from "../device/transit.js";
import { type TerminalDeps, type TerminalSpec, type TapResult, tap } from "./terminals.js";
import type { Account, SessionClient } from "./transport.js";
import { type SimPhoneRecord, SIM_PHONE_FORMAT, SimStore } from "./store.js";

export interface SimPhoneView {
  id: string;
  name: string;
  model: { code: string; zh: string; en: string; supported: boolean };
  region: string;
  seId: string;
  deviceId: string | null;
  createdAt: string;
  locked: boolean;
  verification: { at: string; method: VerificationMethod } | null;
  /** What the phone answers a reader with first: its active door card, or ISO-DEP (bank and transit). */
  fieldMode: "door" | "iso-dep";
  activeDoorUid: string | null;
  cards: Omit<PhoneCard, "index">[];
  lastSync: SimPhoneRecord["lastSync"];
}

export interface SyncView {
  lost: boolean;
  scripts: {
    kind: string;
    owner: string;
    ref: string;
    state: string;
    error: { code: string; zh: string; en: string } | null;
  }[];
  transit: { cardId: string; completed: string[]; reversed: string[]; proven: boolean }[];
}

export interface SimulatorConfig {
  dataDir: string;
  /** The cloud's base URL, as the phones and terminals address it. */
  cloudUrl: string;
  fetch: Fetch;
  clock: Clock;
  /** The factory master the SEs' keys are diversified from (the TSM holds the same one). */
  factoryMasterKey?: Bytes;
  terminals: Omit<TerminalDeps, "store" | "clock" | "cloudUrl" | "fetch">;
}

/** Transfers, refunds and the like wait this long for an unanswered cloud (in process it always answers). */
const PATIENCE = { patienceMs: 10_000 };

export class PhoneSimulator {
  readonly store: SimStore;
  private readonly terminalDeps: TerminalDeps;

  constructor(private readonly config: SimulatorConfig) {
    this.store = new SimStore(config.dataDir);
    this.terminalDeps = {
      ...config.terminals,
      store: this.store,
      clock: config.clock,
      cloudUrl: config.cloudUrl,
      fetch: config.fetch,
    };
  }

  private open(id: string): VirtualPhone {
    return VirtualPhone.open(this.store.phoneDir(id), { clock: this.config.clock });
  }

  private wallet(phone: VirtualPhone): Wallet {
    return new Wallet(phone, { fetch: this.config.fetch });
  }

  view(record: SimPhoneRecord, phone: VirtualPhone): SimPhoneView {
    return {
      id: record.id,
      name: phone.name,
      model: phone.model,
      region: phone.region,
      seId: phone.seId,
      deviceId: phone.cloud?.deviceId ?? null,
      createdAt: record.createdAt,
      locked: phone.signals.locked(),
      verification: phone.signals.verification,
      fieldMode: phone.fieldMode(),
      activeDoorUid: doorUid(phone),
      cards: phone.cards().map(({ index: _index, ...c }) => c),
      lastSync: record.lastSync,
    };
  }

  /** Runs `fn` on one of the account's phones, alone (no other operation on that phone meanwhile). */
  private withPhone<T>(
    account: Account,
    id: string,
    fn: (phone: VirtualPhone, record: SimPhoneRecord) => Promise<T>,
  ): Promise<T> {
    this.store.record(id, account.id);
    return this.store.exclusive(id, async () => {
      const record = this.store.record(id, account.id);
      return fn(this.open(id), record);
    });
  }

  // ---- phones --------------------------------------------------------------------------------------

  /** The account's phones, each read under its lock (reading the active door card talks to the SE). */
  async list(account: Account): Promise<SimPhoneView[]> {
    const out: SimPhoneView[] = [];
    for (const r of this.store.list(account.id)) {
      const view = await this.store
        .exclusive(r.id, async () => this.view(this.store.record(r.id, account.id), this.open(r.id)))
        .catch(() => null);
      if (view) out.push(view);
    }
    return out;
  }

  show(account: Account, id: string): Promise<SimPhoneView> {
    return this.withPhone(account, id, async (phone, record) => this.view(record, phone));
  }

  /**
   * The factory makes a phone (model, region, a fresh SE with keys from the factory master) and it registers
   * with the user's account: a new ECDSA key pair, bound with the user's session and a request signed by the
   * new key. A phone the cloud refuses (model, region) is not kept.
   */
  async create(
    session: SessionClient,
    account: Account,
    input: { model: string; region: string; name?: string },
  ): Promise<SimPhoneView> {
    const model = resolveModel(input.model);
    const id = this.store.newPhoneId();
    const dir = this.store.phoneDir(id);
    const name = input.name?.trim() || model.zh;
    try {
      const phone = VirtualPhone.create(dir, {
        name,
        model,
        region: input.region,
        clock: this.config.clock,
        ...(this.config.factoryMasterKey ? { factoryMasterKey: this.config.factoryMasterKey } : {}),
      });
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const client = new CloudClient({
        server: this.config.cloudUrl,
        clock: this.config.clock,
        fetch: this.config.fetch,
        session: session.token,
      });
      const device = await client.bind(
        {
          model: model.code,
          region: input.region,
          name: name.slice(0, 40),
          publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
          seId: phone.seId,
        },
        privateKey,
      );
      writeDeviceKey(dir, privateKey);
      phone.setCloud({
        server: this.config.cloudUrl,
        accountId: account.id,
        mobile: maskMobile(account.phone),
        session: null,
        deviceId: device.id,
      });
      const record: SimPhoneRecord = {
        format: SIM_PHONE_FORMAT,
        id,
        owner: account.id,
        createdAt: this.config.clock.now().toISOString(),
        lastSync: null,
      };
      this.store.writeRecord(record);
      return this.view(record, phone);
    } catch (e) {
      this.store.remove(id);
      throw e;
    }
  }

  /** Takes the phone off the account (the cloud forgets its key) and out of the simulator. */
  async remove(session: SessionClient, account: Account, id: string): Promise<void> {
    await this.withPhone(account, id, async (phone) => {
      const deviceId = phone.cloud?.deviceId;
      if (deviceId) {
        try {
          await session.call("DELETE", `/api/v1/devices/${encodeURIComponent(deviceId)}`);
        } catch (e) {
          if (!(e instanceof CloudRequestError && e.status === 404)) throw e;
        }
      }
      this.store.remove(id);
    });
  }

  private async syncPhone(phone: VirtualPhone, record: SimPhoneRecord): Promise<SyncView> {
    const wallet = this.wallet(phone);
    const out = await wallet.sync();
    const transit = out.lost ? [] : await transitSync(wallet, PATIENCE);
    const last = out.sessions[out.sessions.length - 1];
    this.store.writeRecord({
      ...record,
      lastSync: { at: this.config.clock.now().toISOString(), outcome: last?.outcome ?? "ok", lost: out.lost },
    });
    return {
      lost: out.lost,
      scripts: out.scripts.map((s) => ({
        kind: s.kind,
        owner: s.owner,
        ref: s.ref,
        state: s.state,
        error: s.error,
      })),
      transit,
    };
  }

  /** Check in and run what the TSM queued (cards installed or deleted; a lost phone wipes here). */
  sync(account: Account, id: string): Promise<{ phone: SimPhoneView; sync: SyncView }> {
    return this.withPhone(account, id, async (phone, record) => {
      const sync = await this.syncPhone(phone, record);
      return { phone: this.view(this.store.record(id, account.id), phone), sync };
    });
  }

  lock(account: Account, id: string): Promise<SimPhoneView> {
    return this.withPhone(account, id, async (phone, record) => {
      phone.lock();
      return this.view(record, phone);
    });
  }

  unlock(account: Account, id: string, method: VerificationMethod): Promise<SimPhoneView> {
    return this.withPhone(account, id, async (phone, record) => {
      phone.unlock(method);
      return this.view(record, phone);
    });
  }

  /** The user verified on the phone (fingerprint or passcode): CDCVM for the next payment. */
  verify(account: Account, id: string, method: VerificationMethod): Promise<SimPhoneView> {
    return this.withPhone(account, id, async (phone, record) => {
      phone.verify(method);
      return this.view(record, phone);
    });
  }

  /** The default bank card: asked of the cloud (the token service queues it for the TSM), then synced. */
  setDefault(session: SessionClient, account: Account, id: string, bankCardId: string) {
    return this.withPhone(account, id, async (phone, record) => {
      await session.call("PATCH", `/api/v1/bank-cards/${encodeURIComponent(bankCardId)}`, { default: true });
      const sync = await this.syncPhone(phone, record);
      return { phone: this.view(this.store.record(id, account.id), phone), sync };
    });
  }

  /**
   * The express transit card (answers gates while the phone is locked): a setting of the phone's own
   * contactless registry, which the phone reports to the cloud at the sync that follows.
   */
  setExpress(account: Account, id: string, aid: string) {
    return this.withPhone(account, id, async (phone, record) => {
      phone.setExpress(aid);
      const sync = await this.syncPhone(phone, record);
      return { phone: this.view(this.store.record(id, account.id), phone), sync };
    });
  }

  /** Report the phone lost with the user's session; the phone hears it at once and wipes its cards. */
  reportLost(session: SessionClient, account: Account, id: string) {
    return this.withPhone(account, id, async (phone, record) => {
      const deviceId = phone.cloud?.deviceId;
      if (!deviceId) throw notRegistered();
      await session.call("POST", `/api/v1/devices/${encodeURIComponent(deviceId)}/lost`);
      const sync = await this.syncPhone(phone, record);
      return { phone: this.view(this.store.record(id, account.id), phone), sync };
    });
  }

  // ---- transit cards ---------------------------------------------------------------------------------

  openTransit(
    account: Account,
    id: string,
    input: { productId: string; firstTopUp: Fen; channel: FundingChannel },
  ) {
    return this.withPhone(account, id, async (phone) => {
      const { card } = await openTransitCard(this.wallet(phone), { ...input, ...PATIENCE });
      return card;
    });
  }

  topUp(account: Account, id: string, cardId: string, input: { amount: Fen; channel: FundingChannel }) {
    return this.withPhone(account, id, (phone) =>
      topUpTransitCard(this.wallet(phone), cardId, input.amount, { channel: input.channel, ...PATIENCE }),
    );
  }

  refund(account: Account, id: string, cardId: string) {
    return this.withPhone(account, id, (phone) => refundTransitCard(this.wallet(phone), cardId));
  }

  /** 移卡 to another of the account's simulated phones (both phones take part: the old one proves, the new one installs). */
  async transfer(account: Account, id: string, cardId: string, targetId: string) {
    if (targetId === id)
      throw new TapwalletError("same_device", "卡片已在这台手机上", "The card is already on that phone");
    this.store.record(id, account.id);
    this.store.record(targetId, account.id);
    const [first, second] = [id, targetId].sort();
    return this.store.exclusive(first!, () =>
      this.store.exclusive(second!, async () => {
        const from = this.open(id);
        const to = this.open(targetId);
        return transferTransitCard(this.wallet(from), cardId, this.wallet(to));
      }),
    );
  }

  // ---- terminals -------------------------------------------------------------------------------------

  tap(account: Account, id: string, spec: TerminalSpec): Promise<TapResult> {
    return this.withPhone(account, id, (phone) => tap(phone, spec, account.id, this.terminalDeps));
  }
}

function notRegistered(): TapwalletError {
  return new TapwalletError("not_registered", "手机尚未注册", "this phone is not registered");
}

/** The UID the phone's active door card answers with (never its keys or data), if one is active. */
function doorUid(phone: VirtualPhone): string | null {
  if (phone.fieldMode() !== "door") return null;
  const uid = activeDoorUid(phone);
  return uid ? toHex(uid) : null;
}
