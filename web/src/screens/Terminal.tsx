/**
 * The terminal simulator: hold this phone to a QuickPass POS (an amount; authorised online by the cloud's
 * issuer), a metro gate (entry or exit at a station of the fare table), a bus validator or a door reader
 * (UID whitelist or sector data, with its enrolment). The answer: the outcome, the decoded APDU (or MIFARE
 * frame) timeline, the software time and the ISO/IEC 14443 air-time bound at 106 and 848 kbit/s.
 */
import { useId, useState, type FormEvent } from "react";
import type { ApduStep, FrameStep, TapResult, TerminalCatalogue, TerminalSpec } from "../api/types.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { Button, ErrorAlert, Progress } from "../components/feedback.js";
import { parseYuan, yuan } from "../components/money.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import type { MessageKey } from "../i18n/messages.js";
import { usePhone } from "../phone/phone.js";
import { PhoneNeeded } from "./Phone.js";

type Kind = TerminalSpec["kind"];
const KINDS: readonly { kind: Kind; label: MessageKey }[] = [
  { kind: "pos", label: "terminal.pos" },
  { kind: "gate", label: "terminal.gate" },
  { kind: "bus", label: "terminal.bus" },
  { kind: "door", label: "terminal.door" },
];

const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0));

function Radios<T extends string>({
  legend,
  options,
  value,
  onChange,
}: {
  legend: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange(v: T): void;
}) {
  const name = useId();
  return (
    <fieldset className="choice">
      <legend>{legend}</legend>
      <div className="chips">
        {options.map((o) => (
          <label key={o.value} className={o.value === value ? "chip selected" : "chip"}>
            <input type="radio" name={name} checked={o.value === value} onChange={() => onChange(o.value)} />
            {o.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function ApduRow({ s }: { s: ApduStep }) {
  const { t, pick } = useI18n();
  const ok = s.response.sw === "9000" || s.response.sw?.startsWith("61");
  return (
    <li className="step">
      <details>
        <summary>
          <span className="step-no">{s.index + 1}</span>
          <span className="step-name">{pick(s.command.name)}</span>
          <span className={ok ? "sw" : "sw sw-bad"}>{s.response.sw ?? "----"}</span>
        </summary>
        <div className="step-body">
          <p className="mono">&gt;&gt; {s.command.hex}</p>
          {s.command.fields.map((f, i) => (
            <p key={i} className="small">
              {pick(f.label)}: {f.text ? pick(f.text) : f.value}
            </p>
          ))}
          <p className="small">
            &lt;&lt; {s.response.sw ?? "----"} {s.response.meaning ? pick(s.response.meaning) : ""} ·{" "}
            {t("terminal.bytes", { n: s.response.length })}
          </p>
          {s.response.hex && <p className="mono">{s.response.hex}</p>}
          {(s.response.fields ?? []).map((f, i) => (
            <p key={i} className="small">
              {pick(f.label)}: {f.text ? pick(f.text) : f.value}
            </p>
          ))}
          {s.response.tlv && (
            <ul className="tlv">
              {s.response.tlv.map((n, i) => (
                <li key={i} className="mono">
                  {n.tag} {n.name ?? ""} {n.value ?? ""}
                  {n.children && ` (${n.children.length})`}
                </li>
              ))}
            </ul>
          )}
          <p className="muted small">
            {t("terminal.stepTimes", {
              software: (s.softwareUs / 1000).toFixed(3),
              air106: (s.airUs[106] / 1000).toFixed(2),
              air848: (s.airUs[848] / 1000).toFixed(2),
            })}
          </p>
        </div>
      </details>
    </li>
  );
}

function FrameRow({ s }: { s: FrameStep }) {
  const { t, pick } = useI18n();
  return (
    <li className="step">
      <span className="step-no">{s.index + 1}</span>
      <span className="step-dir">{t(s.from === "reader" ? "terminal.reader" : "terminal.card")}</span>
      <span className="step-name">
        {pick(s.name)}
        <span className="mono small step-hex"> {s.hex}</span>
        {s.hidden && <span className="small"> · {t("terminal.frameHidden")}</span>}
      </span>
    </li>
  );
}

function Result({ r }: { r: TapResult }) {
  const { t, pick } = useI18n();
  const air = (rate: 106 | 848) => r.timeline.air.find((a) => a.bitRate === rate);
  const a106 = air(106);
  const a848 = air(848);
  const receipt = Array.isArray(r.details["receipt"]) ? (r.details["receipt"] as string[]) : [];
  return (
    <section className="panel result" aria-labelledby="result-heading">
      <h2 id="result-heading">{t("terminal.result")}</h2>
      <div className={r.ok ? "alert alert-ok outcome" : "alert alert-error outcome"} role="status">
        <p className="alert-title">{pick(r.terminal.name)}</p>
        <p>{pick(r.message)}</p>
      </div>
      <dl className="facts">
        <dt>{t("terminal.softwareTime")}</dt>
        <dd>{t("terminal.ms", { ms: ms(r.softwareMs) })}</dd>
        {r.onlineMs !== null && (
          <>
            <dt>{t("terminal.onlineTime")}</dt>
            <dd>{t("terminal.ms", { ms: ms(r.onlineMs) })}</dd>
          </>
        )}
        {a106 && (
          <>
            <dt>{t("terminal.air106")}</dt>
            <dd>{t("terminal.ms", { ms: ms(a106.totalUs / 1000) })}</dd>
          </>
        )}
        {a848 && (
          <>
            <dt>{t("terminal.air848")}</dt>
            <dd>{t("terminal.ms", { ms: ms(a848.totalUs / 1000) })}</dd>
          </>
        )}
        <dt>{t("terminal.exchanges")}</dt>
        <dd>
          {t(r.timeline.kind === "apdu" ? "terminal.apduCount" : "terminal.frameCount", {
            n: r.timeline.steps.length,
          })}
        </dd>
        {r.clearing && (
          <>
            <dt>{t("terminal.clearing")}</dt>
            <dd>{pick(r.clearing.message)}</dd>
          </>
        )}
      </dl>
      {receipt.length > 0 && (
        <pre className="receipt" aria-label={t("terminal.receipt")}>
          {receipt.join("\n")}
        </pre>
      )}
      <h3>{t(r.timeline.kind === "apdu" ? "terminal.apduTimeline" : "terminal.frameTimeline")}</h3>
      {r.timeline.kind === "apdu" && r.timeline.activation && (
        <p className="muted small mono">
          UID {r.timeline.activation.uid} · ATQA {r.timeline.activation.atqa} · SAK{" "}
          {r.timeline.activation.sak}
          {r.timeline.activation.ats ? ` · ATS ${r.timeline.activation.ats}` : ""}
        </p>
      )}
      <ol className="timeline" aria-label={t("terminal.timelineLabel")}>
        {r.timeline.kind === "apdu"
          ? r.timeline.steps.map((s) => <ApduRow key={s.index} s={s} />)
          : r.timeline.steps.map((s) => <FrameRow key={s.index} s={s} />)}
      </ol>
    </section>
  );
}

function TerminalForm({ catalogue }: { catalogue: TerminalCatalogue }) {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [kind, setKind] = useState<Kind>("pos");
  const [amount, setAmount] = useState("12.34");
  const [direction, setDirection] = useState<"entry" | "exit">("entry");
  const [station, setStation] = useState(catalogue.gate.stations[0]?.code ?? "");
  const [mode, setMode] = useState<"uid" | "sector">("uid");
  const tap = useAsyncAction();
  const phoneAction = useAsyncAction();
  const [result, setResult] = useState<TapResult>();
  const reader = useLoad(() => api.sim.doorReader(), `${result?.at ?? ""}`);
  const ids = { amount: useId(), amountHint: useId(), station: useId() };
  const device = phone.phone!;
  const fen = parseYuan(amount);

  const spec = (enrol = false): TerminalSpec | null => {
    switch (kind) {
      case "pos":
        return fen && fen > 0 ? { kind, amount: fen } : null;
      case "gate":
        return { kind, direction, station };
      case "bus":
        return { kind };
      case "door":
        return { kind, mode, ...(enrol ? { enrol: true } : {}) };
    }
  };

  const run = async (enrol = false) => {
    const s = spec(enrol);
    if (!s) return;
    const r = await tap.run(() => api.sim.tap(device.id, s));
    if (r) setResult(r);
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    await run();
  };

  const phoneDo = async (what: "lock" | "unlock" | "verify") => {
    const r = await phoneAction.run(() =>
      what === "lock"
        ? api.sim.lock(device.id)
        : what === "unlock"
          ? api.sim.unlock(device.id)
          : api.sim.verify(device.id),
    );
    if (r) phone.update(r);
  };

  return (
    <>
      <section className="panel phone-strip" aria-labelledby="strip-heading">
        <h2 id="strip-heading" className="visually-hidden">
          {t("terminal.phoneState")}
        </h2>
        <p>
          {t("terminal.phoneLine", {
            name: device.name,
            screen: t(device.locked ? "phone.locked" : "phone.unlocked"),
            field: device.fieldMode === "door" ? t("terminal.fieldDoor") : t("terminal.fieldIsoDep"),
          })}
        </p>
        <div className="row row-start">
          <Button
            variant="secondary"
            onClick={() => phoneDo(device.locked ? "unlock" : "lock")}
            disabled={phoneAction.pending}
          >
            {t(device.locked ? "phone.unlock" : "phone.lock")}
          </Button>
          <Button variant="secondary" onClick={() => phoneDo("verify")} disabled={phoneAction.pending}>
            {t("phone.verify")}
          </Button>
        </div>
        <ErrorAlert error={phoneAction.error} />
      </section>
      <form className="panel form" onSubmit={onSubmit} noValidate aria-labelledby="terminal-heading">
        <h2 id="terminal-heading">{t("terminal.choose")}</h2>
        <Radios
          legend={t("terminal.kind")}
          options={KINDS.map((k) => ({ value: k.kind, label: t(k.label) }))}
          value={kind}
          onChange={(k) => {
            setKind(k);
            setResult(undefined);
          }}
        />
        {kind === "pos" && (
          <div className="field">
            <label htmlFor={ids.amount}>{t("terminal.amount")}</label>
            <div className="input-group">
              <span className="input-prefix" aria-hidden="true">
                ¥
              </span>
              <input
                id={ids.amount}
                className="input"
                inputMode="decimal"
                value={amount}
                onChange={(e) => setAmount(e.target.value)}
                aria-invalid={fen === null || undefined}
                aria-describedby={ids.amountHint}
              />
            </div>
            <p className="hint" id={ids.amountHint}>
              {t("terminal.amountHint", {
                limit: yuan(catalogue.pos.cvmLimit),
                merchant: catalogue.pos.merchantName,
              })}
            </p>
          </div>
        )}
        {kind === "gate" && (
          <>
            <Radios<"entry" | "exit">
              legend={t("terminal.direction")}
              options={[
                { value: "entry", label: t("terminal.entry") },
                { value: "exit", label: t("terminal.exit") },
              ]}
              value={direction}
              onChange={setDirection}
            />
            <div className="field">
              <label htmlFor={ids.station}>{t("terminal.station")}</label>
              <select
                id={ids.station}
                className="input"
                value={station}
                onChange={(e) => setStation(e.target.value)}
              >
                {catalogue.gate.stations.map((s) => (
                  <option key={s.code} value={s.code}>
                    {pick(s.name)} ({s.code}, {s.km} km)
                  </option>
                ))}
              </select>
              <p className="hint">
                {t("terminal.gateHint", { operator: pick(catalogue.gate.operator.name) })}
              </p>
            </div>
          </>
        )}
        {kind === "bus" && (
          <p className="muted">
            {t("terminal.busLine", { line: pick(catalogue.bus.name), fare: yuan(catalogue.bus.fare) })}
          </p>
        )}
        {kind === "door" && (
          <>
            <Radios<"uid" | "sector">
              legend={t("terminal.doorMode")}
              options={[
                { value: "uid", label: t("terminal.modeUid") },
                { value: "sector", label: t("terminal.modeSector", { block: catalogue.door.sectorBlock }) },
              ]}
              value={mode}
              onChange={setMode}
            />
            <p className="hint">
              {reader.data
                ? t("terminal.enrolled", { uids: reader.data.uids, credentials: reader.data.credentials })
                : t("progress.loading")}
            </p>
            <div className="row row-start">
              <Button variant="secondary" type="button" onClick={() => run(true)} disabled={tap.pending}>
                {t("terminal.enrol")}
              </Button>
              <Button
                variant="link"
                type="button"
                onClick={async () => {
                  await api.sim.clearDoorReader();
                  reader.reload();
                }}
                disabled={tap.pending}
              >
                {t("terminal.clearEnrolment")}
              </Button>
            </div>
          </>
        )}
        <ErrorAlert error={tap.error} />
        {tap.pending && <Progress label={t("terminal.tapping")} />}
        <Button type="submit" pending={tap.pending} disabled={spec() === null}>
          {t("terminal.tap")}
        </Button>
      </form>
      {result && <Result r={result} />}
    </>
  );
}

function TerminalScreen() {
  const { t } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const catalogue = useLoad(() => api.sim.terminals(), "terminals");
  if (phone.status !== "ready" || !phone.phone) return <PhoneNeeded />;
  return (
    <div className="stack">
      <p className="muted">{t("terminal.lead")}</p>
      {catalogue.data ? (
        <TerminalForm key={phone.phone.id} catalogue={catalogue.data} />
      ) : catalogue.error ? (
        <ErrorAlert error={catalogue.error} />
      ) : (
        <Progress label={t("progress.loading")} />
      )}
    </div>
  );
}

export const terminalScreen: ScreenDef = {
  path: "/terminal",
  title: "terminal.title",
  tab: { label: "tab.terminal", icon: "terminal" },
  Component: TerminalScreen,
};
