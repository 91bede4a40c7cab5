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

