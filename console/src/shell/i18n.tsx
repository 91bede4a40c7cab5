/** The active language for every component: `useI18n()` gives `t` and the formatters. */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Lang } from "../i18n/catalog";
import { type Translate, translator } from "../i18n/translate";
import { formatClock, formatDateTime, formatLeft } from "../time/format";

export interface I18n {
  lang: Lang;
  t: Translate;
  /** date and time to the second, UTC */
  dateTime: (time: string | number) => string;
  /** time of day, UTC */
  clock: (time: string | number) => string;
  /** a countdown from seconds left */
  left: (seconds: number) => string;
}

export function makeI18n(lang: Lang): I18n {
  const t = translator(lang);
  return {
    lang,
    t,
    dateTime: (time) => formatDateTime(time, lang, t),
    clock: (time) => formatClock(time, lang, t),
    left: (seconds) => formatLeft(seconds, t),
  };
}

export const I18nContext = createContext<I18n>(makeI18n("en"));

export function useI18n(): I18n {
  return useContext(I18nContext);
}
