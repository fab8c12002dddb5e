/** One card as the wallet draws it: an SVG with the card's palette, its pattern and its words. */
import { useId } from "react";
import { useI18n } from "../i18n/i18n.js";
import { hueOf, paletteOf, type CardArtSpec } from "./art.js";

const W = 900;
const H = 567;

function Chip() {
  return (
    <g transform="translate(70 200)">
      <rect width="110" height="84" rx="14" fill="#e9c46a" />
      <path
        d="M0 28h38M0 56h38M72 28h38M72 56h38M38 0v84M72 0v84"
        stroke="#b08a2e"
        strokeWidth="4"
        fill="none"
      />
    </g>
  );
}

/** The contactless mark: three arcs (ISO/IEC 14443 field, our drawing). */
function Contactless({ ink }: { ink: string }) {
  return (
    <g
      transform="translate(210 212)"
      stroke={ink}
      strokeWidth="7"
      fill="none"
      strokeLinecap="round"
      opacity="0.9"
    >
      <path d="M0 14a34 34 0 0 1 0 44" />
      <path d="M16 4a52 52 0 0 1 0 64" />
      <path d="M32 -6a70 70 0 0 1 0 84" />
    </g>
  );
}

/** Metro lines with stations, their layout seeded by the product id. */
function MetroLines({ id, ink }: { id: string; ink: string }) {
  const seed = hueOf(id);
  const lines = [0, 1, 2].map((i) => {
    const y = 330 + i * 70 + ((seed >> i) % 30);
    const bend = 480 + ((seed * (i + 3)) % 260);
    return { d: `M-20 ${y} H${bend} l90 -90 H${W + 20}`, stations: [160 + i * 90, bend - 80, bend + 200], y };
  });
  return (
    <g opacity="0.28" stroke={ink} fill="none" strokeWidth="14" strokeLinejoin="round">
      {lines.map((l, i) => (
        <g key={i}>
          <path d={l.d} />
          {l.stations.map((x, j) => (
            <circle key={j} cx={x} cy={x > (l.stations[1] ?? 0) + 100 ? l.y - 90 : l.y} r="13" fill={ink} />
          ))}
        </g>
      ))}
    </g>
  );
}

function KeyMark({ ink }: { ink: string }) {
  return (
    <g
      transform="translate(640 150)"
      fill="none"
      stroke={ink}
      strokeWidth="16"
      opacity="0.35"
      strokeLinecap="round"
    >
      <circle cx="70" cy="70" r="56" />
      <path d="M118 104l120 120M200 186l-34 34M232 218l-28 28" />
    </g>
  );
}

export function CardArt({ spec, decorative = false }: { spec: CardArtSpec; decorative?: boolean }) {
  const { t } = useI18n();
  const gradientId = useId();
  const p = paletteOf(spec);
  const label =
    spec.kind === "bank"
      ? t("cardArt.bank", {
          bank: spec.bankName,
          type: t(spec.type === "credit" ? "cardArt.credit" : "cardArt.debit"),
          last4: spec.last4,
        })
      : spec.kind === "transit"
        ? t("cardArt.transit", { name: spec.name })
        : t("cardArt.door", { name: spec.name });

  return (
    <svg
      className="card-art"
      viewBox={`0 0 ${W} ${H}`}
      {...(decorative ? { "aria-hidden": true } : { role: "img", "aria-label": label })}
    >
      <defs>
        <linearGradient id={gradientId} x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor={p.from} />
          <stop offset="1" stopColor={p.to} />
        </linearGradient>
      </defs>
      <rect width={W} height={H} rx="40" fill={`url(#${gradientId})`} />
      <circle cx={W - 60} cy="-40" r="300" fill={p.ink} opacity="0.06" />
      {spec.kind === "transit" && <MetroLines id={spec.productId} ink={p.ink} />}
      {spec.kind === "door" && <KeyMark ink={p.ink} />}
      <g fill={p.ink} fontFamily="system-ui, 'PingFang SC', 'Noto Sans CJK SC', sans-serif">
        {spec.kind === "bank" && (
          <>
            <text x="70" y="110" fontSize="54" fontWeight="700">
              {spec.bankName}
            </text>
            <Chip />
            <Contactless ink={p.ink} />
            <text x="70" y="470" fontSize="50" letterSpacing="6">
              •••• {spec.last4}
            </text>
            <text x={W - 70} y="470" fontSize="40" textAnchor="end" opacity="0.85">
              {t(spec.type === "credit" ? "cardArt.credit" : "cardArt.debit")}
            </text>
          </>
        )}
        {spec.kind === "transit" && (
          <>
            <text x="70" y="120" fontSize="60" fontWeight="700">
              {spec.name}
            </text>
            <text x="70" y="180" fontSize="34" opacity="0.85">
              {t(
                spec.scheme === "t-union"
                  ? "cardArt.tUnion"
                  : spec.scheme === "city-union"
                    ? "cardArt.cityUnion"
                    : "cardArt.cityCard",
              )}
            </text>
            <Contactless ink={p.ink} />
          </>
        )}
        {spec.kind === "door" && (
          <>
            <text x="70" y="120" fontSize="60" fontWeight="700">
              {spec.name}
            </text>
            <text x="70" y="470" fontSize="36" opacity="0.85">
              {t("cardArt.doorKind")}
            </text>
          </>
        )}
      </g>
    </svg>
  );
}
