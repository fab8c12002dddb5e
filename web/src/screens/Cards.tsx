/**
 * The wallet: every card on this phone — bank cards (the token service's), transit cards and door cards —
 * drawn with its bank's or product's art, with what state it is in (default, suspended, being installed,
 * express, active door card). Refreshes on the events that change them.
 */
import type { BankCardView, DoorCardView, SimPhone, TransitCardView } from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import { Link } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { CardArt } from "../cards/CardArt.js";
import { bankArt, transitArt } from "../cards/specs.js";
import { ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { yuan } from "../components/money.js";
import { useLoad } from "../hooks/useAsync.js";
import { useI18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";
import { PhoneNeeded } from "./Phone.js";

interface Wallet {
  bank: BankCardView[];
  transit: TransitCardView[];
  door: DoorCardView[];
}

const ON_PHONE = new Set(["issuing", "active", "moving", "refunding"]);

function WalletCards({ phone }: { phone: SimPhone }) {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const deviceId = phone.deviceId ?? "";
  const wallet = useLoad<Wallet>(
    async () => {
      const [bank, transit, door] = await Promise.all([
        api.bankCards.list(deviceId),
        api.transit.cards(),
        api.doorCards.list(),
      ]);
      return {
        bank: bank.filter((c) => c.status !== "deleted"),
        transit: transit.filter((c) => c.deviceId === deviceId && ON_PHONE.has(c.state)),
        door: door.filter((c) => c.placements.some((p) => p.deviceId === deviceId && p.state !== "removing")),
      };
    },
    `${deviceId}:${phone.cards.map((c) => `${c.aid}${c.state}${c.defaultPayment ? 1 : 0}`).join()}`,
  );
  useLiveEvent(["bank_card", "transit.", "access.", "tsm."], wallet.reload);
  const express = new Set(phone.cards.filter((c) => c.expressTransit).map((c) => c.aid));
  const activeDoor = phone.cards.find((c) => c.category === "access" && c.state === "activated")?.aid;

  if (!wallet.data)
    return wallet.error ? <ErrorAlert error={wallet.error} /> : <Progress label={t("cards.loading")} />;
  const { bank, transit, door } = wallet.data;
  const empty = bank.length + transit.length + door.length === 0;
  return (
    <>
      {empty ? (
        <section className="empty-state" aria-labelledby="cards-empty-heading">
          <div className="card-stack" aria-hidden="true">
            <CardArt
              decorative
              spec={{
                kind: "transit",
                productId: "t-union-sample",
                name: t("cards.sampleTransit"),
                scheme: "t-union",
              }}
            />
            <CardArt
              decorative
              spec={{
                kind: "bank",
                bankId: "sample-bank",
                bankName: t("cards.sampleBank"),
                last4: "0000",
                type: "debit",
              }}
            />
            <CardArt decorative spec={{ kind: "door", name: t("cards.sampleDoor") }} />
          </div>
          <h2 id="cards-empty-heading">{t("cards.emptyTitle")}</h2>
          <p className="muted">{t("cards.emptyLead")}</p>
        </section>
      ) : (
        <ul className="card-list" aria-label={t("cards.listLabel")}>
          {bank.map((c) => (
            <li key={c.id}>
              <Link to={`/cards/bank/${c.id}`} className="card-link">
                <CardArt spec={bankArt(c, pick)} />
                <span className="card-caption">
                  <span>
                    {pick(c.bank)} · {t(c.kind === "credit" ? "cardArt.credit" : "cardArt.debit")} ••
                    {c.tokenLast4}
                  </span>
                  {c.default && <span className="badge">{t("cards.default")}</span>}
                  {c.status === "suspended" && (
                    <span className="badge badge-warn">{t("cards.suspended")}</span>
                  )}
                  {c.seState === "installing" && <span className="badge">{t("cards.installing")}</span>}
                </span>
              </Link>
            </li>
          ))}
          {transit.map((c) => (
            <li key={c.id}>
              <Link to={`/transit/cards/${c.id}`} className="card-link">
                <CardArt spec={transitArt(c.product, pick)} />
                <span className="card-caption">
                  <span>
                    {pick(c.product.name)} · {t("cards.balance", { amount: yuan(c.balance) })}
                  </span>
                  {express.has(c.aid) && <span className="badge">{t("cards.express")}</span>}
                  {c.state === "issuing" && <span className="badge">{t("cards.installing")}</span>}
                </span>
              </Link>
            </li>
          ))}
          {door.map((c) => {
            const aid = c.placements.find((p) => p.deviceId === deviceId)?.aid;
            return (
              <li key={c.id}>
                <Link to="/door-cards" className="card-link">
                  <CardArt spec={{ kind: "door", name: c.name }} />
                  <span className="card-caption">
                    <span>
                      {c.name} · UID {c.uid}
                    </span>
                    {aid === activeDoor && <span className="badge">{t("cards.activeDoor")}</span>}
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      <nav className="action-grid" aria-label={t("cards.addLabel")}>
        <Link to="/cards/add-bank" className="btn btn-primary">
          {t("cards.addBank")}
        </Link>
        <Link to="/transit" className="btn btn-secondary">
          {t("cards.addTransit")}
        </Link>
        <Link to="/door-cards" className="btn btn-secondary">
          {t("cards.addDoor")}
        </Link>
      </nav>
    </>
  );
}

function CardsScreen() {
  const { t, pick } = useI18n();
  const phone = usePhone();
  return (
    <div className="stack">
      {phone.status === "ready" && phone.phone ? (
        <>
          <p className="muted small phone-line">
            {t("cards.onPhone", { name: phone.phone.name, model: pick(phone.phone.model) })}
            {phone.phone.locked && ` · ${t("phone.lockedShort")}`} ·{" "}
            <Link to="/phone">{t("cards.managePhone")}</Link>
          </p>
          {phone.phone.lastSync?.lost && <StatusNote tone="warn">{t("phone.noticeWiped")}</StatusNote>}
          <WalletCards phone={phone.phone} />
        </>
      ) : (
        <PhoneNeeded />
      )}
    </div>
  );
}

export const cardsScreen: ScreenDef = {
  path: "/cards",
  title: "cards.title",
  tab: { label: "tab.cards", icon: "cards" },
  Component: CardsScreen,
};
