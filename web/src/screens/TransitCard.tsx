/**
 * One transit card: its art, balance and number, top-up with preset amounts (the phone relays the cloud's
 * load to its card), the express-card setting, the monthly spending chart and the trips, and refund (退卡)
 * and transfer (移卡) — each with its rules shown before the user agrees: what comes back and to where, and
 * for Shenzhen Tong and Shanghai their own rules.
 */
import { useId, useState } from "react";
import type {
  FundingChannel,
  SimPhone,
  TransitCardView,
  TransitProduct,
  TransitTransaction,
} from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import { navigate, useParam } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { CardArt } from "../cards/CardArt.js";
import { transitArt } from "../cards/specs.js";
import { Button, ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { yuan } from "../components/money.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import type { MessageKey } from "../i18n/messages.js";
import { usePhone } from "../phone/phone.js";
import { SpendingChart } from "../transit/SpendingChart.js";
import { monthlySpend } from "../transit/spending.js";
import { AmountChoice, ChannelChoice, presets } from "./OpenTransit.js";

const KIND: Record<TransitTransaction["kind"], MessageKey> = {
  open: "transit.kind.open",
  load: "transit.kind.load",
  purchase: "transit.kind.purchase",
  entry: "transit.kind.entry",
};

const STATE: Record<TransitCardView["state"], MessageKey> = {
  issuing: "transit.state.issuing",
  active: "transit.state.active",
  moving: "transit.state.moving",
  parked: "transit.state.parked",
  wiping: "transit.state.wiping",
  refunding: "transit.state.refunding",
  refunded: "transit.state.refunded",
  failed: "transit.state.failed",
  replaced: "transit.state.replaced",
};

function TopUp({
  card,
  product,
  onDone,
}: {
  card: TransitCardView;
  product: TransitProduct;
  onDone(): void;
}) {
  const { t } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const amounts = presets(product);
  const [amount, setAmount] = useState(amounts.includes(5000) ? 5000 : amounts[0]!);
  const [channel, setChannel] = useState<FundingChannel>("wechat");
  const action = useAsyncAction();
  const [done, setDone] = useState<string>();
  const room = product.maxBalance - card.balance;

  const run = async () => {
    setDone(undefined);
    const phoneId = phone.phone?.id;
    if (!phoneId) return;
    const r = await action.run(() => api.sim.topUp(phoneId, card.id, amount, channel));
    if (r) {
      setDone(t("transit.toppedUp", { amount: yuan(r.amount) }));
      onDone();
    }
  };

  return (
    <section className="panel form" aria-labelledby="topup-heading">
      <h2 id="topup-heading">{t("transit.topUpTitle")}</h2>
      <AmountChoice label={t("transit.amount")} amounts={amounts} value={amount} onChange={setAmount} />
      <ChannelChoice value={channel} onChange={setChannel} />
      {amount > room && <p className="hint">{t("transit.overMax", { max: yuan(product.maxBalance) })}</p>}
      <ErrorAlert error={action.error} />
      {done && !action.pending && <StatusNote>{done}</StatusNote>}
      {action.pending && <Progress label={t("transit.loading")} />}
      <Button onClick={run} pending={action.pending} disabled={card.state !== "active"}>
        {t("transit.topUpButton", { amount: yuan(amount) })}
      </Button>
    </section>
  );
}

/** What 退卡 and 移卡 do for this product, said before the user agrees. */
function Rules({
  kind,
  card,
  product,
}: {
  kind: "refund" | "transfer";
  card: TransitCardView;
  product: TransitProduct;
}) {
  const { t } = useI18n();
  const fee = card.openFee.amount;
  const refundFee =
    fee === 0
      ? t("transit.rules.noFee")
      : card.openFee.refundable
        ? t("transit.rules.feeBack", { fee: yuan(fee) })
        : t("transit.rules.feeKept", { fee: yuan(fee) });
  const items: string[] =
    kind === "refund"
      ? [
          t("transit.rules.refundBalance", { balance: yuan(card.balance) }),
          refundFee,
          t("transit.rules.refundDeleted"),
          t("transit.rules.refundProof"),
        ]
      : product.transfer === "shenzhen-tong"
        ? [
            t("transit.rules.sztOnce"),
            t("transit.rules.sztNoBack"),
            t("transit.rules.sztNewNumber"),
            t("transit.rules.sztRefund", { balance: yuan(card.balance) }),
          ]
        : product.transfer === "shanghai"
          ? [t("transit.rules.kept", { balance: yuan(card.balance) }), t("transit.rules.shanghai")]
          : [t("transit.rules.kept", { balance: yuan(card.balance) }), t("transit.rules.sameAccount")];
  return (
    <ul className="rules">
      {items.map((i) => (
        <li key={i}>{i}</li>
      ))}
    </ul>
  );
}

function LeaveCard({
  card,
  product,
  phones,
}: {
  card: TransitCardView;
  product: TransitProduct;
  phones: SimPhone[];
}) {
  const { t } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [open, setOpen] = useState<"refund" | "transfer">();
  const [agreed, setAgreed] = useState(false);
  const targets = phones.filter((p) => p.id !== phone.phone?.id && !p.lastSync?.lost);
  const [target, setTarget] = useState(targets[0]?.id ?? "");
  const action = useAsyncAction();
  const ids = { agree: useId(), target: useId() };

  const run = async () => {
    const phoneId = phone.phone?.id;
    if (!phoneId || !open) return;
    const w = await action.run(() =>
      open === "refund" ? api.sim.refund(phoneId, card.id) : api.sim.transfer(phoneId, card.id, target),
    );
    if (!w) return;
    await phone.refresh();
    if (w.kind === "transfer" && w.state === "done") phone.select(target);
    navigate(w.kind === "transfer" && w.newCardId ? `/transit/cards/${w.newCardId}` : "/transit");
  };

  if (!open)
    return (
      <div className="row row-start">
        <Button variant="secondary" onClick={() => setOpen("transfer")}>
          {t("transit.transfer")}
        </Button>
        <Button variant="secondary" onClick={() => setOpen("refund")}>
          {t("transit.refund")}
        </Button>
      </div>
    );
  return (
    <div
      className="confirm"
      role="group"
      aria-label={t(open === "refund" ? "transit.refund" : "transit.transfer")}
    >
      <p className="alert-title">{t(open === "refund" ? "transit.refundRules" : "transit.transferRules")}</p>
      <Rules kind={open} card={card} product={product} />
      {open === "transfer" &&
        (targets.length ? (
          <div className="field">
            <label htmlFor={ids.target}>{t("transit.targetPhone")}</label>
            <select
              id={ids.target}
              className="input"
              value={target}
              onChange={(e) => setTarget(e.target.value)}
            >
              {targets.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
        ) : (
          <p className="hint">{t("transit.noOtherPhone")}</p>
        ))}
      <label className="check" htmlFor={ids.agree}>
        <input
          id={ids.agree}
          type="checkbox"
          checked={agreed}
          onChange={(e) => setAgreed(e.target.checked)}
        />
        {t("transit.agreeRules")}
      </label>
      <ErrorAlert error={action.error} />
      {action.pending && <Progress label={t(open === "refund" ? "transit.refunding" : "transit.moving2")} />}
      <div className="row">
        <Button
          variant="danger"
          onClick={run}
          pending={action.pending}
          disabled={!agreed || (open === "transfer" && !target)}
        >
          {t(open === "refund" ? "transit.confirmRefund" : "transit.confirmTransfer")}
        </Button>
        <Button
          variant="secondary"
          onClick={() => {
            setOpen(undefined);
            setAgreed(false);
          }}
          disabled={action.pending}
        >
          {t("common.cancel")}
        </Button>
      </div>
    </div>
  );
}

function TransitCardScreen() {
  const { t, pick, dateTime } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const cardId = useParam("cardId");
  const card = useLoad(() => api.transit.card(cardId), cardId);
  const trips = useLoad(() => api.transit.transactions(cardId), cardId);
  const products = useLoad(() => api.transit.products(), "products");
  const terminals = useLoad(() => api.sim.terminals(), "terminals");
  const express = useAsyncAction();
  useLiveEvent("transit.", () => {
    card.reload();
    trips.reload();
  });

  if (!card.data || !products.data)
    return card.error ? <ErrorAlert error={card.error} /> : <Progress label={t("progress.loading")} />;
  const c = card.data;
  const product = products.data.find((p) => p.id === c.product.id);
  const onSe = phone.phone?.cards.find((x) => x.aid === c.aid);
  const isExpress = onSe?.expressTransit ?? false;
  const reload = () => {
    card.reload();
    trips.reload();
  };
  /** A gate's station code or a bus line, in words where the simulator's tables know it. */
  const place = (code: string) => {
    const station = terminals.data?.gate.stations.find((s) => s.code === code);
    if (station) return pick(station.name);
    const bus = terminals.data?.bus;
    return bus && bus.line === code ? pick(bus.name) : code;
  };
  const makeExpress = async () => {
    const phoneId = phone.phone?.id;
    if (!phoneId) return;
    const r = await express.run(() => api.sim.setExpress(phoneId, c.aid));
    if (r) phone.update(r.phone);
  };

  return (
    <div className="stack">
      <CardArt spec={transitArt(c.product, pick)} />
      <section className="panel" aria-labelledby="transit-card-heading">
        <h2 id="transit-card-heading">{pick(c.product.name)}</h2>
        <p className="balance" aria-label={t("transit.balanceLabel")}>
          {yuan(c.balance)}
        </p>
        <dl className="facts">
          <dt>{t("transit.cardNumber")}</dt>
          <dd className="mono">{c.cardNumber}</dd>
          <dt>{t("transit.stateLabel")}</dt>
          <dd>{t(STATE[c.state])}</dd>
          <dt>{t("transit.validity")}</dt>
          <dd>
            {c.validFrom} – {c.validTo}
          </dd>
          <dt>{t("transit.monthSpend")}</dt>
          <dd>{yuan(c.monthSpend)}</dd>
          <dt>{t("transit.express")}</dt>
          <dd>{t(isExpress ? "common.yes" : "common.no")}</dd>
        </dl>
        <ErrorAlert error={express.error} />
        {onSe && !isExpress && c.state === "active" && (
          <Button variant="secondary" onClick={makeExpress} pending={express.pending}>
            {t("transit.makeExpress")}
          </Button>
        )}
      </section>
      {product && c.state === "active" && <TopUp card={c} product={product} onDone={reload} />}
      <section className="panel" aria-labelledby="trips-heading">
        <h2 id="trips-heading">{t("transit.trips")}</h2>
        {trips.data ? (
          <>
            <SpendingChart months={monthlySpend(trips.data, new Date())} />
            {trips.data.length === 0 ? (
              <p className="muted">{t("transit.noTrips")}</p>
            ) : (
              <ol className="plain-list" aria-label={t("transit.tripList")}>
                {[...trips.data]
                  .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
                  .map((x, i) => (
                    <li key={`${x.time}-${i}`} className="txn">
                      <span className="txn-main">
                        <span>
                          {t(KIND[x.kind])}
                          {x.location ? ` · ${place(x.location)}` : ""}
                        </span>
                        {x.amount !== 0 && (
                          <span className={x.amount < 0 ? "amount" : "amount credit"}>
                            {x.amount > 0 ? "+" : ""}
                            {yuan(x.amount)}
                          </span>
                        )}
                      </span>
                      <span className="muted small">{dateTime(x.time)}</span>
                    </li>
                  ))}
              </ol>
            )}
          </>
        ) : (
          <Progress label={t("progress.loading")} />
        )}
      </section>
      {product && c.state === "active" && (
        <section className="panel" aria-labelledby="leave-heading">
          <h2 id="leave-heading">{t("transit.leaveTitle")}</h2>
          <LeaveCard card={c} product={product} phones={phone.phones} />
        </section>
      )}
    </div>
  );
}

export const transitCardScreen: ScreenDef = {
  path: "/transit/cards/:cardId",
  title: "transit.cardTitle",
  parent: "/transit",
  Component: TransitCardScreen,
};
