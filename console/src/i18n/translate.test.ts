import { describe, expect, it } from "vitest";
import { interpolate, translator } from "./translate";

describe("t(key, vars)", () => {
  it("replaces placeholders", () => {
    expect(interpolate("{a} and {b}", { a: 1, b: "two" })).toBe("1 and two");
    expect(interpolate("{missing}", {})).toBe("{missing}");
  });

  it("speaks each language", () => {
    expect(translator("en")("nav.inbox")).toBe("Inbox");
    expect(translator("ru")("nav.inbox")).toBe("Входящие");
  });

  it("chooses plural forms by the language's rules", () => {
    const ru = translator("ru");
    expect(ru("inbox.minutes", { count: 1 })).toBe("1 минуту");
    expect(ru("inbox.minutes", { count: 3 })).toBe("3 минуты");
    expect(ru("inbox.minutes", { count: 5 })).toBe("5 минут");
    expect(ru("inbox.minutes", { count: 21 })).toBe("21 минуту");
    const en = translator("en");
    expect(en("inbox.minutes", { count: 1 })).toBe("1 minute");
    expect(en("inbox.minutes", { count: 15 })).toBe("15 minutes");
  });
});
