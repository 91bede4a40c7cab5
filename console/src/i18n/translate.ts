/** `t(key, vars)`: a string from the active language's file, `{name}` replaced by vars.
 * A value that is an object of plural categories (one, few, many, other) is chosen by
 * `vars.count` with the language's plural rules. */
import { CATALOG, type Lang, type Messages } from "./catalog";

const PLURAL_CATEGORIES = new Set(["zero", "one", "two", "few", "many", "other"]);

type Leaves<T, P extends string = ""> = {
  [K in keyof T & string]: T[K] extends string
    ? `${P}${K}`
    : IsPlural<T[K]> extends true
      ? `${P}${K}`
      : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];
type IsPlural<T> = T extends { other: string } ? true : false;

/** Every key of the language files, checked by the compiler. */
export type Key = Leaves<Messages>;

export type Vars = Record<string, string | number>;

export type Translate = (key: Key, vars?: Vars) => string;

/** An object of plural categories, not a section of keys. */
export function isPlural(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value);
  return keys.includes("other") && keys.every((k) => PLURAL_CATEGORIES.has(k));
}

function lookup(messages: unknown, key: string): unknown {
  let node: unknown = messages;
  for (const part of key.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export function interpolate(template: string, vars: Vars = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );
}

export function translator(lang: Lang): Translate {
  const messages = CATALOG[lang];
  const plurals = new Intl.PluralRules(lang);
  return (key, vars) => {
    let found = lookup(messages, key) ?? lookup(CATALOG.en, key);
    if (isPlural(found)) {
      const count = Number(vars?.["count"] ?? 0);
      found = found[plurals.select(count)] ?? found["other"];
    }
    return typeof found === "string" ? interpolate(found, vars) : key;
  };
}
