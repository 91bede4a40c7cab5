/** Coordinates as an operator reads them: decimal degrees and degrees, minutes,
 * seconds, each with its hemisphere. Pure. */

function dms(value: number, positive: string, negative: string): string {
  const hemisphere = value < 0 ? negative : positive;
  let seconds = Math.round(Math.abs(value) * 3600);
  const degrees = Math.floor(seconds / 3600);
  seconds -= degrees * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${degrees}°${two(minutes)}′${two(seconds)}″${hemisphere}`;
}

/** Longitude folded into -180..180 (a map panned round the world reports past 180). */
export function wrapLongitude(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

export interface Letters {
  n: string;
  s: string;
  e: string;
  w: string;
}

const LATIN: Letters = { n: "N", s: "S", e: "E", w: "W" };

/** "52.2297° N, 21.0122° E" with the language's hemisphere letters. */
export function decimal(lat: number, lon: number, letters: Letters = LATIN): string {
  const x = wrapLongitude(lon);
  const la = `${Math.abs(lat).toFixed(4)}° ${lat < 0 ? letters.s : letters.n}`;
  const lo = `${Math.abs(x).toFixed(4)}° ${x < 0 ? letters.w : letters.e}`;
  return `${la}, ${lo}`;
}

/** "52°13′47″N 21°00′44″E" with the language's hemisphere letters. */
export function degreesMinutesSeconds(lat: number, lon: number, letters: Letters = LATIN): string {
  return `${dms(lat, letters.n, letters.s)} ${dms(wrapLongitude(lon), letters.e, letters.w)}`;
}
