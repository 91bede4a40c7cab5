/** The map's colours. Every feature drawn on the map stands at 3:1 or more against the
 * land and the sea it may lie on (WCAG 2.2, 1.4.11 non-text contrast); the tests check. */

export const SEA = "#0d2235";
export const LAND = "#6b7565";
export const OWN_LAND = "#64718a";
export const OTHER_LAND = "#7d6563";
export const COUNTRY_EDGE = "#10161b";
export const GRATICULE = "#9fb3c8";
export const OWN = "#c9e2ff";
export const OTHER = "#ffe08a";
export const NEUTRAL = "#f2f2f2";
export const ANNOUNCED = "#7cfc8a";
export const ALERT = "#ffffff";
export const ALERT_CORE = "#ff5c5c";
export const TRAIL_OWN = OWN;
export const TRAIL_OTHER = OTHER;

/** Parties beyond the two of a line take these, in turn. */
const MORE = ["#ffc9f4", "#a6f0ff", "#ffdcb0"];

/** The colour a party's tracks, corridors and areas are drawn in. */
export function partyColour(party: string | null | undefined, own: string, others: string[]): string {
  if (!party) return NEUTRAL;
  if (party === own) return OWN;
  const index = others.indexOf(party);
  return index <= 0 ? OTHER : (MORE[(index - 1) % MORE.length] ?? OTHER);
}

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Relative luminance of a #rrggbb colour (WCAG 2.2). */
export function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** Contrast ratio of two #rrggbb colours, 1 to 21. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
