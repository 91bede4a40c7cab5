/** A roll call the desk's party has yet to answer: a banner above every view, with the
 * time left in its window on the node's clock and the button that answers it (signed by
 * the desk, with the officer on watch). Past its window an answer still counts, as late.
 * The alarm rings for it (Alarms) until a desk of the party answers. */
import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/problem";
import { answerRollCall } from "../views/desks/calls";
import { parseTime } from "../time/parse";
import { useDesk } from "./desk";
import { useI18n } from "./i18n";

const ANSWERING_ROLES = new Set(["watch_officer", "leader", "relay", "translator", "admin"]);

export function RollCallBanner() {
  const { t, clock: timeOfDay } = useI18n();
  const { api, me, clock, rollcalls } = useDesk();
  const [now, setNow] = useState(() => clock.now());
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string>("");
  useEffect(() => {
    const timer = setInterval(() => setNow(clock.now()), 1000);
    return () => clearInterval(timer);
  }, [clock]);
  const canAnswer = me.roles.some((r) => ANSWERING_ROLES.has(r));
  if (rollcalls.items.length === 0) return null;
  const answer = async (id: string) => {
    setBusy(id);
    setError("");
    try {
      await answerRollCall(api, id);
      rollcalls.reload();
    } catch (err) {
      setError(describeError(err, t));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section class="rollcall-banner" aria-labelledby="rollcall-title" id="rollcall-banner">
      <h2 id="rollcall-title" class="sr-only">
        {t("rollcall.title")}
      </h2>
      {rollcalls.items.map((c) => {
        const ends = parseTime(c.asked) + c.window_s * 1000;
        const left = Math.max(0, Math.round((ends - now) / 1000));
        const late = Number.isFinite(now) && now >= ends;
        return (
          <p key={c.id} class={late ? "rollcall late" : "rollcall"} data-rollcall={c.id}>
            <strong>{t("rollcall.asked", { from: c.asked_by, line: c.line, at: timeOfDay(c.at) })}</strong>{" "}
            {late
              ? t("rollcall.late")
              : t("rollcall.left", { m: Math.floor(left / 60), s: String(left % 60).padStart(2, "0") })}{" "}
            {canAnswer && (
              <button type="button" data-action="answer-rollcall" disabled={busy === c.id} onClick={() => void answer(c.id)}>
                {t("rollcall.answer")}
              </button>
            )}
          </p>
        );
      })}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
