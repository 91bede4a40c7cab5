/** Where a message stands for the translators of the receiving side, in one language. */

export interface TranslationLike {
  id: string;
  lang: string;
  translator: string;
  certified_by: string | null;
}

export type Stage =
  /** the original is already in the language */
  | "original"
  /** nobody has translated it yet */
  | "untranslated"
  /** translated by someone else: this translator may certify or correct it */
  | "to-certify"
  /** translated by this translator: a second one certifies it */
  | "awaiting-second"
  | "certified";

export function stage(
  originalLang: string | null | undefined,
  translations: readonly TranslationLike[],
  lang: string,
  me: string,
): Stage {
  if (originalLang && originalLang === lang) return "original";
  const into = translations.filter((t) => t.lang === lang);
  if (!into.length) return "untranslated";
  if (into.some((t) => t.certified_by)) return "certified";
  if (into.some((t) => t.translator !== me)) return "to-certify";
  return "awaiting-second";
}

/** The translation to show beside the original: a certified one, else the latest. */
export function current<T extends TranslationLike>(translations: readonly T[], lang: string): T | null {
  const into = translations.filter((t) => t.lang === lang);
  return into.find((t) => t.certified_by) ?? into[into.length - 1] ?? null;
}

/** The one a translator may certify: the latest uncertified one by somebody else. */
export function toCertify<T extends TranslationLike>(
  translations: readonly T[],
  lang: string,
  me: string,
): T | null {
  const open = translations.filter((t) => t.lang === lang && !t.certified_by && t.translator !== me);
  return open[open.length - 1] ?? null;
}

const ORDER: Record<Stage, number> = {
  "to-certify": 0,
  untranslated: 1,
  "awaiting-second": 2,
  certified: 3,
  original: 4,
};

/** Work first: what this translator can do now, then what waits for others. */
export function byWork<T extends { stage: Stage; sent: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => ORDER[a.stage] - ORDER[b.stage] || b.sent.localeCompare(a.sent));
}
