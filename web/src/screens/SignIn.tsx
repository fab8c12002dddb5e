/**
 * Sign in (and sign up): mobile number, then the one-time code. The cloud sends a code whether or not the
 * number has an account; a new number signs up on its first sign-in. Resend waits for the server's
 * `resendAfterSeconds`; every refusal (bad number, wrong code, locked number) shows the server's words.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { useSession } from "../app/session.js";
import { errorCode } from "../components/errors.js";
import { Button, ErrorAlert, StatusNote } from "../components/feedback.js";
import { LanguageSwitch } from "../components/LanguageSwitch.js";
import { useAsyncAction } from "../hooks/useAsync.js";
import { useCountdown } from "../hooks/useCountdown.js";
import { useI18n } from "../i18n/i18n.js";

/** `138 0013 8000` → `138****8000` for the "code sent to" line. */
export function maskMobile(input: string): string {
  const digits = input.replace(/\D/g, "").replace(/^86(?=1\d{10}$)/, "");
  return digits.length === 11 ? `${digits.slice(0, 3)}****${digits.slice(7)}` : input;
}

function CodeStep({ phone, resendAfter, onBack }: { phone: string; resendAfter: number; onBack(): void }) {
  const { t } = useI18n();
  const { api, signedIn } = useSession();
  const [code, setCode] = useState("");
  const [sentAt, setSentAt] = useState(0);
  const [wait, setWait] = useState(resendAfter);
  const left = useCountdown(wait, sentAt);
  const submit = useAsyncAction();
  const resend = useAsyncAction();
  const codeId = useId();
  const hintId = useId();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await submit.run(() => api.accounts.signIn(phone, code.trim()));
    if (r) signedIn(r);
    else {
      setCode("");
      input.current?.focus();
    }
  };

  const onResend = async () => {
    const r = await resend.run(() => api.accounts.requestCode(phone));
    if (r) {
      setWait(r.resendAfterSeconds);
      setSentAt((n) => n + 1);
      input.current?.focus();
    }
  };

  return (
    <form className="form" onSubmit={onSubmit} noValidate aria-describedby={hintId}>
      <StatusNote tone="info">
        {t(sentAt === 0 ? "signIn.codeSent" : "signIn.codeResent", { phone: maskMobile(phone) })}
      </StatusNote>
      <div className="field">
        <label htmlFor={codeId}>{t("signIn.code")}</label>
        <input
          id={codeId}
          ref={input}
          className="input input-code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          pattern="\d{6}"
          value={code}
          onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
          aria-invalid={submit.error !== undefined || undefined}
          required
        />
        <p className="hint" id={hintId}>
          {t("signIn.devHint")}
        </p>
      </div>
      <ErrorAlert error={submit.error}>
        {errorCode(submit.error) === "otp_locked" && <p>{t("signIn.lockedHelp")}</p>}
      </ErrorAlert>
      <ErrorAlert error={resend.error} />
      <Button
        type="submit"
        pending={submit.pending}
        pendingLabel={t("signIn.signingIn")}
        disabled={code.length !== 6}
      >
        {t("signIn.submit")}
      </Button>
      <div className="row">
        <Button type="button" variant="link" onClick={onBack}>
          {t("signIn.changeNumber")}
        </Button>
        <Button type="button" variant="link" onClick={onResend} disabled={left > 0} pending={resend.pending}>
          {left > 0 ? t("signIn.resendIn", { seconds: left }) : t("signIn.resend")}
        </Button>
      </div>
    </form>
  );
}

export function SignIn() {
  const { t, pick } = useI18n();
  const { api, ended } = useSession();
  const [phone, setPhone] = useState("");
  const [step, setStep] = useState<{ phone: string; resendAfter: number } | undefined>();
  const request = useAsyncAction();
  const phoneId = useId();
  const heading = useRef<HTMLHeadingElement>(null);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await request.run(() => api.accounts.requestCode(phone.trim()));
    if (r) setStep({ phone: phone.trim(), resendAfter: r.resendAfterSeconds });
  };

  return (
    <main className="sign-in" id="main">
      <div className="sign-in-top">
        <LanguageSwitch />
      </div>
      <div className="brand" aria-hidden="true">
        <span className="brand-mark">Pay</span>
      </div>
      <h1 ref={heading} tabIndex={-1}>
        {t("signIn.title")}
      </h1>
      <p className="lead">{t("signIn.lead")}</p>
      {ended && !step && (
        <StatusNote tone="warn">{ended.messages ? pick(ended.messages) : t("signIn.ended")}</StatusNote>
      )}
      {step ? (
        <CodeStep
          phone={step.phone}
          resendAfter={step.resendAfter}
          onBack={() => {
            setStep(undefined);
            heading.current?.focus();
          }}
        />
      ) : (
        <form className="form" onSubmit={onSubmit} noValidate>
          <div className="field">
            <label htmlFor={phoneId}>{t("signIn.phone")}</label>
            <div className="input-group">
              <span className="input-prefix" aria-hidden="true">
                +86
              </span>
              <input
                id={phoneId}
                className="input"
                type="tel"
                inputMode="numeric"
                autoComplete="tel-national"
                placeholder={t("signIn.phonePlaceholder")}
                value={phone}
                onChange={(e) => setPhone(e.target.value)}
                aria-invalid={request.error !== undefined || undefined}
                required
              />
            </div>
          </div>
          <ErrorAlert error={request.error} />
          <Button
            type="submit"
            pending={request.pending}
            pendingLabel={t("signIn.sending")}
            disabled={phone.trim() === ""}
          >
            {t("signIn.getCode")}
          </Button>
        </form>
      )}
    </main>
  );
}
