/** An alert said in the operator's language, from its facts (rule, track, parties,
 * measure); the node's English summary when the facts are not there. */
import type { Key, Translate } from "../../i18n/translate";

export interface AlertFacts {
  summary: string;
  rule?: string;
  uid?: string;
  party?: string | null;
  kind?: string;
  other?: string | null;
  value?: number;
  detail?: Record<string, unknown>;
}

const RULES = new Set(["proximity", "incursion", "cpa", "zone", "unannounced", "stale"]);

const FORMATS = new Map<string, Intl.NumberFormat>(); // one per language: making one is slow

function number(value: number, lang: string): string {
  let format = FORMATS.get(lang);
  if (!format) {
    format = new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
    FORMATS.set(lang, format);
  }
  return format.format(value);
}

export function alertText(a: AlertFacts, t: Translate, lang: string): string {
  if (!a.rule || !RULES.has(a.rule) || !a.uid) return a.summary;
  const kindKey = `alerts.kinds.${a.kind ?? "unknown"}` as Key;
  const kind = t(kindKey) === kindKey ? (a.kind ?? "") : t(kindKey);
  const who = t("alerts.who", { party: a.party ?? "?", kind, uid: a.uid });
  const value = a.value ?? 0;
  const detail = a.detail ?? {};
  const vars = {
    who,
    other: a.other ?? "?",
    party: a.party ?? "?",
    km: number(value / 1000, lang),
    nm: number(value / 1852, lang),
    minutes: number(Number(detail.tcpa_s ?? 0) / 60, lang),
    with: String(detail.with_uid ?? "?"),
    zone: String(detail.zone ?? ""),
    zoneKind: String(detail.zone_kind ?? ""),
    seconds: Math.round(value),
    clause: String(detail.clause ?? ""),
  };
  // a proximity alert an agreement's zone raised names the clause it enforces
  const rule = a.rule === "proximity" && detail.clause ? "proximityClause" : a.rule;
  return t(`alerts.text.${rule}` as Key, vars);
}
