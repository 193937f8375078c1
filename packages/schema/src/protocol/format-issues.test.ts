import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConnectParamsSchema } from "./connect.ts";
import {
  describeValidationIssues,
  formatValidationIssues,
  validateParams,
} from "./format-issues.ts";
import { integer, nullable, sessionLabelString } from "./primitives.ts";
import {
  SessionsListParamsSchema,
  SessionsPatchParamsSchema,
  SessionsPreviewParamsSchema,
} from "./sessions-params.ts";

function messageOf(method: string, schema: z.ZodType, params: unknown): string | undefined {
  const result = validateParams(method, schema, params);
  return result.ok ? undefined : result.message;
}

describe("validateParams: the verified texts of openclaw's gateway", () => {
  it.each([
    [
      "sessions.patch {}",
      "sessions.patch",
      SessionsPatchParamsSchema,
      {},
      "invalid sessions.patch params: must have required property 'key'",
    ],
    [
      "sessions.patch unknown property",
      "sessions.patch",
      SessionsPatchParamsSchema,
      { key: "a", foo: 1 },
      "invalid sessions.patch params: at root: unexpected property 'foo'",
    ],
    [
      "sessions.patch label of 65 characters",
      "sessions.patch",
      SessionsPatchParamsSchema,
      { key: "a", label: "x".repeat(65) },
      "invalid sessions.patch params: at /label: must NOT have more than 64 characters; at /label: must be null; at /label: must match a schema in anyOf",
    ],
    [
      "sessions.patch sendPolicy maybe",
      "sessions.patch",
      SessionsPatchParamsSchema,
      { key: "a", sendPolicy: "maybe" },
      "invalid sessions.patch params: at /sendPolicy: must be equal to constant; at /sendPolicy: must be null; at /sendPolicy: must match a schema in anyOf",
    ],
    [
      "sessions.patch captured bogus property",
      "sessions.patch",
      SessionsPatchParamsSchema,
      { key: "agent:main:main", bogus: true },
      "invalid sessions.patch params: at root: unexpected property 'bogus'",
    ],
    [
      "sessions.preview without keys",
      "sessions.preview",
      SessionsPreviewParamsSchema,
      { keys: [] },
      "invalid sessions.preview params: at /keys: must NOT have fewer than 1 items",
    ],
    [
      "sessions.preview maxChars 10",
      "sessions.preview",
      SessionsPreviewParamsSchema,
      { keys: ["a"], maxChars: 10 },
      "invalid sessions.preview params: at /maxChars: must be >= 20",
    ],
    [
      "sessions.list limit 1.5",
      "sessions.list",
      SessionsListParamsSchema,
      { limit: 1.5 },
      "invalid sessions.list params: at /limit: must be integer",
    ],
    [
      "sessions.list limit 0",
      "sessions.list",
      SessionsListParamsSchema,
      { limit: 0 },
      "invalid sessions.list params: at /limit: must be >= 1",
    ],
  ])("%s", (_name, method, schema, params, expected) => {
    expect(messageOf(method, schema, params)).toBe(expected);
  });
});

describe("validateParams", () => {
  it("returns the parsed params on success", () => {
    expect(validateParams("sessions.list", SessionsListParamsSchema, { limit: 5 })).toEqual({
      ok: true,
      value: { limit: 5 },
    });
  });

  it("treats absent params as an empty object", () => {
    expect(validateParams("sessions.list", SessionsListParamsSchema, undefined)).toEqual({
      ok: true,
      value: {},
    });
    expect(messageOf("sessions.patch", SessionsPatchParamsSchema, undefined)).toBe(
      "invalid sessions.patch params: must have required property 'key'",
    );
  });

  it("returns the issues beside the message", () => {
    const result = validateParams("sessions.preview", SessionsPreviewParamsSchema, { keys: [""] });
    expect(result).toEqual({
      ok: false,
      message: "invalid sessions.preview params: at /keys/0: must NOT have fewer than 1 characters",
      issues: [{ path: "/keys/0", message: "must NOT have fewer than 1 characters" }],
    });
  });
});

describe("formatValidationIssues", () => {
  function format(schema: z.ZodType, value: unknown): string {
    const result = schema.safeParse(value);
    if (result.success) throw new Error("expected a failure");
    return formatValidationIssues(result.error.issues, { input: value });
  }

  it("reports every problem, missing keys before unknown ones", () => {
    expect(format(SessionsPatchParamsSchema, { foo: 1 })).toBe(
      "must have required property 'key'; at root: unexpected property 'foo'",
    );
  });

  it("tells a missing property from one of the wrong type", () => {
    const schema = z.strictObject({ key: z.string() });
    expect(format(schema, {})).toBe("must have required property 'key'");
    expect(format(schema, { key: 5 })).toBe("at /key: must be string");
    expect(format(schema, { key: undefined })).toBe("at /key: must be string");
  });

  it("finds missing properties from zod's reported input when no input is given", () => {
    const schema = z.strictObject({ key: z.string() });
    const result = schema.safeParse({}, { reportInput: true });
    expect(result.success).toBe(false);
    expect(formatValidationIssues(result.error?.issues ?? [])).toBe(
      "must have required property 'key'",
    );
  });

  it("names nested paths and nested unknown properties", () => {
    const params = {
      minProtocol: 3,
      maxProtocol: 3,
      client: { id: "cli", version: "1", platform: "linux", mode: "operator", extra: 1 },
    };
    expect(format(ConnectParamsSchema, params)).toBe(
      "at /client/mode: must be equal to constant; at /client/mode: must match a schema in anyOf; at /client: unexpected property 'extra'",
    );
    expect(format(ConnectParamsSchema, { minProtocol: 3, maxProtocol: 3, client: {} })).toBe(
      "at /client: must have required property 'id'; at /client: must have required property 'version'; at /client: must have required property 'platform'; at /client: must have required property 'mode'",
    );
  });

  it("reports a non-number as must be integer for integer fields", () => {
    expect(format(z.strictObject({ n: integer(1) }), { n: "5" })).toBe("at /n: must be integer");
  });

  it("reports a blank string in a nullable field with the anyOf noise", () => {
    expect(format(z.strictObject({ label: nullable(sessionLabelString()) }), { label: "" })).toBe(
      "at /label: must NOT have fewer than 1 characters; at /label: must be null; at /label: must match a schema in anyOf",
    );
  });

  it("escapes JSON pointer segments", () => {
    const schema = z.record(z.string(), z.number());
    const result = schema.safeParse({ "a/b~c": "x" });
    expect(
      describeValidationIssues(result.error?.issues ?? [], { input: { "a/b~c": "x" } }),
    ).toEqual([{ path: "/a~1b~0c", message: "must be number" }]);
  });

  it("removes duplicates", () => {
    const schema = z.union([z.literal("a"), z.literal("a"), z.null()]);
    expect(format(schema, "b")).toBe(
      "must be equal to constant; must be null; must match a schema in anyOf",
    );
  });

  it("words enum, pattern, size and bound failures", () => {
    expect(format(z.enum(["a", "b"]), "c")).toBe("must be equal to one of the allowed values");
    expect(format(z.string().regex(/^a+$/), "b")).toBe('must match pattern "/^a+$/"');
    expect(format(z.array(z.number()).max(1), [1, 2])).toBe("must NOT have more than 1 items");
    expect(format(z.number().lt(5), 7)).toBe("must be < 5");
    expect(format(z.number().multipleOf(3), 7)).toBe("must be multiple of 3");
  });
});
