/** The product catalogue against the seed (shared/seed/xiaomi-pay.zh.md, the 小米公交 list) and its own rules. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromHex } from "../core/bytes.js";
import { isTapwalletError } from "../core/errors.js";
import {
  PRODUCTS,
  assertCanOpen,
  checkCanOpen,
  cityUnionProductByCity,
  getProduct,
  tUnionProductByCardNumber,
} from "./catalogue.js";
import { cityName } from "./cities.js";

const SEED = {
  city: ["上海公共交通卡", "岭南通", "深圳通", "武汉通", "重庆畅通卡", "合肥通", "厦门e通卡", "绿城通"],
  tUnion: [
    "京津冀互联互通卡",
    "盛京通",
    "江苏交通一卡通·苏州",
    "江苏交通一卡通·南通",
    "吉林通",
    "广西交通一卡通",
    "琴岛通",
    "哈尔滨城市通",
    "台州公共交通卡",
    "海南一卡通",
    "岭南通（交通联合）",
    "厦门e通卡（交通联合）",
  ],
  closed: { 北京市政交通一卡通: "京津冀互联互通卡", 苏州市民卡: "江苏交通一卡通·苏州", 杭州通: null },
};

const byZh = (zh: string) => PRODUCTS.find((p) => p.name.zh === zh);

describe("catalogue", () => {
  it("has every card the seed names, with the right standard and status", () => {
    for (const zh of SEED.city) {
      const p = byZh(zh)!;
      expect(p, zh).toBeDefined();
      expect(p.standard).not.toBe("JT/T 978");
      expect(p.status).toBe("available");
    }
    for (const zh of SEED.tUnion) {
      const p = byZh(zh)!;
      expect(p, zh).toBeDefined();
      expect(p.standard).toBe("JT/T 978");
      expect(p.system).toBe("t-union");
      expect(p.status).toBe("available");
    }
    for (const [zh, successor] of Object.entries(SEED.closed)) {
      const p = byZh(zh)!;
      expect(p.status).toBe("closed");
      expect(p.successor ? getProduct(p.successor)?.name.zh : null).toBe(successor);
    }
    expect(byZh("上海公共交通卡")!.standard).toBe("CJ/T 166");
    expect(PRODUCTS).toHaveLength(SEED.city.length + SEED.tUnion.length + Object.keys(SEED.closed).length);
  });

  it("gives every product names, valid AIDs, codes, fees and limits", () => {
    const ids = new Set<string>();
    const instances = new Set<string>();
    for (const p of PRODUCTS) {
      expect(ids.has(p.id)).toBe(false);
      ids.add(p.id);
      expect(instances.has(p.aids.instance), p.id).toBe(false);
      instances.add(p.aids.instance);
      expect(p.name.zh.length).toBeGreaterThan(0);
      expect(p.name.en).toMatch(/^[\x20-\x7E·ü]+$/);
      for (const aid of [p.aids.instance, ...p.aids.selection]) {
        const n = fromHex(aid).length;
        expect(n, `${p.id} ${aid}`).toBeGreaterThanOrEqual(5);
        expect(n).toBeLessThanOrEqual(16);
      }
      expect(cityName(p.city.scheme, p.city.code), `${p.id} city ${p.city.code}`).toBeDefined();
      expect(p.fees.open).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(p.fees.open)).toBe(true);
      expect(p.topUp.min).toBeGreaterThan(0);
      expect(p.topUp.min).toBeLessThanOrEqual(p.topUp.max);
      expect(p.topUp.max).toBeLessThanOrEqual(p.maxBalance);
    }
  });

  it("gives T-Union products the public EP AID, an 8-digit IIN and a GB/T 13497 issuer identifier", () => {
    for (const p of PRODUCTS.filter((x) => x.system === "t-union")) {
      expect(p.aids.instance.startsWith("A000000632010105")).toBe(true);
      expect(p.aids.selection).toContain("A000000632010105");
      expect(p.iin).toMatch(/^\d{8}$/);
      expect(p.issuer.code).toMatch(/^[0-9A-F]{8}FFFFFFFF$/);
      expect(p.city.scheme).toBe("gbt13497");
      expect(tUnionProductByCardNumber(`${p.iin}00000000001`)?.id).toBe(p.id);
    }
  });

  it("is documented: docs/TRANSIT.md lists every product with its AIDs", () => {
    const doc = readFileSync(new URL("../../docs/TRANSIT.md", import.meta.url), "utf8");
    for (const p of PRODUCTS) {
      expect(doc, p.id).toContain(
        `| \`${p.id}\` | ${p.name.zh} / ${p.name.en} | ${p.standard} | \`${p.aids.instance}\``,
      );
      if (p.iin) expect(doc).toContain(`IIN ${p.iin}`);
    }
  });

  it("finds City Union products by MOHURD city code", () => {
    expect(cityUnionProductByCity("2000")?.id).toBe("shanghai");
    expect(cityUnionProductByCity("4000")?.id).toBe("chongqing");
    expect(cityUnionProductByCity("9999")).toBeUndefined();
  });
});

describe("opening a card", () => {
  it("opens an available product", () => {
    const r = checkCanOpen("tu-jingjinji");
    expect(r.ok && r.value.name.zh).toBe("京津冀互联互通卡");
  });

  it("refuses a closed product and names its successor", () => {
    const r = checkCanOpen("beijing-yikatong");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("product_closed");
    expect(r.error.successor?.id).toBe("tu-jingjinji");
    expect(r.error.message.zh).toContain("京津冀互联互通卡");
    expect(r.error.message.en).toContain("Beijing-Tianjin-Hebei");
  });

  it("refuses 杭州通 with the advice to pay by bank card", () => {
    const r = checkCanOpen("hangzhou-tong");
    expect(!r.ok && r.error.successor).toBeUndefined();
    expect(!r.ok && r.error.message.zh).toContain("银联");
  });

  it("throws a TapwalletError carrying the successor for callers that throw", () => {
    try {
      assertCanOpen("suzhou-citizen");
      expect.unreachable();
    } catch (e) {
      expect(isTapwalletError(e) && e.code).toBe("product_closed");
      expect(isTapwalletError(e) && e.details?.["successorId"]).toBe("tu-jiangsu-suzhou");
    }
  });

  it("refuses an unknown product", () => {
    const r = checkCanOpen("atlantis");
    expect(!r.ok && r.error.code).toBe("unknown_product");
  });
});
