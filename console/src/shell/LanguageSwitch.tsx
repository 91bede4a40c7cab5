/** The language switcher: a labelled select of every language file. */
import { LANG_NAMES, LANGS, type Lang, isLang } from "../i18n/catalog";
import { useI18n } from "./i18n";

export function LanguageSwitch({ lang, onChange }: { lang: Lang; onChange: (lang: Lang) => void }) {
  const { t } = useI18n();
  return (
    <label class="lang-switch">
      <span>{t("header.language")}</span>
      <select
        name="language"
        value={lang}
        onChange={(e) => {
          const value = e.currentTarget.value;
          if (isLang(value)) onChange(value);
        }}
      >
        {LANGS.map((l) => (
          <option key={l} value={l} lang={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
