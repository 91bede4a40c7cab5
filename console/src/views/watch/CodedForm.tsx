/** A pre-agreed message: an entry of the catalogue in force on the line, its slots
 * filled in; the other side reads it in its own language. */
import { useState } from "preact/hooks";
import { lineCatalogue, sendCodedMessage } from "../../api/calls";
import { describeError } from "../../api/problem";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { writableLines } from "./lines";
import { PRECEDENCES } from "./inboxOrder";
import { slotValue } from "./slots";

export function CodedForm({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const { api, lines, me } = useDesk();
  const active = writableLines(lines, me.party);
  const [line, setLine] = useState(active[0]?.id ?? "");
  const catalogue = useLive(
    () => lineCatalogue(api, line, lang),
    (s) => eventKind(s) === "catalogue.adopt",
    [line, lang],
  );
  const [entryIndex, setEntryIndex] = useState(0);
  const [precedence, setPrecedence] = useState("IMMEDIATE");
  const [slots, setSlots] = useState<Record<string, string>>({});
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const entries = catalogue.data?.entries ?? [];
  const entry = entries[entryIndex];
  const f = (name: string) => `${id}-${name}`;

  if (!active.length) return <p class="muted">{t("compose.noLines")}</p>;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!entry) return;
    setBusy(true);
    try {
      const values: Record<string, unknown> = {};
      for (const s of entry.slots) values[s.name] = slotValue(s.type, slots[s.name] ?? s.values[0] ?? "");
      const sent = await sendCodedMessage(api, {
        line,
        code: entry.code,
        number: entry.number,
        slots: values,
        precedence,
        lang,
      });
      setStatus(t("compose.codedSent", { code: entry.code, number: entry.number, id: sent.id.slice(0, 12) }));
      setSlots({});
    } catch (err) {
      setStatus(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form id={id} class="compose-form" onSubmit={submit}>
      <div class="row">
        <div class="field">
          <label for={f("line")}>{t("compose.line")}</label>
          <select
            id={f("line")}
            name="line"
            value={line}
            onChange={(e) => {
              setLine(e.currentTarget.value);
              setEntryIndex(0);
              setSlots({});
            }}
          >
            {active.map((l) => (
              <option key={l.id} value={l.id}>
                {l.id}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={f("precedence")}>{t("compose.precedence")}</label>
          <select
            id={f("precedence")}
            name="precedence"
            value={precedence}
            onChange={(e) => setPrecedence(e.currentTarget.value)}
          >
            {PRECEDENCES.map((p) => (
              <option key={p} value={p}>
                {t(`precedence.${p}` as Key)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {catalogue.error !== null && !catalogue.data ? (
        <p class="muted">{t("compose.noCatalogue")}</p>
      ) : (
        <>
          <label for={f("entry")}>{t("compose.entry")}</label>
          <select
            id={f("entry")}
            name="entry"
            value={String(entryIndex)}
            onChange={(e) => {
              setEntryIndex(Number(e.currentTarget.value));
              setSlots({});
            }}
          >
            {entries.map((en, i) => (
              <option key={`${en.code}-${en.number}`} value={String(i)}>
                {`${en.code} ${en.number}: ${en.title}`}
              </option>
            ))}
          </select>
          {entry?.slots.map((s) => (
            <div key={s.name} class="slot">
              <label for={f(`slot-${s.name}`)}>{t("compose.slot", { name: s.name, type: s.type })}</label>
              {s.values.length ? (
                <select
                  id={f(`slot-${s.name}`)}
                  name={`slot-${s.name}`}
                  value={slots[s.name] ?? s.values[0]}
                  onChange={(e) => setSlots({ ...slots, [s.name]: e.currentTarget.value })}
                >
                  {s.values.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={f(`slot-${s.name}`)}
                  name={`slot-${s.name}`}
                  value={slots[s.name] ?? ""}
                  aria-describedby={s.type === "area" || s.type === "time" ? f(`hint-${s.name}`) : undefined}
                  onInput={(e) => setSlots({ ...slots, [s.name]: e.currentTarget.value })}
                />
              )}
              {(s.type === "area" || s.type === "time") && (
                <small class="hint" id={f(`hint-${s.name}`)}>
                  {t(s.type === "area" ? "compose.areaHint" : "compose.timeHint")}
                </small>
              )}
            </div>
          ))}
          {entry && (
            <div class="preview">
              <h3>{t("compose.preview")}</h3>
              <p>{entry.text}</p>
            </div>
          )}
          <button type="submit" disabled={busy || !entry}>
            {t("compose.sendCode")}
          </button>
        </>
      )}
      <p role="status" id={f("status")}>
        {status}
      </p>
    </form>
  );
}
