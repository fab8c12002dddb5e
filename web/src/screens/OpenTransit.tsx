/**
 * Open a transit card (开卡): the product's fee (kept or refundable) and top-up range, the first top-up chosen
 * from preset amounts, the payment channel and the total, then the phone opens it — its own rules first
 * (one China T-Union card per phone; a closed product, naming its successor), then the cloud's — and the
 * TSM installs it with its first top-up as the opening balance.
 */
import { useId, useState, type FormEvent } from "react";
import type { FundingChannel, TransitProduct } from "../api/types.js";
import { Link, navigate, useParam } from "../app/router.js";
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
import { PhoneNeeded } from "./Phone.js";
import { feeText } from "./Transit.js";

const CHANNELS: readonly { id: FundingChannel; label: MessageKey }[] = [
  { id: "wechat", label: "channel.wechat" },
  { id: "alipay", label: "channel.alipay" },
  { id: "unionpay", label: "channel.unionpay" },
];

/** Preset amounts within the product's top-up range. */
export function presets(p: { topUp: { min: number; max: number } }): number[] {
  const list = [1000, 2000, 5000, 10000, 20000].filter((a) => a >= p.topUp.min && a <= p.topUp.max);
  return list.length ? list : [p.topUp.min];
}

/** A radio group of amounts (arrow keys move between them). */
export function AmountChoice({
  label,
  amounts,
  value,
  onChange,
}: {
  label: string;
  amounts: number[];
  value: number;
  onChange(a: number): void;
}) {
  const name = useId();
  return (
    <fieldset className="choice">
      <legend>{label}</legend>
      <div className="chips">
        {amounts.map((a) => (
          <label key={a} className={a === value ? "chip selected" : "chip"}>
            <input type="radio" name={name} checked={a === value} onChange={() => onChange(a)} />
            {yuan(a)}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function ChannelChoice({
  value,
  onChange,
}: {
  value: FundingChannel;
  onChange(c: FundingChannel): void;
}) {
  const { t } = useI18n();
  const name = useId();
  return (
    <fieldset className="choice">
      <legend>{t("transit.payWith")}</legend>
      <div className="chips">
        {CHANNELS.map((c) => (
          <label key={c.id} className={c.id === value ? "chip selected" : "chip"}>
            <input type="radio" name={name} checked={c.id === value} onChange={() => onChange(c.id)} />
            {t(c.label)}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function OpenForm({ product, successor }: { product: TransitProduct; successor?: TransitProduct }) {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const amounts = presets(product);
  const [amount, setAmount] = useState(amounts.includes(5000) ? 5000 : amounts[0]!);
  const [channel, setChannel] = useState<FundingChannel>("wechat");
  const action = useAsyncAction();
  const total = product.fees.open + amount;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const phoneId = phone.phone?.id;
    if (!phoneId) return;
    const card = await action.run(async () => {
      const c = await api.sim.openTransit(phoneId, { productId: product.id, firstTopUp: amount, channel });
      await phone.refresh();
      return c;
    });
    if (card) navigate(`/transit/cards/${card.id}`);
  };

  return (
    <form className="form panel" onSubmit={onSubmit} noValidate aria-labelledby="open-heading">
      <h2 id="open-heading">{t("transit.openTitle")}</h2>
      {product.status === "closed" && (
        <StatusNote tone="warn">
          <p>{t("transit.closedNotice", { name: pick(product.name) })}</p>
          {successor && (
            <p>
              {t("transit.closedUse")}{" "}
              <Link to={`/transit/open/${successor.id}`}>{pick(successor.name)}</Link>
            </p>
          )}
          {!successor && product.advice && <p>{pick(product.advice)}</p>}
        </StatusNote>
      )}
      <AmountChoice label={t("transit.firstTopUp")} amounts={amounts} value={amount} onChange={setAmount} />
      <ChannelChoice value={channel} onChange={setChannel} />
      <dl className="facts bill" aria-label={t("transit.bill")}>
        <dt>{t("transit.openFee")}</dt>
        <dd>{product.fees.open ? yuan(product.fees.open) : t("transit.free")}</dd>
        <dt>{t("transit.firstTopUp")}</dt>
        <dd>{yuan(amount)}</dd>
        <dt>{t("transit.total")}</dt>
        <dd className="total">{yuan(total)}</dd>
      </dl>
      <ErrorAlert error={action.error} />
      {action.pending && <Progress label={t("transit.opening")} />}
      <Button type="submit" pending={action.pending}>
        {t("transit.payAndOpen", { amount: yuan(total) })}
      </Button>
    </form>
  );
}

function OpenTransitScreen() {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const productId = useParam("productId");
  const products = useLoad(() => api.transit.products(), "products");
  if (!products.data)
    return products.error ? (
      <ErrorAlert error={products.error} />
    ) : (
      <Progress label={t("progress.loading")} />
    );
  const product = products.data.find((p) => p.id === productId);
  if (!product)
    return (
      <div className="alert alert-error" role="alert">
        {t("transit.noSuchProduct")}
      </div>
    );
  const successor = product.successor ? products.data.find((p) => p.id === product.successor) : undefined;
  const rule: MessageKey =
    product.transfer === "shenzhen-tong"
      ? "transit.rule.szt"
      : product.transfer === "shanghai"
        ? "transit.rule.shanghai"
        : "transit.rule.standard";
  return (
    <div className="stack">
      <CardArt spec={transitArt(product, pick)} />
      <section className="panel" aria-labelledby="product-heading">
        <h2 id="product-heading">{pick(product.name)}</h2>
        <dl className="facts">
          <dt>{t("transit.city")}</dt>
          <dd>{pick(product.region)}</dd>
          <dt>{t("transit.standard")}</dt>
          <dd>{product.standard}</dd>
          <dt>{t("transit.openFee")}</dt>
          <dd>{feeText(product, t)}</dd>
          <dt>{t("transit.topUp")}</dt>
          <dd>{t("transit.topUpRange", { min: yuan(product.topUp.min), max: yuan(product.topUp.max) })}</dd>
          <dt>{t("transit.maxBalance")}</dt>
          <dd>{yuan(product.maxBalance)}</dd>
          <dt>{t("transit.moving")}</dt>
          <dd>{t(rule)}</dd>
        </dl>
      </section>
      {phone.status === "ready" ? (
        <OpenForm product={product} {...(successor ? { successor } : {})} />
      ) : (
        <PhoneNeeded />
      )}
    </div>
  );
}

export const openTransitScreen: ScreenDef = {
  path: "/transit/open/:productId",
  title: "transit.openScreen",
  parent: "/transit",
  Component: OpenTransitScreen,
};
