/** Test support: a door card added to a test SE as the wallet adds one (the check, then install and personalise). */
import type { Bytes } from "../../core/bytes.js";
import type { SecureElement } from "../../se/secure-element.js";
import { installForTest } from "../../se/testing/provision.js";
import type { MifareCard } from "../card.js";
import { type WriteMode, DOOR_PACKAGE_ID } from "../door-applet.js";
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
