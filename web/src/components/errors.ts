/** Words an error for the user, in their language. */
import { ApiError } from "../api/client.js";
import type { I18n } from "../i18n/i18n.js";

export function errorText(error: unknown, i18n: Pick<I18n, "t" | "pick">): string {
  if (error instanceof ApiError) {
    if (error.messages) return i18n.pick(error.messages);
    switch (error.code) {
      case "network_error":
        return i18n.t("error.network");
      case "aborted":
        return i18n.t("error.aborted");
      default:
        return i18n.t("error.badResponse", { status: error.status });
    }
  }
  return i18n.t("error.unexpected");
}

/** The server's stable error code, when there is one (screens add help for some). */
export function errorCode(error: unknown): string | undefined {
  return error instanceof ApiError ? error.code : undefined;
}
