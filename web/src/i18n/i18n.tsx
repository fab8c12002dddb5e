/**
 * Language: zh-CN by default, English on request, remembered in localStorage. `t(key, vars)` looks a
 * message up in the typed dictionary and fills `{name}` placeholders; `pick({zh, en})` chooses the
 * server's own bilingual text (API errors, model names) in the same language.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { messages, type Lang, type MessageKey } from "./messages.js";

const LANG_STORAGE_KEY = "tapwallet.lang";
const DEFAULT_LANG: Lang = "zh-CN";

export type Vars = Record<string, string | number>;

export function format(template: string, vars: Vars = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  return format(messages[lang][key], vars);
}

function storedLang(): Lang {
  try {
    const v = localStorage.getItem(LANG_STORAGE_KEY);
    return v === "en" || v === "zh-CN" ? v : DEFAULT_LANG;
  } catch {
    return DEFAULT_LANG;
  }
}

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, vars?: Vars): string;
  pick(text: { zh: string; en: string }): string;
  /** Date and time in the user's language, Beijing time (the service area's). */
  dateTime(iso: string): string;
}

const I18nContext = createContext<I18n | undefined>(undefined);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(storedLang);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(lang, "app.title");
  }, [lang]);

  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(LANG_STORAGE_KEY, next);
    } catch {
      // Private mode without storage: the choice lasts for this page only.
    }
  }, []);

  const value = useMemo<I18n>(() => {
    const dateFormat = new Intl.DateTimeFormat(lang, {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone: "Asia/Shanghai",
    });
    return {
      lang,
      setLang,
      t: (key, vars) => translate(lang, key, vars),
      pick: (text) => (lang === "en" ? text.en : text.zh),
      dateTime: (iso) => dateFormat.format(new Date(iso)),
    };
  }, [lang, setLang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error("useI18n outside I18nProvider");
  return ctx;
}
