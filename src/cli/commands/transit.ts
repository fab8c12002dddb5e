/**
 * `tapwallet transit products [--json]`: the transit card catalogue as a table by city and status — what
 * each card is, its standard, fee, top-up limits and, for closed products, what replaces them.
 */
import type { Command } from "commander";
import { formatCny } from "../../core/money.js";
import { PRODUCTS, type TransitProduct, getProduct } from "../../transit/catalogue.js";

const STANDARD: Record<TransitProduct["standard"], string> = {
  "JT/T 978": "交通联合 JT/T 978",
  "CJ/T 166": "住建部 CJ/T 166",
  city: "城市自有 / city",
};

const width = (s: string): number => [...s].reduce((n, ch) => n + (/[\u1100-\uFFEF]/.test(ch) ? 2 : 1), 0);
const pad = (s: string, n: number): string => s + " ".repeat(Math.max(0, n - width(s)));

function status(p: TransitProduct): string {
  if (p.status === "available") return "可开卡 / open";
  const s = p.successor ? getProduct(p.successor) : undefined;
  if (s) return `停开，改开${s.name.zh} / closed → ${s.id}`;
  return p.advice ? "停开，请用银行卡 / closed, pay by bank card" : "停开 / closed";
}

/** The catalogue sorted by status (open first), then city, then name; one row per product. */
function productRows(): string[][] {
  const sorted = [...PRODUCTS].sort(
    (a, b) =>
      (a.status === b.status ? 0 : a.status === "available" ? -1 : 1) ||
      a.region.en.localeCompare(b.region.en) ||
      a.name.en.localeCompare(b.name.en),
  );
  return sorted.map((p) => [
    `${p.region.zh} ${p.region.en}`,
    p.name.zh,
    p.name.en,
    STANDARD[p.standard],
    p.fees.open === 0
      ? "免费 / free"
      : `${formatCny(p.fees.open)}${p.fees.openRefundable ? " 可退 / refundable" : ""}`,
    `${formatCny(p.topUp.min)}–${formatCny(p.topUp.max)}`,
    status(p),
    p.id,
  ]);
}

export function productsTable(): string {
  const header = [
    "城市 / city",
    "名称",
    "name",
    "标准 / standard",
    "开卡费 / fee",
    "充值 / top-up",
    "状态 / status",
    "id",
  ];
  const rows = productRows();
  const w = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]!))));
  const line = (r: string[]) =>
    r
      .map((c, i) => pad(c, w[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)].join("\n");
}

export function register(program: Command): void {
  const transit = program.command("transit").description("交通卡 / transit cards");
  transit
    .command("products")
    .description("交通卡产品目录 / the transit card catalogue")
    .option("--json", "以 JSON 输出 / print JSON")
    .action((o: { json?: boolean }) => {
      process.stdout.write(`${o.json ? JSON.stringify(PRODUCTS, null, 1) : productsTable()}\n`);
    });
}
