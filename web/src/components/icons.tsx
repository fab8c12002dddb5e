/** The tab bar's icons: simple strokes of our own, hidden from screen readers (the tab has its words). */
export type IconName = "cards" | "bell" | "gear" | "transit" | "terminal";

const PATHS: Record<IconName, string> = {
  cards: "M3 7h15a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7zm0 4h17M6 4h14a2 2 0 0 1 2 2v9",
  bell: "M6 16V11a6 6 0 1 1 12 0v5l2 2H4l2-2zm4 4h4",
  transit:
    "M6 3h12a2 2 0 0 1 2 2v10a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V5a2 2 0 0 1 2-2zm-2 8h16M8 15h.01M16 15h.01M8 18l-2 3m10-3 2 3",
  terminal:
    "M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm1 3h8v5H8zm0 8h2m3 0h3m-8 3h2m3 0h3",
  gear: "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zm0-7v3m0 14v3M2 12h3m14 0h3M4.9 4.9l2.1 2.1m10 10 2.1 2.1M4.9 19.1 7 17M17 7l2.1-2.1",
};

export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        d={PATHS[name]}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
