import { describe, expect, it } from "vitest";
import { compactSpan, inputFromUtc, leadTime, span, utcFromInput } from "./leadTime";

const now = new Date("2025-03-01T12:00:00Z");

describe("leadTime", () => {
  it("is short when the window starts sooner than the rule asks", () => {
    const check = leadTime(86400, new Date("2025-03-02T06:00:00Z"), now);
    expect(check).toEqual({ required: 86400, given: 64800, short: true });
  });

  it("is not short with enough notice, or with no rule", () => {
    expect(leadTime(86400, new Date("2025-03-02T12:00:00Z"), now).short).toBe(false);
    expect(leadTime(null, new Date("2025-03-01T12:05:00Z"), now)).toEqual({
      required: null,
      given: 300,
      short: false,
    });
  });
});

describe("span", () => {
  it("cuts seconds into days, hours and minutes", () => {
    expect(span(3 * 86400 + 4 * 3600 + 5 * 60 + 7)).toEqual({ days: 3, hours: 4, minutes: 5 });
    expect(span(-10)).toEqual({ days: 0, hours: 0, minutes: 0 });
  });

  it("words the two largest parts", () => {
    const units = { d: "d", h: "h", m: "m" };
    expect(compactSpan(86400, units)).toBe("24h");
    expect(compactSpan(36 * 3600, units)).toBe("36h");
    expect(compactSpan(2 * 86400, units)).toBe("2d");
    expect(compactSpan(24 * 3600 - 60, units)).toBe("23h 59m");
    expect(compactSpan(3 * 86400 + 3600 + 60, units)).toBe("3d 1h");
    expect(compactSpan(59, units)).toBe("0m");
    expect(compactSpan(3600, { d: " д", h: " ч", m: " мин" })).toBe("1 ч");
  });
});

describe("UTC inputs", () => {
  it("reads a datetime-local value as UTC", () => {
    expect(utcFromInput("2025-03-01T12:30")).toBe("2025-03-01T12:30:00Z");
    expect(utcFromInput("2025-03-01 12:30:15Z")).toBe("2025-03-01T12:30:15Z");
    expect(utcFromInput("2025-02-30T12:30")).toBeNull();
    expect(utcFromInput("tomorrow")).toBeNull();
  });

  it("shows an ISO time in a datetime-local control", () => {
    expect(inputFromUtc("2025-03-01T12:30:00.123456Z")).toBe("2025-03-01T12:30");
    expect(inputFromUtc(null)).toBe("");
  });
});
