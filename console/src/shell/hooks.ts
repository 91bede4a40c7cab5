/** Data from the node, fetched once and again only when the stream says it changed. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { LiveSignal } from "../live/stream";
import { useDesk } from "./desk";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` on mount, when `deps` change, after a reconnect of the stream, and (at most
 * once per `debounceMs`) after each signal for which `relevant` says yes. */
export function useLive<T>(
  load: () => Promise<T>,
  relevant: (signal: LiveSignal) => boolean,
  deps: readonly unknown[] = [],
  debounceMs = 150,
): Loaded<T> {
  const { live } = useDesk();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => {
        if (mine === generation.current) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (mine === generation.current) setState((s) => ({ ...s, error, loading: false }));
      },
    );
  }, []);

  useEffect(() => {
    reload();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = live.subscribe((signal) => {
      const wanted =
        (signal.type === "open" && signal.reconnected) || relevantRef.current(signal);
      if (!wanted || timer) return;
      timer = setTimeout(() => {
        timer = null;
        reload();
      }, debounceMs);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
      generation.current += 1;
    };
  }, [live, reload, ...deps]);

  return { ...state, reload };
}

/** The node's time in ms, re-rendering every `everyMs` and after every clock reading. */
export function useNodeNow(everyMs = 1000): number {
  const { clock } = useDesk();
  const [now, setNow] = useState(() => clock.now());
  useEffect(() => {
    const tick = () => setNow(clock.now());
    const timer = setInterval(tick, everyMs);
    const off = clock.onSync(tick);
    return () => {
      clearInterval(timer);
      off();
    };
  }, [clock, everyMs]);
  return now;
}

/** Event kinds of the ledger, for `relevant` predicates. */
export function eventKind(signal: LiveSignal): string | null {
  return signal.type === "event" ? signal.event.kind : null;
}
