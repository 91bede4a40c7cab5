/** The one live stream of a session: an EventSource on /api/v1/stream. The browser
 * resends Last-Event-ID itself when it reconnects. Ledger events arrive as unnamed
 * (`message`) events; `session-ended` ends the session on screen; `alert` and `clock`
 * tell the views to refetch the map or the node's time. */
import type { LiveEvent } from "../api/types";

export const STREAM_URL = "/api/v1/stream";

export type LiveSignal =
  | { type: "event"; event: LiveEvent }
  | { type: "alert"; data: unknown }
  | { type: "clock"; data: unknown }
  | { type: "open"; reconnected: boolean }
  | { type: "lost" };

export type Listener = (signal: LiveSignal) => void;

export interface StreamHooks {
  /** the node ended the session (sign-out elsewhere, expiry, password change) */
  ended: () => void;
  /** the stream closed for good: ask the node whether the session still holds */
  closed: () => void;
}

export class LiveStream {
  private source: EventSource | null = null;
  private readonly listeners = new Set<Listener>();
  private opened = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private backoff = 1000;

  constructor(
    private readonly hooks: StreamHooks,
    private readonly url = STREAM_URL,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const source = new EventSource(this.url);
    this.source = source;
    source.onopen = () => {
      this.backoff = 1000;
      this.emit({ type: "open", reconnected: this.opened > 0 });
      this.opened += 1;
    };
    source.onmessage = (message: MessageEvent<string>) => {
      const event = parse(message.data) as LiveEvent | null;
      if (event && typeof event === "object" && "kind" in event) this.emit({ type: "event", event });
    };
    source.addEventListener("session-ended", () => {
      this.stop();
      this.hooks.ended();
    });
    source.addEventListener("alert", (m) => this.emit({ type: "alert", data: parse((m as MessageEvent<string>).data) }));
    source.addEventListener("clock", (m) => this.emit({ type: "clock", data: parse((m as MessageEvent<string>).data) }));
    source.onerror = () => {
      this.emit({ type: "lost" });
      if (source.readyState === EventSource.CLOSED && !this.stopped) {
        // the browser gave up (an answer that was not a stream, e.g. 401): a new
        // source after a pause, once the node has said the session still holds
        this.source = null;
        this.hooks.closed();
        this.retry = setTimeout(() => this.connect(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 30_000);
      }
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get open(): boolean {
    return this.source?.readyState === EventSource.OPEN;
  }

  /** Closes the stream; nothing more is delivered. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.source?.close();
    this.source = null;
    this.listeners.clear();
  }

  private emit(signal: LiveSignal): void {
    for (const listener of [...this.listeners]) listener(signal);
  }
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return null;
  }
}
