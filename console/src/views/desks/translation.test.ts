import { describe, expect, it } from "vitest";
import { byWork, current, stage, toCertify } from "./translation";

const tr = (id: string, lang: string, translator: string, certified_by: string | null = null) => ({
  id,
  lang,
  translator,
  certified_by,
});

describe("stage", () => {
  const me = "RU/TRANS-2";
  it("follows a message from untranslated to certified", () => {
    expect(stage("en", [], "ru", me)).toBe("untranslated");
    expect(stage("en", [tr("a", "uk", "RU/TRANS-1")], "ru", me)).toBe("untranslated");
    expect(stage("en", [tr("a", "ru", "RU/TRANS-1")], "ru", me)).toBe("to-certify");
    expect(stage("en", [tr("a", "ru", me)], "ru", me)).toBe("awaiting-second");
    expect(stage("en", [tr("a", "ru", me, "RU/TRANS-1")], "ru", me)).toBe("certified");
  });

  it("needs no translation of an original in the language", () => {
    expect(stage("ru", [], "ru", me)).toBe("original");
  });
});

describe("current and toCertify", () => {
  it("shows a certified translation first, else the latest", () => {
    const list = [tr("a", "ru", "X", "Y"), tr("b", "ru", "Z")];
    expect(current(list, "ru")?.id).toBe("a");
    expect(current([tr("a", "ru", "X"), tr("b", "ru", "Z")], "ru")?.id).toBe("b");
    expect(current(list, "en")).toBeNull();
  });

  it("never offers a translator their own translation to certify", () => {
    const list = [tr("a", "ru", "RU/TRANS-1"), tr("b", "ru", "RU/TRANS-2")];
    expect(toCertify(list, "ru", "RU/TRANS-2")?.id).toBe("a");
    expect(toCertify(list, "ru", "RU/TRANS-1")?.id).toBe("b");
    expect(toCertify([tr("a", "ru", "RU/TRANS-1", "RU/TRANS-2")], "ru", "RU/TRANS-3")).toBeNull();
  });
});

describe("byWork", () => {
  it("puts what the translator can do first, newest first within a stage", () => {
    const items = [
      { id: 1, stage: "certified" as const, sent: "2025-01-03" },
      { id: 2, stage: "untranslated" as const, sent: "2025-01-01" },
      { id: 3, stage: "to-certify" as const, sent: "2025-01-02" },
      { id: 4, stage: "untranslated" as const, sent: "2025-01-04" },
    ];
    expect(byWork(items).map((i) => i.id)).toEqual([3, 4, 2, 1]);
  });
});
