/** The translator's desk: messages from the other side and where each stands in the
 * translator's language; translate one, or certify or correct another translator's
 * translation. The original is always shown beside the translation. */
import { useState } from "preact/hooks";
import type { Translation } from "../../api/types";
import { LANGS, LANG_NAMES, type Lang } from "../../i18n/catalog";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { type QueuedMessage, certifyTranslation, translateMessage, translationQueue } from "./calls";
import { ErrorLine, Loading, short, valueOf } from "./common";
import { type Stage, byWork, current, stage, toCertify } from "./translation";

const WATCHED = new Set(["message", "translation", "certification"]);

interface QueueItem {
  message: QueuedMessage;
  stage: Stage;
  sent: string;
}

async function queue(api: Parameters<typeof translationQueue>[0], lang: string, me: string) {
  const messages = await translationQueue(api);
  return byWork(
    messages.map((message) => ({
      message,
      stage: stage(message.lang, message.translations, lang, me),
      sent: message.sent,
    })),
  );
}

export function TranslatorView({ arg }: { arg: string | null }) {
  const { t, lang: reader, dateTime } = useI18n();
  const { api, me } = useDesk();
  const [lang, setLang] = useState<string>(reader);
  const [selected, setSelected] = useState<string | null>(arg);
  const [status, setStatus] = useState("");
  const items = useLive(
    () => queue(api, lang, me.principal),
    (s) => WATCHED.has(eventKind(s) ?? ""),
    [lang, reader],
  );
  const rows = items.data ?? [];
  const chosen = rows.find((r) => r.message.id === selected) ?? null;
  const stageText = (s: Stage) => t(`translate.stage.${s}` as Key);

  return (
    <div class="desk-view translator-view">
      <ViewHeading>{t("translate.title")}</ViewHeading>
      <div class="toolbar">
        <label for="translator-lang">{t("translate.into")}</label>
        <select id="translator-lang" value={lang} onChange={(e) => setLang(valueOf(e))}>
          {LANGS.map((l) => (
            <option key={l} value={l} lang={l}>
              {LANG_NAMES[l]}
            </option>
          ))}
        </select>
        <p role="status" id="translator-status">
          {status}
        </p>
      </div>
      <ErrorLine error={items.error} />
      <Loading shown={!items.data && items.loading} />
      {items.data && rows.length === 0 && <p class="muted">{t("translate.empty")}</p>}
      {rows.length > 0 && (
        <table id="translation-queue" class="grid">
          <caption class="sr-only">{t("translate.queue")}</caption>
          <colgroup>
            <col class="c-prec" />
            <col class="c-from" />
            <col />
            <col class="c-time" />
            <col class="c-left" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">{t("translate.precedence")}</th>
              <th scope="col">{t("translate.from")}</th>
              <th scope="col">{t("translate.subject")}</th>
              <th scope="col">{t("translate.sent")}</th>
              <th scope="col">{t("translate.state")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr
                key={r.message.id}
                data-id={r.message.id}
                class={`${r.stage}${r.message.id === selected ? " selected" : ""}`}
              >
                <td>{t(`precedence.${r.message.precedence}` as Key)}</td>
                <td>{r.message.from}</td>
                <td lang={r.message.lang ?? undefined}>
                  <button
                    type="button"
                    class="row-open"
                    aria-pressed={r.message.id === selected}
                    onClick={() => setSelected(r.message.id)}
                  >
                    {r.message.subject}
                  </button>
                </td>
                <td>{dateTime(r.message.sent)}</td>
                <td>
                  <span class={`state ${r.stage === "certified" ? "certified" : "pending"}`}>{stageText(r.stage)}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {chosen && (
        <TranslationDesk
          key={`${chosen.message.id}-${lang}-${chosen.message.translations.length}-${chosen.stage}`}
          item={chosen}
          lang={lang}
          onDone={(text) => {
            setStatus(text);
            items.reload();
          }}
        />
      )}
    </div>
  );
}

function Original({ message }: { message: QueuedMessage }) {
  const { t } = useI18n();
  const lang = message.lang ?? "";
  return (
    <section class="original" aria-labelledby="original-title">
      <h3 id="original-title">{t("translate.original", { lang: lang || "?" })}</h3>
      <div lang={lang || undefined}>
        <p class="subject">{message.subject}</p>
        <p class="text">{message.body}</p>
      </div>
    </section>
  );
}

function TranslationText({ translation }: { translation: Translation }) {
  const { t } = useI18n();
  const stateKey = `translate.states.${translation.state.replace(/[ ,]+/g, "_")}` as Key;
  const state = t(stateKey) === stateKey ? translation.state : t(stateKey);
  return (
    <section class="translation" aria-labelledby={`translation-${translation.id.slice(0, 12)}`}>
      <h3 id={`translation-${translation.id.slice(0, 12)}`}>
        {t("translate.translation", { lang: translation.lang, by: translation.translator })}
      </h3>
      <p>
        <span class={`state ${translation.certified_by ? "certified" : "pending"}`}>{state}</span>
        {translation.certified_by && <> {t("translate.certifiedBy", { by: translation.certified_by })}</>}
        {translation.machine && <> {t("translate.machine", { engine: translation.machine })}</>}
      </p>
      <div lang={translation.lang}>
        <p class="subject">{translation.subject}</p>
        <p class="text">{translation.body}</p>
      </div>
    </section>
  );
}

function TranslationDesk({
  item,
  lang,
  onDone,
}: {
  item: QueueItem;
  lang: string;
  onDone: (status: string) => void;
}) {
  const { t } = useI18n();
  const { api, me } = useDesk();
  const { message } = item;
  const shown = current(message.translations, lang);
  const open = toCertify(message.translations, lang, me.principal);
  const [subject, setSubject] = useState(open?.subject ?? "");
  const [body, setBody] = useState(open?.body ?? "");
  const [correcting, setCorrecting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onDone(done);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const translate = (e: Event) => {
    e.preventDefault();
    void run(
      () => translateMessage(api, message.id, lang, subject, body),
      t("translate.translated", { subject: message.subject ?? "", lang }),
    );
  };
  const certify = () =>
    open &&
    void run(
      () => certifyTranslation(api, open.id),
      t("translate.certified", { by: open.translator, id: short(open.id) }),
    );
  const correct = (e: Event) => {
    e.preventDefault();
    if (open) {
      void run(
        () => certifyTranslation(api, open.id, { subject, body }),
        t("translate.corrected", { by: open.translator, id: short(open.id) }),
      );
    }
  };

  return (
    <section class="card translation-desk" aria-labelledby="translation-desk-title">
      <h2 id="translation-desk-title">
        {t("translate.working", { subject: message.subject ?? "", from: message.from })}
      </h2>
      <div class="side-by-side">
        <Original message={message} />
        <div>
          {item.stage === "original" && <p class="muted">{t("translate.noNeed")}</p>}
          {shown && <TranslationText translation={shown} />}
          {item.stage === "untranslated" && (
            <form id="translate-form" class="desk-form" onSubmit={translate}>
              <h3>{t("translate.translateInto", { lang })}</h3>
              <label for="translate-subject">{t("translate.subjectField")}</label>
              <input id="translate-subject" name="subject" lang={lang} value={subject} onInput={(e) => setSubject(valueOf(e))} />
              <label for="translate-body">{t("translate.bodyField")}</label>
              <textarea id="translate-body" name="body" lang={lang} rows={6} required value={body} onInput={(e) => setBody(valueOf(e))} />
              <button type="submit" disabled={busy}>
                {t("translate.submitTranslation")}
              </button>
            </form>
          )}
          {item.stage === "to-certify" && open && !correcting && (
            <div class="buttons">
              <button type="button" id="certify" onClick={certify} disabled={busy}>
                {t("translate.certify")}
              </button>
              <button type="button" id="correct" class="secondary" onClick={() => setCorrecting(true)} disabled={busy}>
                {t("translate.correct")}
              </button>
            </div>
          )}
          {item.stage === "to-certify" && open && correcting && (
            <form id="correct-form" class="desk-form" onSubmit={correct}>
              <h3>{t("translate.correctTitle", { by: open.translator })}</h3>
              <label for="correct-subject">{t("translate.subjectField")}</label>
              <input id="correct-subject" name="subject" lang={lang} value={subject} onInput={(e) => setSubject(valueOf(e))} />
              <label for="correct-body">{t("translate.bodyField")}</label>
              <textarea id="correct-body" name="body" lang={lang} rows={6} required value={body} onInput={(e) => setBody(valueOf(e))} />
              <div class="buttons">
                <button type="submit" disabled={busy}>
                  {t("translate.submitCorrection")}
                </button>
                <button type="button" class="secondary" onClick={() => setCorrecting(false)}>
                  {t("app.cancel")}
                </button>
              </div>
            </form>
          )}
          {item.stage === "awaiting-second" && <p class="muted">{t("translate.awaitingSecond")}</p>}
          <ErrorLine error={error} />
        </div>
      </div>
    </section>
  );
}
