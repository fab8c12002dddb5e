/**
 * Door cards on the virtual phone (门卡模拟):
 *
 * - through the cloud (`addDoorCard`): the phone checks the dump first (the same emulatable check and
 *   per-device limit the cloud applies), uploads it to the account, asks the cloud to install it on this
 *   phone, and syncs: the TSM's script installs the "mifare.door" applet with the card's personalisation
 *   over SCP03 and makes it the active door card;
 * - locally (`addDoorCardLocally`, no server): the same install script run straight through the card
 *   manager with the SE's keys from the factory master, as a TSM would;
 * - `openDoor`: a door reader taps the phone's active door card at frame level.
 */
import { randomBytes } from "node:crypto";
import { type Bytes, toHex } from "../core/bytes.js";
import type { Clock } from "../core/clock.js";
import { TapwalletError } from "../core/errors.js";
import { findTag, parseTlv } from "../core/tlv.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../se/factory-keys.js";
import type { MifareCard } from "../mifare/card.js";
import { DOOR_INS, DOOR_PACKAGE_ID } from "../mifare/door-applet.js";
import { type DoorConfig, type DoorDecision, DoorReader } from "../mifare/door-reader.js";
import { type ImportedDump, importDump } from "../mifare/formats/index.js";
import { canAddDoorCard, doorCardsOn, doorPersonalization, switchDoorCard } from "../mifare/phone.js";
import { type FrameLink, MemoryFrameLink } from "../nfc/frame.js";
import { selectByAid } from "../se/gp.js";
import { installCommands, runSecureScript } from "../se/scp03-host.js";
import { encodeCommand } from "../core/apdu.js";
import type { DoorCardInfo } from "./cloud-client.js";
import type { VirtualPhone } from "./phone.js";
import { transmit } from "./relay.js";
import type { SyncOutcome, Wallet } from "./wallet.js";
import { CARD_OWNERS } from "../protocol/tsm-wire.js";

/** Reads a dump file's bytes in any format the mifare module imports. */
export function importDoorDump(bytes: Bytes, fileName?: string): ImportedDump {
  const r = importDump(bytes, fileName ? { fileName } : {});
  if (!r.ok)
    throw new TapwalletError(
      r.error.code,
      r.error.zh,
      r.error.en,
      r.error.line === undefined ? undefined : { line: r.error.line },
    );
  return r.value;
}

/** The phone's own check before anything is sent: room on the SE, and the card may be emulated. */
function checkDoorCard(phone: VirtualPhone, card: MifareCard): Bytes {
  const allowed = canAddDoorCard(phone.se, card);
  if (!allowed.ok)
    throw new TapwalletError(allowed.error.code, allowed.error.zh, allowed.error.en, {
      reasons: allowed.error.reasons.map((r) => ({ code: r.code, sector: r.sector, zh: r.zh, en: r.en })),
    });
  return allowed.value;
}

const defaultLabel = (card: MifareCard) => ({
  zh: `门卡 ${toHex(card.uid)}`,
  en: `Door card ${toHex(card.uid)}`,
});

export interface CloudDoorAdd {
  card: DoorCardInfo;
  aid: string;
  sync: SyncOutcome;
}

/** Checks, uploads, installs through the TSM and syncs. Refusals (the phone's or the cloud's) throw. */
export async function addDoorCard(
  wallet: Wallet,
  dump: { bytes: Bytes; fileName?: string },
  options: { name?: string } = {},
): Promise<CloudDoorAdd> {
  const { deviceId } = wallet.requireRegistered();
  wallet.requireSignedIn();
  const imported = importDoorDump(dump.bytes, dump.fileName);
  checkDoorCard(wallet.phone, imported.card);
  const client = wallet.client();
  const card = await client.uploadDoorCard({
    dump: Buffer.from(dump.bytes).toString("base64"),
    ...(dump.fileName ? { fileName: dump.fileName } : {}),
    ...(options.name ? { name: options.name } : {}),
  });
  const placement = await client.installDoorCard(card.id, deviceId, true);
  const sync = await wallet.sync();
  const install = sync.scripts.findLast(
    (s) => s.owner === CARD_OWNERS.door && s.ref === card.id && s.kind === "install",
  );
  if (install?.state === "failed")
    throw new TapwalletError(
      "door_card_install_failed",
      `门卡写入手机失败：${install.error?.zh ?? "未知原因"}`,
      `the door card could not be installed: ${install.error?.en ?? "unknown reason"}`,
    );
  if (install?.state !== "done")
    throw new TapwalletError(
      "door_card_not_installed",
      "门卡尚未写入手机，请稍后再同步（tapwallet phone sync）",
      "the door card is not on the phone yet; sync again later (tapwallet phone sync)",
    );
  return { card, aid: placement.aid, sync };
}

/**
 * Installs a door card without a server: the TSM's install script (INSTALL + STORE DATA under SCP03) run
 * straight through the card manager, with the SE's keys from the factory master. Returns the AID.
 */
export function addDoorCardLocally(
  phone: VirtualPhone,
  card: MifareCard,
  options: { factoryMasterKey?: Bytes; name?: string } = {},
): Bytes {
  const aid = checkDoorCard(phone, card);
  const keys = diversifySeKeys(options.factoryMasterKey ?? DEV_SE_MASTER_KEY, phone.se.serial);
  const script = installCommands({
    packageId: DOOR_PACKAGE_ID,
    aid,
    personalization: doorPersonalization(card),
  });
  const r = runSecureScript(phone.se.host.transmit, keys, script, {
    hostChallenge: new Uint8Array(randomBytes(8)),
  });
  phone.se.host.reset();
  if (!r.ok)
    throw new TapwalletError(
      "door_card_install_failed",
      `门卡写入手机失败：${r.error.step}（${r.error.reason}）`,
      `the door card could not be installed: ${r.error.step} (${r.error.reason})`,
    );
  if (!doorCardsOn(phone.se).some((c) => c.active)) switchDoorCard(phone.se, aid);
  const label = options.name ? { zh: options.name, en: options.name } : defaultLabel(card);
  phone.addCardRecord({ aid: toHex(aid), packageId: DOOR_PACKAGE_ID, owner: "local", ref: null, label });
  return aid;
}

/** The UID of the phone's active door card (read through its identity command: never keys or data). */
export function activeDoorUid(phone: VirtualPhone): Bytes | null {
  const aid = phone.se.registry.activeAccessInstance();
  if (!aid) return null;
  try {
    const selected = transmit(phone.se, encodeCommand(selectByAid(aid)));
    if (selected.length < 2 || selected[selected.length - 2] !== 0x90) return null;
    const r = transmit(phone.se, Uint8Array.of(0x80, DOOR_INS.identity, 0x00, 0x00, 0x00));
    if (r.length < 2 || r[r.length - 2] !== 0x90) return null;
    const t = parseTlv(r.subarray(0, r.length - 2));
    return t.ok ? (findTag(t.value, 0xdf01)?.value ?? null) : null;
  } finally {
    phone.se.host.reset();
  }
}

/**
 * A door reader taps the phone: frame level, the active door card (silent if none, or the phone is locked).
 * `link` (onto `phone.door`) lets the caller record the frames.
 */
export async function openDoor(
  phone: VirtualPhone,
  config: DoorConfig,
  clock: Clock,
  readerId = "door",
  link: FrameLink = new MemoryFrameLink(phone.door),
): Promise<DoorDecision> {
  const reader = new DoorReader(config, clock, { id: readerId });
  return reader.tap(link);
}
