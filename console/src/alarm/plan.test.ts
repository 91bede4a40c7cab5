import { describe, expect, it } from "vitest";
import { AlarmPlan, type Alarming } from "./plan";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const flash: Alarming = { id: "f", flash: true, deadline: T0 + 600_000, acked: false };
const routine: Alarming = { id: "r", flash: false, deadline: T0 + 60_000, acked: false };

describe("alarms", () => {
  it("ring a FLASH at once and again every repeat until acknowledged", () => {
    const plan = new AlarmPlan(30_000);
    expect(plan.due([flash, routine], T0).map((a) => a.id)).toEqual(["f"]);
    expect(plan.due([flash], T0 + 10_000)).toEqual([]);
    expect(plan.due([flash], T0 + 30_000).map((a) => a.id)).toEqual(["f"]);
    expect(plan.due([{ ...flash, acked: true }], T0 + 90_000)).toEqual([]);
  });

  it("ring a message once it is overdue", () => {
    const plan = new AlarmPlan(30_000);
    expect(plan.due([routine], T0 + 59_000)).toEqual([]);
    expect(plan.due([routine], T0 + 60_000).map((a) => a.id)).toEqual(["r"]);
  });

  it("stay silent for one item while it is silenced, then ring again", () => {
    const plan = new AlarmPlan(30_000);
    plan.due([flash], T0);
    plan.silence("f", T0 + 300_000);
    expect(plan.silencedUntil("f", T0 + 1)).toBe(T0 + 300_000);
    expect(plan.due([flash], T0 + 120_000)).toEqual([]);
    expect(plan.due([flash], T0 + 300_000).map((a) => a.id)).toEqual(["f"]);
    expect(plan.silencedUntil("f", T0 + 300_000)).toBeNull();
  });

  it("forget what was acknowledged or left the inbox", () => {
    const plan = new AlarmPlan(30_000);
    plan.due([flash], T0);
    plan.silence("f", T0 + 1_000_000);
    plan.due([], T0 + 1);
    expect(plan.silencedUntil("f", T0 + 2)).toBeNull();
    expect(plan.due([flash], T0 + 3).map((a) => a.id)).toEqual(["f"]);
  });

  it("ring again when the node's clock steps back (a new exercise)", () => {
    const plan = new AlarmPlan(30_000);
    plan.due([flash], T0);
    expect(plan.due([flash], T0 - 5_000).map((a) => a.id)).toEqual(["f"]);
  });

  it("ring each item at its own repeat when it has one", () => {
    const plan = new AlarmPlan(30_000);
    const immediate: Alarming = { ...flash, id: "i", repeatMs: 120_000 };
    expect(plan.due([flash, immediate], T0).map((a) => a.id)).toEqual(["f", "i"]);
    expect(plan.due([flash, immediate], T0 + 30_000).map((a) => a.id)).toEqual(["f"]);
    expect(plan.due([flash, immediate], T0 + 120_000).map((a) => a.id)).toEqual(["f", "i"]);
  });
});
