/** Contact requests (leader's staff): ask for a call, accept with a time, decline with a
 * reason, cancel, record the call held; and the record of refusals over time, as a chart
 * with its summary line ("7 requests in 30 days: 0 accepted, 5 declined, 2 unanswered"). */
import { useState } from "preact/hooks";
import type { Key } from "../../i18n/translate";
import { parseTime } from "../../time/parse";
import { useDesk } from "../../shell/desk";
import { useLive, useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import {
  type ContactAction,
  type ContactRequest,
  type PairStats,
  answerContact,
  contactStats,
  listContacts,
  requestContact,
} from "./calls";
import { ContactsChart } from "./ContactsChart";
import { buckets } from "./contactsChart";
import { ErrorLine, FormDialog, Loading, short, valueOf } from "./common";
import { utcFromInput } from "./leadTime";

const PERIODS = [
  { days: 30, bucket: 7 },
  { days: 90, bucket: 14 },
  { days: 365, bucket: 30 },
] as const;

const isContact = (kind: string | null) => (kind ?? "").startsWith("contact.");

type Answering = { request: ContactRequest; action: ContactAction };

export function ContactsView() {
  const { t } = useI18n();
  const { api } = useDesk();
  const [period, setPeriod] = useState<(typeof PERIODS)[number]>(PERIODS[0]);
  const requests = useLive(
    () => listContacts(api),
    (s) => s.type === "event" && isContact(s.event.kind),
  );
  const stats = useLive(
    () => contactStats(api, period.days),
    (s) => s.type === "event" && isContact(s.event.kind),
    [period.days],
  );
  const [asking, setAsking] = useState(false);
  const [answering, setAnswering] = useState<Answering | null>(null);
  const [status, setStatus] = useState("");
  const rows = requests.data ?? [];
  const done = (text: string | null) => {
    if (text) {
      setStatus(text);
      requests.reload();
      stats.reload();
    }
  };

  return (
    <div class="desk-view contacts-view">
      <ViewHeading>{t("contacts.title")}</ViewHeading>
      <div class="toolbar">
        <button type="button" id="contact-new" onClick={() => setAsking(true)} disabled={asking}>
          {t("contacts.new")}
        </button>
        <p role="status" id="contact-status">
          {status}
        </p>
      </div>
      {asking && (
        <RequestForm
          onDone={(text) => {
            setAsking(false);
            done(text);
          }}
        />
      )}
      <ErrorLine error={requests.error} />
      <Loading shown={!requests.data && requests.loading} />
      {requests.data && rows.length === 0 && <p class="muted">{t("contacts.empty")}</p>}
      {rows.length > 0 && (
        <table id="contacts" class="grid">
          <caption class="sr-only">{t("contacts.listTitle")}</caption>
          <colgroup>
            <col class="c-from" />
            <col class="c-from" />
            <col />
            <col class="c-act" />
            <col class="c-time" />
            <col class="c-ack" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">{t("contacts.from")}</th>
              <th scope="col">{t("contacts.to")}</th>
              <th scope="col">{t("contacts.topic")}</th>
              <th scope="col">{t("contacts.status")}</th>
              <th scope="col">{t("contacts.when")}</th>
              <th scope="col">{t("contacts.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <ContactRow key={r.id} request={r} onAction={(action) => setAnswering({ request: r, action })} />
            ))}
          </tbody>
        </table>
      )}
      <section aria-labelledby="contact-record-title" class="card">
        <h2 id="contact-record-title">{t("contacts.record")}</h2>
        <div class="toolbar">
          <label for="contact-period">{t("contacts.period")}</label>
          <select
            id="contact-period"
            value={String(period.days)}
            onChange={(e) => setPeriod(PERIODS.find((p) => String(p.days) === valueOf(e)) ?? PERIODS[0])}
          >
            {PERIODS.map((p) => (
              <option key={p.days} value={String(p.days)}>
                {t("contacts.lastDays", { count: p.days })}
              </option>
            ))}
          </select>
        </div>
        <ErrorLine error={stats.error} />
        {stats.data && stats.data.length === 0 && <p class="muted">{t("contacts.noRecord")}</p>}
        {(stats.data ?? []).map((pair) => (
          <PairRecord key={`${pair.from}-${pair.to}`} pair={pair} requests={rows} days={period.days} bucketDays={period.bucket} />
        ))}
      </section>
      {answering && (
        <AnswerDialog
          {...answering}
          onClose={(text) => {
            setAnswering(null);
            done(text);
          }}
        />
      )}
    </div>
  );
}

/** "7 requests in 30 days: 0 accepted, 5 declined, 2 unanswered" in the language. */
export function useSummary() {
  const { t } = useI18n();
  return (s: Pick<PairStats, "requested" | "accepted" | "declined" | "unanswered" | "cancelled" | "pending">, days: number) => {
    const base = t("contacts.summary", {
      requests: t("contacts.requests", { count: s.requested }),
      days: t("contacts.days", { count: days }),
      accepted: s.accepted,
      declined: s.declined,
      unanswered: s.unanswered,
    });
    const more = [
      s.pending ? t("contacts.summaryPending", { count: s.pending }) : "",
      s.cancelled ? t("contacts.summaryCancelled", { count: s.cancelled }) : "",
    ].filter(Boolean);
    return more.length ? `${base}; ${more.join(", ")}` : base;
  };
}

function PairRecord({
  pair,
  requests,
  days,
  bucketDays,
}: {
  pair: PairStats;
  requests: ContactRequest[];
  days: number;
  bucketDays: number;
}) {
  const { t } = useI18n();
  useNodeNow(60_000); // the buckets move on with the node's clock
  const { clock } = useDesk();
  const now = clock.now();
  const summary = useSummary();
  const mine = requests.filter((r) => r.from === pair.from && r.to === pair.to);
  const id = `chart-${pair.from}-${pair.to}`.replace(/[^A-Za-z0-9-]/g, "-");
  const line = summary(pair, days);
  return (
    <div class="pair-record" data-pair={`${pair.from}>${pair.to}`}>
      <h3>{t("contacts.pair", { from: pair.from, to: pair.to })}</h3>
      <p class="summary-line">{line}</p>
      {Number.isFinite(now) && (
        <ContactsChart
          id={id}
          caption={t("contacts.chart.caption", { from: pair.from, to: pair.to, summary: line })}
          buckets={buckets(mine, new Date(now), days, bucketDays)}
        />
      )}
    </div>
  );
}

function ContactRow({ request: r, onAction }: { request: ContactRequest; onAction: (a: ContactAction) => void }) {
  const { t, dateTime, left } = useI18n();
  const { me } = useDesk();
  const now = useNodeNow();
  const ours = r.from.split("/")[0] === me.party;
  const theirs = r.to.split("/")[0] === me.party;
  const statusKey = `contacts.statuses.${r.status}` as Key;
  const actions: ContactAction[] = [];
  if (r.status === "pending" && theirs) actions.push("accept", "decline");
  if (r.status === "pending" && ours) actions.push("cancel");
  if (r.status === "accepted") actions.push("held", "cancel");
  const due = parseTime(r.respond_by);
  return (
    <tr data-id={r.id} class={`contact ${r.status}`}>
      <td>{r.from}</td>
      <td>{r.to}</td>
      <td lang={r.lang}>
        {r.topic}
        {r.reason && (
          <>
            <br />
            <span class="muted">{t("contacts.reasonGiven", { reason: r.reason })}</span>
          </>
        )}
        {r.summary && (
          <>
            <br />
            <span class="muted">{t("contacts.summaryGiven", { summary: r.summary })}</span>
          </>
        )}
      </td>
      <td>
        <span class={`state ${r.status}`}>{t(statusKey) === statusKey ? r.status : t(statusKey)}</span>
      </td>
      <td>
        {r.status === "pending" ? (
          <>
            {t("contacts.respondBy", { time: dateTime(r.respond_by) })}
            <br />
            <span class="deadline">{left(Number.isFinite(now) ? (due - now) / 1000 : Number.NaN)}</span>
          </>
        ) : r.status === "accepted" && r.proposed_time ? (
          t("contacts.callAt", { time: dateTime(r.proposed_time) })
        ) : r.status === "held" && r.held_at ? (
          t("contacts.heldAt", { time: dateTime(r.held_at) })
        ) : (
          t("contacts.requestedAt", { time: dateTime(r.requested_at) })
        )}
      </td>
      <td>
        <div class="actions">
          {actions.map((a) => (
            <button
              key={a}
              type="button"
              class={`small${a === "decline" || a === "cancel" ? " secondary" : ""}`}
              data-action={a}
              onClick={() => onAction(a)}
              aria-label={t(`contacts.actionOf.${a}` as Key, { topic: r.topic })}
            >
              {t(`contacts.action.${a}` as Key)}
            </button>
          ))}
        </div>
      </td>
    </tr>
  );
}

function RequestForm({ onDone }: { onDone: (text: string | null) => void }) {
  const { t, dateTime } = useI18n();
  const { api, me, lines } = useDesk();
  const addressees = [
    ...new Set(
      lines
        .filter((l) => l.kind === "leaders" && l.status === "active" && l.principals.includes(me.principal))
        .flatMap((l) => l.principals)
        .filter((p) => p.split("/")[0] !== me.party),
    ),
  ];
  const [to, setTo] = useState(addressees[0] ?? "");
  const [topic, setTopic] = useState("");
  const [hours, setHours] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const window = hours.trim() ? Number(hours.replace(",", ".")) : undefined;
      const made = await requestContact(api, to, topic, window);
      onDone(t("contacts.requested", { to: made.to, time: dateTime(made.respond_by), id: short(made.id) }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form id="contact-form" class="desk-form card" onSubmit={submit} aria-labelledby="contact-form-title">
      <h2 id="contact-form-title">{t("contacts.newTitle")}</h2>
      {addressees.length === 0 && <p class="muted">{t("contacts.noLeadersLine")}</p>}
      <label for="contact-to">{t("contacts.to")}</label>
      {addressees.length > 0 ? (
        <select id="contact-to" name="to" value={to} onChange={(e) => setTo(valueOf(e))}>
          {addressees.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      ) : (
        <input id="contact-to" name="to" value={to} onInput={(e) => setTo(valueOf(e))} />
      )}
      <label for="contact-topic">{t("contacts.topic")}</label>
      <input id="contact-topic" name="topic" required maxLength={500} value={topic} onInput={(e) => setTopic(valueOf(e))} />
      <label for="contact-window">{t("contacts.window")}</label>
      <span class="hint" id="contact-window-hint">{t("contacts.windowHint")}</span>
      <input id="contact-window" name="window" inputMode="decimal" size={6} value={hours}
        onInput={(e) => setHours(valueOf(e))} aria-describedby="contact-window-hint" />
      <ErrorLine error={error} />
      <div class="buttons">
        <button type="submit" disabled={busy}>
          {t("contacts.submitRequest")}
        </button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          {t("app.cancel")}
        </button>
      </div>
    </form>
  );
}

function AnswerDialog({ request, action, onClose }: Answering & { onClose: (text: string | null) => void }) {
  const { t, dateTime } = useI18n();
  const { api } = useDesk();
  const [time, setTime] = useState("");
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const needsTime = action === "accept";
  const textField = action === "held" ? "summary" : "reason";
  const submit = async (e: Event) => {
    e.preventDefault();
    const at = time.trim() ? utcFromInput(time) : null;
    if ((needsTime && !at) || (time.trim() && !at)) {
      setProblem(t("contacts.errors.time"));
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      const body: { time?: string; reason?: string; summary?: string } = { [textField]: text };
      if (at) body.time = at;
      const after = await answerContact(api, request.id, action, body);
      onClose(
        t(`contacts.done.${action}` as Key, {
          topic: request.topic,
          time: after.proposed_time ? dateTime(after.proposed_time) : "",
        }),
      );
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const id = `contact-${action}`;
  return (
    <FormDialog id={id} title={t(`contacts.dialog.${action}` as Key, { topic: request.topic, from: request.from })} onClose={() => onClose(null)}>
      <form class="desk-form" onSubmit={submit}>
        {(needsTime || action === "held") && (
          <>
            <label for={`${id}-time`}>{t(needsTime ? "contacts.callTime" : "contacts.heldTime")}</label>
            <input id={`${id}-time`} name="time" type="datetime-local" required={needsTime} value={time} onInput={(e) => setTime(valueOf(e))} />
          </>
        )}
        <label for={`${id}-text`}>{t(action === "held" ? "contacts.summaryField" : action === "accept" ? "contacts.noteField" : "contacts.reasonField")}</label>
        <textarea id={`${id}-text`} name={textField} rows={3} required={action === "held"} value={text} onInput={(e) => setText(valueOf(e))} />
        {problem && (
          <p class="error" role="alert">
            {problem}
          </p>
        )}
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="submit" disabled={busy}>
            {t(`contacts.action.${action}` as Key)}
          </button>
          <button type="button" class="secondary" onClick={() => onClose(null)}>
            {t("app.cancel")}
          </button>
        </div>
      </form>
    </FormDialog>
  );
}
