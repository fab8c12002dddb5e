/**
 * Card art, generated: a palette per bank and per transit product, and a pattern per kind of card. No
 * logos, only colours and our own shapes. Proportions follow the wallet's card art (900×567 for bank
 * cards, 960×606 for transit cards: ISO ID-1, corner radius ≈ 40 px; wallets.md MIW-27).
 */

export type CardArtSpec =
  | { kind: "bank"; bankId: string; bankName: string; last4: string; type: "debit" | "credit" }
  | { kind: "transit"; productId: string; name: string; scheme: "t-union" | "city-union" | "city" }
  | { kind: "door"; name: string };

export interface Palette {
  from: string;
  to: string;
  /** Text and marks drawn on the card. */
  ink: string;
}

/** Banks' house colours (a colour is not a logo). Keys are the token service's bank ids. */
const BANK_PALETTES: Readonly<Record<string, Palette>> = {
  icbc: { from: "#c8102e", to: "#6d0a19", ink: "#ffffff" },
  ccb: { from: "#1457b8", to: "#082b61", ink: "#ffffff" },
  boc: { from: "#b0182f", to: "#5a0c18", ink: "#ffffff" },
  abc: { from: "#0f8a6a", to: "#05442f", ink: "#ffffff" },
  bocom: { from: "#22449a", to: "#0e2152", ink: "#ffffff" },
  cmb: { from: "#d8262f", to: "#7a1016", ink: "#ffffff" },
  psbc: { from: "#0c7a47", to: "#033d22", ink: "#ffffff" },
  citic: { from: "#c2202b", to: "#631017", ink: "#ffffff" },
  spdb: { from: "#1d4f91", to: "#0b2650", ink: "#ffffff" },
  cib: { from: "#0b3b8c", to: "#061d47", ink: "#ffffff" },
};

const TRANSIT_PALETTES: Readonly<Record<string, Palette>> = {
  "t-union": { from: "#0e6fb8", to: "#07365e", ink: "#ffffff" },
  "city-union": { from: "#138a5b", to: "#07442c", ink: "#ffffff" },
};

const DOOR_PALETTE: Palette = { from: "#4b5563", to: "#1f2937", ink: "#ffffff" };

/** A stable hue from an id, so an unlisted bank or product still gets its own colour. */
export function hueOf(id: string): number {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % 360;
}

function fromHue(id: string): Palette {
  const hue = hueOf(id);
  return { from: `hsl(${hue} 62% 38%)`, to: `hsl(${(hue + 24) % 360} 70% 18%)`, ink: "#ffffff" };
}

export function paletteOf(spec: CardArtSpec): Palette {
  switch (spec.kind) {
    case "bank":
      return BANK_PALETTES[spec.bankId] ?? fromHue(spec.bankId);
    case "transit":
      return spec.scheme === "city"
        ? fromHue(spec.productId)
        : (TRANSIT_PALETTES[spec.scheme] ?? fromHue(spec.productId));
    case "door":
      return DOOR_PALETTE;
  }
}
