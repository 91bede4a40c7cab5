/** What waits at the desk rings — a generated tone and a browser notification — until
 * acknowledged, taken or silenced (the inbox's Silence button): FLASH messages every 30 s,
 * IMMEDIATE ones every 2 min, other messages once overdue, the escalation alerts the node
 * pages this desk about (read from the paging board every 15 s), and roll calls waiting
 * for the desk's party (every 30 s until answered). */
import { useEffect, useRef, useState } from "preact/hooks";
import { closeNotification, notify } from "../alarm/notify";
import { type Alarming, AlarmPlan } from "../alarm/plan";
import { playAlarm } from "../alarm/sound";
import type { InboxItem } from "../api/types";
import { type PagedItem, pagedItems, type RollCallItem } from "../views/desks/calls";
import type { Key } from "../i18n/translate";
import { parseTime } from "../time/parse";
import { useDesk } from "./desk";
import { useI18n } from "./i18n";

const REPEAT_MS: Record<string, number> = { FLASH: 30_000, IMMEDIATE: 120_000 };
const PAGES_POLL_MS = 15_000;

/** An inbox item's alarm: silent once acknowledged, or taken at this desk, and for a
 * message the party owes no acknowledgement (sent to it for information). */
export function alarming(item: InboxItem, taken: ReadonlySet<string> = new Set()): Alarming {
  return {
    id: item.id,
    flash: item.precedence in REPEAT_MS,
    repeatMs: REPEAT_MS[item.precedence],
    deadline: parseTime(item.deadline),
    acked: item.acked_by !== null || taken.has(item.id) || item.owed === false,
  };
}

/** A roll call waiting for the desk's party: it rings every 30 s until answered. */
export function rollcallAlarm(call: RollCallItem): Alarming {
  return { id: `rollcall:${call.id}`, flash: true, repeatMs: 30_000, deadline: parseTime(call.asked), acked: false };
}

/** An escalation alert paged at this desk: it rings until somebody reacts. (A message
 * paged rings as an inbox item.) */
export function pagedAlarm(item: PagedItem): Alarming {
  return {
    id: `page:${item.item}`,
    flash: true,
    repeatMs: REPEAT_MS[item.precedence] ?? 30_000,
    deadline: parseTime(item.since),
    acked: !item.open,
  };
}

export function Alarms() {
  const { t } = useI18n();
  const { api, inbox, rollcalls, clock, alarms, navigate } = useDesk();
  const [said, setSaid] = useState("");
  const [paged, setPaged] = useState<PagedItem[]>([]);
  const [taken, setTaken] = useState<ReadonlySet<string>>(new Set());
  const shownPages = useRef(new Set<string>());
  const shownCalls = useRef(new Set<string>());

  useEffect(() => {
    let gone = false;
    const load = () =>
      pagedItems(api).then(
        (items) => {
          if (gone) return;
          setPaged(items.filter((i) => i.kind === "escalation" && i.open));
          // a message taken ("I have it") rings no more here, though its ack is still due
          setTaken(new Set(items.filter((i) => i.kind === "message" && i.reaction?.how === "take").map((i) => i.ref)));
        },
        () => undefined, // a desk that is not paged, or a moment offline: nothing rings
      );
    void load();
    const timer = setInterval(() => void load(), PAGES_POLL_MS);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [api]);

  useEffect(() => {
    const ring = () => {
      const now = clock.now();
      if (!Number.isFinite(now)) return;
      const stillPaged = new Set(paged.map((p) => pagedAlarm(p).id));
      for (const id of shownPages.current) {
        if (!stillPaged.has(id)) {
          closeNotification(id); // somebody reacted: its notification goes
          shownPages.current.delete(id);
        }
      }
      const ringing = inbox.items.map((i) => alarming(i, taken));
      for (const a of ringing) {
        if (a.acked || !AlarmPlan.wants(a, now)) closeNotification(a.id);
      }
      const calls = rollcalls.items.map(rollcallAlarm);
      for (const id of shownCalls.current) {
        if (!calls.some((c) => c.id === id)) {
          closeNotification(id); // answered: its notification goes
          shownCalls.current.delete(id);
        }
      }
      const due = alarms.due([...ringing, ...paged.map(pagedAlarm), ...calls], now);
      for (const a of due) {
        const call = rollcalls.items.find((c) => rollcallAlarm(c).id === a.id);
        if (call) {
          playAlarm(true);
          const title = t("rollcall.alarmTitle", { from: call.asked_by });
          const body = t("rollcall.alarmBody");
          notify(a.id, title, body, () => document.getElementById("rollcall-banner")?.scrollIntoView());
          shownCalls.current.add(a.id);
          setSaid(`${title}: ${body}`);
          continue;
        }
        const page = paged.find((p) => pagedAlarm(p).id === a.id);
        if (page) {
          playAlarm(page.precedence === "FLASH");
          const title = t("pages.alarmTitle", {
            precedence: t(`precedence.${page.precedence}` as Key),
            subject: page.subject,
          });
          const body = t("pages.kind.escalation");
          notify(a.id, title, body, () => navigate("pages"));
          shownPages.current.add(a.id);
          setSaid(`${title}: ${body}`);
          continue;
        }
        const item = inbox.items.find((i) => i.id === a.id);
        if (!item) continue;
        const overdue = a.deadline <= now;
        playAlarm(item.precedence === "FLASH");
        const title = t("inbox.alarmTitle", {
          precedence: t(`precedence.${item.precedence}` as Key),
          from: item.from,
        });
        const body = overdue ? t("inbox.alarmOverdue", { subject: item.subject }) : item.subject;
        notify(item.id, title, body, () => navigate("inbox", item.id));
        setSaid(`${title}: ${body}`);
      }
    };
    ring();
    const timer = setInterval(ring, 1000);
    return () => clearInterval(timer);
  }, [inbox.items, paged, taken, rollcalls.items, clock, alarms, navigate, t]);

  return (
    <div class="sr-only" role="status" aria-live="assertive" id="alarm-said">
      {said}
    </div>
  );
}
