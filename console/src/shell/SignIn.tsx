/** The sign-in form. Each session-end mounts a new one, so nothing typed survives. */
import { useEffect, useRef, useState } from "preact/hooks";
import { askNotifications } from "../alarm/notify";
import { unlockAudio } from "../alarm/sound";
import { signIn, whoAmI } from "../api/calls";
import type { Api } from "../api/client";
import { describeError } from "../api/problem";
import type { Me } from "../api/types";
import type { Lang } from "../i18n/catalog";
import { useI18n } from "./i18n";
import { LanguageSwitch } from "./LanguageSwitch";

interface Props {
  api: Api;
  notice: "ended" | "signedOut" | null;
  lang: Lang;
  onLang: (lang: Lang) => void;
  onSignedIn: (me: Me) => void;
}

export function SignIn({ api, notice, lang, onLang, onSignedIn }: Props) {
  const { t } = useI18n();
  const [principal, setPrincipal] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (notice) heading.current?.focus();
  }, [notice]);

  const submit = async (e: Event) => {
    e.preventDefault();
    unlockAudio();
    askNotifications();
    setBusy(true);
    setError(null);
    try {
      await signIn(api, principal.trim(), password);
      const me = await whoAmI(api);
      setPassword("");
      onSignedIn(me);
    } catch (err) {
      setPassword("");
      setError(t("signin.failed", { detail: describeError(err, t) }));
      setBusy(false);
    }
  };

  return (
    <div class="signin-page">
      <header class="topbar">
        <span class="brand">{t("app.name")}</span>
        <LanguageSwitch lang={lang} onChange={onLang} />
      </header>
      <main id="main" class="signin">
        <form id="sign-in" class="card" onSubmit={submit} aria-labelledby="sign-in-title">
          <h1 id="sign-in-title" tabIndex={-1} ref={heading}>
            {t("signin.title")}
          </h1>
          {notice && (
            <p class="notice" role="status">
              {t(notice === "ended" ? "signin.ended" : "signin.signedOut")}
            </p>
          )}
          <label for="sign-in-principal">{t("signin.principal")}</label>
          <input
            id="sign-in-principal"
            name="principal"
            autocomplete="username"
            required
            aria-describedby="sign-in-principal-hint"
            value={principal}
            onInput={(e) => setPrincipal(e.currentTarget.value)}
          />
          <small id="sign-in-principal-hint" class="hint">
            {t("signin.principalHint")}
          </small>
          <label for="sign-in-password">{t("signin.password")}</label>
          <input
            id="sign-in-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            {busy ? t("signin.working") : t("signin.submit")}
          </button>
          <p class="error" role="alert">
            {error ?? ""}
          </p>
        </form>
      </main>
    </div>
  );
}
