/**
 * Add a UnionPay bank card: the number (grouped as the card prints it, with a Luhn check as it is typed),
 * the expiry, the CVN2 of a credit card, the terms; the token service asks the bank, whose one-time code goes
 * to the mobile number the bank keeps for the card. With the code the token is issued, and the phone syncs
 * so the TSM puts it on the SE. Every refusal (the number, the expiry, a wrong code) is the server's, worded
 * in the user's language.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { BankTerms, Enrolment } from "../api/types.js";
import { navigate } from "../app/router.js";
import type { ScreenDef } from "../app/screens.js";
import { useSignedIn } from "../app/session.js";
import { Button, ErrorAlert, Progress, StatusNote } from "../components/feedback.js";
import { useAsyncAction, useLoad } from "../hooks/useAsync.js";
import { useCountdown } from "../hooks/useCountdown.js";
import { formatExpiry, groupCardNumber, luhnValid } from "../cards/card-number.js";
import { useI18n } from "../i18n/i18n.js";
import { usePhone } from "../phone/phone.js";
import { PhoneNeeded } from "./Phone.js";

function CardForm({ terms, onSent }: { terms: BankTerms; onSent(e: Enrolment): void }) {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [number, setNumber] = useState("");
  const [expiry, setExpiry] = useState("");
  const [cvn2, setCvn2] = useState("");
  const [agreed, setAgreed] = useState(false);
  const action = useAsyncAction();
  const ids = {
    number: useId(),
    numberHint: useId(),
    expiry: useId(),
    cvn2: useId(),
    cvn2Hint: useId(),
    terms: useId(),
  };
  const digits = number.replace(/\D/g, "");
  const luhn = digits.length >= 13 ? luhnValid(digits) : null;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const deviceId = phone.phone?.deviceId;
    if (!deviceId) return;
    const sent = await action.run(() =>
      api.bankCards.add({
        deviceId,
        cardNumber: digits,
        expiry,
        ...(cvn2 ? { cvn2 } : {}),
        termsVersion: terms.version,
      }),
    );
    if (sent) onSent(sent);
  };

  return (
    <form className="form panel" onSubmit={onSubmit} noValidate aria-labelledby="add-bank-heading">
      <h2 id="add-bank-heading">{t("bank.formTitle")}</h2>
      <div className="field">
        <label htmlFor={ids.number}>{t("bank.number")}</label>
        <input
          id={ids.number}
          className="input mono-input"
          inputMode="numeric"
          autoComplete="cc-number"
          value={groupCardNumber(digits)}
          onChange={(e) => setNumber(e.target.value.replace(/\D/g, "").slice(0, 19))}
          aria-describedby={ids.numberHint}
          aria-invalid={luhn === false || undefined}
          placeholder="6222 0200 0000 0000 000"
        />
        <p className="hint" id={ids.numberHint} aria-live="polite">
          {luhn === null ? t("bank.numberHint") : luhn ? t("bank.luhnOk") : t("bank.luhnBad")}
        </p>
      </div>
      <div className="row row-fields">
        <div className="field">
          <label htmlFor={ids.expiry}>{t("bank.expiry")}</label>
          <input
            id={ids.expiry}
            className="input"
            inputMode="numeric"
            autoComplete="cc-exp"
            placeholder="MM/YY"
            value={expiry}
            onChange={(e) => setExpiry(formatExpiry(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.cvn2}>{t("bank.cvn2")}</label>
          <input
            id={ids.cvn2}
            className="input"
            inputMode="numeric"
            autoComplete="cc-csc"
            maxLength={3}
            value={cvn2}
            onChange={(e) => setCvn2(e.target.value.replace(/\D/g, "").slice(0, 3))}
            aria-describedby={ids.cvn2Hint}
          />
          <p className="hint" id={ids.cvn2Hint}>
            {t("bank.cvn2Hint")}
          </p>
        </div>
      </div>
      <div className="terms">
        <p className="terms-title">{pick(terms.title)}</p>
        <p className="muted small">{pick(terms.summary)}</p>
        <label className="check" htmlFor={ids.terms}>
          <input
            id={ids.terms}
            type="checkbox"
            checked={agreed}
            onChange={(e) => setAgreed(e.target.checked)}
          />
          {t("bank.agree")}
        </label>
      </div>
      <ErrorAlert error={action.error} />
      {action.pending && <Progress label={t("bank.asking")} />}
      <Button
        type="submit"
        pending={action.pending}
        disabled={!agreed || digits.length < 12 || expiry.length < 5}
      >
        {t("bank.next")}
      </Button>
    </form>
  );
}

function CodeStep({ enrolment, onBack }: { enrolment: Enrolment; onBack(): void }) {
  const { t, pick } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const [current, setCurrent] = useState(enrolment);
  const [code, setCode] = useState("");
  const [sentAt, setSentAt] = useState(0);
  const left = useCountdown(current.resendAfterSeconds, sentAt);
  const submit = useAsyncAction();
  const resend = useAsyncAction();
  const [stage, setStage] = useState<"code" | "installing">("code");
  const ids = { code: useId(), hint: useId() };
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const card = await submit.run(async () => {
      const c = await api.bankCards.verify(current.id, code.trim());
      // The token is issued; the phone syncs and the TSM installs it on the SE.
      setStage("installing");
      await phone.sync();
      return c;
    });
    if (card) navigate(`/cards/bank/${card.id}`);
    else {
      setStage("code");
      setCode("");
      input.current?.focus();
    }
  };

  const again = async () => {
    const r = await resend.run(() => api.bankCards.resend(current.id));
    if (r) {
      setCurrent(r);
      setSentAt((n) => n + 1);
    }
  };

  return (
    <form className="form panel" onSubmit={onSubmit} noValidate aria-labelledby="bank-code-heading">
      <h2 id="bank-code-heading">{t("bank.codeTitle")}</h2>
      <StatusNote tone="info">
        {t("bank.codeSent", {
          bank: pick(current.bank),
          kind: t(current.kind === "credit" ? "cardArt.credit" : "cardArt.debit"),
          last4: current.fundingLast4,
          phone: current.codeSentTo,
        })}
      </StatusNote>
      <div className="field">
        <label htmlFor={ids.code}>{t("bank.code")}</label>
        <input
          ref={input}
          id={ids.code}
          className="input input-code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          value={code}
          onChange={(e) => setCode(e.target.value.replace(/\D/g, "").slice(0, 6))}
          aria-describedby={ids.hint}
        />
        <p className="hint" id={ids.hint}>
          {t("bank.codeHint")}
        </p>
      </div>
      <ErrorAlert error={submit.error ?? resend.error} />
      {submit.pending && (
        <Progress label={t(stage === "installing" ? "bank.installing" : "bank.verifying")} />
      )}
      <Button type="submit" pending={submit.pending} disabled={code.length !== 6}>
        {t("bank.confirm")}
      </Button>
      <div className="row">
        <Button variant="link" type="button" onClick={onBack} disabled={submit.pending}>
          {t("bank.changeCard")}
        </Button>
        <Button variant="link" type="button" onClick={again} disabled={left > 0 || resend.pending}>
          {left > 0 ? t("signIn.resendIn", { seconds: left }) : t("signIn.resend")}
        </Button>
      </div>
    </form>
  );
}

function AddBankCardScreen() {
  const { t } = useI18n();
  const { api } = useSignedIn();
  const phone = usePhone();
  const terms = useLoad(() => api.bankCards.terms(), "terms");
  const [enrolment, setEnrolment] = useState<Enrolment>();
  if (phone.status !== "ready") return <PhoneNeeded />;
  return (
    <div className="stack">
      <p className="muted">{t("bank.lead")}</p>
      {enrolment ? (
        <CodeStep enrolment={enrolment} onBack={() => setEnrolment(undefined)} />
      ) : terms.data ? (
        <CardForm terms={terms.data} onSent={setEnrolment} />
      ) : terms.error ? (
        <ErrorAlert error={terms.error} />
      ) : (
        <Progress label={t("progress.loading")} />
      )}
    </div>
  );
}

export const addBankCardScreen: ScreenDef = {
  path: "/cards/add-bank",
  title: "bank.addTitle",
  parent: "/cards",
  Component: AddBankCardScreen,
};
