/**
 * The transit product catalogue: every card the wallet offers (the seed's list of 小米公交 cards), as data.
 * docs/TRANSIT.md documents each field and where each value comes from. The cloud opens cards from this
 * list; the reader names a card's product from it; `tapwallet transit products` prints it.
 *
 * AIDs: the *instance* AID is the applet instance on the phone's SE (wallet-internal, per reference
 * transit.md §2.3); the *selection* AIDs are what readers and gates SELECT (the public AID of the system).
 * Values marked "ours" in docs/TRANSIT.md were not found in any source and follow the sourced pattern.
 */
import type { Fen } from "../core/money.js";
import { type Result, err, ok } from "../core/result.js";
import { TapwalletError } from "../core/errors.js";
import type { CityScheme } from "./cities.js";
import type { Bilingual } from "../core/text.js";

/** The card layouts the e-purse engine and the reader know (one profile and one parser each). */
export type TransitSystem =
  "t-union" | "city-union" | "shenzhen-tong" | "lingnan-pass" | "wuhan-tong" | "beijing";

export const TRANSIT_SYSTEMS: readonly TransitSystem[] = [
  "t-union",
  "city-union",
  "shenzhen-tong",
  "lingnan-pass",
  "wuhan-tong",
  "beijing",
];

/** JT/T 978 (China T-Union, 交通联合), CJ/T 166 (MOHURD City Union, 住建部互联互通) or a city's own scheme. */
export type TransitStandard = "JT/T 978" | "CJ/T 166" | "city";

/** `closed`: no new cards; cards already issued keep working and are still topped up, refunded and moved. */
export type ProductStatus = "available" | "closed";

/** How moving the card to a new phone (移卡) works — wallets.md MIW-9..11. */
export type TransferPolicy = "standard" | "shenzhen-tong" | "shanghai";

export interface TransitProduct {
  id: string;
  name: Bilingual;
  /** The city or region the card serves. */
  region: Bilingual;
  standard: TransitStandard;
  system: TransitSystem;
  aids: {
    /** The applet instance AID on the SE (hex). */
    instance: string;
    /** AIDs the instance answers to readers besides its own (hex), e.g. the public T-Union A000000632010105. */
    selection: string[];
  };
  issuer: {
    name: Bilingual;
    /** T-Union: the 8-byte issuer identifier of EF15[0..7]; City Union: the 2-byte issuer code of EF15[0..1]. */
    code: string;
  };
  city: { scheme: CityScheme; code: string };
  /** T-Union only: the 8-digit issuer identification number that starts every card number. */
  iin?: string;
  fees: {
    /** Open-card fee (开卡费) in fen. */
    open: Fen;
    /** Whether the open-card fee is returned on refund (退卡). */
    openRefundable: boolean;
  };
  topUp: { min: Fen; max: Fen };
  maxBalance: Fen;
  status: ProductStatus;
  /** A closed product's replacement, offered instead. */
  successor?: string;
  /** Shown when a closed product has no successor. */
  advice?: Bilingual;
  transfer: TransferPolicy;
}

/** The public T-Union EP AID every T-Union card answers (label MOT_T_EP). */
export const T_UNION_EP_AID = "A000000632010105";
/** The public T-Union EC AID (label MOT_T_CASH). */
export const T_UNION_EC_AID = "A000000632010106";
/** The public MOHURD City Union e-purse ADF. */
export const CITY_UNION_AID = "A00000000386980701";

const CNY = (yuan: number): Fen => yuan * 100;

/** Wallet defaults where the issuer publishes none (wallets.md MIW-5, MIW-7): ¥10–¥500 top-ups, ¥1000 cap. */
const LIMITS = { topUp: { min: CNY(10), max: CNY(500) }, maxBalance: CNY(1000) };

function tUnion(
  id: string,
  name: Bilingual,
  region: Bilingual,
  instanceSuffix: string,
  iin: string,
  issuerId: string,
  issuerName: Bilingual,
  fee: { open: Fen; openRefundable: boolean },
): TransitProduct {
  return {
    id,
    name,
    region,
    standard: "JT/T 978",
    system: "t-union",
    aids: { instance: T_UNION_EP_AID + instanceSuffix, selection: [T_UNION_EP_AID, T_UNION_EC_AID] },
    issuer: { name: issuerName, code: `${issuerId}FFFFFFFF` },
    city: { scheme: "gbt13497", code: issuerId.slice(4, 8) },
    iin,
    fees: fee,
    ...LIMITS,
    status: "available",
    transfer: "standard",
  };
}

const FREE = { open: 0, openRefundable: false };
const DEPOSIT20 = { open: CNY(20), openRefundable: true };

export const PRODUCTS: readonly TransitProduct[] = [
  // ── city cards ────────────────────────────────────────────────────────────────────────────────
  {
    id: "shanghai",
    name: { zh: "上海公共交通卡", en: "Shanghai Public Transportation Card" },
    region: { zh: "上海", en: "Shanghai" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: CITY_UNION_AID, selection: [] },
    issuer: {
      name: { zh: "上海公共交通卡股份有限公司", en: "Shanghai Public Transportation Card Co." },
      code: "8698",
    },
    city: { scheme: "mohurd", code: "2000" },
    fees: DEPOSIT20,
    ...LIMITS,
    status: "available",
    transfer: "shanghai",
  },
  {
    id: "lingnan-pass",
    name: { zh: "岭南通", en: "Lingnan Pass" },
    region: { zh: "广东", en: "Guangdong" },
    standard: "city",
    system: "lingnan-pass",
    aids: { instance: "5943542E55534552", selection: ["5041592E41505059", "5041592E5449434C"] },
    issuer: { name: { zh: "广州羊城通有限公司", en: "Guangzhou Yang Cheng Tong Co." }, code: "5100" },
    city: { scheme: "mohurd", code: "5100" },
    fees: { open: CNY(10), openRefundable: false },
    ...LIMITS,
    status: "available",
    transfer: "standard",
  },
  {
    id: "shenzhen-tong",
    name: { zh: "深圳通", en: "Shenzhen Tong" },
    region: { zh: "深圳", en: "Shenzhen" },
    standard: "city",
    system: "shenzhen-tong",
    aids: { instance: "535A542E57414C4C45542E454E56", selection: ["5041592E535A54"] },
    issuer: { name: { zh: "深圳市深圳通有限公司", en: "Shenzhen Tong Ltd." }, code: "0000" },
    city: { scheme: "mohurd", code: "5180" },
    fees: FREE,
    ...LIMITS,
    status: "available",
    transfer: "shenzhen-tong",
  },
  {
    id: "wuhan-tong",
    name: { zh: "武汉通", en: "Wuhan Tong" },
    region: { zh: "武汉", en: "Wuhan" },
    standard: "city",
    system: "wuhan-tong",
    aids: { instance: "A0000053425748544B", selection: ["4150312E5748435443"] },
    issuer: { name: { zh: "武汉通有限公司", en: "Wuhan Tong Co." }, code: "4300" },
    city: { scheme: "mohurd", code: "4300" },
    fees: FREE,
    ...LIMITS,
    status: "available",
    transfer: "standard",
  },
  {
    id: "chongqing",
    name: { zh: "重庆畅通卡", en: "Chongqing Changtong Card" },
    region: { zh: "重庆", en: "Chongqing" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: "4351515041592E5359533331", selection: [CITY_UNION_AID] },
    issuer: {
      name: { zh: "重庆市公共交通卡有限公司", en: "Chongqing Public Transport Card Co." },
      code: "4000",
    },
    city: { scheme: "mohurd", code: "4000" },
    fees: FREE,
    ...LIMITS,
    status: "available",
    transfer: "standard",
  },
  {
    id: "hefei",
    name: { zh: "合肥通", en: "Hefei Tong" },
    region: { zh: "合肥", en: "Hefei" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: "A0000000032300869807010000000000", selection: [CITY_UNION_AID] },
    issuer: { name: { zh: "合肥通卡服务有限公司", en: "Hefei Tong Card Services" }, code: "2300" },
    city: { scheme: "mohurd", code: "2300" },
    fees: FREE,
    ...LIMITS,
    status: "available",
    transfer: "standard",
  },
  {
    id: "xiamen-etong",
    name: { zh: "厦门e通卡", en: "Xiamen e-Tong Card" },
    region: { zh: "厦门", en: "Xiamen" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: "A0000000033610869807010000000000", selection: [CITY_UNION_AID] },
    issuer: { name: { zh: "厦门易通卡运营有限责任公司", en: "Xiamen E-Tong Card Co." }, code: "3610" },
    city: { scheme: "mohurd", code: "3610" },
    fees: FREE,
    ...LIMITS,
    status: "available",
    transfer: "standard",
  },
  {
    id: "lvchengtong",
    name: { zh: "绿城通", en: "Lücheng Tong (Zhengzhou)" },
    region: { zh: "郑州", en: "Zhengzhou" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: "A0000053425A5A4854", selection: [CITY_UNION_AID] },
    issuer: { name: { zh: "郑州市民卡有限公司", en: "Zhengzhou Citizen Card Co." }, code: "4500" },
    city: { scheme: "mohurd", code: "4500" },
    fees: FREE,
    ...LIMITS,
    status: "available",
    transfer: "standard",
  },
  // ── China T-Union cards (at most one per phone) ───────────────────────────────────────────────
  tUnion(
    "tu-jingjinji",
    { zh: "京津冀互联互通卡", en: "Beijing-Tianjin-Hebei Interconnection Card" },
    { zh: "北京", en: "Beijing" },
    "10009156000014A1",
    "31051700",
    "01011000",
    { zh: "北京市政交通一卡通有限公司", en: "Beijing Municipal Administration & Communications Card Co." },
    FREE,
  ),
  tUnion(
    "tu-shengjingtong",
    { zh: "盛京通", en: "Shengjing Tong (Shenyang)" },
    { zh: "沈阳", en: "Shenyang" },
    "11005348454E5941",
    "31051201",
    "02172210",
    { zh: "沈阳盛京通", en: "Shengjing Tong, Shenyang" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-jiangsu-suzhou",
    { zh: "江苏交通一卡通·苏州", en: "Jiangsu Transport Card · Suzhou" },
    { zh: "苏州", en: "Suzhou" },
    "215053555A484F55",
    "31048303",
    "01423050",
    { zh: "苏州市民卡有限公司", en: "Suzhou Citizen Card Co." },
    DEPOSIT20,
  ),
  tUnion(
    "tu-jiangsu-nantong",
    { zh: "江苏交通一卡通·南通", en: "Jiangsu Transport Card · Nantong" },
    { zh: "南通", en: "Nantong" },
    "22604E414E544F4E",
    "31048304",
    "01413060",
    { zh: "南通市民卡", en: "Nantong Citizen Card" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-jilin",
    { zh: "吉林通", en: "Jilin Tong" },
    { zh: "吉林", en: "Jilin" },
    "1320004A494C494E",
    "31048901",
    "01182420",
    { zh: "吉林通", en: "Jilin Tong" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-guangxi",
    { zh: "广西交通一卡通", en: "Guangxi Transport Card" },
    { zh: "南宁", en: "Nanning" },
    "53004755414E4758",
    "31048400",
    "04026110",
    { zh: "邕桂通", en: "Yonggui Tong, Nanning" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-qindaotong",
    { zh: "琴岛通", en: "Qindao Tong (Qingdao)" },
    { zh: "青岛", en: "Qingdao" },
    "266051494E474441",
    "31049304",
    "01984520",
    { zh: "青岛城市一卡通", en: "Qingdao City Card" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-harbin",
    { zh: "哈尔滨城市通", en: "Harbin City Card" },
    { zh: "哈尔滨", en: "Harbin" },
    "150048415242494E",
    "31049702",
    "01592610",
    { zh: "哈尔滨城市通", en: "Harbin City Card" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-taizhou",
    { zh: "台州公共交通卡", en: "Taizhou Public Transport Card" },
    { zh: "台州", en: "Taizhou" },
    "31805441495A484F",
    "31048804",
    "02113450",
    { zh: "台州通", en: "Taizhou Tong" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-hainan",
    { zh: "海南一卡通", en: "Hainan Card" },
    { zh: "海南", en: "Hainan" },
    "57004841494E414E",
    "31050000",
    "02156410",
    { zh: "宝岛通", en: "Baodao Tong, Hainan" },
    DEPOSIT20,
  ),
  tUnion(
    "tu-lingnan",
    { zh: "岭南通（交通联合）", en: "Lingnan Pass (China T-Union)" },
    { zh: "广东", en: "Guangdong" },
    "5800022058100000",
    "31048703",
    "02205810",
    { zh: "广州羊城通有限公司", en: "Guangzhou Yang Cheng Tong Co." },
    DEPOSIT20,
  ),
  tUnion(
    "tu-xiamen",
    { zh: "厦门e通卡（交通联合）", en: "Xiamen e-Tong Card (China T-Union)" },
    { zh: "厦门", en: "Xiamen" },
    "36105849414D454E",
    "31050608",
    "01343930",
    { zh: "厦门易通卡运营有限责任公司", en: "Xiamen E-Tong Card Co." },
    DEPOSIT20,
  ),
  // ── closed for new cards, still serviced ──────────────────────────────────────────────────────
  {
    id: "beijing-yikatong",
    name: { zh: "北京市政交通一卡通", en: "Beijing Yikatong (BMAC)" },
    region: { zh: "北京", en: "Beijing" },
    standard: "city",
    system: "beijing",
    aids: { instance: "9156000014010001", selection: ["315041592E5359532E4444463031"] },
    issuer: {
      name: {
        zh: "北京市政交通一卡通有限公司",
        en: "Beijing Municipal Administration & Communications Card Co.",
      },
      code: "1000",
    },
    city: { scheme: "mohurd", code: "1000" },
    fees: FREE,
    ...LIMITS,
    status: "closed",
    successor: "tu-jingjinji",
    transfer: "standard",
  },
  {
    id: "suzhou-citizen",
    name: { zh: "苏州市民卡", en: "Suzhou Citizen Card" },
    region: { zh: "苏州", en: "Suzhou" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: "535558494E2E4444463031", selection: [CITY_UNION_AID] },
    issuer: { name: { zh: "苏州市民卡有限公司", en: "Suzhou Citizen Card Co." }, code: "2150" },
    city: { scheme: "mohurd", code: "2150" },
    fees: FREE,
    ...LIMITS,
    status: "closed",
    successor: "tu-jiangsu-suzhou",
    transfer: "standard",
  },
  {
    id: "hangzhou-tong",
    name: { zh: "杭州通", en: "Hangzhou Tong" },
    region: { zh: "杭州", en: "Hangzhou" },
    standard: "CJ/T 166",
    system: "city-union",
    aids: { instance: "A0000000033100869807010000000000", selection: [CITY_UNION_AID] },
    issuer: { name: { zh: "杭州市民卡有限公司", en: "Hangzhou Citizen Card Co." }, code: "8475" },
    city: { scheme: "mohurd", code: "3100" },
    fees: FREE,
    ...LIMITS,
    status: "closed",
    advice: {
      zh: "杭州公共交通已支持银联闪付，请使用小米支付中的银行卡乘车",
      en: "Hangzhou's public transport accepts UnionPay QuickPass: ride with a bank card in the wallet",
    },
    transfer: "standard",
  },
];

const BY_ID = new Map(PRODUCTS.map((p) => [p.id, p]));

export function getProduct(id: string): TransitProduct | undefined {
  return BY_ID.get(id);
}

export const isTUnionProduct = (p: TransitProduct): boolean => p.standard === "JT/T 978";

export interface OpenRefusal {
  code: "unknown_product" | "product_closed";
  message: Bilingual;
  /** For a closed product: the product offered instead. */
  successor?: TransitProduct;
  /** For a closed product without a successor: what the wallet suggests. */
  advice?: Bilingual;
}

/** Whether a new card of this product can be opened; a closed product names its successor (or advice). */
export function checkCanOpen(id: string): Result<TransitProduct, OpenRefusal> {
  const p = BY_ID.get(id);
  if (!p)
    return err({
      code: "unknown_product",
      message: { zh: `没有这种交通卡：${id}`, en: `no such transit card: ${id}` },
    });
  if (p.status === "available") return ok(p);
  const successor = p.successor ? BY_ID.get(p.successor) : undefined;
  const message: Bilingual = successor
    ? {
        zh: `${p.name.zh}已停止开新卡，请改开${successor.name.zh}`,
        en: `${p.name.en} is closed for new cards; open ${successor.name.en} instead`,
      }
    : {
        zh: `${p.name.zh}已停止开新卡${p.advice ? `。${p.advice.zh}` : ""}`,
        en: `${p.name.en} is closed for new cards${p.advice ? `. ${p.advice.en}` : ""}`,
      };
  return err({
    code: "product_closed",
    message,
    ...(successor ? { successor } : {}),
    ...(p.advice ? { advice: p.advice } : {}),
  });
}

/** `checkCanOpen` for callers that throw: a `TapwalletError` whose details carry the successor's id. */
export function assertCanOpen(id: string): TransitProduct {
  const r = checkCanOpen(id);
  if (r.ok) return r.value;
  throw new TapwalletError(r.error.code, r.error.message.zh, r.error.message.en, {
    productId: id,
    ...(r.error.successor ? { successorId: r.error.successor.id } : {}),
  });
}

/** The T-Union product whose IIN starts this 19-digit card number. */
export function tUnionProductByCardNumber(cardNumber: string): TransitProduct | undefined {
  return PRODUCTS.find((p) => p.iin !== undefined && cardNumber.startsWith(p.iin));
}

/** The City Union product of a MOHURD city code (the first listed when several share a city). */
export function cityUnionProductByCity(cityCode: string): TransitProduct | undefined {
  return PRODUCTS.find((p) => p.system === "city-union" && p.city.code === cityCode);
}

/** The single product of a city-specific system (Shenzhen Tong, Lingnan Pass, Wuhan Tong, Beijing). */
export function productOfSystem(system: TransitSystem): TransitProduct | undefined {
  const all = PRODUCTS.filter((p) => p.system === system);
  return all.length === 1 ? all[0] : undefined;
}
