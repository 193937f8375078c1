import { describe, expect, it } from "vitest";
import { buildPatchParams } from "./sessions-patch.ts";

describe("buildPatchParams", () => {
  it("maps one flag per field, --clear-<field> to null, and --params for the rest", () => {
    const argv = [
      "patch",
      "k",
      "--thinking-level",
      "high",
      "--clear-model",
      "--params",
      '{"label":"x"}',
    ];
    expect(buildPatchParams("k", argv)).toEqual({
      key: "k",
      label: "x",
      thinkingLevel: "high",
      model: null,
    });
  });

  it("refuses contradictions, duplicates and empty patches as usage errors", () => {
    const usage = { code: "INVALID_PARAMS", details: expect.objectContaining({ usage: true }) };
    expect(() => buildPatchParams("k", ["--label", "a", "--clear-label"])).toThrow(
      expect.objectContaining(usage),
    );
    expect(() => buildPatchParams("k", ["--label", "a", "--params", '{"label":"b"}'])).toThrow(
      expect.objectContaining(usage),
    );
    expect(() => buildPatchParams("k", ["--params", "[1]"])).toThrow(
      expect.objectContaining(usage),
    );
    expect(() => buildPatchParams("k", [])).toThrow(expect.objectContaining(usage));
  });
});
