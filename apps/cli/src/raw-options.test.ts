import { describe, expect, it } from "vitest";
import { rawOptionValue, rawOptionValues } from "./raw-options.ts";

describe("rawOptionValues", () => {
  it("keeps values exactly as typed, in both spellings, up to --", () => {
    const argv = ["--label", "007", "--active-key=a", "--active-key", "b", "--", "--label", "x"];
    expect(rawOptionValue(argv, "label")).toBe("007");
    expect(rawOptionValues(argv, "active-key")).toEqual(["a", "b"]);
    expect(rawOptionValue(argv, "missing")).toBeUndefined();
  });
});
