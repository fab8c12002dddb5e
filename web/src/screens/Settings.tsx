/**
 * Settings: language, the account, this phone, about, sign out. Default card, express transit card and
 * lost-phone suspension from here join when the card services land (docs/WEB.md).
 */
import type { ScreenDef } from "../app/screens.js";
import { Link } from "../app/router.js";
import { useSignedIn } from "../app/session.js";
import { Button } from "../components/feedback.js";
import { LanguageSwitch } from "../components/LanguageSwitch.js";
import { useAsyncAction } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";
import { maskMobile } from "./SignIn.js";

function SettingsScreen() {
  const { t, pick, dateTime } = useI18n();
  const { session, signOut } = useSignedIn();
  const phone = usePhone();
  const out = useAsyncAction();

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="settings-language">
        <h2 id="settings-language">{t("settings.language")}</h2>
        <LanguageSwitch />
      </section>
      <section className="panel" aria-labelledby="settings-account">
        <h2 id="settings-account">{t("settings.account")}</h2>
        <dl className="facts">
          <dt>{t("settings.mobile")}</dt>
          <dd>{maskMobile(session.account.phone)}</dd>
          <dt>{t("settings.memberSince")}</dt>
          <dd>{dateTime(session.account.createdAt)}</dd>
          <dt>{t("settings.sessionUntil")}</dt>
          <dd>{dateTime(session.expiresAt)}</dd>
        </dl>
      </section>
      <section className="panel" aria-labelledby="settings-phone">
        <h2 id="settings-phone">{t("settings.phone")}</h2>
        <p>
          {phone.phone
            ? t("cards.onPhone", { name: phone.phone.device.name, model: pick(phone.phone.device.model) })
            : t("settings.noPhone")}
        </p>
        <Link to="/phone">{t("settings.managePhones")}</Link>
      </section>
      <section className="panel" aria-labelledby="settings-about">
        <h2 id="settings-about">{t("settings.about")}</h2>
        <p className="muted">{t("settings.aboutText")}</p>
        <a href="/docs" target="_blank" rel="noreferrer">
          {t("settings.apiDocs")}
        </a>
      </section>
      <Button
        variant="danger"
        onClick={() => out.run(signOut)}
        pending={out.pending}
        pendingLabel={t("settings.signingOut")}
      >
        {t("settings.signOut")}
      </Button>
    </div>
  );
}

export const settingsScreen: ScreenDef = {
  path: "/settings",
  title: "settings.title",
  tab: { label: "tab.settings", icon: "gear" },
  Component: SettingsScreen,
};
