/** FLASH and overdue messages ring — a generated tone and a browser notification — at
 * once and every 30 s until acknowledged or silenced (the inbox's Silence button). */
import { useEffect, useState } from "preact/hooks";
import { closeNotification, notify } from "../alarm/notify";
import { type Alarming, AlarmPlan } from "../alarm/plan";
import { playAlarm } from "../alarm/sound";
import type { InboxItem } from "../api/types";
import type { Key } from "../i18n/translate";
import { parseTime } from "../time/parse";
import { useDesk } from "./desk";
import { useI18n } from "./i18n";

export function alarming(item: InboxItem): Alarming {
  return {
    id: item.id,
    flash: item.precedence === "FLASH",
    deadline: parseTime(item.deadline),
    acked: item.acked_by !== null,
  };
}

export function Alarms() {
  const { t } = useI18n();
  const { inbox, clock, alarms, navigate } = useDesk();
  const [said, setSaid] = useState("");

  useEffect(() => {
    const ring = () => {
      const now = clock.now();
      if (!Number.isFinite(now)) return;
      for (const item of inbox.items) {
        if (item.acked_by !== null || !AlarmPlan.wants(alarming(item), now)) closeNotification(item.id);
      }
      const due = alarms.due(inbox.items.map(alarming), now);
      for (const a of due) {
        const item = inbox.items.find((i) => i.id === a.id);
        if (!item) continue;
        const overdue = a.deadline <= now;
        playAlarm(a.flash);
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
  }, [inbox.items, clock, alarms, navigate, t]);

  return (
    <div class="sr-only" role="status" aria-live="assertive" id="alarm-said">
      {said}
    </div>
  );
}
