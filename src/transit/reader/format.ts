/** A transit card reading as people read it: zh-CN with English beside it. */
import { formatCny } from "../../core/money.js";
import { type TransitSystem, getProduct } from "../catalogue.js";
import type { TripRecord } from "../records.js";
import type { Bilingual } from "../../core/text.js";
import type { TransitCardReading } from "./reader.js";

const SYSTEM_NAMES: Readonly<Record<TransitSystem, Bilingual>> = {
  "t-union": { zh: "交通联合 (JT/T 978)", en: "China T-Union (JT/T 978)" },
  "city-union": { zh: "城市一卡通互联互通 (CJ/T 166)", en: "MOHURD City Union (CJ/T 166)" },
  "shenzhen-tong": { zh: "深圳通", en: "Shenzhen Tong" },
  "lingnan-pass": { zh: "岭南通", en: "Lingnan Pass" },
  "wuhan-tong": { zh: "武汉通", en: "Wuhan Tong" },
  beijing: { zh: "北京市政交通一卡通", en: "Beijing Yikatong" },
};

const TYPE_NAMES: Record<string, Bilingual> = {
  load: { zh: "充值", en: "top-up" },
  purchase: { zh: "消费", en: "purchase" },
  "compound-purchase": { zh: "复合消费", en: "compound purchase" },
};

const TRIP_KINDS: Record<number, Bilingual> = {
  2: { zh: "单程", en: "single" },
  3: { zh: "进站", en: "entry" },
  4: { zh: "出站", en: "exit" },
  6: { zh: "单程", en: "single" },
};

const TRIP_MODES: Record<number, Bilingual> = {
  1: { zh: "地铁", en: "metro" },
  2: { zh: "公交", en: "bus" },
};

const time = (t: string) => t.replace("T", " ");

function formatTrip(t: TripRecord): string {
  const kind = TRIP_KINDS[t.kind] ?? { zh: `类型 ${t.kind}`, en: `kind ${t.kind}` };
  const mode = TRIP_MODES[t.mode] ?? { zh: "其他", en: "other" };
  return (
    `${time(t.time)}  ${mode.zh}${kind.zh} / ${mode.en} ${kind.en}  ${t.lineStation.slice(0, 4)}  ` +
    `${formatCny(t.amount)}  余额 / balance ${formatCny(t.balanceAfter)}  城市 / city ${t.city}`
  );
}

/** Lines describing a reading (no trailing newline). */
export function formatReading(r: TransitCardReading): string[] {
  const product = r.product ? getProduct(r.product) : undefined;
  const sys = SYSTEM_NAMES[r.system];
  const lines = [
    `卡种 / system:        ${sys.zh} / ${sys.en}`,
    ...(product ? [`产品 / product:       ${product.name.zh} / ${product.name.en}`] : []),
    `卡号 / card number:   ${r.cardNumber}`,
    `余额 / balance:       ${formatCny(r.balance)}`,
    `有效期 / valid:       ${r.validFrom} — ${r.validTo}`,
    ...(r.city ? [`城市 / city:          ${r.city.name} (${r.city.code})`] : []),
    `交易记录 / transactions (${r.transactions.length}):`,
  ];
  for (const t of r.transactions) {
    const name = TYPE_NAMES[t.type] ?? { zh: t.type, en: t.type };
    const amount =
      t.amount > 0 ? `+${formatCny(t.amount)}` : t.amount < 0 ? `-${formatCny(-t.amount)}` : formatCny(0);
    lines.push(
      `  ${time(t.time)}  ${`${name.zh} / ${name.en}`.padEnd(24)} ${amount.padStart(10)}  终端 / terminal ${t.terminal}`,
    );
  }
  if (r.trips.length > 0) {
    lines.push(`行程记录 / trips (${r.trips.length}):`);
    for (const t of r.trips) lines.push(`  ${formatTrip(t)}`);
  }
  return lines;
}
