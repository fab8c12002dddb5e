/** The wallet app: language, session, and either sign-in or the signed-in screens inside the phone. */
import { useEffect, useRef, useState } from "react";
import { ActivityBar } from "../components/feedback.js";
import { Icon } from "../components/icons.js";
import { PhoneFrame } from "../components/PhoneFrame.js";
import { I18nProvider, useI18n } from "../i18n/i18n.js";
import { PhoneProvider } from "../phone/phone.js";
import { SCREENS } from "../screens/index.js";
import { SignIn } from "../screens/SignIn.js";
import { describeEvent } from "./events.js";
import { LiveUpdatesProvider, useLiveEvent } from "./live.js";
import { Link, ParamsContext, matchPath, navigate, usePath } from "./router.js";
import { SessionProvider, useSession } from "./session.js";

/** Says each live event out loud (politely) and shows it briefly as a toast. */
function LiveAnnouncer() {
  const i18n = useI18n();
  const [message, setMessage] = useState<{ text: string; seq: number }>();
  useLiveEvent("", (e) => {
    const text = describeEvent(e, i18n);
    if (text) setMessage({ text, seq: e.seq });
  });
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(undefined), 6000);
    return () => clearTimeout(timer);
  }, [message]);
  return (
    <div className="toast-region" role="status" aria-live="polite">
      {message && (
        <div className="toast" key={message.seq}>
          {message.text}
        </div>
      )}
    </div>
  );
}

function SignedInApp() {
  const { t } = useI18n();
  const path = usePath();
  const match = SCREENS.map((s) => ({ screen: s, params: matchPath(s.path, path) })).find((m) => m.params);
  const screen = match?.screen;
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (!screen) navigate(SCREENS[0]!.path, { replace: true });
  }, [screen]);

  // On arrival (after sign-in) and after each navigation, focus goes to the screen's heading so
  // keyboard and screen-reader users start there.
  useEffect(() => {
    heading.current?.focus();
  }, [path]);

  useEffect(() => {
    if (screen) document.title = `${t(screen.title)} · ${t("app.title")}`;
  }, [screen, t]);

  if (!screen || !match) return null;
  const { Component } = screen;
  // The tab a screen belongs to: its own, or the one its parent chain leads to.
  let home = screen;
  for (let i = 0; i < 4 && !home.tab && home.parent; i++)
    home = SCREENS.find((s) => s.path === home.parent) ?? home;
  return (
    <>
      <a className="skip-link" href="#main">
        {t("nav.skip")}
      </a>
      <header className="app-bar">
        {screen.parent && (
          <Link to={screen.parent} className="back-link">
            <span aria-hidden="true">‹ </span>
            {t("nav.back")}
          </Link>
        )}
        <h1 ref={heading} tabIndex={-1}>
          {t(screen.title)}
        </h1>
      </header>
      <main id="main" className="screen">
        <ParamsContext.Provider value={match.params ?? {}}>
          <Component key={path} />
        </ParamsContext.Provider>
      </main>
      <nav className="tab-bar" aria-label={t("nav.label")}>
        {SCREENS.filter((s) => s.tab).map((s) => (
          <Link
            key={s.path}
            to={s.path}
            aria-current={s.path === path ? "page" : s === home ? "true" : undefined}
          >
            <Icon name={s.tab!.icon} />
            <span>{t(s.tab!.label)}</span>
          </Link>
        ))}
      </nav>
      <LiveAnnouncer />
    </>
  );
}

function Shell() {
  const { session, client } = useSession();
  return (
    <PhoneFrame top={<ActivityBar client={client} />}>
      {session ? (
        // Keyed by account: another account is another phone and another stream.
        <LiveUpdatesProvider key={session.account.id}>
          <PhoneProvider>
            <SignedInApp />
          </PhoneProvider>
        </LiveUpdatesProvider>
      ) : (
        <SignIn />
      )}
    </PhoneFrame>
  );
}

export function App() {
  return (
    <I18nProvider>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </I18nProvider>
  );
}
