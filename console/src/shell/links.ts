/** The state of the link to each peer, in the operator's language. */
import type { Key, Translate } from "../i18n/translate";

const LINK_STATES = {
  up: "header.linkStates.up",
  degraded: "header.linkStates.degraded",
  down: "header.linkStates.down",
  unknown: "header.linkStates.unknown",
} as const satisfies Record<string, Key>;

/** "RU up", in the operator's language; a state this console does not know, as sent. */
export function describeLink(t: Translate, party: string, state: string): string {
  return Object.hasOwn(LINK_STATES, state)
    ? t(LINK_STATES[state as keyof typeof LINK_STATES], { party })
    : `${party} ${state}`;
}


const CARRIERS = {
  https: "header.carriers.https",
  mail: "header.carriers.mail",
} as const satisfies Record<string, Key>;

/** Which path carries the line to a peer ("over HTTPS", "by e-mail"), from the node's
 * `paths` entry for it; "no path works" when none does; nothing before any was used. */
export function describeCarrier(t: Translate, entry: unknown): string | null {
  if (!entry || typeof entry !== "object") return null;
  const carrier = (entry as { carrier?: unknown }).carrier;
  if (typeof carrier !== "string") return t("header.carriers.none");
  return Object.hasOwn(CARRIERS, carrier)
    ? t(CARRIERS[carrier as keyof typeof CARRIERS])
    : carrier;
}
