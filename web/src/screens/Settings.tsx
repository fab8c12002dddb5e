/**
 * Settings: language; the default bank card (through the cloud, then the phone syncs) and the express
 * transit card (a setting of the phone, answering gates while it is locked); lost-phone suspension (report
 * this phone lost: the cloud suspends its cards and the phone wipes them); the account, the phone, about,
 * sign out.
 */
import { useId, useState } from "react";
import { Link } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { Button, ErrorAlert, StatusNote } from "../components/feedback.js";
import { LanguageSwitch } from "../components/LanguageSwitch.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";
import { maskMobile } from "./SignIn.js";

function PaymentSettings() {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const device = phone.phone!;
  const bank = useLoad(
    async () => (await api.bankCards.list(device.deviceId ?? "")).filter((c) => c.status === "active"),
    device.cards.map((c) => c.aid + (c.defaultPayment ? "d" : "")).join(),
  );
  const transit = useLoad(
    async () =>
      (await api.transit.cards()).filter((c) => c.deviceId === device.deviceId && c.state === "active"),
    device.cards.map((c) => c.aid + (c.expressTransit ? "e" : "")).join(),
  );
  const action = useAsyncAction();
  const [done, setDone] = useState<string>();
  const ids = { bank: useId(), transit: useId() };
  const currentDefault = bank.data?.find((c) => c.default)?.id ?? "";
  const currentExpress =
    transit.data?.find((c) => device.cards.some((x) => x.aid === c.aid && x.expressTransit))?.aid ?? "";

  const setDefault = async (cardId: string) => {
    setDone(undefined);
    const r = await action.run(() => api.sim.setDefault(device.id, cardId));
    if (r) {
      phone.update(r.phone);
      setDone(t("settings.defaultSet"));
    }
  };
  const setExpress = async (aid: string) => {
    setDone(undefined);
    const r = await action.run(() => api.sim.setExpress(device.id, aid));
    if (r) {
      phone.update(r.phone);
      setDone(t("settings.expressSet"));
    }
  };

  return (
    <section className="panel form" aria-labelledby="settings-pay">
      <h2 id="settings-pay">{t("settings.payment")}</h2>
      <div className="field">
        <label htmlFor={ids.bank}>{t("settings.defaultCard")}</label>
        <select
          id={ids.bank}
          className="input"
          value={currentDefault}
          disabled={!bank.data?.length || action.pending}
          onChange={(e) => void setDefault(e.target.value)}
        >
          {!currentDefault && (
            <option value="">{t(bank.data?.length ? "settings.choose" : "settings.noBankCards")}</option>
          )}
          {(bank.data ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {pick(c.bank)} ••{c.tokenLast4}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={ids.transit}>{t("settings.expressCard")}</label>
        <select
          id={ids.transit}
          className="input"
          value={currentExpress}
          disabled={!transit.data?.length || action.pending}
          onChange={(e) => void setExpress(e.target.value)}
        >
          {!currentExpress && (
            <option value="">
              {t(transit.data?.length ? "settings.choose" : "settings.noTransitCards")}
            </option>
          )}
          {(transit.data ?? []).map((c) => (
            <option key={c.id} value={c.aid}>
              {pick(c.product.name)}
            </option>
          ))}
        </select>
        <p className="hint">{t("settings.expressHint")}</p>
      </div>
      <ErrorAlert error={action.error} />
      {done && !action.pending && <StatusNote>{done}</StatusNote>}
    </section>
  );
}

function LostPhone() {
  const { t } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const device = phone.phone!;
  const [confirming, setConfirming] = useState(false);
  const action = useAsyncAction();
  const lost = device.lastSync?.lost ?? false;
  const report = async () => {
    const r = await action.run(() => api.sim.reportLost(device.id));
    if (r) {
      phone.update(r.phone);
      setConfirming(false);
    }
  };
  return (
    <section className="panel" aria-labelledby="settings-lost">
      <h2 id="settings-lost">{t("settings.lost")}</h2>
      {lost ? (
        <StatusNote tone="warn">{t("phone.noticeWiped")}</StatusNote>
      ) : confirming ? (
        <div className="confirm" role="group" aria-label={t("phone.reportLost")}>
          <p>{t("phone.lostExplain", { name: device.name })}</p>
          <ErrorAlert error={action.error} />
          <div className="row">
            <Button variant="danger" pending={action.pending} onClick={report}>
              {t("phone.confirmLost")}
            </Button>
            <Button variant="secondary" onClick={() => setConfirming(false)} disabled={action.pending}>
              {t("common.cancel")}
            </Button>
          </div>
        </div>
      ) : (
        <>
          <p className="muted">{t("settings.lostLead")}</p>
          <Button variant="secondary" onClick={() => setConfirming(true)}>
            {t("settings.reportThisLost")}
          </Button>
        </>
      )}
    </section>
  );
}

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
      <section className="panel" aria-labelledby="settings-phone">
        <h2 id="settings-phone">{t("settings.phone")}</h2>
        <p>
          {phone.phone
            ? t("cards.onPhone", { name: phone.phone.name, model: pick(phone.phone.model) })
            : t("settings.noPhone")}
        </p>
        <Link to="/phone">{t("settings.managePhones")}</Link>
      </section>
      {phone.status === "ready" && phone.phone && (
        <>
          <PaymentSettings key={phone.phone.id} />
          <LostPhone key={`lost-${phone.phone.id}`} />
        </>
      )}
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
