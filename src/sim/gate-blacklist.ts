/**
 * The simulator's gates and validators share one copy of the issuer's blacklist (`blacklist.json` beside
 * the other terminal files), brought up to date from the cloud before each tap with the operator's key —
 * only the entries after the version it holds (src/transit/terminal/blacklist-client.ts). Without a key, or
 * with the cloud out of reach, the gate works offline on the copy it has, as a real gate does.
 */
import type { Bilingual } from "../core/text.js";
import type { Fetch } from "../device/index.js";
import {
  type Blacklist,
  type BlacklistCopy,
  blacklistOf,
  parseBlacklistCopy,
  refreshBlacklist,
} from "../transit/index.js";
import type { TransitSystem } from "../transit/catalogue.js";
import type { BlacklistFetch } from "../transit/terminal/blacklist-client.js";
import type { SimStore } from "./store.js";

const FILE = "blacklist.json";

export interface GateBlacklist {
  blacklist: Blacklist;
  /** Cards on the gate's list, and whether this tap's refresh reached the cloud. */
  cards: number;
  fresh: boolean;
  message: Bilingual;
}

export async function gateBlacklist(
  store: SimStore,
  accepts: readonly TransitSystem[],
  cloud: { url: string; fetch: Fetch; operatorKey: () => Promise<string | null> },
): Promise<GateBlacklist> {
  return store.exclusive("terminal:blacklist", async () => {
    let copy: BlacklistCopy = parseBlacklistCopy(store.readTerminalFile<unknown>(FILE, null));
    const key = await cloud.operatorKey();
    let fresh = false;
    if (key) {
      const r = await refreshBlacklist(copy, accepts, {
        url: cloud.url,
        operatorKey: key,
        fetch: cloud.fetch as unknown as BlacklistFetch,
      });
      if (r.added > 0 || r.reloaded.length > 0) store.writeTerminalFile(FILE, r.copy);
      copy = r.copy;
      fresh = r.error === null;
    }
    const blacklist = blacklistOf(copy);
    return {
      blacklist,
      cards: blacklist.size,
      fresh,
      message: fresh
        ? { zh: "黑名单已更新", en: "blacklist up to date" }
        : { zh: "黑名单未能更新，使用闸机上的副本", en: "blacklist not refreshed: the gate's copy is used" },
    };
  });
}
