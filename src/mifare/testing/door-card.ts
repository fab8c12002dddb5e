/**
 * Test support for door cards: one added to a test SE as the wallet adds one (the check, then install and
 * personalise), and the frames of a door reader opening to an emulated card.
 */
import { type Bytes, fromHex } from "../../core/bytes.js";
import { systemClock } from "../../core/clock.js";
import { type FrameTraceEntry, MemoryFrameLink } from "../../nfc/frame.js";
import type { SecureElement } from "../../se/secure-element.js";
import { installForTest } from "../../se/testing/provision.js";
import { DEFAULT_TRANSPORT_KEY, type MifareCard, blankCard } from "../card.js";
import { type WriteMode, DOOR_PACKAGE_ID } from "../door-applet.js";
import { DoorReader } from "../door-reader.js";
import { EmulatedClassic } from "../emulator.js";
import { canAddDoorCard, doorPersonalization } from "../phone.js";

/** Adds `card` to `se` and returns its instance AID; `activate` as `installForTest` (default: activated). */
export function addDoorCardForTest(
  se: SecureElement,
  card: MifareCard,
  options: { writes?: WriteMode; activate?: boolean } = {},
): Bytes {
  const allowed = canAddDoorCard(se, card);
  if (!allowed.ok) throw new Error(allowed.error.en);
  installForTest(se, {
    packageId: DOOR_PACKAGE_ID,
    aid: allowed.value,
    personalization: doorPersonalization(card, options.writes),
    ...(options.activate === undefined ? {} : { activate: options.activate }),
  });
  return allowed.value;
}

/** The frames of a door reader opening to a blank 1K card of `uid` (hex): by UID, or by block 4 under key A. */
export async function doorOpenTrace(mode: "uid" | "sector", uid: string): Promise<FrameTraceEntry[]> {
  const card = new EmulatedClassic(blankCard({ type: "1k", uid: fromHex(uid) }));
  const link = new MemoryFrameLink(card, { trace: true });
  const reader = new DoorReader(
    mode === "uid"
      ? { mode: "uid", whitelist: [fromHex(uid)] }
      : {
          mode: "sector",
          block: 4,
          keyType: "A",
          key: DEFAULT_TRANSPORT_KEY,
          credentials: [new Uint8Array(16)],
        },
    systemClock,
  );
  if (!(await reader.tap(link)).granted) throw new Error("the door did not open");
  return link.trace;
}
