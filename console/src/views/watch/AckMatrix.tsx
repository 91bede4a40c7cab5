/** A message's acknowledgement matrix: each other party of its line, what it owes
 * (to, for information, observer, mediator), when its node signed that it holds the
 * message, who acknowledged it and when, and what the sender's node did about a
 * missing answer. */
import { ackMatrix } from "../../api/calls";
import { describeError } from "../../api/problem";
import type { MatrixRow } from "../../api/types";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";

const MATRIX_KINDS = new Set(["ack", "escalation", "message"]);

export function AckMatrixTable({ id, caption }: { id: string; caption?: string }) {
  const { t, dateTime } = useI18n();
  const { api } = useDesk();
  const matrix = useLive(
    () => ackMatrix(api, id),
    (s) => MATRIX_KINDS.has(eventKind(s) ?? ""),
    [id],
  );
  if (matrix.error && !matrix.data) {
    return (
      <p class="error" role="alert">
        {describeError(matrix.error, t)}
      </p>
    );
  }
  const m = matrix.data;
  if (!m) return <p role="status">{t("app.loading")}</p>;
  const acked = (r: MatrixRow) =>
    r.acked_at
      ? t("matrix.ackedBy", { by: r.acked_by ?? "", at: dateTime(r.acked_at) }) +
        (r.reply ? ` · ${t("reader.ackReply", { reply: r.reply })}` : "")
      : t("app.none");
  return (
    <table class="grid ack-matrix" data-message={m.message}>
      <caption>
        {caption ?? t("matrix.title")}{" "}
        <span class="muted">
          {t("matrix.summary", { acknowledged: m.acknowledged, owed: m.owed, count: m.owed })}
        </span>
      </caption>
      <thead>
        <tr>
          <th scope="col">{t("matrix.party")}</th>
          <th scope="col">{t("matrix.role")}</th>
          <th scope="col">{t("matrix.standing")}</th>
          <th scope="col">{t("matrix.received")}</th>
          <th scope="col">{t("matrix.acknowledged")}</th>
          <th scope="col">{t("matrix.escalated")}</th>
        </tr>
      </thead>
      <tbody>
        {m.parties.map((r) => (
          <tr key={r.party} data-party={r.party} class={`standing-${r.standing}`}>
            <th scope="row">{r.party}</th>
            <td>{t(`matrix.roles.${r.role}` as Key)}</td>
            <td class="standing">{t(`matrix.standings.${r.standing}` as Key)}</td>
            <td>{r.received_at ? dateTime(r.received_at) : t("app.none")}</td>
            <td>{acked(r)}</td>
            <td>
              {r.escalations.length
                ? r.escalations.map((a) => t(`matrix.actions.${a}` as Key)).join(", ")
                : t("app.none")}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
