/** One message as its reader reads it: the original (never replaced), the pre-agreed
 * text in the reader's language, translations with who made and certified them, the
 * thread, and acknowledgement with an optional reply. */
import type { RefObject } from "preact";
import { useState } from "preact/hooks";
import { acknowledgeMessage, readMessage } from "../../api/calls";
import { describeError } from "../../api/problem";
import type { Attachment, EventView, InboxItem, MessageRead, ThreadAck, Translation } from "../../api/types";
import { LazyMap } from "../map/LazyMap";
import { AckMatrixTable } from "./AckMatrix";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive, useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { parseTime } from "../../time/parse";

const READER_KINDS = new Set(["ack", "translation", "certification", "message"]);

interface Props {
  id: string | null;
  item: InboxItem | null;
  headingRef: RefObject<HTMLHeadingElement>;
  onAcked: () => void;
}

export function Reader({ id, item, headingRef, onAcked }: Props) {
  const { t } = useI18n();
  return (
    <section id="reader" class="card reader" aria-labelledby="reader-title">
      <h2 id="reader-title" tabIndex={-1} ref={headingRef}>
        {t("reader.title")}
      </h2>
      {id ? (
        <Message key={id} id={id} item={item} onAcked={onAcked} />
      ) : (
        <p class="muted">{t("reader.pick")}</p>
      )}
    </section>
  );
}

function Message({ id, item, onAcked }: { id: string; item: InboxItem | null; onAcked: () => void }) {
  const { t, lang, dateTime, left } = useI18n();
  const { api } = useDesk();
  const now = useNodeNow();
  const read = useLive(
    () => readMessage(api, id, lang),
    (s) => READER_KINDS.has(eventKind(s) ?? ""),
    [id, lang],
  );
  if (read.error && !read.data) {
    return (
      <p class="error" role="alert">
        {describeError(read.error, t)}
      </p>
    );
  }
  const m = read.data;
  if (!m) return <p role="status">{t("app.loading")}</p>;
  const deadline = item ? parseTime(item.deadline) : Number.NaN;
  // nothing to acknowledge: already done, or sent to this party for information
  const acked = item ? item.acked_by !== null || item.owed === false : true;
  const precedence = t(`precedence.${m.content.precedence}` as Key);
  return (
    <article class="message" aria-labelledby="reader-subject">
      {m.content.exercise && (
        <p class="exercise-banner">{t("reader.exercise", { id: String(m.content.exercise) })}</p>
      )}
      <p class="meta">
        {t("reader.meta", {
          precedence,
          kind: kindName(m.content.kind, t),
          from: m.author,
          sent: dateTime(m.ts),
          line: m.line,
        })}
        {typeof m.content.number === "number" && (
          <> · {t("reader.number", { party: m.party, number: m.content.number })}</>
        )}
      </p>
      <Addressees to={m.content.to ?? []} info={m.content.info ?? []} />
      {item && !acked && Number.isFinite(deadline) && (
        <p class="deadline">
          {t("reader.deadline", { deadline: dateTime(deadline) })} · {left((deadline - now) / 1000)}
        </p>
      )}
      {m.catalogue && (
        <section class="block" lang={m.reader_lang}>
          <h3>{t("reader.catalogue", { lang: m.reader_lang })}</h3>
          <p class="subject">{m.catalogue.title}</p>
          <p class="body">{m.catalogue.text}</p>
        </section>
      )}
      <section class="block original" lang={m.content.lang ?? undefined}>
        <h3>{t("reader.original", { lang: m.content.lang ?? "?" })}</h3>
        <p class="subject" id="reader-subject">
          {m.content.subject}
        </p>
        <p class="body">{m.content.body}</p>
      </section>
      {m.content.attachments && m.content.attachments.length > 0 && (
        <Attachments list={m.content.attachments} party={m.party} />
      )}
      {m.translations.length > 0 && (
        <section class="block">
          <h3>{t("reader.translations")}</h3>
          <ul class="plain">
            {m.translations.map((tr) => (
              <TranslationItem key={tr.id} tr={tr} />
            ))}
          </ul>
        </section>
      )}
      <ThreadBlock read={m} />
      {item && !acked && <AckForm id={id} onAcked={onAcked} />}
    </article>
  );
}

/** To whom the message went: named desks, or every party writing on the line; and
 * the desks informed. */
function Addressees({ to, info }: { to: string[]; info: string[] }) {
  const { t } = useI18n();
  return (
    <p class="meta addressees">
      {to.length ? t("reader.to", { to: to.join(", ") }) : t("reader.toAll")}
      {info.length > 0 && <> · {t("reader.info", { info: info.join(", ") })}</>}
    </p>
  );
}

function kindName(kind: string, t: (k: Key) => string): string {
  const key = `kind.${kind}` as Key;
  const found = t(key);
  return found === key ? kind : found;
}

function TranslationItem({ tr }: { tr: Translation }) {
  const { t } = useI18n();
  const state =
    tr.state === "certified" || tr.state === "corrected"
      ? t(`reader.state.${tr.state}` as Key, { by: tr.certified_by ?? "" })
      : t("reader.state.draft");
  return (
    <li class="translation" lang={tr.lang}>
      <p class="meta">
        {t("reader.translation", { lang: tr.lang, translator: tr.translator })}
        {tr.machine ? ` · ${t("reader.machine", { machine: tr.machine })}` : ""} · {state}
      </p>
      {tr.subject && <p class="subject">{tr.subject}</p>}
      <p class="body">{tr.body}</p>
    </li>
  );
}

function ThreadBlock({ read }: { read: MessageRead }) {
  const { t, dateTime } = useI18n();
  const { lines } = useDesk();
  // on a line of many parties, who of them acknowledged: the matrix
  const many = (lines.find((l) => l.id === read.line)?.parties.length ?? 0) > 2;
  const thread = read.thread;
  if (!thread) return null;
  const refs = thread.refs ?? [];
  const referred = thread.referred_by ?? [];
  const acks = thread.acks ?? [];
  const line = (e: EventView) =>
    (typeof e.content.number === "number" ? `${e.party} ${e.content.number} · ` : "") +
    `${e.author} · ${dateTime(e.ts)} · ${e.content.subject}`;
  const ackLine = (a: ThreadAck) => {
    const by = a.by ?? a.author ?? "";
    const at = a.at ?? a.ts;
    const head = t("reader.ackLine", { by, at: at ? dateTime(at) : t("app.none") });
    return a.reply ? `${head} · ${t("reader.ackReply", { reply: a.reply })}` : head;
  };
  return (
    <section class="block thread">
      <h3>{t("reader.thread")}</h3>
      {refs.length > 0 && (
        <>
          <h4>{t("reader.refersTo")}</h4>
          <ul class="plain">
            {refs.map((e) => (
              <li key={e.id}>{line(e)}</li>
            ))}
          </ul>
        </>
      )}
      {referred.length > 0 && (
        <>
          <h4>{t("reader.referredBy")}</h4>
          <ul class="plain">
            {referred.map((e) => (
              <li key={e.id}>{line(e)}</li>
            ))}
          </ul>
        </>
      )}
      {many ? (
        <AckMatrixTable id={read.id} />
      ) : (
        <>
          <h4>{t("reader.acks")}</h4>
          {acks.length ? (
            <ul class="plain">
              {acks.map((a, i) => (
                <li key={a.id ?? i}>{ackLine(a)}</li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t("reader.noAcks")}</p>
          )}
        </>
      )}
    </section>
  );
}

function AckForm({ id, onAcked }: { id: string; onAcked: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useDesk();
  const [reply, setReply] = useState("");
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setStatus(t("reader.acking"));
    try {
      await acknowledgeMessage(api, id, reply.trim() || null, lang);
      setStatus(t("reader.acked"));
      setReply("");
      onAcked();
    } catch (err) {
      setStatus(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form id="ack-form" class="ack-form" onSubmit={submit}>
      <label for="ack-reply">{t("reader.reply")}</label>
      <textarea
        id="ack-reply"
        name="reply"
        rows={2}
        value={reply}
        onInput={(e) => setReply(e.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        {t("reader.ack")}
      </button>
      <p role="status">{status}</p>
    </form>
  );
}

/** A message's map attachments: each named with its kind, size and hash, and drawn on a
 * map in the sender's colour. */
function Attachments({ list, party }: { list: Attachment[]; party: string }) {
  const { t } = useI18n();
  const { api, me } = useDesk();
  const count = (a: Attachment) =>
    a.kind === "area" ? (a.geometry.center ? 1 : ((a.geometry.coordinates as unknown[][] | undefined)?.[0]?.length ?? 0)) : ((a.geometry.coordinates as unknown[] | undefined)?.length ?? 0);
  return (
    <section class="block attachments" aria-labelledby="reader-attachments">
      <h3 id="reader-attachments">{t("reader.attachments")}</h3>
      <ul class="plain">
        {list.map((a) => (
          <li key={a.sha256}>
            {t("reader.attachmentItem", {
              name: a.name,
              kind: t(`reader.attachmentKind.${a.kind}` as Key),
              count: count(a),
              bytes: a.bytes,
              sha: a.sha256.slice(0, 16),
            })}
          </li>
        ))}
      </ul>
      <LazyMap
        api={api}
        layers={undefined}
        own={me.party}
        id="attachment-map"
        label={t("reader.attachmentMap")}
        height="300px"
        legend={false}
        svg
        attachments={list}
        attachmentParty={party}
      />
    </section>
  );
}
