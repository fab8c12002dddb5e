/**
 * Product rules the cloud applies besides the catalogue's (src/transit/catalogue.ts): which phone models carry
 * which cards (MIW-26: a server-side card × model list; moving a card needs the target model to support it),
 * and the calendar the Shenzhen Tong once-a-year transfer rule counts in.
 */
import { chinaTime } from "../../core/clock.js";
import { type TransitProduct, isTUnionProduct } from "../../transit/index.js";

/**
 * Models whose SE carries China T-Union cards. The sources name no per-card model list; ours (docs/DECISIONS.md
 * "Transit cards per phone model"): T-Union cards on the 2017 models and later — 小米 MIX 2, MIX 2S, MIX 3,
 * 小米6, 8, 9, 9 SE, Note 3 — and city cards on all thirteen. Change this one set to change the rule.
 */
export const T_UNION_MODELS: ReadonlySet<string> = new Set([
  "chiron",
  "polaris",
  "perseus",
  "sagit",
  "dipper",
  "cepheus",
  "grus",
  "jason",
]);

export function modelSupports(modelCode: string, product: TransitProduct): boolean {
  return !isTUnionProduct(product) || T_UNION_MODELS.has(modelCode);
}

/** The calendar year (China time) a moment falls in. */
export const chinaYear = (ms: number): number => chinaTime(new Date(ms)).year;

/** The first moment (epoch ms) of the China-time calendar month `ms` falls in. */
export function chinaMonthStart(ms: number): number {
  const c = chinaTime(new Date(ms));
  return Date.UTC(c.year, c.month - 1, 1) - 8 * 3600_000;
}

/** The first moment (epoch ms) of the China-time calendar year `ms` falls in. */
export function chinaYearStart(ms: number): number {
  return Date.UTC(chinaYear(ms), 0, 1) - 8 * 3600_000;
}

export const amountInRange = (p: TransitProduct, amount: number): boolean =>
  Number.isSafeInteger(amount) && amount >= p.topUp.min && amount <= p.topUp.max;

/** Loads tried for one top-up before it is given up (each torn one is proven not landed and reversed). */
export const MAX_LOAD_ATTEMPTS = 5;
