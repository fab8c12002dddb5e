/**
 * City codes on Chinese transit cards, with names in zh-CN and English.
 *
 * Two numbering systems meet here:
 * - MOHURD (住建部) codes of CJ/T 166 City Union cards, EF15 bytes 2..3 — the first four digits of the
 *   city's postal code (Shanghai 2000, Beijing 1000, Chongqing 4000…). Source: nfcim/nfsee `assets/codes.js`
 *   `ChinaPostCode` (MIT) and sinpolib/nfcard `citycode/`, as summarised in reference/transit.md §2.4.
 * - GB/T 13497 / UnionPay region codes of JT/T 978 T-Union cards, EF15 bytes 2..3 and EF1E bytes 32..33
 *   (Beijing 1000, Shanghai 2900, Suzhou 3050…). Source: nfsee `UnionPayRegion` and the T-Union issuer
 *   table of domosekai/tripreader-data `cardname-tu.csv` (CC BY 4.0).
 *
 * Only the cities the project names (products, gates, tests) and the reference's examples are listed;
 * an unknown code reads as "unknown" rather than failing.
 */
import type { Bilingual } from "../core/text.js";

export type CityScheme = "mohurd" | "gbt13497";

/** MOHURD (CJ/T 166) city codes. */
const MOHURD_CITIES: Readonly<Record<string, Bilingual>> = {
  "1000": { zh: "北京", en: "Beijing" },
  "2000": { zh: "上海", en: "Shanghai" },
  "2150": { zh: "苏州", en: "Suzhou" },
  "2300": { zh: "合肥", en: "Hefei" },
  "3000": { zh: "天津", en: "Tianjin" },
  "3100": { zh: "杭州", en: "Hangzhou" },
  "3150": { zh: "宁波", en: "Ningbo" },
  "3300": { zh: "南昌", en: "Nanchang" },
  "3500": { zh: "福州", en: "Fuzhou" },
  "3610": { zh: "厦门", en: "Xiamen" },
  "4000": { zh: "重庆", en: "Chongqing" },
  "4100": { zh: "长沙", en: "Changsha" },
  "4300": { zh: "武汉", en: "Wuhan" },
  "4500": { zh: "郑州", en: "Zhengzhou" },
  "5100": { zh: "广州", en: "Guangzhou" },
  "5180": { zh: "深圳", en: "Shenzhen" },
  "6500": { zh: "昆明", en: "Kunming" },
  "7100": { zh: "西安", en: "Xi'an" },
  "7300": { zh: "兰州", en: "Lanzhou" },
  "1100": { zh: "沈阳", en: "Shenyang" },
  "1500": { zh: "哈尔滨", en: "Harbin" },
  "2660": { zh: "青岛", en: "Qingdao" },
};

/** GB/T 13497 (UnionPay region) city codes used by T-Union cards. */
const GBT13497_CITIES: Readonly<Record<string, Bilingual>> = {
  "1000": { zh: "北京", en: "Beijing" },
  "1121": { zh: "天津", en: "Tianjin" },
  "2210": { zh: "沈阳", en: "Shenyang" },
  "2420": { zh: "吉林", en: "Jilin" },
  "2610": { zh: "哈尔滨", en: "Harbin" },
  "2900": { zh: "上海", en: "Shanghai" },
  "3010": { zh: "南京", en: "Nanjing" },
  "3050": { zh: "苏州", en: "Suzhou" },
  "3060": { zh: "南通", en: "Nantong" },
  "3310": { zh: "杭州", en: "Hangzhou" },
  "3450": { zh: "台州", en: "Taizhou" },
  "3930": { zh: "厦门", en: "Xiamen" },
  "4520": { zh: "青岛", en: "Qingdao" },
  "5210": { zh: "武汉", en: "Wuhan" },
  "5810": { zh: "广州", en: "Guangzhou" },
  "5840": { zh: "深圳", en: "Shenzhen" },
  "6110": { zh: "南宁", en: "Nanning" },
  "6410": { zh: "海口", en: "Haikou" },
  "6510": { zh: "成都", en: "Chengdu" },
  "6900": { zh: "重庆", en: "Chongqing" },
  "7910": { zh: "西安", en: "Xi'an" },
};

/** The city a code names, or undefined when the table does not know it. */
export function cityName(scheme: CityScheme, code: string): Bilingual | undefined {
  return (scheme === "mohurd" ? MOHURD_CITIES : GBT13497_CITIES)[code.toUpperCase()];
}
