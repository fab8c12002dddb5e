/**
 * One bank card: its art, what the token service says of it (bank, kind, the token's and the card's last
 * digits, status, who suspended it), its payments arriving live, and what the user may do: make it the
 * default (through the cloud, then the phone syncs), suspend or resume it, delete it (the token at once, the
 * phone's copy at its sync).
 */
import { useState } from "react";
import type { BankCardView } from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import { navigate, useParam } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { CardArt } from "../cards/CardArt.js";
import { bankArt } from "../cards/specs.js";
import { Button, ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { yuan } from "../components/money.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import type { MessageKey } from "../i18n/messages.js";
import { usePhone } from "../phone/phone.js";

const STATUS: Record<BankCardView["status"], MessageKey> = {
  pending: "bank.status.pending",
  active: "bank.status.active",
  suspended: "bank.status.suspended",
  deleted: "bank.status.deleted",
};
const SUSPENDED_BY: Record<NonNullable<BankCardView["suspendedBy"]>, MessageKey> = {
  user: "bank.suspendedBy.user",
  issuer: "bank.suspendedBy.issuer",
  wallet: "bank.suspendedBy.wallet",
};
const SE_STATE: Record<BankCardView["seState"], MessageKey> = {
  installing: "bank.se.installing",
  installed: "bank.se.installed",
  failed: "bank.se.failed",
  removing: "bank.se.removing",
  removed: "bank.se.removed",
};
const DONE: Record<"default" | "suspend" | "resume", MessageKey> = {
  default: "bank.done.default",
  suspend: "bank.done.suspend",
  resume: "bank.done.resume",
};

function BankCardScreen() {
  const { t, pick, dateTime } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const cardId = useParam("cardId");
  const card = useLoad(() => api.bankCards.get(cardId), cardId);
  const payments = useLoad(() => api.bankCards.transactions(cardId), cardId);
  const action = useAsyncAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [done, setDone] = useState<string>();
  useLiveEvent("bank_card", () => {
    card.reload();
    payments.reload();
  });

  if (!card.data)
    return card.error ? <ErrorAlert error={card.error} /> : <Progress label={t("progress.loading")} />;
  const c = card.data;
  const phoneId = phone.phone?.id;

  const run = async (what: "default" | "suspend" | "resume" | "delete") => {
    setDone(undefined);
    const ok = await action.run(async () => {
      if (what === "default") {
        if (!phoneId) return false;
        phone.update((await api.sim.setDefault(phoneId, c.id)).phone);
      } else {
        if (what === "delete") await api.bankCards.remove(c.id);
        else await api.bankCards.setStatus(c.id, what === "suspend" ? "suspended" : "active");
        // The phone hears of it at its next sync: now.
        await phone.sync();
      }
      return true;
    });
    if (!ok) return;
    if (what === "delete") navigate("/cards");
    else {
      setDone(t(DONE[what]));
      card.reload();
    }
  };

  return (
    <div className="stack">
      <CardArt spec={bankArt(c, pick)} />
      <section className="panel" aria-labelledby="bank-card-heading">
        <h2 id="bank-card-heading">
          {pick(c.bank)} {t(c.kind === "credit" ? "cardArt.credit" : "cardArt.debit")}
        </h2>
        <dl className="facts">
          <dt>{t("bank.token")}</dt>
          <dd>•••• {c.tokenLast4}</dd>
          <dt>{t("bank.funding")}</dt>
          <dd>•••• {c.fundingLast4}</dd>
          <dt>{t("bank.statusLabel")}</dt>
          <dd>
            {t(STATUS[c.status])}
            {c.suspendedBy && ` (${t(SUSPENDED_BY[c.suspendedBy])})`}
          </dd>
          <dt>{t("bank.onPhone")}</dt>
          <dd>{t(SE_STATE[c.seState])}</dd>
          <dt>{t("bank.defaultLabel")}</dt>
          <dd>{t(c.default ? "common.yes" : "common.no")}</dd>
          <dt>{t("bank.added")}</dt>
          <dd>{dateTime(c.createdAt)}</dd>
        </dl>
        {done && !action.pending && <StatusNote>{done}</StatusNote>}
        <ErrorAlert error={action.error} />
        {c.status !== "deleted" &&
          (confirmDelete ? (
            <div className="confirm" role="group" aria-label={t("bank.delete")}>
              <p>{t("bank.deleteExplain")}</p>
              <div className="row">
                <Button variant="danger" pending={action.pending} onClick={() => run("delete")}>
                  {t("bank.confirmDelete")}
                </Button>
                <Button variant="secondary" onClick={() => setConfirmDelete(false)} disabled={action.pending}>
                  {t("common.cancel")}
                </Button>
              </div>
            </div>
          ) : (
            <div className="row row-start">
              {!c.default && c.status === "active" && (
                <Button variant="secondary" onClick={() => run("default")} pending={action.pending}>
                  {t("bank.makeDefault")}
                </Button>
              )}
              {c.status === "active" && (
                <Button variant="secondary" onClick={() => run("suspend")} disabled={action.pending}>
                  {t("bank.suspend")}
                </Button>
              )}
              {c.status === "suspended" && (
                <Button variant="secondary" onClick={() => run("resume")} disabled={action.pending}>
                  {t("bank.resume")}
                </Button>
              )}
              <Button variant="secondary" onClick={() => setConfirmDelete(true)} disabled={action.pending}>
                {t("bank.delete")}
              </Button>
            </div>
          ))}
      </section>
      <section className="panel" aria-labelledby="bank-payments-heading">
        <h2 id="bank-payments-heading">{t("bank.payments")}</h2>
        {payments.data ? (
          payments.data.length === 0 ? (
            <p className="muted">{t("bank.noPayments")}</p>
          ) : (
            <ol className="plain-list" aria-label={t("bank.payments")}>
              {payments.data.map((p) => (
                <li key={p.id} className="txn">
                  <span className="txn-main">
                    <span>{p.merchantName ?? p.merchantId}</span>
                    <span className={p.approved ? "amount" : "amount declined"}>{yuan(p.amount)}</span>
                  </span>
                  <span className="muted small">
                    {dateTime(p.at)} ·{" "}
                    {p.approved ? t("bank.approved") : t("bank.declined", { code: p.responseCode })}
                  </span>
                </li>
              ))}
            </ol>
          )
        ) : (
          <Progress label={t("progress.loading")} />
        )}
      </section>
    </div>
  );
}

export const bankCardScreen: ScreenDef = {
  path: "/cards/bank/:cardId",
  title: "bank.cardTitle",
  parent: "/cards",
  Component: BankCardScreen,
};
