/** Who is signed in, on which node, the node's time and health, the language, sign-out. */
import { useEffect, useState } from "preact/hooks";
import { linkState, setMyLanguage, signOut, verifyLedger } from "../api/calls";
import { describeError } from "../api/problem";
import type { Key } from "../i18n/translate";
import type { Lang } from "../i18n/catalog";
import { useDesk } from "./desk";
import { eventKind, useLive, useNodeNow } from "./hooks";
import { useI18n } from "./i18n";
import { LanguageSwitch } from "./LanguageSwitch";
import { describeCarrier, describeLink } from "./links";

interface Props {
  onLang: (lang: Lang | null) => void;
  onEnd: (notice: "ended" | "signedOut") => void;
}

const LINK_REFRESH_MS = 30_000;

export function Header({ onLang, onEnd }: Props) {
  const { t, lang } = useI18n();
  const { api, me } = useDesk();
  const [langError, setLangError] = useState<string | null>(null);

  const changeLang = async (next: Lang) => {
    setLangError(null);
    onLang(next);
    try {
      const answer = await setMyLanguage(api, next);
      if (answer.language !== next) onLang(null);
    } catch (err) {
      setLangError(describeError(err, t));
    }
  };

  const roles = me.roles.map((r) => t(`roles.${r}` as Key)).join(", ");
  return (
    <header class="topbar" id="top">
      <span class="brand">{t("app.name")}</span>
      <span class="who" id="who">
        {t("header.who", { principal: me.principal, roles, node: me.node })}
      </span>
      <NodeClockText />
      <Health />
      <LanguageSwitch lang={lang} onChange={(l) => void changeLang(l)} />
      {langError && (
        <span class="error" role="alert">
          {langError}
        </span>
      )}
      <button
        type="button"
        id="sign-out"
        class="secondary"
        onClick={() => {
          void signOut(api)
            .catch(() => undefined)
            .finally(() => onEnd("signedOut"));
        }}
      >
        {t("header.signOut")}
      </button>
    </header>
  );
}

function NodeClockText() {
  const { t, clock: fmt } = useI18n();
  const { clock } = useDesk();
  const now = useNodeNow();
  const time = fmt(now);
  const text = !clock.exercise
    ? t("header.clock", { time })
    : clock.speed === 0
      ? t("header.frozenClock", { time })
      : t("header.exerciseClock", { time, speed: clock.speed });
  return (
    <span class="node-clock" id="node-clock">
      {text}
    </span>
  );
}

/** Ledger verification (fetched once and after new events: the node caches it) and the
 * link state (refreshed every 30 s: peers come and go without a ledger event). */
function Health() {
  const { t } = useI18n();
  const { api, live } = useDesk();
  const verify = useLive(() => verifyLedger(api), (s) => eventKind(s) !== null, [], 2000);
  const link = useLive(() => linkState(api), (s) => eventKind(s) === "linktest", [], 1000);
  const [liveOk, setLiveOk] = useState(live.open);

  useEffect(() => {
    const timer = setInterval(link.reload, LINK_REFRESH_MS);
    const off = live.subscribe((s) => {
      if (s.type === "open") setLiveOk(true);
      if (s.type === "lost") setLiveOk(false);
    });
    setLiveOk(live.open); // it may have opened between the first render and now
    return () => {
      clearInterval(timer);
      off();
    };
  }, [link.reload, live]);

  const parts: string[] = [];
  let good = true;
  if (verify.data) {
    parts.push(
      verify.data.ok
        ? t("header.ledgerOk", { events: verify.data.events })
        : t("header.ledgerBroken"),
    );
    good &&= verify.data.ok;
  }
  if (link.data) {
    const peers = Object.entries(link.data.peers)
      .map(([party, s]) => {
        const path = describeCarrier(t, link.data?.paths?.[party]);
        const state = describeLink(t, party, String(s.state));
        return path ? `${state} (${path})` : state;
      })
      .join(", ");
    parts.push(t("header.links", { peers: peers || t("header.noPeers") }));
    parts.push(t("header.queue", { count: link.data.queue }));
    for (const a of link.data.alerts) parts.push(t("header.linkAlert", { detail: a.detail }));
    good &&= link.data.alerts.length === 0;
  }
  if (verify.error || link.error) good = false;
  const text = parts.length
    ? parts.join(" · ")
    : verify.error || link.error
      ? t("header.unknown")
      : t("header.checking");
  return (
    <span class="health">
      <span id="health" class={`pill ${good && parts.length ? "ok" : parts.length ? "bad" : ""}`} title={t("header.health")}>
        {text}
      </span>
      <span id="live" class={`pill ${liveOk ? "ok" : "bad"}`}>
        {liveOk ? t("header.liveOk") : t("header.liveLost")}
      </span>
    </span>
  );
}
