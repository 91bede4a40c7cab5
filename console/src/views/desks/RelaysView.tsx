/** The attaché's desk (relay role): messages the other side relayed to this side, each
 * with its original author and whether the original's signature verifies; forward one to
 * the desk it is for. */
import { useState } from "preact/hooks";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { eventKind, useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { type Relayed, forwardRelayed, listRelayed } from "./calls";
import { ErrorLine, FormDialog, Loading, short, valueOf } from "./common";

export function RelaysView() {
  const { t } = useI18n();
  const { api } = useDesk();
  const relays = useLive(
    () => listRelayed(api),
    (s) => ["escalation", "relay.forward"].includes(eventKind(s) ?? ""),
  );
  const [forwarding, setForwarding] = useState<Relayed | null>(null);
  const [status, setStatus] = useState("");
  const rows = relays.data ?? [];
  return (
    <div class="desk-view relays-view">
      <ViewHeading>{t("relays.title")}</ViewHeading>
      <p role="status" id="relay-status">
        {status}
      </p>
      <ErrorLine error={relays.error} />
      <Loading shown={!relays.data && relays.loading} />
      {relays.data && rows.length === 0 && <p class="muted">{t("relays.empty")}</p>}
      <ul id="relays" class="plain">
        {rows.map((r) => (
          <RelayCard key={r.relay} relay={r} onForward={() => setForwarding(r)} />
        ))}
      </ul>
      {forwarding && (
        <ForwardDialog
          relay={forwarding}
          onClose={(text) => {
            setForwarding(null);
            if (text) {
              setStatus(text);
              relays.reload();
            }
          }}
        />
      )}
    </div>
  );
}

function RelayCard({ relay, onForward }: { relay: Relayed; onForward: () => void }) {
  const { t, dateTime } = useI18n();
  const verified = relay.signature_verified;
  const titleId = `relay-${relay.relay.slice(0, 16)}`;
  return (
    <li class="card relay" data-id={relay.relay}>
      <h2 id={titleId}>
        {relay.precedence && <>{t(`precedence.${relay.precedence}` as Key)} </>}
        <span lang={relay.lang ?? undefined}>{relay.subject}</span>
      </h2>
      <p class="meta">
        {t("relays.meta", {
          from: relay.from,
          line: relay.from_line,
          via: relay.line,
          at: dateTime(relay.relayed_at),
        })}
      </p>
      <p class="signature">
        {verified === true ? (
          <span class="verified">{t("relays.verified", { author: relay.from, id: short(relay.message) })}</span>
        ) : (
          <span class="unverified">
            {t("relays.notVerified", { author: relay.from, id: short(relay.message) })}
            {relay.signature_problem && <> ({relay.signature_problem})</>}
          </span>
        )}
      </p>
      {relay.body && (
        <p class="text" lang={relay.lang ?? undefined}>
          {relay.body}
        </p>
      )}
      {relay.to.length > 0 && <p>{t("relays.for", { to: relay.to.join(", ") })}</p>}
      {relay.forwarded.length > 0 ? (
        <ul class="plain forwarded">
          {relay.forwarded.map((f, i) => (
            <li key={i}>{t("relays.forwarded", { by: f.by, to: f.to.join(", "), at: dateTime(f.at) })}</li>
          ))}
        </ul>
      ) : (
        <p class="notice">{t("relays.notForwarded")}</p>
      )}
      <button type="button" data-action="forward" onClick={onForward} aria-describedby={titleId}>
        {t("relays.forward")}
      </button>
    </li>
  );
}

function ForwardDialog({ relay, onClose }: { relay: Relayed; onClose: (status: string | null) => void }) {
  const { t } = useI18n();
  const { api, me } = useDesk();
  const own = relay.to.filter((p) => p.split("/")[0] === me.party);
  const [to, setTo] = useState(own.join(", "));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const desks = to
      .split(/[\s,]+/)
      .map((d) => d.trim().toUpperCase())
      .filter(Boolean);
    try {
      await forwardRelayed(api, relay.relay, desks);
      onClose(t("relays.done", { subject: relay.subject ?? short(relay.message), to: desks.join(", ") || t("relays.addressees") }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <FormDialog id="relay-forward" title={t("relays.forwardTitle", { subject: relay.subject ?? short(relay.message) })} onClose={() => onClose(null)}>
      <form class="desk-form" onSubmit={submit}>
        <label for="relay-forward-to">{t("relays.to")}</label>
        <span class="hint" id="relay-forward-hint">{t("relays.toHint")}</span>
        <input id="relay-forward-to" name="to" value={to} onInput={(e) => setTo(valueOf(e))} aria-describedby="relay-forward-hint" />
        <ErrorLine error={error} />
        <div class="buttons">
          <button type="submit" disabled={busy}>
            {t("relays.forward")}
          </button>
          <button type="button" class="secondary" onClick={() => onClose(null)}>
            {t("app.cancel")}
          </button>
        </div>
      </form>
    </FormDialog>
  );
}
