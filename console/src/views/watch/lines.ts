/** The lines a desk writes on: active, and not those its party only observes or
 * mediates. Pure. */
import type { Line } from "../../api/types";

export function writableLines(lines: readonly Line[], party: string): Line[] {
  return lines.filter(
    (l) => l.status === "active" && !(l.observers ?? []).includes(party) && l.mediator !== party,
  );
}
