/** Paging (every desk that can be paged): what the node has paged this desk about —
 * a FLASH or IMMEDIATE message waiting for its acknowledgement, or an escalation alert —
 * each page (to whom, by which means, how it went) and who reacted when. "I have it"
 * stops the paging of an item; the acknowledgement is still due. */
import { useState } from "preact/hooks";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { type PagedItem, pagedItems, pagingPlan, takePage } from "./calls";
import { ErrorLine, Loading } from "./common";

const RELOAD_KINDS = new Set(["message", "ack", "escalation"]);

export function PagesView() {
  const { t } = useI18n();
  const { api, me } = useDesk();
  const plan = useLive(
    () => pagingPlan(api),
    () => false,
  );
  const pages = useLive(
    () => pagedItems(api),
    (s) => RELOAD_KINDS.has(eventKind(s) ?? ""),
  );
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const items = pages.data ?? [];
  const take = async (item: PagedItem) => {
    setError(null);
    try {
      await takePage(api, item.item);
      setStatus(t("pages.taken", { subject: item.subject }));
      pages.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="desk-view pages-view">
      <ViewHeading>{t("pages.title")}</ViewHeading>
      <p class="muted">{t("pages.intro")}</p>
      {plan.data && <Chain chain={plan.data.desks[me.principal]?.chain ?? ["watch"]} />}
      <p role="status" id="pages-status">
        {status}
      </p>
      <ErrorLine error={error ?? pages.error} />
      <Loading shown={!pages.data && pages.loading} />
      {pages.data && items.length === 0 && <p class="muted">{t("pages.empty")}</p>}
      {items.map((item) => (
        <PagedCard key={item.item} item={item} onTake={() => void take(item)} />
      ))}
    </div>
  );
}

/** Who this desk's pages go to, in order. */
function Chain({ chain }: { chain: string[] }) {
  const { t } = useI18n();
  return (
    <p id="paging-chain">
      {t("pages.chain")}{" "}
      {chain.map((who, i) => (
        <span key={who}>
          {i > 0 && " → "}
          <strong>{who === "watch" ? t("pages.onWatch") : who}</strong>
        </span>
      ))}
    </p>
  );
}

function PagedCard({ item, onTake }: { item: PagedItem; onTake: () => void }) {
  const { t, dateTime } = useI18n();
  const { navigate } = useDesk();
  const headingId = `paged-${item.item.replace(/[^a-zA-Z0-9-]/g, "-")}`;
  const r = item.reaction;
  return (
    <section class="card paged-item" data-item={item.item} data-open={item.open} aria-labelledby={headingId}>
      <h2 id={headingId}>
        <span class={`badge precedence-${item.precedence.toLowerCase()}`}>
          {t(`precedence.${item.precedence}` as Key)}
        </span>{" "}
        {t(`pages.kind.${item.kind}` as Key)}: {item.subject}
      </h2>
      <p class="muted">
        {t("pages.about", { line: item.line, from: item.from, since: dateTime(item.since) })}
      </p>
      <p class="paged-state">
        {r
          ? t(`pages.reaction.${r.how}` as Key, {
              by: r.by || t("app.none"),
              officer: r.officer ? ` (${r.officer})` : "",
              at: dateTime(r.at),
            })
          : t("pages.open")}
      </p>
      <table class="grid">
        <caption class="sr-only">{t("pages.sent")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("pages.at")}</th>
            <th scope="col">{t("pages.person")}</th>
            <th scope="col">{t("pages.channel")}</th>
            <th scope="col">{t("pages.state")}</th>
          </tr>
        </thead>
        <tbody>
          {[...item.pages].reverse().map((p) => (
            <tr key={p.id} data-state={p.state}>
              <td>{dateTime(p.at)}</td>
              <td>
                {p.person || <span class="muted">{t("pages.nobody")}</span>}
                {" · "}
                {t("pages.place", { place: p.level + 1, ring: p.ring })}
              </td>
              <td>
                {t(`pages.channels.${p.channel}` as Key)} {p.target}
              </td>
              <td>
                {t(`pages.states.${p.state}` as Key)}
                {p.detail && p.state !== "unreachable" && <span class="muted"> — {p.detail}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="buttons">
        {item.open && (
          <button type="button" data-action="take" onClick={onTake}>
            {t("pages.take")}
          </button>
        )}
        {item.kind === "message" && (
          <button type="button" class="secondary" onClick={() => navigate("inbox", item.ref)}>
            {t("pages.openMessage")}
          </button>
        )}
      </div>
    </section>
  );
}
