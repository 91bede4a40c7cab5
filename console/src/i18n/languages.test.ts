import { describe, expect, it } from "vitest";
import { CATALOG, LANG_NAMES, LANGS } from "./catalog";
import { isPlural } from "./translate";

/** Every key of a language file ("a.b.c"); a plural object counts as one key. */
function keysOf(node: unknown, prefix = ""): string[] {
  if (typeof node === "string" || isPlural(node)) return [prefix.slice(0, -1)];
  if (typeof node !== "object" || node === null) throw new Error(`not a string: ${prefix}`);
  return Object.entries(node).flatMap(([k, v]) => keysOf(v, `${prefix}${k}.`));
}

const english = keysOf(CATALOG.en).sort();

describe("language files", () => {
  it("English has keys", () => {
    expect(english.length).toBeGreaterThan(100);
  });

  for (const lang of LANGS) {
    it(`${lang} has exactly the keys of en.json`, () => {
      const keys = keysOf(CATALOG[lang]).sort();
      expect(keys.filter((k) => !english.includes(k)), "keys en.json lacks").toEqual([]);
      expect(english.filter((k) => !keys.includes(k)), "keys missing").toEqual([]);
    });

    it(`${lang} has every plural form its language uses`, () => {
      const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      const walk = (node: unknown, at: string): void => {
        if (isPlural(node)) {
          for (const c of categories) expect(node, `${at} lacks "${c}"`).toHaveProperty(c);
        } else if (typeof node === "object" && node !== null) {
          for (const [k, v] of Object.entries(node)) walk(v, at ? `${at}.${k}` : k);
        }
      };
      walk(CATALOG[lang], "");
    });

    it(`${lang} keeps every {placeholder} of English`, () => {
      const flat = (node: unknown, prefix = ""): [string, string][] =>
        typeof node === "string"
          ? [[prefix.slice(0, -1), node]]
          : Object.entries(node as object).flatMap(([k, v]) =>
              isPlural(node) ? [[prefix.slice(0, -1), Object.values(node).join(" ")]] : flat(v, `${prefix}${k}.`),
            );
      const names = (s: string) => [...new Set(s.match(/\{\w+\}/g) ?? [])].sort();
      const en = new Map(flat(CATALOG.en));
      for (const [key, text] of flat(CATALOG[lang])) {
        expect(names(text), key).toEqual(names(en.get(key) ?? ""));
      }
    });

    it(`${lang} is named in the switcher`, () => {
      expect(LANG_NAMES[lang]).toBeTruthy();
    });
  }

  it("Russian is not English left untranslated", () => {
    const ru = new Map<string, unknown>();
    const collect = (node: unknown, prefix = ""): void => {
      if (typeof node === "string") ru.set(prefix, node);
      else if (!isPlural(node))
        for (const [k, v] of Object.entries(node as object)) collect(v, prefix ? `${prefix}.${k}` : k);
    };
    collect(CATALOG.ru);
    const cyrillic = [...ru.values()].filter((v) => /[а-яё]/i.test(String(v)));
    expect(cyrillic.length / ru.size).toBeGreaterThan(0.8);
  });
});
