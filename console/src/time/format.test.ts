import { describe, expect, it } from "vitest";
import { translator } from "../i18n/translate";
import { formatClock, formatDateTime, formatLeft } from "./format";

const en = translator("en");
const ru = translator("ru");
const at = "2026-03-07T04:03:22.654321Z";

describe("times for people", () => {
  it("are in UTC, never raw ISO, to the second", () => {
    const text = formatDateTime(at, "en", en);
    expect(text).toContain("04:03:22");
    expect(text).toContain("2026");
    expect(text).toMatch(/UTC$/);
    expect(text).not.toContain("T04");
    expect(text).not.toContain(".654");
  });

  it("follow the language", () => {
    expect(formatDateTime(at, "en", en)).toMatch(/Mar/);
    expect(formatDateTime(at, "ru", ru)).toMatch(/мар/);
    expect(formatClock(at, "ru", ru)).toBe("04:03:22 UTC");
  });

  it("say nothing false about an unknown time", () => {
    expect(formatDateTime("", "en", en)).toBe("—");
  });
});

describe("countdowns", () => {
  it("count minutes and seconds, then hours and minutes", () => {
    expect(formatLeft(599.7, en)).toBe("9m 59s");
    expect(formatLeft(600, en)).toBe("10m 00s");
    expect(formatLeft(2 * 3600 + 3 * 60 + 5, en)).toBe("2h 03m");
  });

  it("say overdue once past", () => {
    expect(formatLeft(-70, en)).toBe("OVERDUE 1m 10s");
    expect(formatLeft(-70, ru)).toBe("ПРОСРОЧЕНО 1 мин 10 с");
  });

  it("are in Russian for Russian", () => {
    expect(formatLeft(3725, ru)).toBe("1 ч 02 мин");
  });
});
