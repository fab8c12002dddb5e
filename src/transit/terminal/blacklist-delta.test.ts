/** The gate's blacklist copy and its deltas: paging, order, refusals, and the client over a fake cloud. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BLACKLIST_PAGE_FORMAT,
  type BlacklistCopy,
  type BlacklistPage,
  applyBlacklistPage,
  blacklistOf,
  emptyBlacklistCopy,
  heldVersion,
  parseBlacklistCopy,
  parseBlacklistPage,
} from "./blacklist-delta.js";
import { type BlacklistFetch, refreshBlacklist } from "./blacklist-client.js";

const PRODUCT = "tu-jingjinji";
const cardNo = (i: number) => `3105170000${String(i).padStart(9, "0")}`;

/** The cloud's answer for entries 1..version of a list of card numbers, after `since`, `limit` at most. */
function pageOf(cards: readonly string[], since: number, limit: number, product = PRODUCT): BlacklistPage {
  const version = cards.length;
  const entries = cards.slice(since, since + limit).map((cardNumber, i) => ({
    seq: since + i + 1,
    cardNumber,
    reason: "parked" as const,
    listedAt: "2026-05-01T00:00:00.000Z",
  }));
  const next = entries.length > 0 ? entries[entries.length - 1]!.seq : since;
  return {
    format: BLACKLIST_PAGE_FORMAT,
    product,
    system: "t-union",
    version,
    since,
    next,
    more: next < version,
    entries,
  };
}

function applied(copy: BlacklistCopy, page: BlacklistPage): BlacklistCopy {
  const r = applyBlacklistPage(copy, page);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe("the gate's blacklist copy", () => {
  it("fetched in pages of any size, in several refreshes as the list grows, equals the whole list (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 4 }),
        (ids, limit, growth) => {
          const cards = ids.map(cardNo);
          let copy = emptyBlacklistCopy();
          // The list as the cloud had it at each refresh: growing prefixes, then all of it.
          const cuts = [...growth.map((g) => Math.min(g, cards.length)).sort((a, b) => a - b), cards.length];
          for (const cut of cuts) {
            const now = cards.slice(0, cut);
            for (;;) {
              const page = pageOf(now, heldVersion(copy, PRODUCT), limit);
              copy = applied(copy, page);
              if (!page.more) break;
            }
          }
          expect(heldVersion(copy, PRODUCT)).toBe(cards.length);
          expect(new Set(copy.products[PRODUCT]?.cards ?? [])).toEqual(new Set(cards));
          const list = blacklistOf(copy);
          for (const c of cards) expect(list.has("t-union", c)).toBe(true);
          expect(list.has("city-union", cards[0] ?? "1")).toBe(false);
        },
      ),
    );
  });

  it("refuses a page that does not start where the copy stands, and keeps the copy as it was", () => {
    const cards = [1, 2, 3, 4, 5].map(cardNo);
    const copy = applied(emptyBlacklistCopy(), pageOf(cards, 0, 2));
    expect(heldVersion(copy, PRODUCT)).toBe(2);
    // Skips entry 3: refused.
    const gap = applyBlacklistPage(copy, pageOf(cards, 3, 2));
    expect(gap).toMatchObject({ ok: false });
    // Again from 0: refused too (the copy would not know it holds those already).
    expect(applyBlacklistPage(copy, pageOf(cards, 0, 5))).toMatchObject({ ok: false });
    expect(heldVersion(copy, PRODUCT)).toBe(2);
    expect(copy.products[PRODUCT]!.cards).toEqual(cards.slice(0, 2));
  });

  it("refuses pages whose numbers, next, version or more do not agree", () => {
    const cards = [1, 2, 3].map(cardNo);
    const good = pageOf(cards, 0, 2);
    const empty = emptyBlacklistCopy();
    const bad: BlacklistPage[] = [
      { ...good, more: false },
      { ...good, next: 1 },
      { ...good, next: 4, version: 3 },
      { ...good, entries: [good.entries[1]!, good.entries[0]!] },
      { ...good, entries: [good.entries[0]!, { ...good.entries[1]!, seq: 1 }] },
      { ...good, version: 1, next: 2 },
    ];
    for (const page of bad) expect(applyBlacklistPage(empty, page).ok, JSON.stringify(page)).toBe(false);
    expect(applyBlacklistPage(empty, good).ok).toBe(true);
  });

  it("parses what the cloud sends, refusing anything else without throwing (property)", () => {
    const good = pageOf([cardNo(7)], 0, 10);
    expect(parseBlacklistPage(JSON.parse(JSON.stringify(good)))).toEqual({ ok: true, value: good });
    expect(parseBlacklistPage({ ...good, product: "nowhere" }).ok).toBe(false);
    expect(parseBlacklistPage({ ...good, system: "city-union" }).ok).toBe(false);
    expect(parseBlacklistPage({ ...good, entries: [{ ...good.entries[0], cardNumber: "12a" }] }).ok).toBe(
      false,
    );
    expect(parseBlacklistPage({ ...good, entries: [{ ...good.entries[0], reason: "fun" }] }).ok).toBe(false);
    expect(parseBlacklistPage({ ...good, version: -1 }).ok).toBe(false);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(() => parseBlacklistPage(v)).not.toThrow();
        expect(() => parseBlacklistCopy(v)).not.toThrow();
      }),
    );
  });

  it("a stored copy reads back; a damaged one reads as empty", () => {
    const copy = applied(emptyBlacklistCopy(), pageOf([cardNo(1), cardNo(2)], 0, 10));
    expect(parseBlacklistCopy(JSON.parse(JSON.stringify(copy)))).toEqual(copy);
    expect(parseBlacklistCopy({ format: "other" })).toEqual(emptyBlacklistCopy());
    expect(parseBlacklistCopy(null)).toEqual(emptyBlacklistCopy());
  });
});

describe("refreshBlacklist against a cloud", () => {
  /** A fake cloud: lists per product, pages of `limit`, 409 for a `since` past the version. */
  function fakeCloud(lists: Record<string, string[]>, limit = 2) {
    const calls: string[] = [];
    const fetch: BlacklistFetch = async (url, init) => {
      calls.push(url);
      expect(init.headers["x-operator-key"]).toBe("twop_test");
      const u = new URL(url);
      const answer = (status: number, body: unknown) => ({
        ok: status === 200,
        status,
        json: async () => body,
      });
      if (u.pathname.endsWith("/versions"))
        return answer(200, {
          products: Object.entries(lists).map(([product, cards]) => ({
            product,
            system: product === "shanghai" ? "city-union" : "t-union",
            version: cards.length,
          })),
        });
      const product = u.searchParams.get("product")!;
      const since = Number(u.searchParams.get("since"));
      const cards = lists[product]!;
      if (since > cards.length) return answer(409, { error: "blacklist_version_ahead" });
      const page = pageOf(cards, since, limit, product);
      return answer(200, product === "shanghai" ? { ...page, system: "city-union" } : page);
    };
    return { fetch, calls };
  }

  it("fetches only what moved, page by page, and only for the systems the gate accepts", async () => {
    const lists = { [PRODUCT]: [1, 2, 3].map(cardNo), shanghai: ["1000000001"] };
    const cloud = fakeCloud(lists);
    const source = { url: "http://cloud.test/", operatorKey: "twop_test", fetch: cloud.fetch };
    const first = await refreshBlacklist(emptyBlacklistCopy(), ["t-union"], source);
    expect(first).toMatchObject({ added: 3, error: null });
    expect(first.copy.products["shanghai"]).toBeUndefined();
    expect(cloud.calls.map((c) => new URL(c).search)).toEqual([
      "",
      `?product=${PRODUCT}&since=0`,
      `?product=${PRODUCT}&since=2`,
    ]);
    // Nothing new: one request for the versions, no page.
    cloud.calls.length = 0;
    const again = await refreshBlacklist(first.copy, ["t-union"], source);
    expect(again).toMatchObject({ added: 0, error: null });
    expect(cloud.calls).toHaveLength(1);
    // One more card: one page, from where the copy stands.
    lists[PRODUCT]!.push(cardNo(4));
    cloud.calls.length = 0;
    const delta = await refreshBlacklist(again.copy, ["t-union"], source);
    expect(delta.added).toBe(1);
    expect(cloud.calls.map((c) => new URL(c).search)).toEqual(["", `?product=${PRODUCT}&since=3`]);
    expect(blacklistOf(delta.copy).has("t-union", cardNo(4))).toBe(true);
  });

  it("a copy ahead of the cloud's list is fetched again from 0; a cloud out of reach leaves the copy", async () => {
    const source = (fetch: BlacklistFetch) => ({ url: "http://cloud.test", operatorKey: "twop_test", fetch });
    const held = applied(emptyBlacklistCopy(), pageOf([1, 2, 3].map(cardNo), 0, 10));
    const rebuilt = fakeCloud({ [PRODUCT]: [cardNo(9)] });
    const r = await refreshBlacklist(held, ["t-union"], source(rebuilt.fetch));
    expect(r).toMatchObject({ reloaded: [PRODUCT], added: 1, error: null });
    expect(r.copy.products[PRODUCT]).toMatchObject({ version: 1, cards: [cardNo(9)] });
    const down = await refreshBlacklist(
      held,
      ["t-union"],
      source(async () => Promise.reject(new Error("ECONNREFUSED"))),
    );
    expect(down.copy).toBe(held);
    expect(down.error).toMatch(/ECONNREFUSED/);
  });
});
