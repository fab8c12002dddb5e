/**
 * Door cards in the cloud (门卡): a user's copied MIFARE Classic cards, kept per account and put on their
 * phones through the TSM.
 *
 * - Upload: a dump in any format the mifare module imports (proxmark3 JSON, .bin/.mfd, .eml, MCT, Flipper);
 *   the emulatable check runs here as on the phone (Mi Pay's rule: every sector opens with a default key,
 *   no payment/transit/stored-value application); a refusal names each reason and its sector in zh-CN and
 *   English. The card image (keys and data) is sealed at rest with AES-256-GCM under the access key.
 * - Install on one of the account's phones: the per-device limit (`MAX_DOOR_CARDS`), an AID on that SE,
 *   the TSM's install script ("mifare.door" with `doorPersonalization`) and, for the phone's first door card
 *   or when asked, a registry change that makes it the active one. The placement follows the script:
 *   installing → installed (or failed); lost when the SE turns out not to have it; removing → gone.
 * - A phone reported lost: its door cards are deleted from its SE at its next contact.
 * - One account never sees another's door cards: every query is scoped by account; a stranger's id is 404.
 */
import type { Transaction } from "kysely";
import { type Bytes, fromHex, toHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import { type MifareCard, cardFromJson, cardToJson } from "../../mifare/card.js";
import { DOOR_PACKAGE_ID } from "../../mifare/door-applet.js";
import { checkEmulatable } from "../../mifare/emulatable.js";
import { type DumpFormat, importDump } from "../../mifare/formats/index.js";
import { MAX_DOOR_CARDS, doorAid, doorPersonalization } from "../../mifare/phone.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { type Executor, forUpdate, lockAccount, transaction } from "../db/tx.js";
import { type DeviceService, type DeviceView, deviceNotFound } from "../devices/service.js";
import { CloudError } from "../errors.js";
import type { Notifications } from "../notifications/service.js";
import { randomId } from "../random.js";
import { SealedBox } from "../tsm/sealed-box.js";
import type { ScriptEvent, InstanceEvent, TsmService } from "../tsm/service.js";
import type { AccessCardsTable, AccessPlacementsTable, PlacementState } from "./tables.js";
import { CARD_OWNERS } from "../../protocol/tsm-wire.js";

const ACCESS_OWNER = CARD_OWNERS.door;
/** Door cards one account may keep. */
const MAX_DOOR_CARDS_PER_ACCOUNT = 50;

export interface PlacementView {
  deviceId: string;
  aid: string;
  state: PlacementState;
  error: { code: string; zh: string; en: string } | null;
  updatedAt: string;
}

export interface DoorCardView {
  id: string;
  name: string;
  uid: string;
  type: string;
  sak: string;
  atqa: string;
  format: string;
  createdAt: string;
  placements: PlacementView[];
}

export interface UploadInput {
  /** The dump file's bytes, base64. */
  dump: string;
  fileName?: string;
  format?: DumpFormat;
  name?: string;
}

type Trx = Transaction<Database>;

const notFound = () => new CloudError("not_found", "door_card_not_found", "门卡不存在", "No such door card");
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Placements that hold (or are about to hold) a place on the SE. */
const OCCUPYING: PlacementState[] = ["installing", "installed", "removing"];

export class AccessService {
  private readonly box: SealedBox;

  constructor(
    private readonly ctx: CloudContext,
    private readonly tsm: TsmService,
    devices: DeviceService,
    private readonly notifications: Notifications,
    key: Bytes,
  ) {
    this.box = new SealedBox(key);
    tsm.subscribe(ACCESS_OWNER, {
      scriptFinished: (e, trx) => this.scriptFinished(e, trx),
      instanceLost: (e, trx) => this.instanceLost(e, trx),
    });
    devices.onLost((trx, device) => this.deviceLost(trx, device));
    devices.onRemoved((trx, device) => this.deviceRemoved(trx, device));
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  // ---- the owner's actions ------------------------------------------------------------------------

  async upload(accountId: string, input: UploadInput): Promise<DoorCardView> {
    if (!BASE64.test(input.dump) || input.dump.length % 4 !== 0)
      throw new CloudError(
        "invalid",
        "dump_not_base64",
        "转储文件须以 base64 上传",
        "The dump must be sent as base64",
      );
    const bytes = new Uint8Array(Buffer.from(input.dump, "base64"));
    const imported = importDump(bytes, {
      ...(input.format ? { format: input.format } : {}),
      ...(input.fileName ? { fileName: input.fileName } : {}),
    });
    if (!imported.ok)
      throw new CloudError("invalid", `dump_${imported.error.code}`, imported.error.zh, imported.error.en, {
        ...(imported.error.line === undefined ? {} : { line: imported.error.line }),
      });
    const card = imported.value.card;
    const verdict = checkEmulatable(card);
    if (!verdict.emulatable)
      throw new CloudError(
        "refused",
        "door_card_not_emulatable",
        `这张卡不能模拟：${verdict.reasons.map((r) => r.zh).join("；")}`,
        `this card cannot be emulated: ${verdict.reasons.map((r) => r.en).join("; ")}`,
        {
          reasons: verdict.reasons.map((r) => ({
            code: r.code,
            sector: r.sector,
            ...(r.block === undefined ? {} : { block: r.block }),
            zh: r.zh,
            en: r.en,
          })),
        },
      );
    try {
      doorPersonalization(card);
    } catch (e) {
      if (e instanceof TapwalletError) throw new CloudError("refused", e.code, e.zh, e.en);
      throw e;
    }
    return transaction(this.ctx.db.db, async (trx) => {
      await lockAccount(trx, this.ctx.db.dialect, accountId);
      const count = await trx
        .selectFrom("access_cards")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("account_id", "=", accountId)
        .where("deleted_at", "is", null)
        .executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_DOOR_CARDS_PER_ACCOUNT)
        throw new CloudError(
          "conflict",
          "too_many_door_cards",
          `每个账户最多保存 ${MAX_DOOR_CARDS_PER_ACCOUNT} 张门卡`,
          `An account keeps at most ${MAX_DOOR_CARDS_PER_ACCOUNT} door cards`,
        );
      const id = randomId(this.ctx.rng, "dc");
      const uid = toHex(card.uid);
      const row: AccessCardsTable = {
        id,
        account_id: accountId,
        name: input.name?.trim() || `门卡 ${uid}`,
        uid,
        type: card.type,
        sak: card.sak,
        atqa: toHex(card.atqa),
        format: imported.value.format,
        image_sealed: this.box.sealJson(cardToJson(card), `access.card:${id}`),
        created_at: this.now(),
        deleted_at: null,
      };
      await trx.insertInto("access_cards").values(row).execute();
      await this.notifications.publish(accountId, "access.card.added", { cardId: id, uid }, trx);
      return this.view(row, []);
    });
  }

  async list(accountId: string): Promise<DoorCardView[]> {
    const rows = await this.ctx.db.db
      .selectFrom("access_cards")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    const placements = await this.placementsOf(
      this.ctx.db.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) =>
      this.view(
        r,
        placements.filter((p) => p.card_id === r.id),
      ),
    );
  }

  async get(accountId: string, cardId: string): Promise<DoorCardView> {
    const row = await this.ownCard(this.ctx.db.db, accountId, cardId);
    return this.view(row, await this.placementsOf(this.ctx.db.db, [row.id]));
  }

  /** Puts the card on one of the owner's phones through the TSM (and makes it the active door card). */
  async install(
    accountId: string,
    cardId: string,
    deviceId: string,
    activate: boolean,
  ): Promise<PlacementView> {
    return transaction(this.ctx.db.db, async (trx) => {
      const card = await this.ownCard(trx, accountId, cardId);
      const device = await this.ownDevice(trx, accountId, deviceId);
      if (device.lost_at !== null)
        throw new CloudError(
          "conflict",
          "device_lost",
          "该设备已挂失，不能再添加卡片",
          "This phone is reported lost; no cards can be added to it",
        );
      const onDevice = await trx
        .selectFrom("access_placements")
        .selectAll()
        .where("device_id", "=", deviceId)
        .$call(forUpdate(this.ctx.db.dialect))
        .execute();
      const existing = onDevice.find((p) => p.card_id === cardId);
      if (existing && OCCUPYING.includes(existing.state))
        throw new CloudError(
          "conflict",
          "door_card_already_on_device",
          "这张门卡已在该设备上",
          "This door card is already on that phone",
        );
      const held = onDevice.filter((p) => OCCUPYING.includes(p.state) && p.state !== "removing").length;
      if (held >= MAX_DOOR_CARDS)
        throw new CloudError(
          "conflict",
          "door_card_limit",
          `每台设备最多 ${MAX_DOOR_CARDS} 张门卡，已有 ${held} 张`,
          `a device holds at most ${MAX_DOOR_CARDS} door cards and already has ${held}`,
          { limit: MAX_DOOR_CARDS },
        );
      const aid = await this.freeAid(trx, deviceId, onDevice, existing);
      const image = this.image(card);
      const script = await this.tsm.enqueueInstall(
        deviceId,
        {
          packageId: DOOR_PACKAGE_ID,
          aid: fromHex(aid),
          personalization: doorPersonalization(image),
          owner: ACCESS_OWNER,
          ref: cardId,
          label: { zh: card.name, en: card.name },
        },
        trx,
      );
      const first = held === 0;
      if (activate || first)
        await this.tsm.enqueueRegistry(
          deviceId,
          { aid: fromHex(aid), action: "activate", owner: ACCESS_OWNER, ref: cardId },
          trx,
        );
      const now = this.now();
      const row: AccessPlacementsTable = {
        card_id: cardId,
        device_id: deviceId,
        aid,
        state: "installing",
        script_id: script.id,
        error: null,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      if (existing)
        await trx
          .updateTable("access_placements")
          .set({ aid, state: "installing", script_id: script.id, error: null, updated_at: now })
          .where("card_id", "=", cardId)
          .where("device_id", "=", deviceId)
          .execute();
      else await trx.insertInto("access_placements").values(row).execute();
      return placementView(row);
    });
  }

  /** Makes the card the phone's active door card (one at a time). */
  async activate(accountId: string, cardId: string, deviceId: string): Promise<PlacementView> {
    return transaction(this.ctx.db.db, async (trx) => {
      await this.ownCard(trx, accountId, cardId);
      await this.ownDevice(trx, accountId, deviceId);
      const p = await this.placement(trx, cardId, deviceId);
      if (!p || (p.state !== "installed" && p.state !== "installing"))
        throw new CloudError(
          "conflict",
          "door_card_not_on_device",
          "这张门卡不在该设备上",
          "This door card is not on that phone",
        );
      await this.tsm.enqueueRegistry(
        deviceId,
        { aid: fromHex(p.aid), action: "activate", owner: ACCESS_OWNER, ref: cardId },
        trx,
      );
      return placementView(p);
    });
  }

  /** Takes the card off one phone. */
  async uninstall(accountId: string, cardId: string, deviceId: string): Promise<void> {
    await transaction(this.ctx.db.db, async (trx) => {
      await this.ownCard(trx, accountId, cardId);
      await this.ownDevice(trx, accountId, deviceId);
      const p = await this.placement(trx, cardId, deviceId);
      if (!p)
        throw new CloudError(
          "not_found",
          "door_card_not_on_device",
          "这张门卡不在该设备上",
          "This door card is not on that phone",
        );
      await this.remove(trx, p);
    });
  }

  /** Deletes the card from the account and from every phone that holds it. */
  async delete(accountId: string, cardId: string): Promise<void> {
    await transaction(this.ctx.db.db, async (trx) => {
      const card = await this.ownCard(trx, accountId, cardId);
      await trx
        .updateTable("access_cards")
        .set({ deleted_at: this.now() })
        .where("id", "=", card.id)
        .execute();
      for (const p of await this.placementsOf(trx, [card.id])) await this.remove(trx, p);
      await this.notifications.publish(accountId, "access.card.deleted", { cardId }, trx);
      await this.dropIfGone(trx, card.id);
    });
  }

  // ---- the TSM's news ------------------------------------------------------------------------------

  private async scriptFinished(e: ScriptEvent, trx: Trx): Promise<void> {
    const p = await this.placement(trx, e.ref, e.deviceId);
    if (!p || e.kind === "registry") return;
    const now = this.now();
    const set = (state: PlacementState, error: ScriptEvent["error"] = null) =>
      trx
        .updateTable("access_placements")
        .set({
          state,
          error: error ? JSON.stringify({ code: error.code, zh: error.zh, en: error.en }) : null,
          updated_at: now,
        })
        .where("card_id", "=", p.card_id)
        .where("device_id", "=", p.device_id)
        .execute();
    if (e.kind === "install" && p.script_id === e.scriptId) {
      if (e.state === "done") {
        await set("installed");
        await this.notifications.publish(
          e.accountId,
          "access.card.installed",
          { cardId: e.ref, deviceId: e.deviceId },
          trx,
        );
        const device = await trx
          .selectFrom("devices")
          .select("lost_at")
          .where("id", "=", e.deviceId)
          .executeTakeFirst();
        // It landed on a phone reported lost in the meantime: take it off again.
        if (device?.lost_at != null) await this.remove(trx, { ...p, state: "installed" });
      } else if (e.state === "failed") await set("failed", e.error);
      else await this.dropPlacement(trx, p);
      return;
    }
    if (e.kind === "delete" && p.state === "removing") {
      if (e.state === "failed") await set("removing", e.error);
      else {
        await this.dropPlacement(trx, p);
        await this.notifications.publish(
          e.accountId,
          "access.card.removed",
          { cardId: e.ref, deviceId: e.deviceId },
          trx,
        );
      }
    }
  }

  private async instanceLost(e: InstanceEvent, trx: Trx): Promise<void> {
    if (!e.deviceId) return;
    await trx
      .updateTable("access_placements")
      .set({ state: "lost", updated_at: this.now() })
      .where("card_id", "=", e.ref)
      .where("device_id", "=", e.deviceId)
      .where("aid", "=", e.aid)
      .where("state", "=", "installed")
      .execute();
  }

  private async deviceLost(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    for (const p of await this.placementsOn(trx, device.id))
      if (p.state === "installed") await this.remove(trx, p);
  }

  private async deviceRemoved(trx: Trx, device: DeviceView & { accountId: string }): Promise<void> {
    for (const p of await this.placementsOn(trx, device.id)) await this.dropPlacement(trx, p);
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /** Takes a placement off its phone: cancel an install not sent yet, or queue a delete. */
  private async remove(trx: Trx, p: AccessPlacementsTable): Promise<void> {
    if (p.state === "removing") return;
    if (p.state === "failed" || p.state === "lost") {
      await this.dropPlacement(trx, p);
      return;
    }
    if (p.state === "installing" && p.script_id && (await this.tsm.cancel(p.script_id, trx))) return;
    const script = await this.tsm.enqueueDelete(
      p.device_id,
      { aid: fromHex(p.aid), owner: ACCESS_OWNER, ref: p.card_id },
      trx,
    );
    await trx
      .updateTable("access_placements")
      .set({ state: "removing", script_id: script.id, updated_at: this.now() })
      .where("card_id", "=", p.card_id)
      .where("device_id", "=", p.device_id)
      .execute();
  }

  private async dropPlacement(trx: Trx, p: AccessPlacementsTable): Promise<void> {
    await trx
      .deleteFrom("access_placements")
      .where("card_id", "=", p.card_id)
      .where("device_id", "=", p.device_id)
      .execute();
    await this.dropIfGone(trx, p.card_id);
  }

  /** A deleted card's row (and sealed image) goes once no phone holds it. */
  private async dropIfGone(trx: Trx, cardId: string): Promise<void> {
    const card = await trx
      .selectFrom("access_cards")
      .select("deleted_at")
      .where("id", "=", cardId)
      .executeTakeFirst();
    if (!card || card.deleted_at === null) return;
    const left = await trx
      .selectFrom("access_placements")
      .select("device_id")
      .where("card_id", "=", cardId)
      .executeTakeFirst();
    if (!left) await trx.deleteFrom("access_cards").where("id", "=", cardId).execute();
  }

  private async freeAid(
    trx: Trx,
    deviceId: string,
    onDevice: AccessPlacementsTable[],
    reuse: AccessPlacementsTable | undefined,
  ): Promise<string> {
    // Installing again where it was lost or failed: the same place on the SE.
    if (reuse) return reuse.aid;
    const taken = await this.tsm.occupiedAids(deviceId, trx);
    for (const p of onDevice) taken.add(p.aid);
    for (let i = 1; i <= 0xff; i++) {
      const aid = toHex(doorAid(i));
      if (!taken.has(aid)) return aid;
    }
    throw new CloudError("conflict", "door_card_limit", "设备上没有空位了", "No room left on the phone");
  }

  private image(card: AccessCardsTable): MifareCard {
    const json = this.box.openJson(card.image_sealed, `access.card:${card.id}`);
    if (!json.ok) throw new Error(`door card ${card.id} image does not open: ${json.error}`);
    const parsed = cardFromJson(json.value);
    if (!parsed.ok) throw new Error(`door card ${card.id} image is invalid: ${parsed.error}`);
    return parsed.value;
  }

  private async ownCard(exec: Executor, accountId: string, cardId: string): Promise<AccessCardsTable> {
    const row = await exec
      .selectFrom("access_cards")
      .selectAll()
      .where("id", "=", cardId)
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
    if (!row) throw notFound();
    return row;
  }

  private async ownDevice(exec: Executor, accountId: string, deviceId: string) {
    const row = await exec
      .selectFrom("devices")
      .select(["id", "lost_at"])
      .where("id", "=", deviceId)
      .where("account_id", "=", accountId)
      .where("removed_at", "is", null)
      .executeTakeFirst();
    if (!row) throw deviceNotFound();
    return row;
  }

  private async placement(exec: Executor, cardId: string, deviceId: string) {
    return exec
      .selectFrom("access_placements")
      .selectAll()
      .where("card_id", "=", cardId)
      .where("device_id", "=", deviceId)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirst();
  }

  private async placementsOn(exec: Executor, deviceId: string): Promise<AccessPlacementsTable[]> {
    return exec.selectFrom("access_placements").selectAll().where("device_id", "=", deviceId).execute();
  }

  private async placementsOf(exec: Executor, cardIds: string[]): Promise<AccessPlacementsTable[]> {
    if (cardIds.length === 0) return [];
    return exec
      .selectFrom("access_placements")
      .selectAll()
      .where("card_id", "in", cardIds)
      .orderBy("created_at")
      .execute();
  }

  private view(row: AccessCardsTable, placements: AccessPlacementsTable[]): DoorCardView {
    return {
      id: row.id,
      name: row.name,
      uid: row.uid,
      type: row.type,
      sak: toHex(Uint8Array.of(row.sak)),
      atqa: row.atqa,
      format: row.format,
      createdAt: new Date(row.created_at).toISOString(),
      placements: placements.map(placementView),
    };
  }
}

function placementView(p: AccessPlacementsTable): PlacementView {
  let error: PlacementView["error"] = null;
  if (p.error) {
    try {
      error = JSON.parse(p.error) as PlacementView["error"];
    } catch {
      error = null;
    }
  }
  return {
    deviceId: p.device_id,
    aid: p.aid,
    state: p.state,
    error,
    updatedAt: new Date(p.updated_at).toISOString(),
  };
}
