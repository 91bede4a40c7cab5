/** What the party sent on the operator's lines, with who acknowledged and their replies. */
import { useState } from "preact/hooks";
import { sentMessages } from "../../api/calls";
import { describeError } from "../../api/problem";
import type { SentAck } from "../../api/types";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { AckMatrixTable } from "./AckMatrix";

export function SentView() {
  const { t, dateTime } = useI18n();
  const { api } = useDesk();
  const sent = useLive(
    () => sentMessages(api),
    (s) => ["message", "ack"].includes(eventKind(s) ?? ""),
  );
  const ackText = (a: SentAck) => {
    const at = dateTime(a.at);
    const head = a.officer
      ? t("sent.ackedByOfficer", { by: a.by, officer: a.officer, at })
      : t("sent.ackedBy", { by: a.by, at });
    return a.reply ? `${head}; ${t("sent.reply", { reply: a.reply })}` : head;
  };
  const rows = sent.data ?? [];
  const [open, setOpen] = useState<string[]>([]);
  const toggle = (id: string) =>
    setOpen(open.includes(id) ? open.filter((x) => x !== id) : [...open, id]);
  return (
    <div class="sent-view">
      <ViewHeading>{t("sent.title")}</ViewHeading>
      {sent.error !== null && (
        <p class="error" role="alert">
          {describeError(sent.error, t)}
        </p>
      )}
      {!sent.data && sent.loading && <p role="status">{t("app.loading")}</p>}
      {sent.data && rows.length === 0 && <p class="muted">{t("sent.empty")}</p>}
      {rows.length > 0 && (
        <table id="sent" class="grid">
          <caption class="sr-only">{t("sent.title")}</caption>
          <colgroup>
            <col class="c-prec" />
            <col class="c-subject" />
            <col class="c-line" />
            <col class="c-time" />
            <col class="c-ack" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">{t("inbox.precedence")}</th>
              <th scope="col">{t("inbox.subject")}</th>
              <th scope="col">{t("inbox.line")}</th>
              <th scope="col">{t("sent.when")}</th>
              <th scope="col">{t("sent.ack")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => [
              <tr key={m.id} data-id={m.id} class={m.content.precedence.toLowerCase()}>
                <td class="prec">{t(`precedence.${m.content.precedence}` as Key)}</td>
                <td class="subject" lang={m.content.lang}>
                  {typeof m.content.number === "number" && (
                    <span class="number">{`${m.party} ${m.content.number} · `}</span>
                  )}
                  {m.content.subject}
                </td>
                <td>{m.line}</td>
                <td>{dateTime(m.ts)}</td>
                <td class="ack">
                  {m.acks.length ? (
                    <ul class="plain">
                      {m.acks.map((a, i) => (
                        <li key={i}>{ackText(a)}</li>
                      ))}
                    </ul>
                  ) : (
                    <span class="muted">{t("sent.awaiting")}</span>
                  )}
                  {(m.owed?.length ?? 0) > 1 && (
                    <button
                      type="button"
                      class="link matrix-toggle"
                      aria-expanded={open.includes(m.id)}
                      aria-controls={`matrix-${m.id}`}
                      onClick={() => toggle(m.id)}
                    >
                      {t("matrix.summary", {
                        acknowledged: m.acks.filter((a) => m.owed?.includes(a.by.split("/")[0] ?? "")).length,
                        owed: m.owed?.length ?? 0,
                        count: m.owed?.length ?? 0,
                      })}
                    </button>
                  )}
                </td>
              </tr>,
              open.includes(m.id) && (
                <tr key={`${m.id}-matrix`} id={`matrix-${m.id}`} class="matrix-row">
                  <td colSpan={5}>
                    <AckMatrixTable id={m.id} />
                  </td>
                </tr>
              ),
            ])}
          </tbody>
        </table>
      )}
    </div>
  );
}
