/** A free-text message: line, kind, precedence, subject, text. Prefilled when it comes
 * from an alert's draft. */
import { useState } from "preact/hooks";
import { type NewAttachment, sendMessage } from "../../api/calls";
import { AttachDraw } from "../map/AttachDraw";
import { describeError } from "../../api/problem";
import type { Key } from "../../i18n/translate";
import { type PrefilledMessage, useDesk } from "../../shell/desk";
import { useI18n } from "../../shell/i18n";
import { writableLines } from "./lines";
import { PRECEDENCES } from "./inboxOrder";

const FALLBACK_KINDS = ["free", "notification", "query", "response", "incident", "warning"];

interface Props {
  id: string;
  prefill?: PrefilledMessage | null;
  onSent?: () => void;
}

export function FreeTextForm({ id, prefill, onSent }: Props) {
  const { t, lang } = useI18n();
  const { api, lines, me } = useDesk();
  const active = writableLines(lines, me.party);
  const blank = (): PrefilledMessage => ({
    line: active[0]?.id ?? "",
    kind: "free",
    precedence: "ROUTINE",
    subject: "",
    body: "",
  });
  const [form, setForm] = useState<PrefilledMessage>(() => ({ ...blank(), ...(prefill ?? {}) }));
  const [busy, setBusy] = useState(false);
  const [attachment, setAttachment] = useState<NewAttachment | null>(null);
  const [status, setStatus] = useState("");
  const [informed, setInformed] = useState<string[]>([]);
  const line = active.find((l) => l.id === form.line);
  // the other parties that write on the line: each is addressed, or only informed
  const others = (line?.parties ?? []).filter(
    (p) => p !== me.party && !(line?.observers ?? []).includes(p) && p !== line?.mediator,
  );
  const info = (line?.principals ?? []).filter((p) => informed.includes(p.split("/")[0] ?? ""));
  const kinds = line?.kinds.length ? line.kinds : FALLBACK_KINDS;
  const set = (field: keyof PrefilledMessage) => (e: Event) =>
    setForm({ ...form, [field]: (e.currentTarget as HTMLInputElement).value });

  if (!active.length) return <p class="muted">{t("compose.noLines")}</p>;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setStatus(t("compose.sending"));
    try {
      const sent = await sendMessage(api, {
        line: form.line,
        kind: form.kind,
        precedence: form.precedence,
        subject: form.subject,
        body: form.body,
        lang,
        alert: form.alert ?? null,
        ...(info.length ? { info } : {}),
        ...(attachment ? { attachments: [{ ...attachment, name: attachment.name.trim() || form.subject }] } : {}),
      });
      setStatus(
        t("compose.sent", {
          precedence: t(`precedence.${sent.content.precedence}` as Key),
          id: sent.id.slice(0, 12),
          line: sent.line,
        }),
      );
      setForm({ ...blank(), line: form.line });
      setAttachment(null);
      setInformed([]);
      onSent?.();
    } catch (err) {
      setStatus(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  const f = (name: string) => `${id}-${name}`;
  return (
    <form id={id} class="compose-form" onSubmit={submit}>
      <div class="row">
        <div class="field">
          <label for={f("line")}>{t("compose.line")}</label>
          <select id={f("line")} name="line" value={form.line} onChange={set("line")} required>
            {active.map((l) => (
              <option key={l.id} value={l.id}>
                {l.id}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={f("kind")}>{t("compose.kind")}</label>
          <select id={f("kind")} name="kind" value={form.kind} onChange={set("kind")}>
            {[...new Set([form.kind, ...kinds])].map((k) => (
              <option key={k} value={k}>
                {t(`kind.${k}` as Key) === `kind.${k}` ? k : t(`kind.${k}` as Key)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={f("precedence")}>{t("compose.precedence")}</label>
          <select id={f("precedence")} name="precedence" value={form.precedence} onChange={set("precedence")}>
            {PRECEDENCES.map((p) => (
              <option key={p} value={p}>
                {t(`precedence.${p}` as Key)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {others.length > 1 && (
        <fieldset class="addressees" id={f("addressees")}>
          <legend>{t("compose.addressees")}</legend>
          <p class="hint">{t("compose.addresseesHint")}</p>
          {others.map((p) => (
            <div class="field inline" key={p}>
              <label for={f(`to-${p}`)}>{p}</label>
              <select
                id={f(`to-${p}`)}
                name={`to-${p}`}
                value={informed.includes(p) ? "info" : "to"}
                onChange={(e) => {
                  const rest = informed.filter((x) => x !== p);
                  setInformed(e.currentTarget.value === "info" ? [...rest, p] : rest);
                }}
              >
                <option value="to">{t("compose.addressTo")}</option>
                <option value="info">{t("compose.addressInfo")}</option>
              </select>
            </div>
          ))}
          {informed.length >= others.length && (
            <p class="error" role="alert">
              {t("compose.nobodyAddressed")}
            </p>
          )}
        </fieldset>
      )}
      {line?.mediator && (
        <p class="hint">
          {t(line.mediator_reads === false ? "compose.mediatorSealed" : "compose.mediator", {
            mediator: line.mediator,
          })}
        </p>
      )}
      {(line?.observers?.length ?? 0) > 0 && (
        <p class="hint">{t("compose.observers", { observers: (line?.observers ?? []).join(", ") })}</p>
      )}
      <label for={f("subject")}>{t("compose.subject")}</label>
      <input
        id={f("subject")}
        name="subject"
        required
        maxLength={200}
        value={form.subject}
        onInput={set("subject")}
      />
      <label for={f("body")}>{t("compose.body")}</label>
      <textarea id={f("body")} name="body" rows={5} required value={form.body} onInput={set("body")} />
      <AttachDraw id={f("attach")} value={attachment} onChange={setAttachment} />
      <button type="submit" disabled={busy || (others.length > 1 && informed.length >= others.length)}>
        {t("compose.send")}
      </button>
      <p role="status" id={f("status")}>
        {status}
      </p>
    </form>
  );
}
