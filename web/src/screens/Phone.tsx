/**
 * The phone and its model. A browser has no secure element, so the phone is a simulated one (src/sim):
 * made at the factory with a model and a region, it registers with the account itself (the cloud refuses
 * unsupported models and regions outside mainland China, and says why). This screen makes phones, shows
 * this one (SE id, lock screen, last verification, what it answers readers with), and manages the
 * account's phones: show another, report one lost (its cards are suspended and it wipes them), remove one.
 */
import { useId, useState, type FormEvent } from "react";
import type { DeviceView, PhoneModel, SimPhone } from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import { Link } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { errorCode } from "../components/errors.js";
import { Button, ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import type { MessageKey } from "../i18n/messages.js";
import { usePhone } from "../phone/phone.js";

/** Regions offered in the form: the service area and the refusals worth showing (the cloud decides). */
const REGION_CHOICES: readonly { code: string; label: MessageKey }[] = [
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

/** What a screen that needs a phone shows until there is one. */
export function PhoneNeeded() {
  const { t } = useI18n();
  const phone = usePhone();
  if (phone.status === "loading") return <Progress label={t("phone.loading")} />;
  if (phone.status === "error") return <ErrorAlert error={phone.error} />;
  return (
    <section className="panel empty-state" aria-labelledby="phone-needed-heading">
      <h2 id="phone-needed-heading">{t("phone.neededTitle")}</h2>
      <p className="muted">{t("phone.neededLead")}</p>
      <Link to="/phone" className="btn btn-primary">
        {t("phone.setUp")}
      </Link>
    </section>
  );
}

function CreatePhone({ models }: { models: PhoneModel[] }) {
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
    const made = await action.run(() =>
      phone.create({ model: chosenModel, region, ...(name.trim() ? { name: name.trim() } : {}) }),
    );
    if (made) setName("");
  };

  const supported =
    (errorCode(action.error) === "unsupported_model" &&
      models.map((m) => pick(m)).join(t("list.separator"))) ||
    "";

  return (
    <section className="panel" aria-labelledby="create-phone-heading">
      <h2 id="create-phone-heading">{t("phone.createTitle")}</h2>
      <p className="muted">{t("phone.createLead")}</p>
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
        {action.pending && <Progress label={t("phone.creating")} />}
        <Button type="submit" pending={action.pending} disabled={chosenModel === ""}>
          {t("phone.create")}
        </Button>
      </form>
    </section>
  );
}

const DONE: Record<"sync" | "lock" | "unlock" | "verify", MessageKey> = {
  sync: "phone.synced",
  lock: "phone.lockedDone",
  unlock: "phone.unlockedDone",
  verify: "phone.verifiedDone",
};

function ThisPhone({ device }: { device: SimPhone }) {
  const { t, pick, dateTime } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const action = useAsyncAction();
  const [done, setDone] = useState<string>();

  const act = async (what: "sync" | "lock" | "unlock" | "verify") => {
    setDone(undefined);
    const r = await action.run(async () => {
      if (what === "sync") return (await api.sim.sync(device.id)).phone;
      if (what === "lock") return api.sim.lock(device.id);
      if (what === "unlock") return api.sim.unlock(device.id);
      return api.sim.verify(device.id);
    });
    if (r) {
      phone.update(r);
      setDone(t(DONE[what]));
    }
  };

  return (
    <section className="panel this-phone" aria-labelledby="this-phone-heading">
      <div className="phone-hero" aria-hidden="true">
        <div className={`mini-phone${device.locked ? " locked" : ""}`}>
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
        <dd className="mono">{device.deviceId ?? "—"}</dd>
        <dt>{t("phone.screen")}</dt>
        <dd>{t(device.locked ? "phone.locked" : "phone.unlocked")}</dd>
        <dt>{t("phone.verifiedAt")}</dt>
        <dd>
          {device.verification
            ? t("phone.verifiedBy", {
                time: dateTime(device.verification.at),
                method: t(
                  device.verification.method === "fingerprint" ? "phone.fingerprint" : "phone.passcode",
                ),
              })
            : t("phone.never")}
        </dd>
        <dt>{t("phone.field")}</dt>
        <dd>
          {device.fieldMode === "door"
            ? t("phone.fieldDoor", { uid: device.activeDoorUid ?? "" })
            : t("phone.fieldIsoDep")}
        </dd>
        <dt>{t("phone.lastSync")}</dt>
        <dd>{device.lastSync ? dateTime(device.lastSync.at) : t("phone.never")}</dd>
      </dl>
      {device.lastSync?.lost && <StatusNote tone="warn">{t("phone.noticeWiped")}</StatusNote>}
      <ErrorAlert error={action.error} />
      {done && !action.pending && <StatusNote>{done}</StatusNote>}
      <div className="row row-start">
        <Button variant="secondary" onClick={() => act("sync")} pending={action.pending}>
          {t("phone.sync")}
        </Button>
        {device.locked ? (
          <Button variant="secondary" onClick={() => act("unlock")} disabled={action.pending}>
            {t("phone.unlock")}
          </Button>
        ) : (
          <Button variant="secondary" onClick={() => act("lock")} disabled={action.pending}>
            {t("phone.lock")}
          </Button>
        )}
        <Button variant="secondary" onClick={() => act("verify")} disabled={action.pending}>
          {t("phone.verify")}
        </Button>
      </div>
    </section>
  );
}

type Confirming = { id: string; action: "lost" | "remove" } | undefined;

/** The account's phones: simulated ones (shown here, or another), and phones bound elsewhere (CLI). */
function MyPhones({ devices, onChanged }: { devices: DeviceView[]; onChanged(): void }) {
  const { t, pick, dateTime } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [confirming, setConfirming] = useState<Confirming>();
  const action = useAsyncAction();
  const [done, setDone] = useState<string>();
  const simulated = new Map(phone.phones.map((p) => [p.deviceId, p]));
  const byId = new Map(devices.map((d) => [d.id, d]));
  const rows = [
    ...phone.phones.map((p) => ({
      key: p.id,
      name: p.name,
      sim: p,
      device: p.deviceId ? byId.get(p.deviceId) : undefined,
    })),
    ...devices
      .filter((d) => !simulated.has(d.id))
      .map((d) => ({ key: d.id, name: d.name, sim: undefined, device: d })),
  ];

  const act = async (row: (typeof rows)[number], what: "lost" | "remove") => {
    const ok = await action.run(async () => {
      if (row.sim) {
        if (what === "lost") phone.update((await api.sim.reportLost(row.sim.id)).phone);
        else {
          await api.sim.remove(row.sim.id);
          phone.forget(row.sim.id);
        }
      } else if (row.device) {
        if (what === "lost") await api.devices.reportLost(row.device.id);
        else await api.devices.remove(row.device.id);
      }
      return true;
    });
    if (ok) {
      setConfirming(undefined);
      setDone(t(what === "lost" ? "phone.reportedLost" : "phone.removed", { name: row.name }));
      onChanged();
    }
  };

  return (
    <section className="panel" aria-labelledby="my-phones-heading">
      <h2 id="my-phones-heading">{t("phone.myPhones")}</h2>
      {done && <StatusNote>{done}</StatusNote>}
      {rows.length === 0 ? (
        <p className="muted">{t("phone.noPhones")}</p>
      ) : (
        <ul className="device-list">
          {rows.map((row) => {
            const isThis = row.sim !== undefined && row.sim.id === phone.phone?.id;
            const lost = row.device?.lost ?? false;
            const open = confirming?.id === row.key ? confirming.action : undefined;
            const model = row.sim?.model ?? row.device?.model;
            return (
              <li key={row.key} className="device-item">
                <div className="device-line">
                  <span className="device-name">{row.name}</span>
                  {isThis && <span className="badge">{t("phone.thisBadge")}</span>}
                  {!row.sim && <span className="badge">{t("phone.elsewhereBadge")}</span>}
                  {lost && <span className="badge badge-warn">{t("phone.lostBadge")}</span>}
                </div>
                <div className="muted small">
                  {model ? pick(model) : ""} · {row.sim?.region ?? row.device?.region} ·{" "}
                  {t("phone.addedOn", { date: dateTime(row.sim?.createdAt ?? row.device?.createdAt ?? "") })}
                </div>
                {open ? (
                  <div
                    className="confirm"
                    role="group"
                    aria-label={t(open === "lost" ? "phone.reportLost" : "phone.remove")}
                  >
                    <p>
                      {t(open === "lost" ? "phone.lostExplain" : "phone.removeExplain", { name: row.name })}
                    </p>
                    <ErrorAlert error={action.error} />
                    <div className="row">
                      <Button variant="danger" pending={action.pending} onClick={() => act(row, open)}>
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
                    {row.sim && !isThis && (
                      <Button
                        variant="secondary"
                        onClick={() => phone.select(row.sim!.id)}
                        aria-label={t("phone.useNamed", { name: row.name })}
                      >
                        {t("phone.use")}
                      </Button>
                    )}
                    {!lost && (
                      <Button
                        variant="secondary"
                        onClick={() => {
                          action.clearError();
                          setConfirming({ id: row.key, action: "lost" });
                        }}
                        aria-label={t("phone.reportLostNamed", { name: row.name })}
                      >
                        {t("phone.reportLost")}
                      </Button>
                    )}
                    <Button
                      variant="secondary"
                      onClick={() => {
                        action.clearError();
                        setConfirming({ id: row.key, action: "remove" });
                      }}
                      aria-label={t("phone.removeNamed", { name: row.name })}
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
  const devices = useLoad(() => api.devices.list(), `${session.account.id}:${phone.phones.length}`);
  const [adding, setAdding] = useState(false);
  useLiveEvent("device.", devices.reload);

  const create = models.data ? (
    <CreatePhone models={models.data.models} />
  ) : models.error ? (
    <ErrorAlert error={models.error} />
  ) : (
    <Progress label={t("phone.loadingModels")} />
  );

  return (
    <div className="stack">
      {phone.status === "loading" && <Progress label={t("phone.loading")} />}
      {phone.status === "error" && <ErrorAlert error={phone.error} />}
      {phone.status === "none" && create}
      {phone.status === "ready" && phone.phone && <ThisPhone device={phone.phone} />}
      {devices.data ? (
        <MyPhones devices={devices.data} onChanged={devices.reload} />
      ) : devices.error ? (
        <ErrorAlert error={devices.error} />
      ) : (
        <Progress label={t("phone.loadingDevices")} />
      )}
      {phone.status === "ready" &&
        (adding ? (
          create
        ) : (
          <Button variant="secondary" onClick={() => setAdding(true)}>
            {t("phone.addAnother")}
          </Button>
        ))}
    </div>
  );
}

export const phoneScreen: ScreenDef = {
  path: "/phone",
  title: "phone.title",
  parent: "/settings",
  Component: PhoneScreen,
};
