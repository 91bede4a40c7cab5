/** The language files: one JSON file per language, every one with exactly the keys of
 * en.json (src/i18n/languages.test.ts). Adding a language is adding its file here. */
import en from "./en.json";
import ko from "./ko.json";
import ru from "./ru.json";
import zh from "./zh.json";

export type Messages = typeof en;

export const CATALOG = { en, ru, zh, ko } as const satisfies Record<string, unknown>;

export type Lang = keyof typeof CATALOG;

export const LANGS = Object.keys(CATALOG) as Lang[];

/** Each language named in itself, for the switcher. */
export const LANG_NAMES: Record<Lang, string> = {
  en: "English",
  ru: "Русский",
  zh: "中文",
  ko: "한국어",
};

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && Object.hasOwn(CATALOG, value);
}
