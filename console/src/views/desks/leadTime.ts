/**
 * The lead-time check of a notification of intent, as the form shows it before sending:
 * how much notice the window gives on the node's clock, and whether the activity's rule
 * asks for more.
 */

export interface LeadTime {
  /** seconds of notice the activity's rule asks for; null: no rule */
  required: number | null;
  /** seconds from now (node's clock) to the window's start */
  given: number;
  short: boolean;
}

export function leadTime(requiredSeconds: number | null | undefined, start: Date, now: Date): LeadTime {
  const given = Math.floor((start.getTime() - now.getTime()) / 1000);
  const required = requiredSeconds ?? null;
  return { required, given, short: required !== null && given < required };
}

/** A span of seconds as days, hours and minutes (the parts a language file words). */
export interface Span {
  days: number;
  hours: number;
  minutes: number;
}

export function span(seconds: number): Span {
  const s = Math.max(0, Math.floor(seconds));
  return {
    days: Math.floor(s / 86400),
    hours: Math.floor((s % 86400) / 3600),
    minutes: Math.floor((s % 3600) / 60),
  };
}

/** "3d 4h", "24h", "45m", "0m": the largest two parts that are not zero; whole hours
 * under two days in hours, as the agreements write them ("24h", "36h"). */
export function compactSpan(seconds: number, units: { d: string; h: string; m: string }): string {
  const whole = Math.max(0, Math.floor(seconds));
  if (whole > 0 && whole < 2 * 86400 && whole % 3600 === 0) return `${whole / 3600}${units.h}`;
  const { days, hours, minutes } = span(seconds);
  const parts: string[] = [];
  if (days) parts.push(`${days}${units.d}`);
  if (hours) parts.push(`${hours}${units.h}`);
  if (minutes && parts.length < 2) parts.push(`${minutes}${units.m}`);
  return parts.slice(0, 2).join(" ") || `0${units.m}`;
}

/**
 * A UTC time typed in the form ("2025-03-01T12:00" from a datetime-local control, which
 * the form labels as UTC) as an ISO string the API reads, or null when it is not one.
 */
export function utcFromInput(text: string): string | null {
  const found = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?$/.exec(text.trim());
  if (!found) return null;
  const [y, mo, d, h, mi, s] = found.slice(1).map((part) => Number(part ?? 0)) as number[];
  const when = new Date(Date.UTC(y!, mo! - 1, d, h, mi, s));
  if (Number.isNaN(when.getTime()) || when.getUTCDate() !== d || when.getUTCMonth() !== mo! - 1) {
    return null;
  }
  return when.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The value a datetime-local control shows for an ISO UTC time (minutes). */
export function inputFromUtc(iso: string | null | undefined): string {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return when.toISOString().slice(0, 16);
}
