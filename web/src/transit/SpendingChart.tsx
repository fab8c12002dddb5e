/**
 * Monthly spending on rides as a bar chart, drawn in SVG by hand: one bar per month with its amount above
 * it, the current month highlighted. For screen readers the SVG is named by its caption and the same
 * figures are in a table (visually hidden).
 */
import { useId } from "react";
import { yuan } from "../components/money.js";
import { useI18n } from "../i18n/i18n.js";
import { type MonthSpend, axisMax } from "./spending.js";

const W = 340;
const H = 170;
const TOP = 22;
const BOTTOM = 28;

export function SpendingChart({ months }: { months: MonthSpend[] }) {
  const { t, lang } = useI18n();
  const captionId = useId();
  const max = axisMax(Math.max(0, ...months.map((m) => m.spent)));
  const slot = W / months.length;
  const barW = Math.min(34, slot * 0.55);
  const plot = H - TOP - BOTTOM;
  const monthName = new Intl.DateTimeFormat(lang, { month: "short", timeZone: "UTC" });
  const label = (m: MonthSpend) => monthName.format(new Date(`${m.month}-15T00:00:00Z`));
  return (
    <figure className="chart">
      <figcaption id={captionId}>{t("transit.chartTitle")}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={captionId} className="chart-svg">
        {[0, 0.5, 1].map((f) => {
          const y = TOP + plot * (1 - f);
          return (
            <g key={f}>
              <line x1="0" x2={W} y1={y} y2={y} className="chart-grid" />
              {f > 0 && (
                <text x="2" y={y - 3} className="chart-axis">
                  {yuan(max * f)}
                </text>
              )}
            </g>
          );
        })}
        {months.map((m, i) => {
          const h = max ? (m.spent / max) * plot : 0;
          const x = slot * i + (slot - barW) / 2;
          const y = TOP + plot - h;
          const current = i === months.length - 1;
          return (
            <g key={m.month}>
              <rect
                x={x}
                y={y}
                width={barW}
                height={Math.max(h, m.spent ? 2 : 0)}
                rx="4"
                className={current ? "chart-bar current" : "chart-bar"}
              />
              {m.spent > 0 && (
                <text x={x + barW / 2} y={y - 4} textAnchor="middle" className="chart-value">
                  {yuan(m.spent)}
                </text>
              )}
              <text x={x + barW / 2} y={H - 8} textAnchor="middle" className="chart-label">
                {label(m)}
              </text>
            </g>
          );
        })}
      </svg>
      <table className="visually-hidden">
        <caption>{t("transit.chartTitle")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("transit.month")}</th>
            <th scope="col">{t("transit.spent")}</th>
            <th scope="col">{t("transit.rides")}</th>
          </tr>
        </thead>
        <tbody>
          {months.map((m) => (
            <tr key={m.month}>
              <th scope="row">{label(m)}</th>
              <td>{yuan(m.spent)}</td>
              <td>{m.rides}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
