/**
 * A gate fetching the issuer's blacklist from the wallet cloud with its operator's key (`x-operator-key`, the
 * key it uploads its logs with): one request for every product's version, then, for each product the gate
 * accepts whose version moved, the entries after the one it holds, page by page. Every answer is checked
 * (blacklist-delta.ts) before it is kept; a product the cloud says the gate is ahead of (a list rebuilt, a
 * copy from another cloud) is fetched again from 0. A gate that cannot reach the cloud keeps its copy and
 * goes on refusing what it already knows.
 */
import type { TransitSystem } from "../catalogue.js";
import {
  type BlacklistCopy,
  applyBlacklistPage,
  dropProduct,
  heldVersion,
  parseBlacklistPage,
} from "./blacklist-delta.js";

export type BlacklistFetch = (
  url: string,
  init: { method: "GET"; headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface BlacklistSource {
  url: string;
  operatorKey: string;
  fetch?: BlacklistFetch;
}

export interface RefreshOutcome {
  copy: BlacklistCopy;
  /** Entries added to the copy. */
  added: number;
  /** Products fetched again from 0. */
  reloaded: string[];
  /** Why the refresh stopped short (the copy holds what came before), or null. */
  error: string | null;
}

/** Pages per product and refresh: a guard against a cloud that never says it is done. */
const MAX_PAGES = 1000;

/** Brings `copy` up to the cloud's lists for the products of the systems in `accepts`. */
export async function refreshBlacklist(
  copy: BlacklistCopy,
  accepts: readonly TransitSystem[],
  source: BlacklistSource,
): Promise<RefreshOutcome> {
  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const f = source.fetch ?? (globalThis.fetch as unknown as BlacklistFetch);
    const res = await f(`${source.url.replace(/\/+$/, "")}/api/v1/transit/blacklist${path}`, {
      method: "GET",
      headers: { "x-operator-key": source.operatorKey },
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const out: RefreshOutcome = { copy, added: 0, reloaded: [], error: null };
  try {
    const v = await get("/versions");
    const versions = parseVersions(v.body);
    if (v.status !== 200 || !versions) return { ...out, error: `versions: HTTP ${v.status}` };
    for (const { product, system, version } of versions) {
      if (!accepts.includes(system)) continue;
      if (version < heldVersion(out.copy, product)) {
        out.copy = dropProduct(out.copy, product);
        out.reloaded.push(product);
      }
      for (let n = 0; n < MAX_PAGES && heldVersion(out.copy, product) < version; n++) {
        const since = heldVersion(out.copy, product);
        const r = await get(`?product=${encodeURIComponent(product)}&since=${since}`);
        const page = r.status === 200 ? parseBlacklistPage(r.body) : null;
        if (!page || !page.ok || page.value.product !== product)
          return {
            ...out,
            error: `${product}: HTTP ${r.status}${page && !page.ok ? ` (${page.error})` : ""}`,
          };
        const next = applyBlacklistPage(out.copy, page.value);
        if (!next.ok) return { ...out, error: `${product}: ${next.error}` };
        out.copy = next.value;
        out.added += page.value.entries.length;
        if (!page.value.more) break;
      }
    }
    return out;
  } catch (e) {
    return { ...out, error: e instanceof Error ? e.message : String(e) };
  }
}

function parseVersions(v: unknown): { product: string; system: TransitSystem; version: number }[] | null {
  if (typeof v !== "object" || v === null || !Array.isArray((v as { products?: unknown }).products))
    return null;
  const out: { product: string; system: TransitSystem; version: number }[] = [];
  for (const p of (v as { products: unknown[] }).products) {
    const r = p as { product?: unknown; system?: unknown; version?: unknown };
    if (typeof r.product !== "string" || typeof r.system !== "string" || !Number.isSafeInteger(r.version))
      return null;
    out.push({ product: r.product, system: r.system as TransitSystem, version: r.version as number });
  }
  return out;
}
