/** The inbox as the watch officer works it: what waits first, by precedence, the nearest
 * deadline first within one; then what was acknowledged in the last hour (node time),
 * latest first; then what came for information (no acknowledgement owed) in the last
 * day, latest first. Pure. */
import type { InboxItem, Precedence } from "../../api/types";
import { parseTime } from "../../time/parse";

export const PRECEDENCES: readonly Precedence[] = ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"];

const RANK: Record<string, number> = { FLASH: 0, IMMEDIATE: 1, PRIORITY: 2, ROUTINE: 3 };

export const ACKED_KEPT_MS = 3_600_000;
export const INFORMED_KEPT_MS = 86_400_000;

export function orderInbox(items: readonly InboxItem[], nodeNow: number): InboxItem[] {
  const waiting = items.filter((i) => i.acked_by === null && i.owed !== false);
  const informed = items.filter(
    (i) =>
      i.acked_by === null &&
      i.owed === false &&
      (!Number.isFinite(nodeNow) || nodeNow - parseTime(i.sent) < INFORMED_KEPT_MS),
  );
  const acked = items.filter(
    (i) =>
      i.acked_by !== null &&
      (!Number.isFinite(nodeNow) || nodeNow - parseTime(i.acked_at) < ACKED_KEPT_MS),
  );
  waiting.sort(
    (a, b) =>
      (RANK[a.precedence] ?? 9) - (RANK[b.precedence] ?? 9) ||
      parseTime(a.deadline) - parseTime(b.deadline) ||
      a.id.localeCompare(b.id),
  );
  acked.sort((a, b) => parseTime(b.acked_at) - parseTime(a.acked_at) || a.id.localeCompare(b.id));
  informed.sort((a, b) => parseTime(b.sent) - parseTime(a.sent) || a.id.localeCompare(b.id));
  return [...waiting, ...acked, ...informed];
}
