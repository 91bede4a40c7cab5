/** The inbox by precedence with countdowns on the node's clock. Tab reaches each
 * message, Enter opens it, `a` acknowledges the selected one. */
import { useEffect, useRef, useState } from "preact/hooks";
import { AlarmPlan } from "../../alarm/plan";
import { acknowledgeMessage } from "../../api/calls";
import { describeError } from "../../api/problem";
import type { InboxItem } from "../../api/types";
import type { Key } from "../../i18n/translate";
import { alarming } from "../../shell/Alarms";
import { useDesk } from "../../shell/desk";
import { useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { parseTime } from "../../time/parse";
import type { ViewProps } from "../registry";
import { orderInbox } from "./inboxOrder";
import { Reader } from "./Reader";
import { SilenceDialog } from "./SilenceDialog";

/** Keys typed into a field are the field's, not the inbox's. */
export function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) ||
    target.closest("dialog[open]") !== null
  );
}

/** Up and down arrows move between the inbox's messages. */
function moveAmongRows(e: KeyboardEvent): void {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  const buttons = [...document.querySelectorAll<HTMLButtonElement>("#inbox button.row-open")];
  const at = buttons.indexOf(e.currentTarget as HTMLButtonElement);
  const next = buttons[at + (e.key === "ArrowDown" ? 1 : -1)];
  if (next) {
    e.preventDefault();
    next.focus();
  }
}

/** Escape in the reader goes back to the message's row. */
function backToRow(e: KeyboardEvent, id: string | null): void {
  if (e.key !== "Escape" || !id || typingIn(e.target)) return;
  const row = document.querySelector<HTMLButtonElement>(
    `#inbox tr[data-id="${CSS.escape(id)}"] button.row-open`,
  );
  if (row) {
    e.preventDefault();
    row.focus();
  }
}

export function InboxView({ arg }: ViewProps) {
  const { t, left, lang } = useI18n();
  const { api, inbox, alarms, navigate } = useDesk();
  const now = useNodeNow();
  const items = orderInbox(inbox.items, now);
  const [selected, setSelected] = useState<string | null>(arg);
  const [status, setStatus] = useState("");
  const [silencing, setSilencing] = useState<InboxItem | null>(null);
  const readerHeading = useRef<HTMLHeadingElement>(null);
  const opened = arg;

  useEffect(() => {
    if (arg) setSelected(arg);
  }, [arg]);

  const ack = async (item: InboxItem) => {
    setStatus(t("reader.acking"));
    try {
      await acknowledgeMessage(api, item.id, null, lang);
      setStatus(t("reader.acked"));
      inbox.reload();
    } catch (err) {
      setStatus(describeError(err, t));
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "a" || e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target)) return;
      const item = inbox.items.find((i) => i.id === selected);
      if (item && item.acked_by === null && item.owed !== false) {
        e.preventDefault();
        void ack(item);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });

  const open = (item: InboxItem) => {
    setSelected(item.id);
    navigate("inbox", item.id);
  };

  useEffect(() => {
    if (opened) readerHeading.current?.focus();
  }, [opened]);

  const waiting = items.filter((i) => i.acked_by === null && i.owed !== false).length;
  return (
    <div class="inbox-view">
      <ViewHeading>{t("inbox.title")}</ViewHeading>
      <p class="hint" id="inbox-keys">
        {t("inbox.keys")}
      </p>
      <p class="summary" role="status">
        {inbox.loaded ? t("inbox.summary", { count: waiting }) : t("app.loading")}
      </p>
      {inbox.error !== null && (
        <p class="error" role="alert">
          {describeError(inbox.error, t)}
        </p>
      )}
      {items.length === 0 && inbox.loaded ? (
        <p class="muted" id="inbox-empty">
          {t("inbox.empty")}
        </p>
      ) : (
        <table id="inbox" class="grid">
          <caption class="sr-only">{t("inbox.title")}</caption>
          <colgroup>
            <col class="c-prec" />
            <col class="c-from" />
            <col class="c-subject" />
            <col class="c-line" />
            <col class="c-left" />
            <col class="c-act" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">{t("inbox.precedence")}</th>
              <th scope="col">{t("inbox.from")}</th>
              <th scope="col">{t("inbox.subject")}</th>
              <th scope="col">{t("inbox.line")}</th>
              <th scope="col">{t("inbox.left")}</th>
              <th scope="col">{t("inbox.status")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => {
              const deadline = parseTime(item.deadline);
              const acked = item.acked_by !== null;
              const informed = item.owed === false;
              const overdue = !acked && !informed && deadline <= now;
              const wants = AlarmPlan.wants(alarming(item), now);
              const quiet = alarms.silencedUntil(item.id, now);
              return (
                <tr
                  key={item.id}
                  data-id={item.id}
                  class={[
                    item.precedence.toLowerCase(),
                    acked ? "acked" : "",
                    overdue ? "overdue" : "",
                    item.id === selected ? "selected" : "",
                  ].join(" ")}
                >
                  <td class="prec">{t(`precedence.${item.precedence}` as Key)}</td>
                  <td>{item.from}</td>
                  <td class="subject">
                    <button
                      type="button"
                      class="row-open"
                      aria-current={item.id === selected ? "true" : undefined}
                      aria-describedby="inbox-keys"
                      onFocus={() => setSelected(item.id)}
                      onClick={() => open(item)}
                      onKeyDown={(e) => moveAmongRows(e)}
                    >
                      {item.exercise ? `${t("inbox.exercise")} ` : ""}
                      {item.subject}
                    </button>
                  </td>
                  <td>{item.line}</td>
                  <td class="left">
                    {acked
                      ? item.officer
                        ? t("inbox.ackedOfficer", { by: item.acked_by ?? "", officer: item.officer })
                        : t("inbox.acked", { by: item.acked_by ?? "" })
                      : informed
                        ? t("inbox.informed")
                        : left((deadline - now) / 1000)}
                  </td>
                  <td class="act">
                    {wants && quiet === null && (
                      <button type="button" class="secondary small" onClick={() => setSilencing(item)}>
                        {t("inbox.silence")}
                      </button>
                    )}
                    {quiet !== null && <SilencedUntil until={quiet} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p class="status" role="status" id="inbox-status">
        {status}
      </p>
      {silencing && (
        <SilenceDialog
          item={silencing}
          onClose={(minutes) => {
            if (minutes) alarms.silence(silencing.id, now + minutes * 60_000);
            setSilencing(null);
          }}
        />
      )}
      <div onKeyDown={(e) => backToRow(e, opened)}>
      <Reader
        id={opened}
        item={inbox.items.find((i) => i.id === opened) ?? null}
        headingRef={readerHeading}
        onAcked={() => inbox.reload()}
      />
      </div>
    </div>
  );
}

function SilencedUntil({ until }: { until: number }) {
  const { t, clock } = useI18n();
  return <span class="muted">{t("inbox.silenced", { time: clock(until) })}</span>;
}
