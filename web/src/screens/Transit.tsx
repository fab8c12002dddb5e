/**
 * Transit (小米公交): this phone's transit cards, and the catalogue by city — each product with its status
 * (open for new cards, or closed), its standard, open-card fee (kept or refundable) and top-up range. A closed
 * product points to its successor (or says what to use instead).
 */
import type { TransitCardView, TransitProduct } from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import { Link } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { CardArt } from "../cards/CardArt.js";
import { schemeOf, transitArt } from "../cards/specs.js";
import { ErrorAlert, Progress } from "../components/feedback.js";
import { yuan } from "../components/money.js";
import { useLoad } from "../hooks/useAsync.js";
import { useI18n, type I18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";

export function feeText(p: TransitProduct, t: I18n["t"]): string {
  if (p.fees.open === 0) return t("transit.noFee");
  return t(p.fees.openRefundable ? "transit.feeRefundable" : "transit.feeKept", { fee: yuan(p.fees.open) });
}

function standardText(p: { standard: string }, t: I18n["t"]): string {
  const s = schemeOf(p.standard);
  return t(
    s === "t-union" ? "cardArt.tUnion" : s === "city-union" ? "cardArt.cityUnion" : "cardArt.cityCard",
  );
}

function ProductRow({ p, byId }: { p: TransitProduct; byId: Map<string, TransitProduct> }) {
  const { t, pick } = useI18n();
  const successor = p.successor ? byId.get(p.successor) : undefined;
  const headingId = `product-${p.id}`;
  return (
    <li className="product" aria-labelledby={headingId}>
      <div className="product-line">
        <Link to={`/transit/open/${p.id}`} id={headingId} className="product-name">
          {pick(p.name)}
        </Link>
        <span className={p.status === "available" ? "badge badge-ok" : "badge badge-warn"}>
          {t(p.status === "available" ? "transit.available" : "transit.closed")}
        </span>
      </div>
      <p className="muted small">
        {standardText(p, t)} · {feeText(p, t)} ·{" "}
        {t("transit.topUpRange", { min: yuan(p.topUp.min), max: yuan(p.topUp.max) })}
      </p>
      {p.status === "closed" && (
        <p className="small successor">
          {successor ? (
            <>
              {t("transit.closedUse")}{" "}
              <Link to={`/transit/open/${successor.id}`}>{pick(successor.name)}</Link>
            </>
          ) : (
            (p.advice && pick(p.advice)) || t("transit.closedNoSuccessor")
          )}
        </p>
      )}
    </li>
  );
}

function MyTransitCards({ cards }: { cards: TransitCardView[] }) {
  const { t, pick } = useI18n();
  if (cards.length === 0) return <p className="muted">{t("transit.noCards")}</p>;
  return (
    <ul className="card-list" aria-label={t("transit.myCards")}>
      {cards.map((c) => (
        <li key={c.id}>
          <Link to={`/transit/cards/${c.id}`} className="card-link">
            <CardArt spec={transitArt(c.product, pick)} />
            <span className="card-caption">
              <span>
                {pick(c.product.name)} · {t("cards.balance", { amount: yuan(c.balance) })}
              </span>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function TransitScreen() {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const products = useLoad(() => api.transit.products(), "products");
  const deviceId = phone.phone?.deviceId;
  const cards = useLoad(
    async () => (await api.transit.cards()).filter((c) => c.deviceId === deviceId && c.state === "active"),
    deviceId ?? "",
  );
  useLiveEvent("transit.", cards.reload);

  const byId = new Map((products.data ?? []).map((p) => [p.id, p]));
  const cities = new Map<string, TransitProduct[]>();
  for (const p of products.data ?? []) {
    const key = pick(p.region);
    cities.set(key, [...(cities.get(key) ?? []), p]);
  }

  return (
    <div className="stack">
      {phone.phone && (
        <section className="panel" aria-labelledby="my-transit-heading">
          <h2 id="my-transit-heading">{t("transit.myCards")}</h2>
          {cards.data ? (
            <MyTransitCards cards={cards.data} />
          ) : cards.error ? (
            <ErrorAlert error={cards.error} />
          ) : (
            <Progress label={t("progress.loading")} />
          )}
        </section>
      )}
      <section className="panel" aria-labelledby="catalogue-heading">
        <h2 id="catalogue-heading">{t("transit.catalogue")}</h2>
        <p className="muted small">{t("transit.catalogueLead")}</p>
        {products.data ? (
          [...cities.entries()].map(([city, list]) => (
            <section key={city} className="city" aria-label={city}>
              <h3>{city}</h3>
              <ul className="product-list">
                {list.map((p) => (
                  <ProductRow key={p.id} p={p} byId={byId} />
                ))}
              </ul>
            </section>
          ))
        ) : products.error ? (
          <ErrorAlert error={products.error} />
        ) : (
          <Progress label={t("transit.loadingCatalogue")} />
        )}
      </section>
    </div>
  );
}

export const transitScreen: ScreenDef = {
  path: "/transit",
  title: "transit.title",
  tab: { label: "tab.transit", icon: "transit" },
  Component: TransitScreen,
};
