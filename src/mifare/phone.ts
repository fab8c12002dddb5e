/**
 * Door cards on the phone (门卡模拟, item 7 of issue 5), over the SE's public API:
 *
 * - each door card is an instance of the "mifare.door" applet (door-applet.ts), category "access", under an
 *   AID F0 "TAPDOOR" nn; the SE's contactless registry keeps one door card activated for the field at a time;
 * - `doorFieldCard(se)` is what the NFC controller presents to a door reader: the frame-level card of the
 *   active door instance (silent when none is active, or the phone is locked);
 * - the personalisation (DGIs) of a copied card, optionally with the phone's fixed manufacturer bytes in
 *   block 0, or of a blank card (random or chosen UID) that an encoder authorised for a time window can write
 *   with its own keys;
 * - a per-device limit on door cards (`MAX_DOOR_CARDS`).
 *
 * Installing goes through the card manager under SCP03 (a TSM script): `installCommands` of se/scp03-host
 * with `doorPersonalization(...)` as its personalisation. Only the SE's types are imported here.
 */
import { type Bytes, concat, equal, fromHex, startsWith, toHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { type Result, err, ok } from "../core/result.js";
import { type Frame, type FrameCard, isWellFormed } from "../nfc/frame.js";
import type { Dgi } from "../se/gp.js";
import type { SecureElement } from "../se/secure-element.js";
import { type MifareCard, blankCard } from "./card.js";
import {
  DOOR_DGI,
  DOOR_INS,
  DOOR_PACKAGE_ID,
  type WriteMode,
  decodeFrame,
  encodeFrame,
} from "./door-applet.js";
import { type Refusal, checkEmulatable } from "./emulatable.js";
import { BLOCK_SIZE, CARD_TYPES, blocksInSector, firstBlockOfSector, sectorCount } from "./geometry.js";

/**
 * Door cards one device may hold. Xiaomi's wallet is reported to take up to 8 (reference mifare.md §5.3,
 * indicative sources), Huawei's 5 per wearable; docs/DECISIONS.md "Door cards per device".
 */
export const MAX_DOOR_CARDS = 8;

/** Instance AIDs: F0 (proprietary) "TAPDOOR" and a one-byte index. */
const DOOR_AID_PREFIX = fromHex("F0544150444F4F52");

export function doorAid(index: number): Bytes {
  return concat(DOOR_AID_PREFIX, Uint8Array.of(index));
}

export interface DoorCardEntry {
  aid: Bytes;
  active: boolean;
}

export function doorCardsOn(se: SecureElement): DoorCardEntry[] {
  return se.registry
    .list()
    .filter((e) => e.packageId === DOOR_PACKAGE_ID)
    .map((e) => ({ aid: e.aid, active: e.state === "activated" }));
}

export interface AddRefusal {
  code: "door_card_limit" | "not_emulatable";
  zh: string;
  en: string;
  reasons: Refusal[];
}

/**
 * Whether `card` may be added to this SE: the device has room (`MAX_DOOR_CARDS`) and the card passes the
 * emulatable check. Returns the AID the new instance takes.
 */
export function canAddDoorCard(se: SecureElement, card: MifareCard): Result<Bytes, AddRefusal> {
  const cards = doorCardsOn(se);
  if (cards.length >= MAX_DOOR_CARDS)
    return err({
      code: "door_card_limit",
      zh: `每台设备最多 ${MAX_DOOR_CARDS} 张门卡，已有 ${cards.length} 张`,
      en: `a device holds at most ${MAX_DOOR_CARDS} door cards and already has ${cards.length}`,
      reasons: [],
    });
  const verdict = checkEmulatable(card);
  if (!verdict.emulatable)
    return err({
      code: "not_emulatable",
      zh: `这张卡不能模拟：${verdict.reasons.map((r) => r.zh).join("；")}`,
      en: `this card cannot be emulated: ${verdict.reasons.map((r) => r.en).join("; ")}`,
      reasons: verdict.reasons,
    });
  let index = 1;
  while (cards.some((c) => equal(c.aid, doorAid(index)))) index++;
  return ok(doorAid(index));
}

/**
 * The card with the phone's fixed manufacturer bytes in block 0 (after UID, BCC, SAK and ATQA: 8 bytes for a
 * 4-byte UID, 6 for a 7-byte one), as phones that cannot reproduce the original card's do.
 */
export function withPhoneManufacturerData(card: MifareCard, manufacturer: Bytes): MifareCard {
  if (!card.memory) return card;
  const from = card.uid.length === 4 ? 8 : 10;
  const data = card.memory.data.slice();
  const known = card.memory.known.slice();
  data.set(manufacturer.subarray(0, BLOCK_SIZE - from), from);
  known.fill(1, from, BLOCK_SIZE);
  return { ...card, memory: { data, known } };
}

/** The phone's fixed manufacturer bytes: its SE serial (8 bytes, the same for every door card it holds). */
export function phoneManufacturerData(se: SecureElement): Bytes {
  return se.serial.slice();
}

/**
 * A blank 1K door card in the factory state (keys FFFFFFFFFFFF, access bits FF0780), with the chosen UID or a
 * random 4-byte one (never 08…, which marks a random-per-tap UID, nor 88/F8, which MIFARE forbids as UID0).
 */
export function blankDoorCard(options: { uid?: Bytes; random: (n: number) => Bytes }): MifareCard {
  const uid = options.uid?.slice() ?? options.random(4).slice();
  if (!options.uid && [0x08, 0x88, 0xf8].includes(uid[0]!)) uid[0]! ^= 0x01;
  return blankCard({ type: "1k", uid });
}

/** DGI 0301 value of a write mode. */
function writesDgi(w: WriteMode): Dgi {
  if (w.mode !== "until") return { dgi: DOOR_DGI.writes, data: Uint8Array.of(w.mode === "refused" ? 0 : 1) };
  const t = Math.floor(w.until);
  return {
    dgi: DOOR_DGI.writes,
    data: Uint8Array.of(2, t >>> 24, (t >>> 16) & 0xff, (t >>> 8) & 0xff, t & 0xff),
  };
}

/**
 * The STORE DATA personalisation of a door card: identity, every sector, and whether readers may write
 * (copied cards: allowed, since some door readers write counters back; a blank card: refused until an
 * encoder is authorised with `encoderWindowDgi`). The card must be whole (no unknown byte).
 */
export function doorPersonalization(card: MifareCard, writes: WriteMode = { mode: "allowed" }): Dgi[] {
  const flags = card.memory ? 0 : 1;
  const identity = concat(
    Uint8Array.of(CARD_TYPES.indexOf(card.type), card.sak, card.atqa[0]!, card.atqa[1]!, card.uid.length),
    card.uid,
    Uint8Array.of(flags),
  );
  const out: Dgi[] = [{ dgi: DOOR_DGI.identity, data: identity }];
  const m = card.memory;
  if (m) {
    if (m.known.some((k) => k !== 1))
      throw new TapwalletError(
        "door_card_incomplete",
        "门卡数据不完整，不能写入手机",
        "the door card has unknown bytes; it cannot go on the phone",
      );
    for (let s = 0; s < sectorCount(card.type); s++) {
      const from = firstBlockOfSector(s) * BLOCK_SIZE;
      out.push({ dgi: DOOR_DGI.sector | s, data: m.data.slice(from, from + blocksInSector(s) * BLOCK_SIZE) });
    }
  }
  out.push(writesDgi(writes));
  return out;
}

/** The DGI that lets an encoder write the card until `until` (sent by the TSM after the user agreed). */
export function encoderWindowDgi(until: Date): Dgi {
  return writesDgi({ mode: "until", until: until.getTime() / 1000 });
}

/** Makes `aid` the door card the field presents: the active one is deactivated first (one at a time). */
export function switchDoorCard(se: SecureElement, aid: Bytes): void {
  for (const c of doorCardsOn(se)) {
    if (!c.active || equal(c.aid, aid)) continue;
    const d = se.registry.deactivate(c.aid);
    if (!d.ok) throw registryFailure(d.error.reason, c.aid);
  }
  const a = se.registry.activate(aid);
  if (!a.ok) throw registryFailure(a.error.reason, aid);
}

function registryFailure(reason: string, aid: Bytes): TapwalletError {
  return new TapwalletError(
    `door_card_${reason}`,
    `门卡 ${toHex(aid)} 无法切换（${reason}）`,
    `door card ${toHex(aid)} cannot be switched (${reason})`,
  );
}

const apdu = (ins: number, p1: number, data: Bytes = new Uint8Array(0)): Bytes =>
  data.length === 0
    ? Uint8Array.of(0x80, ins, p1, 0x00)
    : concat(Uint8Array.of(0x80, ins, p1, 0x00, data.length), data);

const swOf = (r: Bytes): number => (r.length >= 2 ? (r[r.length - 2]! << 8) | r[r.length - 1]! : 0);

/**
 * The frame-level card the phone presents to a door reader: the active door instance of `se`, reached
 * through the field (field on powers the SE and selects the instance; frames travel in the applet's FRAME
 * command). Silent when no door card is active or the phone is locked. Never throws.
 */
export function doorFieldCard(se: SecureElement): FrameCard {
  let on = false;
  return {
    fieldOn() {
      se.activate();
      const aid = se.registry.activeAccessInstance();
      const select = aid
        ? concat(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length), aid, Uint8Array.of(0x00))
        : null;
      on =
        select !== null &&
        startsWith(aid!, DOOR_AID_PREFIX) &&
        swOf(se.process(select)) === 0x9000 &&
        swOf(se.process(apdu(DOOR_INS.field, 1))) === 0x9000;
    },
    handle(frame: Frame): Frame | null {
      if (!on || !isWellFormed(frame)) return null;
      const { bits, body } = encodeFrame(frame);
      const r = se.process(apdu(DOOR_INS.frame, bits, body));
      if (swOf(r) !== 0x9000 || r.length < 4) return null;
      return decodeFrame(r[0]!, r.subarray(1, r.length - 2));
    },
    fieldOff() {
      if (on) se.process(apdu(DOOR_INS.field, 0));
      on = false;
      se.deactivate();
    },
  };
}
