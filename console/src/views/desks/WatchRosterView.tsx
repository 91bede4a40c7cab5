/** The watch roster (watch officer): who is on watch at each desk of the own party and
 * who comes next; hand the operator's own desk over with a note (signed by the desk, on
 * one of its lines). */
import { useState } from "preact/hooks";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { type WatchDesk, handOver, watchBoard } from "./calls";
import { ErrorLine, Loading, short, valueOf } from "./common";

export function WatchRosterView() {
  const { t, dateTime } = useI18n();
  const { api, me } = useDesk();
  const board = useLive(
    () => watchBoard(api),
    (s) => eventKind(s) === "watch.handover",
  );
  const [handing, setHanding] = useState<WatchDesk | null>(null);
  const [status, setStatus] = useState("");
  const rows = board.data ?? [];
  return (
    <div class="desk-view watch-view">
      <ViewHeading>{t("watch.title")}</ViewHeading>
      <p role="status" id="handover-status">
        {status}
      </p>
      <ErrorLine error={board.error} />
      <Loading shown={!board.data && board.loading} />
      {board.data && rows.length === 0 && <p class="muted">{t("watch.empty")}</p>}
      {rows.length > 0 && (
        <table id="watch-board" class="grid">
          <caption class="sr-only">{t("watch.title")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("watch.desk")}</th>
              <th scope="col">{t("watch.onWatch")}</th>
              <th scope="col">{t("watch.until")}</th>
              <th scope="col">{t("watch.next")}</th>
              <th scope="col">{t("watch.nextFrom")}</th>
              <th scope="col">{t("watch.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.desk} data-desk={d.desk}>
                <th scope="row">{d.desk}</th>
                <td class="on-watch">{d.on_watch ?? <span class="muted">{t("watch.nobody")}</span>}</td>
                <td>{d.until ? dateTime(d.until) : t("app.none")}</td>
                <td>{d.next ?? t("app.none")}</td>
                <td>{d.next_from ? dateTime(d.next_from) : t("app.none")}</td>
                <td>
                  {d.desk === me.principal && (
                    <button
                      type="button"
                      class="small"
                      data-action="handover"
                      onClick={() => setHanding(d)}
                      disabled={handing !== null}
                      aria-label={t("watch.handOverDesk", { desk: d.desk })}
                    >
                      {t("watch.handOver")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {handing && (
        <HandoverForm
          desk={handing}
          onDone={(text) => {
            setHanding(null);
            if (text) {
              setStatus(text);
              board.reload();
            }
          }}
        />
      )}
    </div>
  );
}

function HandoverForm({ desk, onDone }: { desk: WatchDesk; onDone: (status: string | null) => void }) {
  const { t } = useI18n();
  const { api, lines } = useDesk();
  const usable = lines.filter((l) => l.status === "active" && l.principals.includes(desk.desk));
  const [to, setTo] = useState(desk.next ?? "");
  const [note, setNote] = useState("");
  const [line, setLine] = useState(usable[0]?.id ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const done = await handOver(api, to.trim(), note, line || undefined);
      onDone(
        t("watch.handedOver", {
          desk: desk.desk,
          to: to.trim(),
          line: done.line,
          id: short(done.id),
        }),
      );
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form id="handover-form" class="desk-form card" onSubmit={submit} aria-labelledby="handover-title">
      <h2 id="handover-title">{t("watch.handOverTitle", { desk: desk.desk })}</h2>
      <p class="muted">
        {desk.on_watch
          ? t("watch.from", { officer: desk.on_watch })
          : t("watch.fromNobody")}
      </p>
      <label for="handover-to">{t("watch.to")}</label>
      <input id="handover-to" name="to" required value={to} onInput={(e) => setTo(valueOf(e))} autoFocus />
      {usable.length > 1 && (
        <>
          <label for="handover-line">{t("watch.line")}</label>
          <select id="handover-line" name="line" value={line} onChange={(e) => setLine(valueOf(e))}>
            {usable.map((l) => (
              <option key={l.id} value={l.id}>
                {l.id}
              </option>
            ))}
          </select>
        </>
      )}
      <label for="handover-note">{t("watch.note")}</label>
      <textarea id="handover-note" name="note" rows={4} required value={note} onInput={(e) => setNote(valueOf(e))} />
      <ErrorLine error={error} />
      <div class="buttons">
        <button type="submit" disabled={busy}>
          {t("watch.submit")}
        </button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          {t("app.cancel")}
        </button>
      </div>
    </form>
  );
}
