/** One signed-in desk: header, navigation by role, the open view, and the alarms. It
 * owns the session's stream, clock reading and inbox; unmounting it closes and forgets
 * them all. */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { closeAllNotifications } from "../alarm/notify";
import { AlarmPlan } from "../alarm/plan";
import { closeAudio, unlockAudio } from "../alarm/sound";
import { inbox as fetchInbox, listLines, nodeTime, whoAmI } from "../api/calls";
import type { Api } from "../api/client";
import type { InboxItem, Line, Me } from "../api/types";
import type { Lang } from "../i18n/catalog";
import { LiveStream } from "../live/stream";
import { NodeClock } from "../time/clock";
import { viewsFor } from "../views/registry";
import { type RollCallItem, waitingRollCalls } from "../views/desks/calls";
import { Alarms } from "./Alarms";
import { type Desk, DeskContext, type Inbox, type PrefilledMessage } from "./desk";
import { Header } from "./Header";
import { useI18n } from "./i18n";
import { Nav } from "./Nav";
import { RollCallBanner } from "./RollCallBanner";
import { routeHash, useRoute } from "./route";
import { VIEW_HEADING_ID } from "./ViewHeading";

interface Props {
  api: Api;
  me: Me;
  onLang: (lang: Lang | null) => void;
  onEnd: (notice: "ended" | "signedOut") => void;
}

const INBOX_KINDS = new Set(["message", "ack", "escalation", "translation", "certification"]);
const CLOCK_RESYNC_MS = 60_000;
const CLOCK_EVENT_MIN_MS = 5_000;
const ROLLCALL_POLL_MS = 10_000;

export function DeskShell({ api, me, onLang, onEnd }: Props) {
  const { t } = useI18n();
  const clock = useMemo(() => new NodeClock(), []);
  const alarms = useMemo(() => new AlarmPlan(), []);
  const live = useMemo(
    () =>
      new LiveStream({
        ended: () => onEnd("ended"),
        // a 401 here ends the session through the client; otherwise the stream retries
        closed: () => void whoAmI(api).catch(() => undefined),
      }),
    [api, onEnd],
  );
  const [lines, setLines] = useState<Line[] | null>(null);
  const [inboxState, setInboxState] = useState<{ items: InboxItem[]; loaded: boolean; error: unknown }>(
    { items: [], loaded: false, error: null },
  );
  const [synced, setSynced] = useState(false);
  const [rollcalls, setRollcalls] = useState<RollCallItem[]>([]);
  const reloadRollcalls = useCallback(() => {
    waitingRollCalls(api).then(setRollcalls, () => undefined); // a moment offline: the last list stays
  }, [api]);
  const draftRef = useRef<PrefilledMessage | null>(null);

  const syncClock = useCallback(async () => {
    const asked = performance.now();
    try {
      const reading = await nodeTime(api);
      clock.sync(reading, asked, performance.now());
      setSynced(true);
    } catch {
      // the next reading will do; countdowns keep the last one
    }
  }, [api, clock]);

  const inboxGeneration = useRef(0);
  const reloadInbox = useCallback(() => {
    const mine = ++inboxGeneration.current;
    fetchInbox(api).then(
      (items) => {
        if (mine === inboxGeneration.current) setInboxState({ items, loaded: true, error: null });
      },
      (error: unknown) => {
        if (mine === inboxGeneration.current) setInboxState((s) => ({ ...s, loaded: true, error }));
      },
    );
  }, [api]);

  useEffect(() => {
    live.start(); // first: nothing stored while the rest loads is missed
    void syncClock();
    reloadInbox();
    reloadRollcalls();
    const rollcallTimer = setInterval(reloadRollcalls, ROLLCALL_POLL_MS);
    listLines(api).then(setLines, () => setLines([]));
    const resync = setInterval(() => void syncClock(), CLOCK_RESYNC_MS);
    let lastEventSync = 0;
    let inboxTimer: ReturnType<typeof setTimeout> | null = null;
    const off = live.subscribe((signal) => {
      if (signal.type === "clock") void syncClock();
      if (signal.type === "event") {
        const now = performance.now();
        if (now - lastEventSync > CLOCK_EVENT_MIN_MS) {
          lastEventSync = now;
          void syncClock();
        }
      }
      if (signal.type === "event" && signal.event.kind.startsWith("rollcall")) reloadRollcalls();
      const inboxWants =
        (signal.type === "event" && INBOX_KINDS.has(signal.event.kind)) ||
        (signal.type === "open" && signal.reconnected);
      if (inboxWants && !inboxTimer) {
        inboxTimer = setTimeout(() => {
          inboxTimer = null;
          reloadInbox();
        }, 100);
      }
    });
    const unlock = () => unlockAudio();
    document.addEventListener("pointerdown", unlock, { once: true });
    document.addEventListener("keydown", unlock, { once: true });
    return () => {
      off();
      live.stop();
      clearInterval(resync);
      clearInterval(rollcallTimer);
      if (inboxTimer) clearTimeout(inboxTimer);
      inboxGeneration.current += 1;
      clock.reset();
      alarms.clear();
      closeAllNotifications();
      closeAudio();
      document.removeEventListener("pointerdown", unlock);
      document.removeEventListener("keydown", unlock);
    };
  }, [api, live, clock, alarms, syncClock, reloadInbox, reloadRollcalls]);

  const views = useMemo(() => viewsFor(me.roles), [me.roles]);
  const route = useRoute();
  const current = views.find((v) => v.id === route.view) ?? views[0] ?? null;

  const navigate = useCallback((view: string, arg?: string) => {
    location.hash = routeHash(view, arg);
  }, []);

  // focus moves to the view's heading when the operator opens another view
  const shownView = useRef<string | null>(null);
  useEffect(() => {
    if (!current || !lines || !synced) return;
    if (shownView.current !== null && shownView.current !== current.id) {
      document.getElementById(VIEW_HEADING_ID)?.focus();
    }
    shownView.current = current.id;
  }, [current, lines, synced]);

  const inbox: Inbox = useMemo(
    () => ({ ...inboxState, reload: reloadInbox }),
    [inboxState, reloadInbox],
  );

  const desk: Desk | null = useMemo(
    () =>
      lines
        ? {
            api,
            me,
            lines,
            clock,
            live,
            alarms,
            inbox,
            rollcalls: { items: rollcalls, reload: reloadRollcalls },
            navigate,
            draft: {
              take: () => {
                const d = draftRef.current;
                draftRef.current = null;
                return d;
              },
              put: (d) => {
                draftRef.current = d;
              },
            },
          }
        : null,
    [api, me, lines, clock, live, alarms, inbox, rollcalls, reloadRollcalls, navigate],
  );

  const skip = (e: Event) => {
    e.preventDefault();
    document.getElementById("main")?.focus();
  };

  if (!desk || !synced) {
    return (
      <p class="loading" role="status">
        {t("app.loading")}
      </p>
    );
  }

  const View = current?.component;
  return (
    <DeskContext.Provider value={desk}>
      <a class="skip-link" href="#main" onClick={skip}>
        {t("app.skip")}
      </a>
      <Header onLang={onLang} onEnd={onEnd} />
      <Nav views={views} current={current?.id ?? null} />
      <RollCallBanner />
      <main id="main" tabIndex={-1} data-view={current?.id}>
        {View && current && <View key={current.id} arg={route.view === current.id ? route.arg : null} />}
      </main>
      <Alarms />
    </DeskContext.Provider>
  );
}
