/** How the app says "working on it", "done" and "that failed": progress, status and alert regions. */
import { useEffect, useState, type ButtonHTMLAttributes, type ReactNode } from "react";
import { useI18n } from "../i18n/i18n.js";
import type { ApiClient } from "../api/client.js";
import { errorText } from "./errors.js";

/** A spinner with its words; announced politely to screen readers. */
export function Progress({ label }: { label: string }) {
  return (
    <div className="progress" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** A thin indeterminate bar at the top of the phone while any request is in flight. */
export function ActivityBar({ client }: { client: ApiClient }) {
  const { t } = useI18n();
  const [pending, setPending] = useState(client.pending);
  useEffect(() => client.subscribe(setPending), [client]);
  if (pending === 0) return <div className="activity-bar idle" aria-hidden="true" />;
  return <div className="activity-bar" role="progressbar" aria-label={t("progress.loading")} />;
}

/** An error, worded in the user's language; `role="alert"` so it is read out at once. */
export function ErrorAlert({ error, children }: { error: unknown; children?: ReactNode }) {
  const i18n = useI18n();
  if (error === undefined) return null;
  return (
    <div className="alert alert-error" role="alert">
      <p className="alert-title">{errorText(error, i18n)}</p>
      {children}
    </div>
  );
}

/** A result the user should hear about (saved, sent), announced politely. */
export function StatusNote({
  children,
  tone = "ok",
}: {
  children: ReactNode;
  tone?: "ok" | "info" | "warn";
}) {
  return (
    <div className={`alert alert-${tone}`} role="status">
      {children}
    </div>
  );
}

/** A button that shows it is working and cannot be pressed twice. */
export function Button({
  pending = false,
  pendingLabel,
  variant = "primary",
  children,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  pending?: boolean;
  pendingLabel?: string;
  variant?: "primary" | "secondary" | "danger" | "link";
}) {
  return (
    <button
      {...rest}
      className={`btn btn-${variant}${rest.className ? ` ${rest.className}` : ""}`}
      disabled={pending || rest.disabled}
      aria-busy={pending || undefined}
    >
      {pending && <span className="spinner spinner-inline" aria-hidden="true" />}
      {pending && pendingLabel ? pendingLabel : children}
    </button>
  );
}
