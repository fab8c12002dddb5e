/**
 * The wallet's cards. Bank, transit and door cards arrive with their services (docs/WEB.md lists them);
 * until this phone holds one, the screen says what will appear here and what to do first.
 */
import type { ScreenDef } from "../app/screens.js";
import { Link } from "../app/router.js";
import { CardArt } from "../cards/CardArt.js";
import { Progress } from "../components/feedback.js";
import { useI18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";

function CardsScreen() {
  const { t, pick } = useI18n();
  const phone = usePhone();

  return (
    <div className="stack">
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
        {phone.status === "loading" && <Progress label={t("phone.loading")} />}
        {phone.status === "unbound" && (
          <>
            <p>{t("cards.needPhone")}</p>
            <Link to="/phone" className="btn btn-primary">
              {t("cards.goRegister")}
            </Link>
          </>
        )}
        {phone.status === "bound" && phone.phone && (
          <p className="muted">
            {t("cards.onPhone", { name: phone.phone.device.name, model: pick(phone.phone.device.model) })}
          </p>
        )}
      </section>
    </div>
  );
}

export const cardsScreen: ScreenDef = {
  path: "/cards",
  title: "cards.title",
  tab: { label: "tab.cards", icon: "cards" },
  Component: CardsScreen,
};
