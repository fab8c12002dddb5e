/** Card art for the cloud's views: which palette and pattern each card gets (art.ts draws them). */
import type { BankCardView, Bilingual } from "../api/types.js";
import type { CardArtSpec } from "./art.js";

/** JT/T 978 cards are China T-Union, CJ/T 166 the City Union; the rest are a city's own card. */
export function schemeOf(standard: string): "t-union" | "city-union" | "city" {
  return standard === "JT/T 978" ? "t-union" : standard === "CJ/T 166" ? "city-union" : "city";
}

export function bankArt(card: BankCardView, pick: (t: Bilingual) => string): CardArtSpec {
  return {
    kind: "bank",
    bankId: card.bank.code.toLowerCase(),
    bankName: pick(card.bank),
    last4: card.tokenLast4,
    type: card.kind,
  };
}

export function transitArt(
  product: { id: string; name: Bilingual; standard: string },
  pick: (t: Bilingual) => string,
): CardArtSpec {
  return {
    kind: "transit",
    productId: product.id,
    name: pick(product.name),
    scheme: schemeOf(product.standard),
  };
}
