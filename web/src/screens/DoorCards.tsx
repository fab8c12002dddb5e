/**
 * Door cards (门卡模拟): a dump in any supported format (proxmark3 JSON, .bin/.mfd/.dump, .eml, MIFARE
 * Classic Tool, Flipper .nfc) or a card read on the simulator's reader; the phone's verdict — can it be
 * emulated, and every reason not, sector by sector — then uploaded to the account and put on this phone as
 * its active door card. The account's door cards: make one active on this phone, or delete it.
 */
import { useId, useState, type ChangeEvent } from "react";
import { ApiError } from "../api/client.js";
import type { DoorCardView, DoorInspection, ReaderRead } from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { Button, ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { translate, useI18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";
import { PhoneNeeded } from "./Phone.js";

interface Candidate {
  fileName: string;
  /** base64 */
  dump: string;
  inspection: DoorInspection;
  read?: ReaderRead;
}

const MAX_DUMP_BYTES = 40_000;

/** The cloud's refusal of a door card lists its reasons (`details.reasons`, each in both languages). */
function refusalReasons(error: unknown): { zh: string; en: string }[] {
  const reasons = error instanceof ApiError ? error.details?.["reasons"] : undefined;
  return Array.isArray(reasons)
    ? reasons.filter(
        (r): r is { zh: string; en: string } =>
          typeof r === "object" && r !== null && typeof r.zh === "string" && typeof r.en === "string",
      )
    : [];
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function Verdict({ c }: { c: Candidate }) {
  const { t, pick } = useI18n();
  const i = c.inspection;
  return (
    <section className="verdict" aria-labelledby="verdict-heading">
      <h3 id="verdict-heading">{t("door.verdict")}</h3>
      <div className={i.emulatable ? "alert alert-ok" : "alert alert-error"} role="status">
        <p className="alert-title">
          {i.emulatable ? t(i.kind === "uid-only" ? "door.okUidOnly" : "door.ok") : t("door.refused")}
        </p>
        {i.reasons.length > 0 && (
          <ul className="reasons" aria-label={t("door.reasons")}>
            {i.reasons.map((r, n) => (
              <li key={n}>{pick(r)}</li>
            ))}
          </ul>
        )}
      </div>
      <dl className="facts">
        <dt>{t("door.file")}</dt>
        <dd>{c.fileName}</dd>
        <dt>{t("door.format")}</dt>
        <dd>{i.format}</dd>
        <dt>UID</dt>
        <dd className="mono">{i.uid}</dd>
        <dt>{t("door.type")}</dt>
        <dd>
          MIFARE Classic {i.type.toUpperCase()} · SAK {i.sak} · ATQA {i.atqa}
        </dd>
        {i.sectors.length > 0 && (
          <>
            <dt>{t("door.sectors")}</dt>
            <dd>
              {t("door.sectorsDefault", {
                open: i.sectors.filter((s) => s.defaultKeys).length,
                all: i.sectors.length,
              })}
            </dd>
          </>
        )}
        {c.read && (
          <>
            <dt>{t("door.readOut")}</dt>
            <dd>
              {t("door.readFigures", {
                read: c.read.sectorsRead,
                all: c.read.sectors,
                frames: c.read.timeline.steps.length,
                air: (c.read.timeline.air[0]!.totalUs / 1000).toFixed(1),
              })}
            </dd>
          </>
        )}
      </dl>
      {i.warnings.map((w, n) => (
        <p key={n} className="hint">
          {pick(w)}
        </p>
      ))}
    </section>
  );
}

function AddDoorCard({ onAdded }: { onAdded(): void }) {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [candidate, setCandidate] = useState<Candidate>();
  const [name, setName] = useState("");
  const [sample, setSample] = useState<"blank" | "encrypted">("blank");
  const check = useAsyncAction();
  const add = useAsyncAction();
  const [added, setAdded] = useState<string>();
  const ids = { file: useId(), fileHint: useId(), name: useId(), sample: useId() };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    setCandidate(undefined);
    setAdded(undefined);
    if (!file) return;
    await check.run(async () => {
      if (file.size > MAX_DUMP_BYTES)
        throw new ApiError(0, "dump_too_large", {
          zh: translate("zh-CN", "door.tooLarge"),
          en: translate("en", "door.tooLarge"),
        });
      const dump = toBase64(new Uint8Array(await file.arrayBuffer()));
      setCandidate({ fileName: file.name, dump, inspection: await api.sim.inspectDump(dump, file.name) });
    });
  };

  const readFob = async () => {
    setCandidate(undefined);
    setAdded(undefined);
    await check.run(async () => {
      const read = await api.sim.readFob(sample);
      setCandidate({ fileName: read.fileName, dump: read.dump, inspection: read.inspection, read });
    });
  };

  const onAdd = async () => {
    const deviceId = phone.phone?.deviceId;
    if (!candidate || !deviceId) return;
    const card = await add.run(async () => {
      const up = await api.doorCards.upload({
        dump: candidate.dump,
        fileName: candidate.fileName,
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      await api.doorCards.install(up.id, deviceId);
      await phone.sync();
      return up;
    });
    if (card) {
      setAdded(t("door.added", { name: card.name }));
      setCandidate(undefined);
      setName("");
      onAdded();
    }
  };

  return (
    <section className="panel form" aria-labelledby="add-door-heading">
      <h2 id="add-door-heading">{t("door.addTitle")}</h2>
      <div className="field">
        <label htmlFor={ids.file}>{t("door.file")}</label>
        <input
          id={ids.file}
          type="file"
          className="input"
          accept=".json,.bin,.mfd,.dump,.eml,.mct,.txt,.nfc"
          onChange={onFile}
          aria-describedby={ids.fileHint}
        />
        <p className="hint" id={ids.fileHint}>
          {t("door.formats")}
        </p>
      </div>
      <div className="field">
        <label htmlFor={ids.sample}>{t("door.reader")}</label>
        <div className="row row-start">
          <select
            id={ids.sample}
            className="input input-inline"
            value={sample}
            onChange={(e) => setSample(e.target.value as "blank" | "encrypted")}
          >
            <option value="blank">{t("door.sample.blank")}</option>
            <option value="encrypted">{t("door.sample.encrypted")}</option>
          </select>
          <Button variant="secondary" onClick={readFob} disabled={check.pending}>
            {t("door.read")}
          </Button>
        </div>
      </div>
      {check.pending && <Progress label={t("door.checking")} />}
      <ErrorAlert error={check.error} />
      {candidate && <Verdict c={candidate} />}
      {candidate?.inspection.emulatable && (
        <>
          <div className="field">
            <label htmlFor={ids.name}>{t("door.name")}</label>
            <input
              id={ids.name}
              className="input"
              maxLength={40}
              value={name}
              placeholder={t("door.namePlaceholder")}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <ErrorAlert error={add.error}>
            {refusalReasons(add.error).length > 0 && (
              <ul className="reasons">
                {refusalReasons(add.error).map((r, n) => (
                  <li key={n}>{pick(r)}</li>
                ))}
              </ul>
            )}
          </ErrorAlert>
          {add.pending && <Progress label={t("door.installing")} />}
          <Button onClick={onAdd} pending={add.pending}>
            {t("door.add")}
          </Button>
        </>
      )}
      {added && <StatusNote>{added}</StatusNote>}
    </section>
  );
}

function MyDoorCards({ cards, onChanged }: { cards: DoorCardView[]; onChanged(): void }) {
  const { t, pick, dateTime } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const action = useAsyncAction();
  const deviceId = phone.phone?.deviceId ?? "";
  const active = phone.phone?.cards.find((c) => c.category === "access" && c.state === "activated")?.aid;

  const run = async (card: DoorCardView, what: "activate" | "install" | "delete") => {
    const ok = await action.run(async () => {
      if (what === "delete") await api.doorCards.remove(card.id);
      else if (what === "install") await api.doorCards.install(card.id, deviceId);
      else await api.doorCards.activate(card.id, deviceId);
      await phone.sync();
      return true;
    });
    if (ok) onChanged();
  };

  if (cards.length === 0) return <p className="muted">{t("door.none")}</p>;
  return (
    <>
      <ErrorAlert error={action.error} />
      <ul className="device-list">
        {cards.map((c) => {
          const here = c.placements.find((p) => p.deviceId === deviceId);
          const isActive = here !== undefined && here.aid === active;
          return (
            <li key={c.id} className="device-item">
              <div className="device-line">
                <span className="device-name">{c.name}</span>
                {isActive && <span className="badge">{t("cards.activeDoor")}</span>}
                {here?.state === "installing" && <span className="badge">{t("cards.installing")}</span>}
                {here?.error && <span className="badge badge-warn">{pick(here.error)}</span>}
              </div>
              <div className="muted small">
                UID {c.uid} · {c.type.toUpperCase()} · {c.format} · {dateTime(c.createdAt)}
              </div>
              <div className="row">
                {here && !isActive && here.state === "installed" && (
                  <Button
                    variant="secondary"
                    onClick={() => run(c, "activate")}
                    disabled={action.pending}
                    aria-label={t("door.activateNamed", { name: c.name })}
                  >
                    {t("door.activate")}
                  </Button>
                )}
                {!here && (
                  <Button
                    variant="secondary"
                    onClick={() => run(c, "install")}
                    disabled={action.pending}
                    aria-label={t("door.installNamed", { name: c.name })}
                  >
                    {t("door.install")}
                  </Button>
                )}
                <Button
                  variant="secondary"
                  onClick={() => run(c, "delete")}
                  disabled={action.pending}
                  aria-label={t("door.deleteNamed", { name: c.name })}
                >
                  {t("door.delete")}
                </Button>
              </div>
            </li>
          );
        })}
      </ul>
    </>
  );
}

function DoorCardsScreen() {
  const { t } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const cards = useLoad(
    () => api.doorCards.list(),
    phone.phone?.cards.map((c) => c.aid + c.state).join() ?? "",
  );
  useLiveEvent("access.", cards.reload);
  if (phone.status !== "ready") return <PhoneNeeded />;
  return (
    <div className="stack">
      <p className="muted">{t("door.lead")}</p>
      <AddDoorCard onAdded={cards.reload} />
      <section className="panel" aria-labelledby="my-doors-heading">
        <h2 id="my-doors-heading">{t("door.mine")}</h2>
        {cards.data ? (
          <MyDoorCards cards={cards.data} onChanged={cards.reload} />
        ) : cards.error ? (
          <ErrorAlert error={cards.error} />
        ) : (
          <Progress label={t("progress.loading")} />
        )}
      </section>
    </div>
  );
}

export const doorCardsScreen: ScreenDef = {
  path: "/door-cards",
  title: "door.title",
  parent: "/cards",
  Component: DoorCardsScreen,
};
