/** The node's clock as the console sees it. GET /time answers `{now, speed}`; between
 * two answers node-now = now + (monotonic time elapsed since the answer) * speed, where
 * monotonic time is `performance.now()` (never the browser's wall clock, which may be
 * wrong, and never Date.now()). Speed 1 is real time, N runs N times faster, 0 is a
 * stepped or frozen exercise clock that moves only when the node says so. */
import { parseTime } from "./parse";

export interface ClockReading {
  now: string;
  speed: number;
  /** whether an exercise clock runs */
  exercise?: boolean | null;
}

export type Monotonic = () => number;

interface Anchor {
  node: number;
  mono: number;
  speed: number;
  exercise: boolean;
}

export class NodeClock {
  private anchor: Anchor | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly mono: Monotonic = () => performance.now()) {}

  /** Takes a reading. `askedAt` and `answeredAt` are the monotonic times around the
   * request; the reading is placed half-way between them. */
  sync(reading: ClockReading, askedAt?: number, answeredAt?: number): void {
    const node = parseTime(reading.now);
    if (!Number.isFinite(node)) throw new Error(`not a time: ${reading.now}`);
    const at = this.mono();
    const mono =
      askedAt !== undefined && answeredAt !== undefined ? (askedAt + answeredAt) / 2 : at;
    const speed = Number.isFinite(reading.speed) && reading.speed >= 0 ? reading.speed : 1;
    this.anchor = { node, mono, speed, exercise: reading.exercise === true };
    for (const listener of this.listeners) listener();
  }

  get synced(): boolean {
    return this.anchor !== null;
  }

  get speed(): number {
    return this.anchor?.speed ?? 1;
  }

  /** whether the node runs an exercise clock */
  get exercise(): boolean {
    return this.anchor?.exercise ?? false;
  }

  /** Milliseconds since the epoch on the node's clock; NaN before the first reading. */
  now(): number {
    if (!this.anchor) return Number.NaN;
    return this.anchor.node + (this.mono() - this.anchor.mono) * this.anchor.speed;
  }

  /** Seconds from node-now until `deadline` (negative once past); NaN when unknown. */
  secondsUntil(deadline: number): number {
    return (deadline - this.now()) / 1000;
  }

  /** Called after every reading. Returns the unsubscribe function. */
  onSync(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reset(): void {
    this.anchor = null;
  }
}
