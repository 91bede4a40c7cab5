/** Which inbox items ring now. FLASH messages and overdue ones ring at once and then
 * every `repeatMs` until acknowledged; the operator may silence one item until a time.
 * Pure: the node's time is a parameter. */

export interface Alarming {
  id: string;
  flash: boolean;
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
      if (last === undefined || now - last >= this.repeatMs || now < last) {
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
