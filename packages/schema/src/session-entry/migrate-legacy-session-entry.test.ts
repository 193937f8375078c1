import { describe, expect, it } from "vitest";
import fixture from "../__fixtures__/openclaw-sessions.json" with { type: "json" };
import { migrateLegacySessionEntry } from "./migrate-legacy-session-entry.ts";
import type { SessionEntry } from "./session-entry.ts";

function frozen(value: Record<string, unknown>): SessionEntry {
  return Object.freeze(value) as SessionEntry;
}

describe("migrateLegacySessionEntry", () => {
  it("renames provider and lastProvider (reference #97)", () => {
    const legacy = frozen({
      sessionId: "s1",
      updatedAt: 1,
      provider: "slack",
      lastProvider: "telegram",
    });
    const migrated = migrateLegacySessionEntry(legacy);
    expect(migrated).toEqual({
      sessionId: "s1",
      updatedAt: 1,
      channel: "slack",
      lastChannel: "telegram",
    });
    expect(migrated).not.toHaveProperty("provider");
    expect(migrated).not.toHaveProperty("lastProvider");
    expect(legacy).toHaveProperty("provider", "slack");
  });

  it("moves room to groupChannel and drops a stray room", () => {
    expect(
      migrateLegacySessionEntry(frozen({ sessionId: "s", updatedAt: 1, room: "#ops" })),
    ).toEqual({
      sessionId: "s",
      updatedAt: 1,
      groupChannel: "#ops",
    });
    expect(
      migrateLegacySessionEntry(
        frozen({ sessionId: "s", updatedAt: 1, groupChannel: "#a", room: "#b" }),
      ),
    ).toEqual({ sessionId: "s", updatedAt: 1, groupChannel: "#a" });
    expect(migrateLegacySessionEntry(frozen({ sessionId: "s", updatedAt: 1, room: 7 }))).toEqual({
      sessionId: "s",
      updatedAt: 1,
    });
  });

  it("leaves provider alone when channel already holds a string, as openclaw does", () => {
    const entry = frozen({ sessionId: "s", updatedAt: 1, channel: "discord", provider: "slack" });
    expect(migrateLegacySessionEntry(entry)).toBe(entry);
  });

  it("overwrites a channel that is not a string, in place", () => {
    const entry = frozen({ channel: null, sessionId: "s", updatedAt: 1, provider: "slack" });
    const migrated = migrateLegacySessionEntry(entry);
    expect(Object.keys(migrated)).toEqual(["channel", "sessionId", "updatedAt"]);
    expect(migrated.channel).toBe("slack");
  });

  it("keeps the order of untouched keys and appends the renamed ones", () => {
    const entry = frozen({
      provider: "slack",
      sessionId: "s",
      room: "#r",
      updatedAt: 1,
      label: "x",
    });
    expect(Object.keys(migrateLegacySessionEntry(entry))).toEqual([
      "sessionId",
      "updatedAt",
      "label",
      "channel",
      "groupChannel",
    ]);
  });

  it("returns the same object when there is nothing to migrate", () => {
    for (const entry of Object.values(fixture as Record<string, SessionEntry>)) {
      expect(migrateLegacySessionEntry(entry)).toBe(entry);
    }
  });
});
