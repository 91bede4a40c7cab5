import { describe, expect, it } from "vitest";
import { NodeClock } from "./clock";
import { parseTime } from "./parse";

function fakeMonotonic() {
  let now = 1000;
  const mono = () => now;
  return { mono, advance: (ms: number) => (now += ms) };
}

describe("NodeClock", () => {
  it("is unknown before the first reading", () => {
    const clock = new NodeClock(() => 0);
    expect(clock.synced).toBe(false);
    expect(clock.now()).toBeNaN();
  });

  it("runs from the node's reading, not the browser's wall clock", () => {
    const m = fakeMonotonic();
    const clock = new NodeClock(m.mono);
    clock.sync({ now: "2022-02-24T03:00:00Z", speed: 1 });
    expect(clock.now()).toBe(Date.UTC(2022, 1, 24, 3, 0, 0));
    m.advance(90_000);
    expect(clock.now()).toBe(Date.UTC(2022, 1, 24, 3, 1, 30));
  });

  it("runs N times faster under an exercise clock of speed N", () => {
    const m = fakeMonotonic();
    const clock = new NodeClock(m.mono);
    clock.sync({ now: "2022-02-24T03:00:00.500000Z", speed: 60, exercise: true });
    m.advance(1000);
    expect(clock.now()).toBe(Date.UTC(2022, 1, 24, 3, 1, 0, 500));
    expect(clock.exercise).toBe(true);
  });

  it("stands still at speed 0 (a stepped clock) until the next reading", () => {
    const m = fakeMonotonic();
    const clock = new NodeClock(m.mono);
    clock.sync({ now: "2022-02-24T03:00:00Z", speed: 0 });
    m.advance(3_600_000);
    expect(clock.now()).toBe(Date.UTC(2022, 1, 24, 3, 0, 0));
    clock.sync({ now: "2022-02-24T03:10:00Z", speed: 0 });
    expect(clock.now()).toBe(Date.UTC(2022, 1, 24, 3, 10, 0));
  });

  it("places a reading half-way through its request", () => {
    const m = fakeMonotonic();
    const clock = new NodeClock(m.mono);
    const asked = m.mono();
    m.advance(200);
    clock.sync({ now: "2022-02-24T03:00:00Z", speed: 1 }, asked, m.mono());
    expect(clock.now()).toBe(Date.UTC(2022, 1, 24, 3, 0, 0) + 100);
  });

  it("counts seconds to a deadline, negative once past", () => {
    const m = fakeMonotonic();
    const clock = new NodeClock(m.mono);
    clock.sync({ now: "2022-02-24T03:00:00Z", speed: 1 });
    const deadline = parseTime("2022-02-24T03:10:00Z");
    expect(clock.secondsUntil(deadline)).toBe(600);
    m.advance(601_000);
    expect(clock.secondsUntil(deadline)).toBe(-1);
  });

  it("tells its listeners of each reading and forgets everything on reset", () => {
    const clock = new NodeClock(() => 0);
    let calls = 0;
    const off = clock.onSync(() => (calls += 1));
    clock.sync({ now: "2022-02-24T03:00:00Z", speed: 1 });
    off();
    clock.sync({ now: "2022-02-24T03:00:00Z", speed: 1 });
    expect(calls).toBe(1);
    clock.reset();
    expect(clock.now()).toBeNaN();
  });

  it("refuses what is not a time", () => {
    expect(() => new NodeClock(() => 0).sync({ now: "soon", speed: 1 })).toThrow();
  });
});

describe("parseTime", () => {
  it("reads the API's times with microseconds and offsets", () => {
    expect(parseTime("2026-03-01T14:00:00.123456Z")).toBe(Date.UTC(2026, 2, 1, 14, 0, 0, 123));
    expect(parseTime("2026-03-01T14:00:00+02:00")).toBe(Date.UTC(2026, 2, 1, 12, 0, 0));
    expect(parseTime("2026-03-01 14:00")).toBe(Date.UTC(2026, 2, 1, 14, 0, 0));
    expect(parseTime("yesterday")).toBeNaN();
    expect(parseTime(null)).toBeNaN();
  });
});
