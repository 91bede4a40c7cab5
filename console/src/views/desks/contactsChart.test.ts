import { describe, expect, it } from "vitest";
import { between, buckets, outcome, pairs, scale, total, type RequestLike } from "./contactsChart";

const now = new Date("2025-03-31T00:00:00Z");

function request(day: number, status: string, answer: string | null = null, due = day + 2): RequestLike {
  const at = (d: number) => new Date(now.getTime() - (30 - d) * 86_400_000).toISOString();
  return {
    from: "US/SECDEF",
    to: "RU/MINDEF",
    status,
    answer,
    requested_at: at(day),
    respond_by: at(due),
  };
}

describe("outcome", () => {
  it("counts an answer whatever came after it, and silence past the window", () => {
    expect(outcome(request(1, "held", "accepted"), now)).toBe("accepted");
    expect(outcome(request(1, "cancelled", "accepted"), now)).toBe("accepted");
    expect(outcome(request(1, "declined", "declined"), now)).toBe("declined");
    expect(outcome(request(1, "expired"), now)).toBe("unanswered");
    expect(outcome(request(1, "pending"), now)).toBe("unanswered");
    expect(outcome(request(29, "pending", null, 31), now)).toBe("pending");
    expect(outcome(request(1, "cancelled"), now)).toBe("cancelled");
  });
});

describe("buckets", () => {
  it("cuts the days back from now into buckets, oldest first, each request in one", () => {
    const made = buckets(
      [
        request(0.5, "declined", "declined"),
        request(8, "expired"),
        request(7.5, "declined", "declined"),
        request(29.5, "pending", null, 31),
        request(-5, "declined", "declined"), // before the window: not counted
      ],
      now,
      30,
      7,
    );
    expect(made.map((b) => b.start.toISOString().slice(0, 10))).toEqual([
      "2025-03-01",
      "2025-03-03",
      "2025-03-10",
      "2025-03-17",
      "2025-03-24",
    ]);
    expect(made.map((b) => b.requested)).toEqual([1, 2, 0, 0, 1]);
    expect(made[1]).toMatchObject({ declined: 1, unanswered: 1 });
    expect(made[4]?.pending).toBe(1);
    expect(total(made)).toMatchObject({ requested: 4, accepted: 0, declined: 2, unanswered: 1, pending: 1 });
  });

  it("counts a request stamped a moment after now in the newest bucket", () => {
    const made = buckets([request(30.01, "pending", null, 32)], now, 30, 7);
    expect(made[made.length - 1]?.requested).toBe(1);
  });

  it("has at least one bucket", () => {
    expect(buckets([], now, 0, 0)).toHaveLength(1);
  });
});

describe("pairs and between", () => {
  it("groups requests by the two principals, in either direction", () => {
    const back = { ...request(3, "pending"), from: "RU/MINDEF", to: "US/SECDEF" };
    const other = { ...request(3, "pending"), to: "RU/CGS" };
    const all = [request(2, "expired"), back, other];
    expect(pairs(all)).toEqual([
      ["RU/CGS", "US/SECDEF"],
      ["RU/MINDEF", "US/SECDEF"],
    ]);
    expect(between(all, "US/SECDEF", "RU/MINDEF")).toHaveLength(2);
  });
});

describe("scale", () => {
  it("gives whole-number ticks up to a top at or above the largest count", () => {
    expect(scale(0)).toEqual({ top: 1, ticks: [0, 1] });
    expect(scale(3)).toEqual({ top: 3, ticks: [0, 1, 2, 3] });
    expect(scale(7)).toEqual({ top: 8, ticks: [0, 2, 4, 6, 8] });
  });
});
