/** Agreements (leaders, watch officers): those of each of the desk's lines, in the
 * reader's language, with their state, zones by kind of track, notice lead times and who
 * signed when. A leader or administrator signs one, signs its termination, or proposes
 * terms (YAML, as docs/operations.md#agreements shows). */
import { useState } from "preact/hooks";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import {
  type AgreementItem,
  lineAgreements,
  proposeAgreement,
  signAgreement,
  terminateAgreement,
} from "./calls";
import { ErrorLine, Loading, short } from "./common";

const SIGNERS = ["leader", "admin"];
const STATES = ["proposed", "signed", "in force", "expired", "terminated", "amended"];

export function AgreementsView() {
  const { t, lang } = useI18n();
  const { api, me, lines } = useDesk();
  const signer = me.roles.some((r) => SIGNERS.includes(r));
  const data = useLive(
    async () =>
      (await Promise.all(lines.map((l) => lineAgreements(api, l.id, lang)))).flat(),
    (s) => s.type === "event" && s.event.kind.startsWith("agreement"),
    [lang, lines.map((l) => l.id).join(" ")],
  );
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [line, setLine] = useState(lines[0]?.id ?? "");
  const [terms, setTerms] = useState("");
  const act = async (done: () => Promise<unknown>, said: string) => {
    setError(null);
    try {
      await done();
      setStatus(said);
      data.reload();
    } catch (err) {
      setError(err);
    }
  };
  const items = data.data ?? [];
  return (
    <div class="desk-view agreements-view">
      <ViewHeading>{t("agreements.title")}</ViewHeading>
      <p class="muted">{t("agreements.intro")}</p>
      <p role="status" id="agreements-status">
        {status}
      </p>
      <ErrorLine error={error ?? data.error} />
      <Loading shown={!data.data && data.loading} />
      {data.data && items.length === 0 && <p class="muted">{t("agreements.empty")}</p>}
      {items.map((a) => (
        <AgreementCard
          key={a.id}
          item={a}
          signer={signer && a.state === "proposed" && !(me.party in a.signed)}
          ender={signer && ["in force", "signed"].includes(a.state) && !(me.party in a.terminated)}
          onSign={() => void act(() => signAgreement(api, a.line, a.id), t("agreements.signedBy", { party: me.party }))}
          onTerminate={() =>
            void act(() => terminateAgreement(api, a.line, a.id), t("agreements.terminatedBy", { party: me.party }))
          }
        />
      ))}
      {signer && lines.length > 0 && (
        <form
          class="card"
          id="agreement-propose"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => proposeAgreement(api, line, terms), t("agreements.proposed", { line }));
          }}
        >
          <h2>{t("agreements.propose")}</h2>
          <label for="agreement-line">{t("agreements.line")}</label>
          <select
            id="agreement-line"
            value={line}
            onChange={(e) => setLine((e.target as HTMLSelectElement).value)}
          >
            {lines.map((l) => (
              <option key={l.id} value={l.id}>
                {l.id}
              </option>
            ))}
          </select>
          <label for="agreement-terms">{t("agreements.terms")}</label>
          <textarea
            id="agreement-terms"
            rows={10}
            value={terms}
            required
            placeholder={"title: {en: ...}\nzones:\n  - {id: drones, kinds: [uav], km: 15}\nstart: 2026-03-01T00:00:00Z\nend: none"}
            onInput={(e) => setTerms((e.target as HTMLTextAreaElement).value)}
          />
          <div class="buttons">
            <button type="submit">{t("agreements.proposeButton")}</button>
          </div>
        </form>
      )}
    </div>
  );
}

function AgreementCard({
  item,
  signer,
  ender,
  onSign,
  onTerminate,
}: {
  item: AgreementItem;
  signer: boolean;
  ender: boolean;
  onSign: () => void;
  onTerminate: () => void;
}) {
  const { t, dateTime } = useI18n();
  const state = STATES.includes(item.state) ? t(`agreements.states.${item.state.replace(" ", "_")}` as Key) : item.state;
  return (
    <section class="card agreement" data-state={item.state} aria-label={item.title}>
      <h2>
        {item.title} <span class="muted">{short(item.id)}</span>
      </h2>
      <p>
        <strong>{state}</strong> · {item.line} ·{" "}
        {item.end
          ? t("agreements.window", { start: dateTime(item.start), end: dateTime(item.end) })
          : t("agreements.noExpiry", { start: dateTime(item.start) })}
      </p>
      <ul>
        {item.zones.map((z) => (
          <li key={z.id}>
            {t("agreements.zone", {
              id: z.id,
              kinds: z.kinds.map((k) => t(`alerts.kinds.${k}` as Key)).join(", "),
              km: z.km,
            })}
            {item.exceptions.includes(z.id) ? ` ${t("agreements.lifted")}` : ""}
          </li>
        ))}
        {Object.entries(item.notice).map(([activity, seconds]) => (
          <li key={activity}>
            {seconds % 86400 === 0
              ? t("agreements.noticeDays", {
                  activity: t(`notices.activities.${activity}` as Key),
                  days: seconds / 86400,
                })
              : t("agreements.notice", {
                  activity: t(`notices.activities.${activity}` as Key),
                  hours: Math.round((seconds / 3600) * 10) / 10,
                })}
          </li>
        ))}
      </ul>
      <p class="muted">
        {Object.entries(item.signed)
          .map(([party, at]) => t("agreements.signedAt", { party, at: dateTime(at) }))
          .join(" · ")}
        {Object.entries(item.terminated).length > 0 &&
          ` · ${Object.entries(item.terminated)
            .map(([party, at]) => t("agreements.terminatedAt", { party, at: dateTime(at) }))
            .join(" · ")}`}
      </p>
      {signer && (
        <button type="button" data-action="sign" onClick={onSign}>
          {t("agreements.sign")}
        </button>
      )}
      {ender && (
        <button type="button" class="secondary" data-action="terminate" onClick={onTerminate}>
          {t("agreements.terminate")}
        </button>
      )}
    </section>
  );
}
