import { describe, expect, it } from "vitest";
import { translator } from "../i18n/translate";
import { describeCarrier, describeLink } from "./links";

describe("the link to a peer", () => {
  it("is told in the operator's language", () => {
    expect(describeLink(translator("en"), "RU", "up")).toBe("RU up");
    expect(describeLink(translator("ru"), "US", "up")).toBe("US — в норме");
    expect(describeLink(translator("ru"), "US", "down")).toBe("US — нет связи");
  });

  it("keeps a state it does not know as the node sent it", () => {
    expect(describeLink(translator("ru"), "US", "rerouted")).toBe("US rerouted");
  });
});

describe("describeCarrier", () => {
  it("names the path that carries the line, in the operator's language", () => {
    expect(describeCarrier(translator("en"), { carrier: "mail", paths: {} })).toBe("by e-mail");
    expect(describeCarrier(translator("ru"), { carrier: "https", paths: {} })).toBe("по HTTPS");
  });

  it("says when no path works, and nothing before any was used", () => {
    expect(describeCarrier(translator("en"), { carrier: null, paths: {} })).toBe("no path works");
    expect(describeCarrier(translator("en"), undefined)).toBeNull();
  });
});
