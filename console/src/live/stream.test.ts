import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type LiveSignal, LiveStream } from "./stream";

class FakeSource {
  static made: FakeSource[] = [];
  static OPEN = 1;
  static CLOSED = 2;
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  named = new Map<string, (m: { data: string }) => void>();
  constructor(readonly url: string) {
    FakeSource.made.push(this);
  }
  addEventListener(name: string, fn: (m: { data: string }) => void) {
    this.named.set(name, fn);
  }
  close() {
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
}

describe("the live stream", () => {
  beforeEach(() => {
    FakeSource.made = [];
    vi.stubGlobal("EventSource", FakeSource);
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("delivers ledger events, alert and clock signals, and says when it reopened", () => {
    const stream = new LiveStream({ ended: () => undefined, closed: () => undefined });
    const got: LiveSignal[] = [];
    stream.subscribe((s) => got.push(s));
    stream.start();
    const source = FakeSource.made[0]!;
    expect(source.url).toBe("/api/v1/stream");
    source.open();
    source.onmessage?.({ data: JSON.stringify({ id: "e1", kind: "message" }) });
    source.onmessage?.({ data: "not json" });
    source.named.get("alert")?.({ data: '{"id": 3}' });
    source.named.get("clock")?.({ data: '{"now": "2026-01-01T00:00:00Z"}' });
    source.open();
    expect(got.map((s) => s.type)).toEqual(["open", "event", "alert", "clock", "open"]);
    expect(got[0]).toEqual({ type: "open", reconnected: false });
    expect(got[4]).toEqual({ type: "open", reconnected: true });
  });

  it("ends the session on session-ended and closes for good", () => {
    const ended = vi.fn();
    const stream = new LiveStream({ ended, closed: () => undefined });
    const got: LiveSignal[] = [];
    stream.subscribe((s) => got.push(s));
    stream.start();
    FakeSource.made[0]!.named.get("session-ended")?.({ data: "" });
    expect(ended).toHaveBeenCalledOnce();
    expect(FakeSource.made[0]!.readyState).toBe(2);
    vi.advanceTimersByTime(60_000);
    expect(FakeSource.made).toHaveLength(1);
  });

  it("asks whether the session holds when the browser gives up, then retries with backoff", () => {
    const closed = vi.fn();
    const stream = new LiveStream({ ended: () => undefined, closed });
    stream.start();
    const fail = () => {
      const source = FakeSource.made.at(-1)!;
      source.readyState = 2;
      source.onerror?.();
    };
    fail();
    expect(closed).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(999);
    expect(FakeSource.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSource.made).toHaveLength(2);
    fail();
    vi.advanceTimersByTime(1999);
    expect(FakeSource.made).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSource.made).toHaveLength(3);
    stream.stop();
    fail();
    vi.advanceTimersByTime(60_000);
    expect(FakeSource.made).toHaveLength(3);
  });
});
