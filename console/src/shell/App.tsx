/** The console: the sign-in form, or one signed-in desk. Ending a session (sign-out, a
 * 401 from any call, `session-ended` on the stream) unmounts the desk — every view, form
 * and cached answer with it — closes the stream, stops the alarms and shows a fresh
 * sign-in form. */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { makeApi } from "../api/client";
import { nodeInfo, whoAmI } from "../api/calls";
import type { Me } from "../api/types";
import { type Lang, isLang } from "../i18n/catalog";
import { DeskShell } from "./DeskShell";
import { I18nContext, makeI18n } from "./i18n";
import { SignIn } from "./SignIn";

type Phase =
  | { kind: "checking" }
  | { kind: "signed-out"; notice: "ended" | "signedOut" | null }
  | { kind: "signed-in"; me: Me };

function browserLang(): Lang {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.slice(0, 2).toLowerCase();
    if (isLang(base)) return base;
  }
  return "en";
}

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "checking" });
  const [lang, setLang] = useState<Lang>(browserLang);
  const [nodeLang, setNodeLang] = useState<Lang | null>(null);
  const [generation, setGeneration] = useState(0);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;

  const end = useCallback((notice: "ended" | "signedOut") => {
    if (phaseRef.current.kind !== "signed-in") return; // a first visit's 401 ends nothing
    history.replaceState(null, "", location.pathname + location.search);
    setGeneration((g) => g + 1);
    setPhase({ kind: "signed-out", notice });
  }, []);

  const api = useMemo(() => makeApi(() => end("ended")), [end]);
  const i18n = useMemo(() => makeI18n(lang), [lang]);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = i18n.t("app.title");
  }, [lang, i18n]);

  useEffect(() => {
    nodeInfo(api).then(
      (info) => {
        if (isLang(info.language)) {
          setNodeLang(info.language);
          if (phaseRef.current.kind !== "signed-in") setLang(info.language);
        }
      },
      () => undefined, // an older node: the browser's language until sign-in
    );
    whoAmI(api).then(
      (me) => begin(me),
      () => setPhase({ kind: "signed-out", notice: null }),
    );
  }, []);

  const begin = (me: Me) => {
    if (isLang(me.language)) setLang(me.language);
    setPhase({ kind: "signed-in", me });
  };

  return (
    <I18nContext.Provider value={i18n}>
      {phase.kind === "checking" ? (
        <p class="loading" role="status">
          {i18n.t("app.loading")}
        </p>
      ) : phase.kind === "signed-out" ? (
        <SignIn
          key={`sign-in-${generation}`}
          api={api}
          notice={phase.notice}
          lang={lang}
          onLang={setLang}
          onSignedIn={begin}
        />
      ) : (
        <DeskShell
          key={`desk-${generation}`}
          api={api}
          me={phase.me}
          onLang={(l) => setLang(l ?? nodeLang ?? lang)}
          onEnd={end}
        />
      )}
    </I18nContext.Provider>
  );
}
