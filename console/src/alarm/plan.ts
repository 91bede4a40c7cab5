/** Which items ring now. FLASH and IMMEDIATE messages, items the node pages the desk
 * about, and overdue messages ring at once and then every `repeatMs` (the item's own, or
 * the plan's) until acknowledged; the operator may silence one item until a time.
 * Pure: the node's time is a parameter. */

export interface Alarming {
  id: string;
  /** rings at once, not only once overdue (FLASH, IMMEDIATE, an item paged) */
  flash: boolean;
  /** how often it rings again; the plan's `repeatMs` when absent */
  repeatMs?: number;
  /** the acknowledgement deadline, ms since the epoch on the node's clock */
  deadline: number;
  acked: boolean;
}

export class AlarmPlan {
  private readonly rang = new Map<string, number>();
  private readonly silenced = new Map<string, number>();

  constructor(readonly repeatMs = 30_000) {}

  /** The item's alarm says nothing until `until` (node time, ms). */
  silence(id: string, until: number): void {
    this.silenced.set(id, until);
  }

  silencedUntil(id: string, now: number): number | null {
    const until = this.silenced.get(id);
    return until !== undefined && until > now ? until : null;
  }

  /** Whether an item calls for an alarm at all (FLASH or overdue, not acknowledged). */
  static wants(item: Alarming, now: number): boolean {
    return !item.acked && (item.flash || item.deadline <= now);
  }

  /** The items to ring now; they count as rung at `now`. Items no longer present or
   * acknowledged are forgotten. */
  due(items: readonly Alarming[], now: number): Alarming[] {
    const present = new Set(items.filter((i) => !i.acked).map((i) => i.id));
    for (const id of [...this.rang.keys()]) if (!present.has(id)) this.rang.delete(id);
    for (const id of [...this.silenced.keys()]) if (!present.has(id)) this.silenced.delete(id);
    const ring: Alarming[] = [];
    for (const item of items) {
      if (!AlarmPlan.wants(item, now) || this.silencedUntil(item.id, now) !== null) continue;
      const last = this.rang.get(item.id);
      if (last === undefined || now - last >= (item.repeatMs ?? this.repeatMs) || now < last) {
        this.rang.set(item.id, now);
        ring.push(item);
      }
    }
    return ring;
  }

  clear(): void {
    this.rang.clear();
    this.silenced.clear();
  }
}
