/** Messages: what happened on the account, newest first, arriving live over the notification stream. */
import type { ScreenDef } from "../app/screens.js";
import { describeEvent } from "../app/events.js";
import { useLiveUpdates } from "../app/live.js";
import { useI18n } from "../i18n/i18n.js";

function LiveStatusPill() {
  const { t } = useI18n();
  const { status } = useLiveUpdates();
  return (
    <span className={`live-pill live-${status}`} role="status">
      <span className="live-dot" aria-hidden="true" />
      {t(status === "live" ? "live.on" : status === "connecting" ? "live.connecting" : "live.reconnecting")}
    </span>
  );
}

function ActivityScreen() {
  const i18n = useI18n();
  const { t, dateTime } = i18n;
  const { events } = useLiveUpdates();
  const newestFirst = [...events]
    .reverse()
    .map((e) => ({ e, text: describeEvent(e, i18n) }))
    .filter((x): x is { e: typeof x.e; text: string } => x.text !== null);

  return (
    <div className="stack">
      <LiveStatusPill />
      {newestFirst.length === 0 ? (
        <p className="muted">{t("activity.empty")}</p>
      ) : (
        <ol className="event-list" aria-label={t("activity.listLabel")}>
          {newestFirst.map(({ e, text }) => (
            <li key={e.seq} className="event-item">
              <span className="event-text">{text}</span>
              <time className="muted small" dateTime={e.createdAt}>
                {dateTime(e.createdAt)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

export const activityScreen: ScreenDef = {
  path: "/activity",
  title: "activity.title",
  tab: { label: "tab.activity", icon: "bell" },
  Component: ActivityScreen,
};
