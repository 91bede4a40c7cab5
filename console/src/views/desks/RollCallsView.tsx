/** Roll calls (watch officer): those on the desk's service lines, newest first, with who
 * answered when and the outcome, and this month's figures for each party asked, as both
 * sides count them from the record. */
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { listRollCalls, type RollCallItem, type RollCallMonth, rollCallMonth } from "./calls";
import { ErrorLine, Loading } from "./common";

interface Loaded {
  calls: RollCallItem[];
  months: RollCallMonth[];
}

async function load(api: Parameters<typeof listRollCalls>[0], month: string): Promise<Loaded> {
  const calls = await listRollCalls(api);
  const pairs = new Map<string, [string, string]>();
  for (const c of calls) pairs.set(`${c.line} ${c.to}`, [c.line, c.to]);
  const months = await Promise.all([...pairs.values()].map(([line, party]) => rollCallMonth(api, line, party, month)));
  return { calls, months };
}

export function RollCallsView() {
  const { t, dateTime } = useI18n();
  const { api, clock } = useDesk();
  const month = new Date(clock.now()).toISOString().slice(0, 7);
  const data = useLive(
    () => load(api, month),
    (s) => s.type === "event" && s.event.kind.startsWith("rollcall"),
    [month],
  );
  const calls = data.data?.calls ?? [];
  return (
    <div class="desk-view rollcalls-view">
      <ViewHeading>{t("rollcall.view")}</ViewHeading>
      <p class="muted">{t("rollcall.intro")}</p>
      <ErrorLine error={data.error} />
      <Loading shown={!data.data && data.loading} />
      {data.data?.months.map((m) => (
        <p key={`${m.line}-${m.party}`} class="rollcall-month">
          <strong>{m.line}</strong>:{" "}
          {t("rollcall.month", {
            party: m.party,
            total: m.total,
            answered: m.answered,
            late: m.late,
            unanswered: m.unanswered,
            median: m.median_s !== null ? t("rollcall.median", { s: Math.round(m.median_s) }) : "",
          })}
        </p>
      ))}
      {data.data && calls.length === 0 && <p class="muted">{t("rollcall.empty")}</p>}
      {calls.length > 0 && (
        <table class="grid" id="rollcalls">
          <caption class="sr-only">{t("rollcall.view")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("rollcall.at")}</th>
              <th scope="col">{t("rollcall.askedBy")}</th>
              <th scope="col">{t("rollcall.answeredBy")}</th>
              <th scope="col">{t("rollcall.outcome")}</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.id} data-outcome={c.outcome}>
                <td>
                  {dateTime(c.at)} · {c.line}
                </td>
                <td>
                  {c.asked_by} → {c.to}
                </td>
                <td>
                  {c.answered_by
                    ? t("rollcall.answeredAfter", {
                        by: `${c.answered_by}${c.officer ? ` (${c.officer})` : ""}`,
                        s: Math.round(c.response_s ?? 0),
                      })
                    : t("app.none")}
                </td>
                <td>{t(`rollcall.outcomes.${c.outcome}` as Key)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
