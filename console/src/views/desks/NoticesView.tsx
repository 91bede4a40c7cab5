/** Notifications of intent (watch officer): what this side and the other announced, with
 * where each stands; compose one with its activity, window, area, units and remark, the
 * lead time checked on the node's clock before sending; amend and cancel. */
import { useEffect, useState } from "preact/hooks";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive, useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { PRECEDENCES } from "../watch/inboxOrder";
import { type Area, type AreaFields, type RadiusUnit, areaFields, parseCircle, parsePolygon } from "./area";
import { AreaDraw } from "../map/AreaDraw";

/** The area the fields describe, when they describe one. */
function typedArea(fields: AreaFields): Area | null {
  const parsed =
    fields.mode === "circle" ? parseCircle(fields.centre, fields.radius, fields.unit) : parsePolygon(fields.points);
  return parsed.ok ? (parsed.value as Area) : null;
}
import {
  type Activity,
  type Notice,
  type NoticeFields,
  amendNotice,
  cancelNotice,
  shortNotice,
  listNotices,
  noticeActivities,
  sendNotice,
} from "./calls";
import { ErrorLine, FormDialog, Loading, short, valueOf } from "./common";
import { compactSpan, inputFromUtc, leadTime, utcFromInput } from "./leadTime";

const KNOWN_ACTIVITIES = [
  "missile_launch",
  "air_patrol",
  "surveillance_flight",
  "naval_exercise",
  "strategic_exercise",
  "ground_manoeuvre",
  "other",
];

type Mode = { kind: "new" } | { kind: "amend"; notice: Notice };

export function NoticesView() {
  const { t } = useI18n();
  const { api, me } = useDesk();
  const notices = useLive(
    () => listNotices(api),
    (s) => eventKind(s) === "message",
  );
  const activities = useLive(
    () => noticeActivities(api).catch(() => [] as Activity[]),
    () => false,
  );
  const [mode, setMode] = useState<Mode | null>(null);
  const [cancelling, setCancelling] = useState<Notice | null>(null);
  const [status, setStatus] = useState("");
  const rows = notices.data ?? [];

  return (
    <div class="desk-view notices-view">
      <ViewHeading>{t("notices.title")}</ViewHeading>
      <div class="toolbar">
        <button type="button" id="notice-new" onClick={() => setMode({ kind: "new" })} disabled={mode !== null}>
          {t("notices.new")}
        </button>
        <p role="status" id="notice-status">
          {status}
        </p>
      </div>
      {mode && (
        <NoticeForm
          key={mode.kind === "amend" ? mode.notice.id : "new"}
          mode={mode}
          activities={activities.data ?? []}
          onDone={(text) => {
            setMode(null);
            if (text) setStatus(text);
            notices.reload();
          }}
        />
      )}
      <ErrorLine error={notices.error} />
      <Loading shown={!notices.data && notices.loading} />
      {notices.data && rows.length === 0 && <p class="muted">{t("notices.empty")}</p>}
      {rows.length > 0 && (
        <table id="notices" class="grid">
          <caption class="sr-only">{t("notices.title")}</caption>
          <colgroup>
            <col class="c-from" />
            <col />
            <col class="c-time" />
            <col />
            <col />
            <col class="c-act" />
            <col class="c-act" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">{t("notices.from")}</th>
              <th scope="col">{t("notices.activity")}</th>
              <th scope="col">{t("notices.window")}</th>
              <th scope="col">{t("notices.area")}</th>
              <th scope="col">{t("notices.units")}</th>
              <th scope="col">{t("notices.state")}</th>
              <th scope="col">{t("notices.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => (
              <NoticeRow
                key={n.id}
                notice={n}
                ours={n.from.split("/")[0] === me.party}
                busy={mode !== null}
                onAmend={() => setMode({ kind: "amend", notice: n })}
                onCancel={() => setCancelling(n)}
              />
            ))}
          </tbody>
        </table>
      )}
      {cancelling && (
        <CancelDialog
          notice={cancelling}
          onClose={(text) => {
            setCancelling(null);
            if (text) {
              setStatus(text);
              notices.reload();
            }
          }}
        />
      )}
    </div>
  );
}

function useActivityLabel() {
  const { t } = useI18n();
  return (activity: string | null | undefined) => {
    if (!activity) return t("app.none");
    const key = `notices.activities.${activity}` as Key;
    const label = t(key);
    return label === key ? activity.replace(/_/g, " ") : label;
  };
}

function useAreaText() {
  const { t } = useI18n();
  return (area: unknown): string => {
    const fields = areaFields(area);
    if (!area) return t("app.none");
    if (fields.mode === "circle") {
      return t("notices.circleText", { radius: fields.radius, unit: t(`notices.unit.${fields.unit}` as Key), centre: fields.centre });
    }
    const count = fields.points ? fields.points.split("\n").length : 0;
    return t("notices.polygonText", { count, points: fields.points.split("\n").join("; ") });
  };
}

function NoticeRow({
  notice,
  ours,
  busy,
  onAmend,
  onCancel,
}: {
  notice: Notice;
  ours: boolean;
  busy: boolean;
  onAmend: () => void;
  onCancel: () => void;
}) {
  const { t, dateTime } = useI18n();
  const label = useActivityLabel();
  const areaText = useAreaText();
  const stateKey = `notices.states.${notice.state}` as Key;
  const stateText = t(stateKey) === stateKey ? notice.state : t(stateKey);
  return (
    <tr data-id={notice.id} class={`notice ${notice.state}`}>
      <td>
        {notice.from}
        <br />
        <span class="muted mono">{short(notice.id)}</span>
      </td>
      <td class="activity">
        {label(notice.activity)}
        {notice.short_notice && (
          <span class="notice-short">
            <br />
            {t("notices.shortRecorded", {
              given: notice.short_notice.given,
              required: notice.short_notice.required,
              by: notice.short_notice.confirmed_by,
            })}
          </span>
        )}
      </td>
      <td>
        {notice.window ? (
          <>
            {dateTime(notice.window.start)}
            <br />
            {t("notices.until", { end: dateTime(notice.window.end) })}
          </>
        ) : (
          t("app.none")
        )}
      </td>
      <td>{areaText(notice.area)}</td>
      <td>{(notice.units ?? []).join(", ") || t("app.none")}</td>
      <td>
        <span class={`state ${notice.state}`}>{stateText}</span>
      </td>
      <td>
        {ours && notice.state !== "cancelled" ? (
          <div class="actions">
            <button type="button" class="small" data-action="amend" onClick={onAmend} disabled={busy}
              aria-label={t("notices.amendOf", { activity: label(notice.activity), id: short(notice.id) })}>
              {t("notices.amend")}
            </button>
            <button type="button" class="small secondary" data-action="cancel" onClick={onCancel}
              aria-label={t("notices.cancelOf", { activity: label(notice.activity), id: short(notice.id) })}>
              {t("notices.cancel")}
            </button>
          </div>
        ) : (
          <span class="muted">{ours ? "" : t("notices.theirs")}</span>
        )}
      </td>
    </tr>
  );
}

interface FormState {
  line: string;
  activity: string;
  start: string;
  end: string;
  area: AreaFields;
  units: string;
  remark: string;
  precedence: string;
}

function initial(mode: Mode, line: string): FormState {
  if (mode.kind === "amend") {
    const n = mode.notice;
    return {
      line: n.line,
      activity: n.activity ?? "other",
      start: inputFromUtc(n.window?.start),
      end: inputFromUtc(n.window?.end),
      area: areaFields(n.area),
      units: (n.units ?? []).join("\n"),
      remark: n.remark ?? "",
      precedence: n.precedence ?? "PRIORITY",
    };
  }
  return {
    line,
    activity: "missile_launch",
    start: "",
    end: "",
    area: areaFields(null),
    units: "",
    remark: "",
    precedence: "PRIORITY",
  };
}

function NoticeForm({
  mode,
  activities,
  onDone,
}: {
  mode: Mode;
  activities: Activity[];
  onDone: (status: string | null) => void;
}) {
  const { t } = useI18n();
  const { api, lines } = useDesk();
  const label = useActivityLabel();
  const now = useNodeNow();
  const usable = lines.filter((l) => l.status === "active" && (!l.kinds.length || l.kinds.includes("notification")));
  const [form, setForm] = useState<FormState>(() => initial(mode, usable[0]?.id ?? ""));
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<{ fields: NoticeFields; required: number; given: number } | null>(null);

  const set = (field: keyof FormState) => (e: Event) => setForm({ ...form, [field]: valueOf(e) });
  const setArea = (field: keyof AreaFields) => (e: Event) =>
    setForm({ ...form, area: { ...form.area, [field]: valueOf(e) } });
  const [onLine, setOnLine] = useState<Activity[] | null>(null);
  useEffect(() => {
    if (!form.line) return;
    noticeActivities(api, form.line).then(setOnLine, () => setOnLine(null)); // the node's, then
  }, [api, form.line]);
  const known = onLine ?? activities;
  const kinds = known.length ? known.map((a) => a.activity) : KNOWN_ACTIVITIES;
  const rule = known.find((a) => a.activity === form.activity)?.lead_time_seconds ?? null;
  const startIso = utcFromInput(form.start);
  const units = { d: t("notices.span.d"), h: t("notices.span.h"), m: t("notices.span.m") };
  const check = startIso && Number.isFinite(now) ? leadTime(rule, new Date(startIso), new Date(now)) : null;

  const fields = (confirm: boolean): NoticeFields | null => {
    const start = utcFromInput(form.start);
    const end = utcFromInput(form.end);
    if (!start || !end) {
      setProblem(t("notices.errors.window"));
      return null;
    }
    if (end <= start) {
      setProblem(t("notices.errors.order"));
      return null;
    }
    const parsed =
      form.area.mode === "circle"
        ? parseCircle(form.area.centre, form.area.radius, form.area.unit)
        : parsePolygon(form.area.points);
    if (!parsed.ok) {
      setProblem(t(`notices.errors.${parsed.problem.key}` as Key, parsed.problem.values));
      return null;
    }
    const named = form.units.split(/\n|,/).map((u) => u.trim()).filter(Boolean);
    if (!named.length) {
      setProblem(t("notices.errors.units"));
      return null;
    }
    setProblem(null);
    return {
      activity: form.activity,
      start,
      end,
      area: parsed.value as Area,
      units: named,
      remark: form.remark,
      precedence: form.precedence,
      confirm_short_notice: confirm,
    };
  };

  const send = async (given: NoticeFields) => {
    setBusy(true);
    setError(null);
    try {
      const sent =
        mode.kind === "amend"
          ? await amendNotice(api, mode.notice.id, given)
          : await sendNotice(api, form.line, given);
      const shortNotice = sent.content.intent?.short_notice;
      const text = t(mode.kind === "amend" ? "notices.amended" : "notices.sent", {
        activity: label(given.activity),
        id: short(sent.id),
        line: sent.line,
      });
      onDone(shortNotice ? `${text} ${t("notices.shortSent", { given: shortNotice.given, required: shortNotice.required })}` : text);
    } catch (err) {
      const short = given.confirm_short_notice ? null : shortNotice(err);
      if (short) {
        setConfirming({ fields: given, ...short });
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: Event) => {
    e.preventDefault();
    const given = fields(false);
    if (given) void send(given);
  };

  const id = "notice-form";
  const f = (name: string) => `${id}-${name}`;
  if (mode.kind === "new" && !usable.length) {
    return (
      <div class="card">
        <p class="muted">{t("notices.noLines")}</p>
        <button type="button" onClick={() => onDone(null)}>{t("app.close")}</button>
      </div>
    );
  }
  return (
    <form id={id} class="desk-form card" onSubmit={submit} aria-labelledby={f("title")} noValidate>
      <h2 id={f("title")}>
        {mode.kind === "amend"
          ? t("notices.amendTitle", { activity: label(mode.notice.activity), id: short(mode.notice.id) })
          : t("notices.newTitle")}
      </h2>
      <div class="row">
        {mode.kind === "new" && (
          <div class="field">
            <label for={f("line")}>{t("notices.line")}</label>
            <select id={f("line")} name="line" value={form.line} onChange={set("line")}>
              {usable.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.id}
                </option>
              ))}
            </select>
          </div>
        )}
        <div class="field">
          <label for={f("activity")}>{t("notices.activity")}</label>
          <select id={f("activity")} name="activity" value={form.activity} onChange={set("activity")}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {label(k)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={f("precedence")}>{t("notices.precedence")}</label>
          <select id={f("precedence")} name="precedence" value={form.precedence} onChange={set("precedence")}>
            {PRECEDENCES.map((p) => (
              <option key={p} value={p}>
                {t(`precedence.${p}` as Key)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="row">
        <div class="field">
          <label for={f("start")}>{t("notices.start")}</label>
          <input id={f("start")} name="start" type="datetime-local" required value={form.start} onInput={set("start")} aria-describedby={f("lead")} />
        </div>
        <div class="field">
          <label for={f("end")}>{t("notices.end")}</label>
          <input id={f("end")} name="end" type="datetime-local" required value={form.end} onInput={set("end")} />
        </div>
      </div>
      <p id={f("lead")} class={`lead${check?.short ? " short" : ""}`} aria-live="polite">
        {!check
          ? t("notices.leadUnknown")
          : check.given < 0
            ? t("notices.leadPast")
            : check.required === null
              ? t("notices.leadNoRule", { given: compactSpan(check.given, units) })
              : t(check.short ? "notices.leadShort" : "notices.leadEnough", {
                  given: compactSpan(check.given, units),
                  required: compactSpan(check.required, units),
                  activity: label(form.activity),
                })}
      </p>
      <fieldset>
        <legend>{t("notices.area")}</legend>
        <div>
          <label class="choice">
            <input type="radio" name="area-mode" value="polygon" checked={form.area.mode === "polygon"}
              onChange={() => setForm({ ...form, area: { ...form.area, mode: "polygon" } })} />
            {t("notices.polygon")}
          </label>
          <label class="choice">
            <input type="radio" name="area-mode" value="circle" checked={form.area.mode === "circle"}
              onChange={() => setForm({ ...form, area: { ...form.area, mode: "circle" } })} />
            {t("notices.circle")}
          </label>
        </div>
        <AreaDraw
          area={typedArea(form.area)}
          onArea={(drawn) => setForm((f) => ({ ...f, area: { ...areaFields(drawn), unit: "center" in drawn ? drawn.unit : f.area.unit } }))}
        />
        {form.area.mode === "polygon" ? (
          <div class="field">
            <label for={f("points")}>{t("notices.points")}</label>
            <span class="hint" id={f("points-hint")}>{t("notices.pointsHint")}</span>
            <textarea id={f("points")} name="points" rows={4} value={form.area.points} onInput={setArea("points")} aria-describedby={f("points-hint")} />
          </div>
        ) : (
          <div class="row">
            <div class="field">
              <label for={f("centre")}>{t("notices.centre")}</label>
              <input id={f("centre")} name="centre" value={form.area.centre} onInput={setArea("centre")} aria-describedby={f("centre-hint")} />
              <span class="hint" id={f("centre-hint")}>{t("notices.centreHint")}</span>
            </div>
            <div class="field">
              <label for={f("radius")}>{t("notices.radius")}</label>
              <input id={f("radius")} name="radius" inputMode="decimal" size={6} value={form.area.radius} onInput={setArea("radius")} />
            </div>
            <div class="field">
              <label for={f("unit")}>{t("notices.radiusUnit")}</label>
              <select id={f("unit")} name="unit" value={form.area.unit}
                onChange={(e) => setForm({ ...form, area: { ...form.area, unit: valueOf(e) as RadiusUnit } })}>
                <option value="km">{t("notices.unit.km")}</option>
                <option value="NM">{t("notices.unit.NM")}</option>
              </select>
            </div>
          </div>
        )}
      </fieldset>
      <label for={f("units")}>{t("notices.units")}</label>
      <span class="hint" id={f("units-hint")}>{t("notices.unitsHint")}</span>
      <textarea id={f("units")} name="units" rows={2} value={form.units} onInput={set("units")} aria-describedby={f("units-hint")} />
      <label for={f("remark")}>{t("notices.remark")}</label>
      <textarea id={f("remark")} name="remark" rows={3} maxLength={2000} value={form.remark} onInput={set("remark")} />
      {problem && (
        <p class="error" role="alert" id={f("problem")}>
          {problem}
        </p>
      )}
      <ErrorLine error={error} />
      <div class="buttons">
        <button type="submit" disabled={busy}>
          {mode.kind === "amend" ? t("notices.sendAmendment") : t("notices.send")}
        </button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          {t("app.cancel")}
        </button>
      </div>
      {confirming && (
        <FormDialog id="short-notice" title={t("notices.shortTitle")} onClose={() => setConfirming(null)}>
          <p>
            {t("notices.shortRefused", {
              activity: label(confirming.fields.activity),
              required: compactSpan(confirming.required, units),
              given: compactSpan(confirming.given, units),
            })}
          </p>
          <p>{t("notices.shortQuestion")}</p>
          <div class="buttons">
            <button
              type="button"
              id="short-notice-confirm"
              onClick={() => {
                const again = { ...confirming.fields, confirm_short_notice: true };
                setConfirming(null);
                void send(again);
              }}
            >
              {t("notices.shortConfirm")}
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(null)}>
              {t("notices.shortBack")}
            </button>
          </div>
        </FormDialog>
      )}
    </form>
  );
}

function CancelDialog({ notice, onClose }: { notice: Notice; onClose: (status: string | null) => void }) {
  const { t } = useI18n();
  const { api } = useDesk();
  const label = useActivityLabel();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const sent = await cancelNotice(api, notice.id, reason);
      onClose(t("notices.cancelled", { activity: label(notice.activity), id: short(sent.id) }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <FormDialog
      id="notice-cancel"
      title={t("notices.cancelTitle", { activity: label(notice.activity), id: short(notice.id) })}
      onClose={() => onClose(null)}
    >
      <form class="desk-form" onSubmit={submit}>
        <label for="notice-cancel-reason">{t("notices.reason")}</label>
        <textarea id="notice-cancel-reason" name="reason" rows={3} value={reason} onInput={(e) => setReason(valueOf(e))} />
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="submit" disabled={busy}>
            {t("notices.cancelConfirm")}
          </button>
          <button type="button" class="secondary" onClick={() => onClose(null)}>
            {t("notices.keep")}
          </button>
        </div>
      </form>
    </FormDialog>
  );
}
