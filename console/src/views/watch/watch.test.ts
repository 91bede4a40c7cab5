import { describe, expect, it } from "vitest";
import type { InboxItem } from "../../api/types";
import { orderInbox } from "./inboxOrder";
import { parseArea, parseUtc } from "./slots";

const base: InboxItem = {
  id: "x",
  line: "l",
  from: "RU/NDMC",
  precedence: "ROUTINE",
  kind: "free",
  subject: "s",
  body: "b",
  lang: "en",
  sent: "2026-01-01T12:00:00Z",
  deadline: "2026-01-01T14:00:00Z",
  acked_by: null,
  acked_at: null,
  officer: null,
  exercise: null,
};
const NOW = Date.UTC(2026, 0, 1, 12, 30);

describe("the inbox order", () => {
  it("puts what waits first, by precedence, then by deadline", () => {
    const items: InboxItem[] = [
      { ...base, id: "routine-late", deadline: "2026-01-01T18:00:00Z" },
      { ...base, id: "routine-soon", deadline: "2026-01-01T13:00:00Z" },
      { ...base, id: "flash", precedence: "FLASH", deadline: "2026-01-01T12:40:00Z" },
      { ...base, id: "acked", precedence: "FLASH", acked_by: "US/EUCOM-JOC", acked_at: "2026-01-01T12:20:00Z" },
      { ...base, id: "immediate", precedence: "IMMEDIATE" },
    ];
    expect(orderInbox(items, NOW).map((i) => i.id)).toEqual([
      "flash",
      "immediate",
      "routine-soon",
      "routine-late",
      "acked",
    ]);
  });

  it("keeps acknowledged messages for an hour of node time", () => {
    const old = { ...base, id: "old", acked_by: "x", acked_at: "2026-01-01T11:00:00Z" };
    expect(orderInbox([old], NOW)).toEqual([]);
    expect(orderInbox([old], Date.UTC(2026, 0, 1, 11, 30)).map((i) => i.id)).toEqual(["old"]);
  });

  it("puts what came for information last, for a day, and never among what waits", () => {
    const items: InboxItem[] = [
      { ...base, id: "info-flash", precedence: "FLASH", owed: false },
      { ...base, id: "info-old", owed: false, sent: "2025-12-30T12:00:00Z" },
      { ...base, id: "owed", precedence: "ROUTINE", owed: true },
      { ...base, id: "acked", acked_by: "US/EUCOM-JOC", acked_at: "2026-01-01T12:20:00Z" },
    ];
    expect(orderInbox(items, NOW).map((i) => i.id)).toEqual(["owed", "acked", "info-flash"]);
  });
});

describe("slots of a pre-agreed message", () => {
  it("read an area as latitude, longitude and radius", () => {
    expect(parseArea("54.7, 20.5, 10 km")).toEqual({ center: [20.5, 54.7], radius: 10, unit: "km" });
    expect(parseArea('{"center":[1,2],"radius":3,"unit":"nm"}')).toEqual({ center: [1, 2], radius: 3, unit: "nm" });
    expect(parseArea("Baltic")).toBe("Baltic");
  });

  it("read a time as UTC", () => {
    expect(parseUtc("2026-03-01 14:00")).toBe("2026-03-01T14:00:00Z");
    expect(parseUtc("2026-03-01T14:00:30")).toBe("2026-03-01T14:00:30Z");
  });
});

describe("the lines a desk writes on", () => {
  it("leaves out lines not active and those its party observes or mediates", async () => {
    const { writableLines } = await import("./lines");
    const line = { kind: "deconfliction", title: "", principals: [], kinds: [], parties: ["US", "RU", "UN"] };
    const lines = [
      { ...line, id: "open", status: "active" },
      { ...line, id: "proposed", status: "proposed" },
      { ...line, id: "watched", status: "active", observers: ["US"] },
      { ...line, id: "carried", status: "active", mediator: "US" },
      { ...line, id: "carried-by-un", status: "active", mediator: "UN" },
    ];
    expect(writableLines(lines, "US").map((l) => l.id)).toEqual(["open", "carried-by-un"]);
  });
});
