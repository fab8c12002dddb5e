/** A notification event in the user's words. New event types get a case here and their message keys. */
import type { NotificationEvent } from "../api/types.js";
import type { I18n } from "../i18n/i18n.js";

function text(payload: Record<string, unknown>, key: string): string {
  const v = payload[key];
  return typeof v === "string" ? v : "";
}

export function describeEvent(e: NotificationEvent, t: I18n["t"]): string {
  switch (e.type) {
    case "device.bound":
      return t("event.deviceBound", { name: text(e.payload, "name") });
    case "device.removed":
      return t("event.deviceRemoved");
    case "device.lost":
      return t("event.deviceLost");
    default:
      return t("event.other", { type: e.type });
  }
}
