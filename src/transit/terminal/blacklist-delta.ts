/**
 * The gate's copy of the issuer's blacklist and the deltas that keep it current.
 *
 * The cloud keeps one append-only list per product, each entry numbered 1, 2, 3… within its product (the
 * product's *version* is its highest number). A gate holds, per product, the version it has and the card
 * numbers up to it, and asks for what came after (`since` = its version). A page is checked before anything
 * of it is kept (it comes over a network): it must start where the copy stands, its entries must be
 * numbered in order inside (since, next], and `more` must say whether `next` is short of the version. A page
 * that does not fit leaves the copy as it was. Entries are never taken off: a card on the list is a card
 * whose balance the issuer has already paid back or moved, and it stays refused.
 */
import { type Result, err, ok } from "../../core/result.js";
import { type TransitSystem, getProduct } from "../catalogue.js";
import { Blacklist } from "./blacklist.js";

export const BLACKLIST_PAGE_FORMAT = "tapwallet.transit.blacklist/1";
export const BLACKLIST_COPY_FORMAT = "tapwallet.transit.blacklist-copy/1";

/** Why a card went on the list: its balance was refunded or moved, or the cloud retired it. */
export type BlacklistReason = "parked" | "refunded" | "replaced" | "retired";
export const BLACKLIST_REASONS: readonly BlacklistReason[] = ["parked", "refunded", "replaced", "retired"];

export interface BlacklistEntry {
  seq: number;
  cardNumber: string;
  reason: BlacklistReason;
  /** ISO 8601. */
  listedAt: string;
}

/** One answer of `GET /api/v1/transit/blacklist?product=&since=`. */
export interface BlacklistPage {
  format: typeof BLACKLIST_PAGE_FORMAT;
  product: string;
  system: TransitSystem;
  /** The product's version: the number of its latest entry (0: empty list). */
  version: number;
  /** What the gate said it had. */
  since: number;
  /** The version the gate holds after this page (the last entry's number; `since` when none). */
  next: number;
  /** More entries wait after `next` (ask again with since = next). */
  more: boolean;
  entries: BlacklistEntry[];
}

export interface ProductCopy {
  system: TransitSystem;
  version: number;
  cards: string[];
}

/** What a gate keeps between fetches (JSON). */
export interface BlacklistCopy {
  format: typeof BLACKLIST_COPY_FORMAT;
  products: Record<string, ProductCopy>;
}

export const emptyBlacklistCopy = (): BlacklistCopy => ({ format: BLACKLIST_COPY_FORMAT, products: {} });

/** The version the copy holds for `product` (0 when it has none). */
export const heldVersion = (copy: BlacklistCopy, product: string): number =>
  copy.products[product]?.version ?? 0;

const CARD_NUMBER = /^[0-9]{1,32}$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks a page from the cloud (untrusted JSON); never throws. */
export function parseBlacklistPage(v: unknown): Result<BlacklistPage> {
  if (!isObject(v) || v["format"] !== BLACKLIST_PAGE_FORMAT) return err("not a blacklist page");
  const { product, system, version, since, next, more, entries } = v;
  if (typeof product !== "string") return err("product");
  const known = getProduct(product);
  if (!known || known.system !== system) return err("unknown product or wrong system");
  if (!count(version) || !count(since) || !count(next) || typeof more !== "boolean")
    return err("version, since, next or more");
  if (!Array.isArray(entries)) return err("entries");
  const out: BlacklistEntry[] = [];
  for (const e of entries) {
    if (!isObject(e) || !count(e["seq"]) || typeof e["cardNumber"] !== "string")
      return err("an entry lacks its number or card");
    if (!CARD_NUMBER.test(e["cardNumber"])) return err("a card number is not digits");
    if (!BLACKLIST_REASONS.includes(e["reason"] as BlacklistReason)) return err("an entry's reason");
    if (typeof e["listedAt"] !== "string") return err("an entry's time");
    out.push({
      seq: e["seq"],
      cardNumber: e["cardNumber"],
      reason: e["reason"] as BlacklistReason,
      listedAt: e["listedAt"],
    });
  }
  return ok({
    format: BLACKLIST_PAGE_FORMAT,
    product,
    system: known.system,
    version,
    since,
    next,
    more,
    entries: out,
  });
}

/**
 * The copy with `page` applied, or why the page does not fit it (the copy is not changed). A page whose
 * `since` is not the copy's version is refused: entries in between would be missing.
 */
export function applyBlacklistPage(copy: BlacklistCopy, page: BlacklistPage): Result<BlacklistCopy> {
  const held = heldVersion(copy, page.product);
  if (page.since !== held) return err(`the page starts at ${page.since}, the copy holds ${held}`);
  if (page.next < page.since || page.next > page.version) return err("next outside since..version");
  if (page.more !== page.next < page.version) return err("more does not match next and version");
  let last = page.since;
  for (const e of page.entries) {
    if (e.seq <= last) return err("entries out of order");
    last = e.seq;
  }
  if (last !== page.next) return err("next is not the last entry");
  const before = copy.products[page.product];
  const cards = new Set(before?.cards ?? []);
  for (const e of page.entries) cards.add(e.cardNumber);
  return ok({
    format: BLACKLIST_COPY_FORMAT,
    products: {
      ...copy.products,
      [page.product]: { system: page.system, version: page.next, cards: [...cards] },
    },
  });
}

/** The copy without `product` (to fetch it again from 0: the cloud's list is not the one the copy came from). */
export function dropProduct(copy: BlacklistCopy, product: string): BlacklistCopy {
  const { [product]: _dropped, ...rest } = copy.products;
  return { format: BLACKLIST_COPY_FORMAT, products: rest };
}

/** Checks a stored copy (a gate's file); an unreadable one is an empty copy. */
export function parseBlacklistCopy(v: unknown): BlacklistCopy {
  if (!isObject(v) || v["format"] !== BLACKLIST_COPY_FORMAT || !isObject(v["products"]))
    return emptyBlacklistCopy();
  const products: Record<string, ProductCopy> = {};
  for (const [id, p] of Object.entries(v["products"])) {
    const known = getProduct(id);
    if (!known || !isObject(p) || !count(p["version"]) || !Array.isArray(p["cards"])) continue;
    const cards = p["cards"].filter((c): c is string => typeof c === "string" && CARD_NUMBER.test(c));
    products[id] = { system: known.system, version: p["version"], cards };
  }
  return { format: BLACKLIST_COPY_FORMAT, products };
}

/** The terminal's blacklist (by system and card number) from the copy. */
export function blacklistOf(copy: BlacklistCopy): Blacklist {
  return new Blacklist(
    Object.values(copy.products).flatMap((p) =>
      p.cards.map((cardNumber) => ({ system: p.system, cardNumber })),
    ),
  );
}
