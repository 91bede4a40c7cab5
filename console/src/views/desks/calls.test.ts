import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/problem";
import { shortNotice } from "./calls";

describe("shortNotice", () => {
  it("finds the seconds of a short-notice refusal", () => {
    const refused = new ApiError(409, {
      type: "https://hotline/problems#refused",
      detail: "a missile launch needs 24h notice; this one gives 2h",
      short_notice: { required_seconds: 86400, given_seconds: 7200 },
    });
    expect(shortNotice(refused)).toEqual({ required: 86400, given: 7200 });
  });

  it("is null for any other refusal or error", () => {
    expect(shortNotice(new ApiError(409, { detail: "line is suspended" }))).toBeNull();
    expect(shortNotice(new ApiError(409, { short_notice: { required_seconds: "24h" } }))).toBeNull();
    expect(shortNotice(new Error("network"))).toBeNull();
  });
});
