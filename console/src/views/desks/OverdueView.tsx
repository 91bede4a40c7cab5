/** The overdue board (watch officer, leader's staff): every message and contact request
 * past its deadline, and what escalation has done about each: when, which step, by
 * which route. */
import type { Key } from "../../i18n/translate";
import { parseTime } from "../../time/parse";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive, useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { type EscalationStep, type OverdueItem, overdueBoard } from "./calls";
import { ErrorLine, Loading, short } from "./common";

const WATCHED = new Set([
  "message",
  "ack",
  "escalation",
  "contact.request",
  "contact.accept",
  "contact.decline",
  "contact.cancel",
  "contact.expire",
]);

export function OverdueView() {
  const { t } = useI18n();
  const { api } = useDesk();
  const board = useLive(
    () => overdueBoard(api),
    (s) => WATCHED.has(eventKind(s) ?? ""),
  );
  const rows = board.data ?? [];
  return (
    <div class="desk-view overdue-view">
      <ViewHeading>{t("overdue.title")}</ViewHeading>
      <p class="hint">{t("overdue.intro")}</p>
      <ErrorLine error={board.error} />
      <Loading shown={!board.data && board.loading} />
      {board.data && rows.length === 0 && <p class="muted">{t("overdue.empty")}</p>}
      {rows.length > 0 && (
        <>
          <p class="summary-line" role="status">
            {t("overdue.count", { count: rows.length })}
          </p>
          <ul id="overdue" class="plain">
            {rows.map((item) => (
              <OverdueCard key={item.id} item={item} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function OverdueCard({ item }: { item: OverdueItem }) {
  const { t, dateTime, left } = useI18n();
  const now = useNodeNow();
  const deadline = parseTime(item.deadline);
  const overdueBy = Number.isFinite(now) ? (deadline - now) / 1000 : -item.overdue_seconds;
  const statusKey = `overdue.status.${item.status}` as Key;
  const status = t(statusKey) === statusKey ? item.status : t(statusKey);
  const kindKey = `overdue.kind.${item.kind}` as Key;
  const headingId = `overdue-${item.id.slice(0, 16)}`;
  return (
    <li class="card overdue-item" data-id={item.id}>
      <h2 id={headingId}>
        <span class="state bad">{t(kindKey) === kindKey ? item.kind : t(kindKey)}</span> {item.what}
      </h2>
      <p class="meta">
        {t("overdue.meta", {
          from: item.from,
          line: item.line,
          sent: dateTime(item.sent),
          owed: item.owed_by.join(", "),
        })}
      </p>
      <p class="due">
        {t("overdue.deadline", { deadline: dateTime(item.deadline) })}{" "}
        <strong class="deadline error">{left(overdueBy)}</strong> · <span class="state">{status}</span>
      </p>
      <h3>{t("overdue.steps")}</h3>
      {item.steps.length === 0 ? (
        <p class="muted">{t("overdue.noSteps")}</p>
      ) : (
        <ol class="timeline" aria-label={t("overdue.stepsOf", { what: item.what })}>
          {item.steps.map((s) => (
            <StepLine key={s.event} step={s} />
          ))}
        </ol>
      )}
      <p class="muted mono">{short(item.id)}</p>
    </li>
  );
}

function StepLine({ step }: { step: EscalationStep }) {
  const { t, dateTime } = useI18n();
  const actionKey = `overdue.action.${step.action ?? "unknown"}` as Key;
  const action = t(actionKey) === actionKey ? (step.action ?? "?") : t(actionKey);
  const to = Array.isArray(step.to) ? step.to.join(", ") : (step.to ?? "");
  const parts = [
    step.step ? t("overdue.stepNumber", { step: step.step, cycle: (step.cycle ?? 0) + 1 }) : "",
    t("overdue.route", { line: step.line }),
    to ? t("overdue.to", { to }) : "",
    step.outcome && step.outcome !== "done" ? t("overdue.outcome", { outcome: step.outcome }) : "",
  ].filter(Boolean);
  return (
    <li class="step" data-action={step.action ?? ""}>
      <time dateTime={step.at}>{dateTime(step.at)}</time> — <strong>{action}</strong>
      {parts.length > 0 && <> ({parts.join("; ")})</>}
    </li>
  );
}
