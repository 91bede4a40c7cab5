/** Times as the API writes them: ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SS(.ffffff)Z". */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Milliseconds since the epoch of an API time; NaN when it is not one. Microseconds
 * are cut to milliseconds (Date.parse is not required to read more than three digits). */
export function parseTime(text: string | null | undefined): number {
  if (!text) return Number.NaN;
  const m = ISO.exec(text.trim());
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s = "0", frac = "0", zone = "Z"] = m;
  const ms = Number(frac.padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone === "Z") return utc;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  return utc - sign * offset;
}

/** An API time from milliseconds since the epoch (no fraction). */
export function toApiTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
