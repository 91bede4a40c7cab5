/** The auditor's desk (read-only): a line's record event by event, each with whether it
 * verifies, the verification of the whole record, the comparison of chain heads with the
 * peer's, and the exercises' after-action reports where the node keeps them. */
import { useEffect, useState } from "preact/hooks";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { save } from "../../shell/save";
import { ViewHeading } from "../../shell/ViewHeading";
import type { Api } from "../../api/client";
import {
  type ChainCheckpoint,
  type ExerciseReport,
  type LineRecord,
  type PeerChain,
  type RecordEvent,
  exerciseReports,
  lineCheckpoints,
  lineRecord,
  proofOf,
  reportHref,
} from "./calls";
import { ErrorLine, Loading, short, valueOf } from "./common";
import { STATE_CLASS, describe, proofParts, shortRoot } from "./record";

/** How often the line's checkpoints are read again, events or not. */
const CHECKPOINTS_EVERY_MS = 15_000;

export function RecordView({ arg }: { arg: string | null }) {
  const { t } = useI18n();
  const { api, lines } = useDesk();
  const [line, setLine] = useState<string>(arg ?? lines[0]?.id ?? "");
  const record = useLive(
    () => (line ? lineRecord(api, line) : Promise.resolve(null)),
    (s) => s.type === "event" && s.event.line === line,
    [line],
    1000,
  );
  const reports = useLive(
    () => exerciseReports(api),
    () => false,
  );
  const checkpoints = useLive(
    () => (line ? lineCheckpoints(api, line) : Promise.resolve(null)),
    (s) => s.type === "event" && s.event.line === line,
    [line],
    5000,
  );
  // a cosignature arrives with no event on the line: look again now and then
  const reloadCheckpoints = checkpoints.reload;
  useEffect(() => {
    const timer = setInterval(reloadCheckpoints, CHECKPOINTS_EVERY_MS);
    return () => clearInterval(timer);
  }, [reloadCheckpoints]);
  return (
    <div class="desk-view record-view">
      <ViewHeading>{t("record.title")}</ViewHeading>
      <div class="toolbar">
        <label for="record-line">{t("record.line")}</label>
        <select id="record-line" value={line} onChange={(e) => setLine(valueOf(e))}>
          {lines.map((l) => (
            <option key={l.id} value={l.id}>
              {l.id}
            </option>
          ))}
        </select>
        <span class="muted">{t("record.readOnly")}</span>
      </div>
      {!lines.length && <p class="muted">{t("record.noLines")}</p>}
      <ErrorLine error={record.error} />
      <Loading shown={!record.data && record.loading && !!line} />
      {record.data && <Record key={line} record={record.data} api={api} />}
      {line && <Proofs checkpoints={checkpoints.data} error={checkpoints.error} />}
      <Reports reports={reports.data} error={reports.error} />
    </div>
  );
}

function Record({ record, api }: { record: LineRecord; api: Api }) {
  const { t } = useI18n();
  const [saved, setSaved] = useState<string | null>(null);
  const [failed_, setFailed] = useState<unknown>(null);
  const download = async (e: RecordEvent) => {
    setSaved(null);
    setFailed(null);
    const { ack, receipt } = proofParts(e, record.events);
    try {
      const { blob, name } = await proofOf(api, e.id, ack, receipt);
      save(blob, name);
      setSaved(name);
    } catch (error) {
      setFailed(error);
    }
  };
  const v = record.verification;
  const chains = record.peer;
  const failed = record.events.filter((e) => e.verified === false).length;
  return (
    <>
      <section class="card" aria-labelledby="record-verification">
        <h2 id="record-verification">{t("record.verification")}</h2>
        <p id="record-verdict" class={v.ok ? "verified" : "unverified"}>
          {v.ok
            ? t("record.verifies", { count: v.events })
            : t("record.broken", { count: v.problems.length })}
        </p>
        {v.problems.length > 0 && (
          <ul class="plain">
            {v.problems.map((p, i) => (
              <li key={i} class="unverified">
                {p}
              </li>
            ))}
          </ul>
        )}
        <p>{t("record.eventCount", { count: record.events.length, failed })}</p>
      </section>
      <section class="card" aria-labelledby="record-peer">
        <h2 id="record-peer">{t("record.peer")}</h2>
        <p class="hint">{t("record.peerHint")}</p>
        {chains.length === 0 && <p class="muted">{t("record.noPeer")}</p>}
        {chains.length > 0 && <PeerTable chains={chains} />}
      </section>
      <section aria-labelledby="record-events">
        <h2 id="record-events">{t("record.events")}</h2>
        <p class="hint" id="proof-help">
          {t("record.proofHelp")}
        </p>
        <ErrorLine error={failed_} />
        {saved && (
          <p class="notice" role="status" id="proof-saved">
            {t("record.proofSaved", { name: saved })}
          </p>
        )}
        <table id="record" class="grid">
          <colgroup>
            <col style={{ width: "5rem" }} />
            <col class="c-from" />
            <col class="c-time" />
            <col />
            <col class="c-time" />
            <col class="c-act" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">{t("record.seq")}</th>
              <th scope="col">{t("record.author")}</th>
              <th scope="col">{t("record.kind")}</th>
              <th scope="col">{t("record.what")}</th>
              <th scope="col">{t("record.time")}</th>
              <th scope="col">{t("record.verified")}</th>
            </tr>
          </thead>
          <tbody>
            {record.events.map((e) => (
              <EventRow key={e.id} event={e} onProof={e.kind === "message" ? () => download(e) : null} />
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function PeerTable({ chains }: { chains: PeerChain[] }) {
  const { t } = useI18n();
  const head = (h: PeerChain["ours"]) => (h ? t("record.head", { seq: h.seq, id: short(h.id) }) : t("app.none"));
  return (
    <table id="record-peer-table" class="grid">
      <thead>
        <tr>
          <th scope="col">{t("record.chain")}</th>
          <th scope="col">{t("record.peerName")}</th>
          <th scope="col">{t("record.ours")}</th>
          <th scope="col">{t("record.theirs")}</th>
          <th scope="col">{t("record.state")}</th>
        </tr>
      </thead>
      <tbody>
        {chains.map((c) => {
          const key = `record.states.${c.state.replace(/\s+/g, "_")}` as Key;
          return (
            <tr key={`${c.peer}-${c.party}`} data-party={c.party} data-peer={c.peer}>
              <th scope="row">{t("record.chainOf", { party: c.party })}</th>
              <td>{c.peer}</td>
              <td class="mono">{head(c.ours)}</td>
              <td class="mono">{head(c.theirs)}</td>
              <td>
                <span class={`state ${STATE_CLASS[c.state] ?? "pending"}`}>{t(key) === key ? c.state : t(key)}</span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function EventRow({ event: e, onProof }: { event: RecordEvent; onProof: (() => void) | null }) {
  const { t, dateTime } = useI18n();
  const kindKey = `record.kinds.${e.kind.replace(/\./g, "_")}` as Key;
  return (
    <tr data-id={e.id} class={e.verified === false ? "unverified-row" : undefined}>
      <td>
        {e.party} #{e.seq}
      </td>
      <td>{e.author}</td>
      <td>{t(kindKey) === kindKey ? e.kind : t(kindKey)}</td>
      <td>
        {describe(e, t)}
        <br />
        <span class="muted mono">{short(e.id)}</span>
        {onProof && (
          <>
            {" "}
            <button
              type="button"
              class="small secondary proof-download"
              aria-label={t("record.proofFor", { id: short(e.id) })}
              aria-describedby="proof-help"
              onClick={onProof}
            >
              {t("record.downloadProof")}
            </button>
          </>
        )}
      </td>
      <td>
        {dateTime(e.ts)}
        {e.received && (
          <>
            <br />
            <span class="muted">{t("record.received", { time: dateTime(e.received) })}</span>
          </>
        )}
      </td>
      <td class="verification">
        {e.verified === true ? (
          <span class="verified">{t("record.ok")}</span>
        ) : e.verified === false ? (
          <span class="unverified">{t("record.problem", { problem: e.problem ?? "" })}</span>
        ) : (
          <span class="muted">{t("app.none")}</span>
        )}
      </td>
    </tr>
  );
}

function Proofs({ checkpoints, error }: { checkpoints: ChainCheckpoint[] | null | undefined; error: unknown }) {
  const { t, dateTime } = useI18n();
  return (
    <section class="card" aria-labelledby="record-proofs" id="proofs">
      <h2 id="record-proofs">{t("record.proofs")}</h2>
      <p class="hint">{t("record.proofsHint")}</p>
      <ErrorLine error={error} />
      {checkpoints && checkpoints.length === 0 && <p class="muted">{t("record.noCheckpoints")}</p>}
      {checkpoints && checkpoints.length > 0 && (
        <table id="checkpoints" class="grid">
          <thead>
            <tr>
              <th scope="col">{t("record.checkpointChain")}</th>
              <th scope="col">{t("record.checkpointSize")}</th>
              <th scope="col">{t("record.checkpointSigned")}</th>
              <th scope="col">{t("record.checkpointPeer")}</th>
              <th scope="col">{t("record.checkpointWitnesses")}</th>
            </tr>
          </thead>
          <tbody>
            {checkpoints.map((c) => (
              <tr key={c.party} data-party={c.party}>
                <th scope="row">{t("record.chainOf", { party: c.party })}</th>
                <td>
                  {t("record.covers", { size: String(c.size) })}
                  <br />
                  <span class="muted mono" title={t("record.rootTitle", { root: c.root })}>
                    {shortRoot(c.root)}
                  </span>
                </td>
                <td>{dateTime(c.made_at)}</td>
                <td class="cosigners">
                  {c.cosigners.length === 0 ? (
                    <span class="state pending">{t("record.notCosigned")}</span>
                  ) : (
                    c.cosigners.map((s) => (
                      <span key={s.name} class="state ok">
                        {s.time ? t("record.cosigned", { name: s.name, time: dateTime(s.time) }) : s.name}
                      </span>
                    ))
                  )}
                </td>
                <td class="witnesses">
                  {c.witnesses.length === 0 ? (
                    <span class="muted">{t("record.noWitness")}</span>
                  ) : (
                    <ul class="plain">
                      {c.witnesses.map((w) => (
                        <li key={w.name}>
                          {w.time ? t("record.cosigned", { name: w.name, time: dateTime(w.time) }) : w.name}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Reports({ reports, error }: { reports: ExerciseReport[] | null | undefined; error: unknown }) {
  const { t, dateTime } = useI18n();
  if (reports === null) return null; // not the principal's to read
  return (
    <section class="card" aria-labelledby="record-reports">
      <h2 id="record-reports">{t("record.reports")}</h2>
      <ErrorLine error={error} />
      {reports && reports.length === 0 && <p class="muted">{t("record.noReports")}</p>}
      {reports && reports.length > 0 && (
        <ul class="plain" id="exercise-reports">
          {reports.map((r) => (
            <li key={r.id}>
              <a href={reportHref(r.id)} target="_blank" rel="noopener">
                {t("record.report", { exercise: r.exercise })}
              </a>{" "}
              <span class="muted">
                {t("record.reportSpan", { count: r.events, first: dateTime(r.first), last: dateTime(r.last) })}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
