/**
 * The phone and its model: register this browser as a supported Xiaomi phone in mainland China (the cloud
 * refuses other models and regions and says why), see this phone as the cloud sees it, and manage the
 * account's phones: report one lost (its cards are suspended and it wipes itself at its next contact) or
 * remove it.
 */
import { useId, useState, type FormEvent } from "react";
import type { DeviceView, PhoneModel } from "../api/types.js";
import type { ScreenDef } from "../app/screens.js";
import { useLiveEvent } from "../app/live.js";
import { useSignedIn } from "../app/session.js";
import { errorCode } from "../components/errors.js";
import { Button, ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import type { MessageKey } from "../i18n/messages.js";
import { usePhone } from "../phone/phone.js";

/** Regions offered in the form: the service area and the refusals worth showing (the cloud decides). */
export const REGION_CHOICES: readonly { code: string; label: MessageKey }[] = [
  { code: "CN", label: "region.CN" },
  { code: "HK", label: "region.HK" },
  { code: "MO", label: "region.MO" },
  { code: "TW", label: "region.TW" },
  { code: "SG", label: "region.SG" },
  { code: "US", label: "region.US" },
];

const OTHER_MODEL = "__other";

/** `04A1…` → `04A1 B2C3 …`: easier to read aloud and compare. */
function groupHex(hex: string): string {
  return hex.replace(/(.{4})(?=.)/g, "$1 ");
}

function RegisterPhone({ models, onRegistered }: { models: PhoneModel[]; onRegistered(): void }) {
  const { t, pick } = useI18n();
  const phone = usePhone();
  const [model, setModel] = useState(models[0]?.code ?? OTHER_MODEL);
  const [otherModel, setOtherModel] = useState("");
  const [region, setRegion] = useState("CN");
  const [name, setName] = useState("");
  const action = useAsyncAction();
  const ids = { model: useId(), other: useId(), region: useId(), name: useId(), otherHint: useId() };

  const chosenModel = model === OTHER_MODEL ? otherModel.trim() : model;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const device = await action.run(() =>
      phone.register({ model: chosenModel, region, ...(name.trim() ? { name: name.trim() } : {}) }),
    );
    if (device) onRegistered();
  };

  const supported =
    (errorCode(action.error) === "unsupported_model" &&
      models.map((m) => pick(m)).join(t("list.separator"))) ||
    "";

  return (
    <section className="panel" aria-labelledby="register-heading">
      <h2 id="register-heading">{t("phone.registerTitle")}</h2>
      <p className="muted">{t("phone.registerLead")}</p>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor={ids.model}>{t("phone.model")}</label>
          <select id={ids.model} className="input" value={model} onChange={(e) => setModel(e.target.value)}>
            <optgroup label={t("phone.supportedModels")}>
              {models.map((m) => (
                <option key={m.code} value={m.code}>
                  {pick(m)} ({m.code})
                </option>
              ))}
            </optgroup>
            <option value={OTHER_MODEL}>{t("phone.otherModel")}</option>
          </select>
        </div>
        {model === OTHER_MODEL && (
          <div className="field">
            <label htmlFor={ids.other}>{t("phone.otherModelCode")}</label>
            <input
              id={ids.other}
              className="input"
              value={otherModel}
              onChange={(e) => setOtherModel(e.target.value)}
              placeholder="ginkgo"
              autoCapitalize="off"
              spellCheck={false}
              aria-describedby={ids.otherHint}
              required
            />
            <p className="hint" id={ids.otherHint}>
              {t("phone.otherModelHint")}
            </p>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.region}>{t("phone.region")}</label>
          <select
            id={ids.region}
            className="input"
            value={region}
            onChange={(e) => setRegion(e.target.value)}
          >
            {REGION_CHOICES.map((r) => (
              <option key={r.code} value={r.code}>
                {t(r.label)} ({r.code})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.name}>{t("phone.name")}</label>
          <input
            id={ids.name}
            className="input"
            value={name}
            maxLength={40}
            onChange={(e) => setName(e.target.value)}
            placeholder={t("phone.namePlaceholder")}
          />
        </div>
        <ErrorAlert error={action.error}>
          {supported && <p className="alert-detail">{t("phone.supportedList", { models: supported })}</p>}
          {errorCode(action.error) === "region_not_supported" && (
            <p className="alert-detail">{t("phone.regionHelp")}</p>
          )}
        </ErrorAlert>
        {action.pending && <Progress label={t("phone.registering")} />}
        <Button type="submit" pending={action.pending} disabled={chosenModel === ""}>
          {t("phone.register")}
        </Button>
      </form>
    </section>
  );
}

function ThisPhone({ device }: { device: DeviceView }) {
  const { t, pick, dateTime } = useI18n();
  const phone = usePhone();
  const sync = useAsyncAction();
  const [synced, setSynced] = useState(false);

  const checkIn = async () => {
    setSynced(false);
    await sync.run(() => phone.checkIn());
    setSynced(true);
  };

  return (
    <section className="panel this-phone" aria-labelledby="this-phone-heading">
      <div className="phone-hero" aria-hidden="true">
        <div className="mini-phone">
          <span>{pick(device.model)}</span>
        </div>
      </div>
      <h2 id="this-phone-heading">{t("phone.thisPhone")}</h2>
      <dl className="facts">
        <dt>{t("phone.name")}</dt>
        <dd>{device.name}</dd>
        <dt>{t("phone.model")}</dt>
        <dd>
          {pick(device.model)} <span className="muted">({device.model.code})</span>
        </dd>
        <dt>{t("phone.region")}</dt>
        <dd>{device.region}</dd>
        <dt>{t("phone.seId")}</dt>
        <dd className="mono">{groupHex(device.seId)}</dd>
        <dt>{t("phone.deviceId")}</dt>
        <dd className="mono">{device.id}</dd>
        <dt>{t("phone.registeredAt")}</dt>
        <dd>{dateTime(device.createdAt)}</dd>
        <dt>{t("phone.lastSeen")}</dt>
        <dd>{device.lastSeenAt ? dateTime(device.lastSeenAt) : t("phone.never")}</dd>
      </dl>
      <ErrorAlert error={sync.error} />
      {synced && !sync.error && !sync.pending && <StatusNote>{t("phone.synced")}</StatusNote>}
      <Button variant="secondary" onClick={checkIn} pending={sync.pending} pendingLabel={t("phone.syncing")}>
        {t("phone.checkIn")}
      </Button>
    </section>
  );
}

type Confirming = { deviceId: string; action: "lost" | "remove" } | undefined;

function MyPhones({ devices, onChanged }: { devices: DeviceView[]; onChanged(): void }) {
  const { t, pick, dateTime } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [confirming, setConfirming] = useState<Confirming>();
  const action = useAsyncAction();
  const [done, setDone] = useState<string | undefined>();

  const act = async (d: DeviceView, what: "lost" | "remove") => {
    const isThis = d.id === phone.phone?.deviceId;
    const ok = await action.run(async () => {
      if (what === "lost") {
        await api.devices.reportLost(d.id);
        // If it is this very browser, its next contact is now: it learns it is lost and wipes itself.
        if (isThis) await phone.checkIn();
      } else {
        await api.devices.remove(d.id);
        if (isThis) await phone.forget();
      }
      return true;
    });
    if (ok) {
      setConfirming(undefined);
      setDone(t(what === "lost" ? "phone.reportedLost" : "phone.removed", { name: d.name }));
      onChanged();
    }
  };

  return (
    <section className="panel" aria-labelledby="my-phones-heading">
      <h2 id="my-phones-heading">{t("phone.myPhones")}</h2>
      {done && <StatusNote>{done}</StatusNote>}
      {devices.length === 0 ? (
        <p className="muted">{t("phone.noPhones")}</p>
      ) : (
        <ul className="device-list">
          {devices.map((d) => {
            const isThis = d.id === phone.phone?.deviceId;
            const open = confirming?.deviceId === d.id ? confirming.action : undefined;
            return (
              <li key={d.id} className="device-item">
                <div className="device-line">
                  <span className="device-name">{d.name}</span>
                  {isThis && <span className="badge">{t("phone.thisBadge")}</span>}
                  {d.lost && <span className="badge badge-warn">{t("phone.lostBadge")}</span>}
                </div>
                <div className="muted small">
                  {pick(d.model)} · {d.region} · {t("phone.addedOn", { date: dateTime(d.createdAt) })}
                </div>
                {open ? (
                  <div
                    className="confirm"
                    role="group"
                    aria-label={t(open === "lost" ? "phone.reportLost" : "phone.remove")}
                  >
                    <p>
                      {t(open === "lost" ? "phone.lostExplain" : "phone.removeExplain", { name: d.name })}
                    </p>
                    <ErrorAlert error={action.error} />
                    <div className="row">
                      <Button variant="danger" pending={action.pending} onClick={() => act(d, open)}>
                        {t(open === "lost" ? "phone.confirmLost" : "phone.confirmRemove")}
                      </Button>
                      <Button
                        variant="secondary"
                        onClick={() => setConfirming(undefined)}
                        disabled={action.pending}
                      >
                        {t("common.cancel")}
                      </Button>
                    </div>
                  </div>
                ) : (
                  <div className="row">
                    {!d.lost && (
                      <Button
                        variant="secondary"
                        onClick={() => {
                          action.clearError();
                          setConfirming({ deviceId: d.id, action: "lost" });
                        }}
                        aria-label={t("phone.reportLostNamed", { name: d.name })}
                      >
                        {t("phone.reportLost")}
                      </Button>
                    )}
                    <Button
                      variant="secondary"
                      onClick={() => {
                        action.clearError();
                        setConfirming({ deviceId: d.id, action: "remove" });
                      }}
                      aria-label={t("phone.removeNamed", { name: d.name })}
                    >
                      {t("phone.remove")}
                    </Button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function PhoneScreen() {
  const { t } = useI18n();
  const { api, session } = useSignedIn();
  const phone = usePhone();
  const models = useLoad(() => api.devices.models(), "models");
  const devices = useLoad(() => api.devices.list(), session.account.id);
  useLiveEvent("device.", devices.reload);

  return (
    <div className="stack">
      {phone.notice && (
        <StatusNote tone="warn">
          <p>{t(phone.notice === "wiped-lost" ? "phone.noticeWiped" : "phone.noticeRemoved")}</p>
          <Button variant="link" onClick={phone.dismissNotice}>
            {t("common.dismiss")}
          </Button>
        </StatusNote>
      )}
      {phone.status === "no-crypto" && (
        <div className="alert alert-error" role="alert">
          {t("phone.noCrypto")}
        </div>
      )}
      {phone.status === "loading" && <Progress label={t("phone.loading")} />}
      {phone.status === "unbound" &&
        (models.data ? (
          <RegisterPhone models={models.data.models} onRegistered={devices.reload} />
        ) : models.error ? (
          <ErrorAlert error={models.error} />
        ) : (
          <Progress label={t("phone.loadingModels")} />
        ))}
      {phone.status === "bound" && phone.phone && <ThisPhone device={phone.phone.device} />}
      {devices.data ? (
        <MyPhones devices={devices.data} onChanged={devices.reload} />
      ) : devices.error ? (
        <ErrorAlert error={devices.error} />
      ) : (
        <Progress label={t("phone.loadingDevices")} />
      )}
    </div>
  );
}

export const phoneScreen: ScreenDef = {
  path: "/phone",
  title: "phone.title",
  tab: { label: "tab.phone", icon: "phone" },
  Component: PhoneScreen,
};
