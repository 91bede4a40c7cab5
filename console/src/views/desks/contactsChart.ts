/**
 * The refusal record over time: contact requests counted per bucket of days by what
 * came of them, for the leader's staff's chart and its table.
 */

export const OUTCOMES = ["accepted", "declined", "unanswered", "cancelled", "pending"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The fields of a contact request (GET /contacts) the chart reads. */
export interface RequestLike {
  from: string;
  to: string;
  status: string;
  answer?: string | null;
  requested_at: string;
  respond_by: string;
}

/** One outcome per request, as the node's statistics count them: an answer counts
 * whatever came after it; silence past the window is "unanswered". */
export function outcome(r: RequestLike, now: Date): Outcome {
  if (r.answer === "accepted") return "accepted";
  if (r.answer === "declined") return "declined";
  if (r.status === "expired") return "unanswered";
  if (r.status === "cancelled") return "cancelled";
  if (r.status === "pending" && new Date(r.respond_by).getTime() < now.getTime()) {
    return "unanswered";
  }
  return "pending";
}

export type Counts = Record<Outcome, number> & { requested: number };

export function zero(): Counts {
  return { requested: 0, accepted: 0, declined: 0, unanswered: 0, cancelled: 0, pending: 0 };
}

export interface Bucket extends Counts {
  /** inclusive start, exclusive end */
  start: Date;
  end: Date;
}

const DAY = 86_400_000;

/**
 * ``days`` back from ``now`` cut into buckets of ``bucketDays`` (the oldest may be
 * shorter), oldest first, each with the requests made in it (one stamped a moment after
 * ``now`` in the newest).
 */
export function buckets(
  requests: readonly RequestLike[],
  now: Date,
  days: number,
  bucketDays: number,
): Bucket[] {
  const width = Math.max(1, Math.floor(bucketDays));
  const span = Math.max(1, Math.floor(days));
  const since = now.getTime() - span * DAY;
  const made: Bucket[] = [];
  for (let end = now.getTime(); end > since; end -= width * DAY) {
    const start = Math.max(since, end - width * DAY);
    made.unshift({ ...zero(), start: new Date(start), end: new Date(end) });
  }
  for (const r of requests) {
    const at = new Date(r.requested_at).getTime();
    if (Number.isNaN(at) || at < since) continue; // later than now: the newest bucket
    const bucket =
      made.find((b) => at >= b.start.getTime() && at < b.end.getTime()) ?? made[made.length - 1];
    if (!bucket) continue;
    bucket.requested += 1;
    bucket[outcome(r, now)] += 1;
  }
  return made;
}

/** Everything in ``buckets`` added up: the summary line's figures. */
export function total(all: readonly Counts[]): Counts {
  const sum = zero();
  for (const b of all) {
    sum.requested += b.requested;
    for (const o of OUTCOMES) sum[o] += b[o];
  }
  return sum;
}

/** Requests between ``a`` and ``b`` (in either direction). */
export function between<T extends RequestLike>(requests: readonly T[], a: string, b: string): T[] {
  return requests.filter((r) => (r.from === a && r.to === b) || (r.from === b && r.to === a));
}

/** The pairs of principals that appear in ``requests``, each once, sorted. */
export function pairs(requests: readonly RequestLike[]): [string, string][] {
  const seen = new Map<string, [string, string]>();
  for (const r of requests) {
    const pair = [r.from, r.to].sort() as [string, string];
    seen.set(pair.join("\u0000"), pair);
  }
  return [...seen.values()].sort((x, y) => x.join().localeCompare(y.join()));
}

/** The top of the count axis and its ticks: whole numbers, at most ``most`` + 1 of them. */
export function scale(max: number, most = 4): { top: number; ticks: number[] } {
  if (max <= 0) return { top: 1, ticks: [0, 1] };
  const step = Math.max(1, Math.ceil(max / most));
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  return { top, ticks };
}
