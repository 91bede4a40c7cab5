/** The values of a pre-agreed message's slots, from what the operator typed. Pure. */

/** "54.7, 20.5, 10 km" (latitude, longitude, radius and unit) or a JSON object. */
export function parseArea(text: string): Record<string, unknown> | string {
  const raw = text.trim();
  if (raw.startsWith("{")) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return raw;
    }
  }
  const m = /^(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)\s*[,; ]\s*(\d+(?:\.\d+)?)\s*(km|nm|m)?$/i.exec(raw);
  if (!m) return raw;
  const [, lat, lon, radius, unit = "km"] = m;
  return { center: [Number(lon), Number(lat)], radius: Number(radius), unit: unit.toLowerCase() };
}

/** "2026-03-01 14:00" or "2026-03-01T14:00" (UTC) as an API time. */
export function parseUtc(text: string): string {
  const raw = text.trim();
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2}))?Z?$/.exec(raw);
  return m ? `${m[1]}T${m[2]}:${m[3] ?? "00"}Z` : raw;
}

export function slotValue(type: string, text: string): unknown {
  if (type === "area") return parseArea(text);
  if (type === "time") return parseUtc(text);
  return text;
}
