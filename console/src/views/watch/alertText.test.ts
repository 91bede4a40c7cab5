import { describe, expect, it } from "vitest";
import { translator } from "../../i18n/translate";
import { alertText } from "./alertText";

const proximity = {
  summary: "RU missile RU-CM-01 24.3 km from US's border",
  rule: "proximity",
  uid: "RU-CM-01",
  party: "RU",
  kind: "missile",
  other: "US",
  value: 24321.5,
};

describe("an alert in the operator's language", () => {
  it("says each rule in English and in Russian, numbers as each language writes them", () => {
    expect(alertText(proximity, translator("en"), "en")).toBe("RU missile RU-CM-01 24.3 km from US's border");
    expect(alertText(proximity, translator("ru"), "ru")).toBe("ракета RU RU-CM-01 в 24,3 км от границы US");
    const cpa = { ...proximity, rule: "cpa", value: 3704, detail: { with_uid: "US-P8", tcpa_s: 90 } };
    expect(alertText(cpa, translator("en"), "en")).toBe("RU missile RU-CM-01 and US US-P8 will pass within 2.0 NM in 1.5 min");
    const stale = { ...proximity, rule: "stale", value: 260 };
    expect(alertText(stale, translator("ru"), "ru")).toBe("ракета RU RU-CM-01: нет данных 260 с");
  });

  it("names the agreement's clause a proximity alert enforces", () => {
    const zone = {
      ...proximity,
      kind: "uav",
      party: "KP",
      other: "KR",
      value: 12000,
      detail: { clause: "군사 합의 (0a1b2c3d4e5f) uav-east: uav 15 km" },
    };
    expect(alertText(zone, translator("ko"), "ko")).toContain("군사 합의 (0a1b2c3d4e5f) uav-east: uav 15 km 구역 안");
    expect(alertText(zone, translator("en"), "en")).toContain("12.0 km from KR's border, inside the zone of");
  });

  it("falls back to the node's summary when it lacks the facts", () => {
    expect(alertText({ summary: "as the node says" }, translator("ru"), "ru")).toBe("as the node says");
    expect(alertText({ ...proximity, rule: "new-rule" }, translator("ru"), "ru")).toBe(proximity.summary);
  });
});
