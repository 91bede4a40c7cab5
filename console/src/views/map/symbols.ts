/** MIL-STD-2525C / APP-6 symbol identification codes for the node's tracks. Pure.
 *
 * The standard identity follows the party: the operator's own party is friend, any other
 * party hostile (the frame's shape), a track no party owns unknown. The fill is the
 * party's colour on the map (see palette.ts), not the standard's, so that each party
 * keeps one colour everywhere. The battle dimension and function follow the kind. */

const FUNCTION: Record<string, string> = {
  aircraft: "APM---", // air track, military
  missile: "APW---", // air track, missile in flight
  uav: "APMFQ-", // air track, military fixed wing, drone
  helicopter: "APMH--", // air track, military rotary wing
  balloon: "APML--", // air track, military lighter than air
  ship: "SP----", // sea surface track
  ground: "GPU---", // ground track, unit
  unknown: "ZP----", // dimension unknown
};

/** The 15-character SIDC of a track of `kind` held by `party`, seen by `own`. */
export function sidcOf(kind: string | null | undefined, party: string | null | undefined, own: string): string {
  const identity = !party ? "U" : party === own ? "F" : "H";
  const rest = FUNCTION[kind ?? "unknown"] ?? FUNCTION.unknown ?? "ZP----";
  return `S${identity}${rest[0]}${rest.slice(1)}`.padEnd(15, "-");
}

/** The course rounded to the nearest 10°, so that symbols can be drawn once and kept. */
export function courseBucket(course: number | null | undefined): number | null {
  if (course === null || course === undefined || !Number.isFinite(course)) return null;
  return (Math.round(course / 10) * 10) % 360;
}
