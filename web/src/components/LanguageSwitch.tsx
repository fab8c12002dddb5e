/** 中文 / English: a two-option radio group (arrow keys move between them), remembered across visits. */
import { useId } from "react";
import { useI18n } from "../i18n/i18n.js";
import type { Lang } from "../i18n/messages.js";

const OPTIONS: { lang: Lang; label: string }[] = [
  { lang: "zh-CN", label: "中文" },
  { lang: "en", label: "English" },
];

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  const name = useId();
  return (
    <fieldset className="segmented">
      <legend className="visually-hidden">{t("language.label")}</legend>
      {OPTIONS.map((o) => (
        <label key={o.lang} className={o.lang === lang ? "selected" : undefined}>
          <input
            type="radio"
            name={name}
            value={o.lang}
            checked={o.lang === lang}
            onChange={() => setLang(o.lang)}
          />
          <span lang={o.lang}>{o.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
