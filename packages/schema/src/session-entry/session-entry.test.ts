import { describe, expect, it } from "vitest";
import fixture from "../__fixtures__/openclaw-sessions.json" with { type: "json" };
import {
  checkSessionEntry,
  inspectSessionEntry,
  SessionEntrySchema,
  SessionStoreSchema,
} from "./session-entry.ts";

const fixtureEntries = Object.entries(fixture as Record<string, unknown>);

describe("SessionEntrySchema", () => {
  it("knows every field of openclaw 2026.2.12 (57) and of 2026.3 (11 more)", () => {
    expect(Object.keys(SessionEntrySchema.shape)).toHaveLength(57 + 11);
  });

  it("accepts every entry openclaw wrote", () => {
    expect(fixtureEntries.length).toBeGreaterThan(0);
    for (const [key, entry] of fixtureEntries) {
      const result = checkSessionEntry(entry);
      expect(result, key).toEqual({ ok: true, entry });
    }
    expect(SessionStoreSchema.safeParse(fixture).success).toBe(true);
  });

  it("keeps unknown fields, top-level and nested, through a parse", () => {
    const entry = {
      sessionId: "s1",
      updatedAt: 1,
      futureField: { a: [1, 2] },
      origin: { provider: "telegram", futureOriginField: "x" },
      deliveryContext: { channel: "telegram", route: { kind: "dm" } },
      skillsSnapshot: {
        prompt: "p",
        skills: [{ name: "git", extra: true }],
        extraSnapshotField: 3,
      },
    };
    expect(SessionEntrySchema.parse(entry)).toEqual(entry);
  });

  it("returns the value itself from a successful check, not a parsed copy", () => {
    const entry = { sessionId: "s1", updatedAt: 1, zeta: 1, alpha: 2 };
    const result = checkSessionEntry(entry);
    expect(result.ok && result.entry).toBe(entry);
  });
});

describe("strict and tolerant checks", () => {
  const newer = { sessionId: "s1", updatedAt: 5, chatType: "thread", queueMode: "later" };

  it("rejects an unknown enum value in strict mode", () => {
    const result = checkSessionEntry(newer);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([
      { path: "/chatType", message: "must be equal to one of the allowed values" },
      { path: "/queueMode", message: "must be equal to one of the allowed values" },
    ]);
  });

  it("keeps and reports an unknown enum value in tolerant mode", () => {
    const result = inspectSessionEntry(newer);
    expect(result.ok).toBe(true);
    expect(result.ok && result.entry).toBe(newer);
    expect(result.issues.map((issue) => issue.path)).toEqual(["/chatType", "/queueMode"]);
  });

  it("reports a missing or invalid sessionId and updatedAt without rejecting the entry", () => {
    const result = inspectSessionEntry({ updatedAt: "yesterday", label: "x" });
    expect(result.ok).toBe(true);
    expect(result.issues).toEqual([
      { path: "", message: "must have required property 'sessionId'" },
      { path: "/updatedAt", message: "must be number" },
    ]);
    expect(inspectSessionEntry({ sessionId: "", updatedAt: 1 }).issues).toEqual([
      { path: "/sessionId", message: "must NOT have fewer than 1 characters" },
    ]);
  });

  it("reports wrong types inside nested objects with their path", () => {
    const result = checkSessionEntry({
      sessionId: "s1",
      updatedAt: 1,
      origin: { threadId: true },
      cliSessionIds: { claude: 5 },
    });
    // In the schema's field order, not the value's.
    expect(!result.ok && result.issues).toEqual([
      { path: "/cliSessionIds/claude", message: "must be string" },
      { path: "/origin/threadId", message: "must be string" },
      { path: "/origin/threadId", message: "must be number" },
      { path: "/origin/threadId", message: "must match a schema in anyOf" },
    ]);
  });

  it.each([null, [], "entry", 42])("cannot use %j as an entry", (value) => {
    const result = inspectSessionEntry(value);
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([{ path: "", message: "must be object" }]);
  });
});
