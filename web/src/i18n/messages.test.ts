/** The dictionary: both languages have every key, no empty text, and the same `{placeholders}`. */
import { describe, expect, it } from "vitest";
import { format, translate } from "./i18n.js";
import { en, messages, zh, type MessageKey } from "./messages.js";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("messages", () => {
  it("has exactly the same keys in zh-CN and English", () => {
    const zhKeys = Object.keys(zh).sort();
    const enKeys = Object.keys(en).sort();
    expect(
      zhKeys.filter((k) => !(k in en)),
      "missing in English",
    ).toEqual([]);
    expect(
      enKeys.filter((k) => !(k in zh)),
      "missing in zh-CN",
    ).toEqual([]);
    expect(zhKeys.length).toBeGreaterThan(100);
  });

  it("has no empty message in either language", () => {
    for (const lang of ["zh-CN", "en"] as const) {
      const empty = Object.entries(messages[lang]).filter(([, v]) => v.trim() === "");
      expect(empty, lang).toEqual([]);
    }
  });

  it("uses the same placeholders in both languages", () => {
    for (const key of Object.keys(zh) as MessageKey[]) {
      expect(placeholders(en[key]), key).toEqual(placeholders(zh[key]));
    }
  });

  it("writes zh-CN in Chinese and English without Chinese characters", () => {
    const han = /\p{Script=Han}/u;
    // Keys whose zh text is legitimately bilingual or Latin (brand, language names).
    const bilingual = new Set<MessageKey>(["app.title", "language.label", "phone.otherModelCode"]);
    for (const key of Object.keys(zh) as MessageKey[]) {
      if (!bilingual.has(key) && key !== "list.separator") expect(han.test(zh[key]), key).toBe(true);
      if (key !== "language.label") expect(han.test(en[key]), key).toBe(false);
    }
  });
});

describe("translate", () => {
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(translate("zh-CN", "signIn.codeSent", { phone: "138****8000" })).toBe(
      "验证码已发送至 138****8000",
    );
    expect(translate("en", "signIn.resendIn", { seconds: 42 })).toBe("Send again (42 s)");
    expect(format("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
});
