/**
 * A notification event in the user's words, or null for the cloud's own bookkeeping that is not news to the
 * user (the TSM's nudges to sync). New event types get a case here and their message keys.
 */
import type { NotificationEvent } from "../api/types.js";
import { yuan } from "../components/money.js";
import type { I18n } from "../i18n/i18n.js";

function text(payload: Record<string, unknown>, key: string): string {
  const v = payload[key];
  return typeof v === "string" ? v : "";
}

function fen(payload: Record<string, unknown>, key: string): string {
  const v = payload[key];
  return typeof v === "number" ? yuan(v) : "";
}

function bilingual(payload: Record<string, unknown>, key: string): { zh: string; en: string } | undefined {
  const v = payload[key] as { zh?: unknown; en?: unknown } | undefined;
  return v && typeof v.zh === "string" && typeof v.en === "string" ? { zh: v.zh, en: v.en } : undefined;
}

/** Events that only ask the phone to sync, or record the TSM's own steps. */
const QUIET = new Set(["tsm.work", "tsm.script.finished"]);

export function describeEvent(e: NotificationEvent, i18n: Pick<I18n, "t" | "pick">): string | null {
  const { t, pick } = i18n;
  const p = e.payload;
  if (QUIET.has(e.type)) return null;
  switch (e.type) {
    case "device.bound":
      return t("event.deviceBound", { name: text(p, "name") });
    case "device.removed":
      return t("event.deviceRemoved");
    case "device.lost":
      return t("event.deviceLost");
    case "bank_card.adding":
      return t("event.bankAdding", { last4: text(p, "fundingLast4") });
    case "bank_card.added":
      return t("event.bankAdded", { last4: text(p, "fundingLast4") });
    case "bank_card.default":
      return t("event.bankDefault", { last4: text(p, "tokenLast4") });
    case "bank_card.deleted":
    case "bank_card.removed":
      return t("event.bankRemoved", { last4: text(p, "tokenLast4") });
    case "bank_card.failed":
      return t("event.bankFailed", { last4: text(p, "fundingLast4") });
    case "bank_card.payment":
      return t("event.payment", {
        amount: fen(p, "amount"),
        merchant: text(p, "merchantName") || t("event.merchant"),
        last4: text(p, "tokenLast4"),
      });
    case "bank_card.payment_declined": {
      const why = bilingual(p, "message");
      return t("event.paymentDeclined", {
        amount: fen(p, "amount"),
        reason: why ? pick(why) : text(p, "reason"),
      });
    }
    case "bank_cards.suspended":
      return t("event.cardsSuspended");
    case "transit.card.issuing":
      return t("event.transitIssuing");
    case "transit.card.opened":
      return t("event.transitOpened", { balance: fen(p, "balance") });
    case "transit.card.failed":
      return t("event.transitFailed");
    case "transit.card.parked":
      return t("event.transitParked");
    case "transit.topup.completed":
      return t("event.topUp", { amount: fen(p, "amount"), balance: fen(p, "balance") });
    case "transit.topup.reversed":
      return t("event.topUpReversed", { amount: fen(p, "amount") });
    case "transit.refund.done":
      return t("event.refundDone");
    case "transit.transfer.done":
      return t("event.transferDone");
    case "access.card.added":
      return t("event.doorAdded", { uid: text(p, "uid") });
    case "access.card.installed":
      return t("event.doorInstalled");
    case "access.card.deleted":
    case "access.card.removed":
      return t("event.doorRemoved");
    default:
      if (e.type.startsWith("transit.refund.")) return t("event.refundProgress");
      if (e.type.startsWith("transit.transfer.")) return t("event.transferProgress");
      return t("event.other", { type: e.type });
  }
}
