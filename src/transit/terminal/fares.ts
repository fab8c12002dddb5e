/**
 * Metro fares by distance between stations, with a maximum fare charged when the card shows no entry, or
 * an entry older than the longest trip allowed. Bus fares are flat.
 */
import type { Fen } from "../../core/money.js";
import type { Bilingual } from "../../core/text.js";

export interface Station {
  /** Line and station, 4 hex digits (LLSS), as written into compound and trip records. */
  code: string;
  name: Bilingual;
  /** Position along the network in kilometres (fares depend on the distance between two stations). */
  km: number;
}

export interface FareTable {
  stations: readonly Station[];
  /** Distance bands in increasing order: up to `upToKm` (inclusive) costs `fare`. */
  bands: readonly { upToKm: number; fare: Fen }[];
  /** Beyond the last band: `add` for every `everyKm` started. */
  beyond: { everyKm: number; add: Fen };
  /** Charged when the entry is missing or too old, and the cap of any trip. */
  maxFare: Fen;
  /** An entry older than this is treated as missing. */
  maxTripMinutes: number;
}

export type FareRule = "distance" | "max-fare-no-entry" | "max-fare-stale-entry";

export function station(table: FareTable, code: string): Station | undefined {
  return table.stations.find((s) => s.code === code);
}

/** The lowest fare of the table: what a card must hold to pass an entry gate. */
export const minimumFare = (table: FareTable): Fen => table.bands[0]?.fare ?? table.maxFare;

/** The fare between two stations (the minimum fare when they are the same). */
export function distanceFare(table: FareTable, from: Station, to: Station): Fen {
  const km = Math.abs(from.km - to.km);
  for (const b of table.bands) if (km <= b.upToKm) return b.fare;
  const last = table.bands[table.bands.length - 1]!;
  const extra = Math.ceil((km - last.upToKm) / table.beyond.everyKm) * table.beyond.add;
  return Math.min(last.fare + extra, table.maxFare);
}

/**
 * Beijing's distance fares (since 2014): ¥3 up to 6 km, ¥4 up to 12, ¥5 up to 22, ¥6 up to 32, then ¥1 per
 * further 20 km. The stations' names are real; their positions on one line are illustrative.
 */
export const EXAMPLE_FARES: FareTable = {
  stations: [
    { code: "0101", name: { zh: "苹果园", en: "Pingguoyuan" }, km: 0 },
    { code: "0105", name: { zh: "公主坟", en: "Gongzhufen" }, km: 7.2 },
    { code: "0110", name: { zh: "天安门西", en: "Tian'anmen West" }, km: 14.6 },
    { code: "0112", name: { zh: "王府井", en: "Wangfujing" }, km: 16.2 },
    { code: "0116", name: { zh: "国贸", en: "Guomao" }, km: 19.9 },
    { code: "0123", name: { zh: "环球度假区", en: "Universal Resort" }, km: 52.5 },
  ],
  bands: [
    { upToKm: 6, fare: 300 },
    { upToKm: 12, fare: 400 },
    { upToKm: 22, fare: 500 },
    { upToKm: 32, fare: 600 },
  ],
  beyond: { everyKm: 20, add: 100 },
  maxFare: 1000,
  maxTripMinutes: 240,
};
