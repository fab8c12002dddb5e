/**
 * What `tapwallet door open --json` prints: the door reader's decision and how it was reached — the reader's
 * mode (never its key), the card's UID, what the check found (the UID in the whitelist; the sector's
 * authentication and the credential block), the tap's software time and, on the phone in memory, the frames'
 * air-time lower bound at 106 kbit/s. A refused door is an error (exit 2): its report carries this document
 * as `details` (src/cli/errors.ts), so a script reads the same fields either way.
 */
import type { DoorConfig, DoorDecision } from "../mifare/door-reader.js";

export interface DoorDecisionJson {
  opened: boolean;
  outcome: DoorDecision["outcome"];
  /** The reader's words for the outcome. */
  reason: { zh: string; en: string };
  reader: { id: string; mode: DoorConfig["mode"]; via: "phone" | "pcsc" };
  /** The card's UID in hex, null when no card answered. */
  uid: string | null;
  /** UID mode: whether the UID is in the whitelist (null: no card). */
  whitelisted: boolean | null;
  /** Sector mode: the block and key slot (A/B) checked, whether the key opened it, the credential it holds. */
  sector: {
    block: number;
    keyType: "A" | "B";
    authenticated: boolean | null;
    credential: "enrolled" | "not_enrolled" | "unread" | null;
  } | null;
  /** The tap in software (reader and card; over PC/SC the reader's USB round trips too), ms. */
  softwareMs: number;
  /** The frames' air-time lower bound; null over PC/SC, where the reader's frames cannot be seen. */
  airTime: { bitRate: 106; totalUs: number; frames: number } | null;
}

const SECTOR_RESULT: Record<
  DoorDecision["outcome"],
  Pick<NonNullable<DoorDecisionJson["sector"]>, "authenticated" | "credential">
> = {
  no_card: { authenticated: null, credential: null },
  uid_not_enrolled: { authenticated: null, credential: null },
  auth_failed: { authenticated: false, credential: null },
  read_failed: { authenticated: true, credential: "unread" },
  credential_not_enrolled: { authenticated: true, credential: "not_enrolled" },
  granted: { authenticated: true, credential: "enrolled" },
};

export function doorDecisionJson(
  decision: DoorDecision,
  config: DoorConfig,
  tap: {
    id: string;
    via: "phone" | "pcsc";
    softwareMs: number;
    airTime: { totalUs: number; frames: number } | null;
  },
): DoorDecisionJson {
  const card = decision.outcome !== "no_card";
  return {
    opened: decision.granted,
    outcome: decision.outcome,
    reason: { zh: decision.zh, en: decision.en },
    reader: { id: tap.id, mode: config.mode, via: tap.via },
    uid: decision.uid,
    whitelisted: config.mode === "uid" && card ? decision.granted : null,
    sector:
      config.mode === "sector"
        ? { block: config.block, keyType: config.keyType, ...SECTOR_RESULT[decision.outcome] }
        : null,
    softwareMs: Math.round(tap.softwareMs * 1000) / 1000,
    airTime: tap.airTime ? { bitRate: 106, ...tap.airTime } : null,
  };
}
