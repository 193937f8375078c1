import { describe, expect, it } from "vitest";
import { mergeSessionEntry } from "./merge-session-entry.ts";
import type { SessionEntry } from "./session-entry.ts";

const now = () => 150;

describe("mergeSessionEntry", () => {
  it("keeps fields the patch does not name and takes the newest updatedAt", () => {
    const existing = Object.freeze({ sessionId: "s1", updatedAt: 100, reasoningLevel: "on" });
    const merged = mergeSessionEntry(existing, { updatedAt: 200 }, { now });
    expect(merged).toEqual({ sessionId: "s1", updatedAt: 200, reasoningLevel: "on" });
    expect(merged).not.toBe(existing);
  });

  it("never sets updatedAt below now", () => {
    const merged = mergeSessionEntry(
      { sessionId: "s1", updatedAt: 100 },
      { updatedAt: 120 },
      { now },
    );
    expect(merged.updatedAt).toBe(150);
    expect(mergeSessionEntry(undefined, {}).updatedAt).toBeGreaterThanOrEqual(Date.now() - 1000);
  });

  it("ignores an updatedAt that is not a finite number", () => {
    const broken = { sessionId: "s1", updatedAt: "later" } as unknown as SessionEntry;
    expect(mergeSessionEntry(broken, {}, { now }).updatedAt).toBe(150);
  });

  it("takes sessionId from the patch, else the entry, else a new UUID", () => {
    expect(
      mergeSessionEntry({ sessionId: "old", updatedAt: 1 }, { sessionId: "new" }).sessionId,
    ).toBe("new");
    expect(mergeSessionEntry({ sessionId: "old", updatedAt: 1 }, {}).sessionId).toBe("old");
    const created = mergeSessionEntry(undefined, { label: "x" }, { now });
    expect(created.sessionId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(created).toEqual({ label: "x", sessionId: created.sessionId, updatedAt: 150 });
  });

  it("merges shallowly: a nested object in the patch replaces the old one", () => {
    const existing = { sessionId: "s1", updatedAt: 1, origin: { provider: "telegram", to: "a" } };
    const merged = mergeSessionEntry(existing, { origin: { provider: "slack" } }, { now });
    expect(merged.origin).toEqual({ provider: "slack" });
    expect(existing.origin).toEqual({ provider: "telegram", to: "a" });
  });

  it("keeps the key order of the existing entry and appends new keys", () => {
    const existing = { label: "a", sessionId: "s1", updatedAt: 1, model: "m" };
    const merged = mergeSessionEntry(existing, { thinkingLevel: "high", label: "b" }, { now });
    expect(Object.keys(merged)).toEqual([
      "label",
      "sessionId",
      "updatedAt",
      "model",
      "thinkingLevel",
    ]);
  });
});
