/** Times for people: always UTC, in the operator's language, never raw ISO. */
import type { Lang } from "../i18n/catalog";
import type { Translate } from "../i18n/translate";
import { parseTime } from "./parse";

const cache = new Map<string, Intl.DateTimeFormat>();

function formatter(lang: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = lang + JSON.stringify(options);
  let found = cache.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(lang, { ...options, timeZone: "UTC", hourCycle: "h23" });
    cache.set(key, found);
  }
  return found;
}

function asMs(time: string | number): number {
  return typeof time === "number" ? time : parseTime(time);
}

/** Date and time to the second, in UTC: "7 Mar 2026, 14:03:22 UTC" / "7 мар. 2026 г., 14:03:22 UTC". */
export function formatDateTime(time: string | number, lang: Lang, t: Translate): string {
  const ms = asMs(time);
  if (!Number.isFinite(ms)) return t("app.none");
  const text = formatter(lang, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(ms);
  return t("time.utc", { time: text });
}

/** Time of day to the second, in UTC: "14:03:22 UTC". */
export function formatClock(time: string | number, lang: Lang, t: Translate): string {
  const ms = asMs(time);
  if (!Number.isFinite(ms)) return t("app.none");
  const text = formatter(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(
    ms,
  );
  return t("time.utc", { time: text });
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** A countdown: "9m 05s", "2h 03m", and "OVERDUE 1m 10s" once past (in the language). */
export function formatLeft(seconds: number, t: Translate): string {
  if (!Number.isFinite(seconds)) return t("app.none");
  const whole = Math.floor(Math.abs(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const left = h > 0 ? t("time.hm", { h, m: pad(m) }) : t("time.ms", { m, s: pad(s) });
  return seconds < 0 ? t("time.overdue", { left }) : left;
}
