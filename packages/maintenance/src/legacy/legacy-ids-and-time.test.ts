import { describe, expect, it } from "vitest";
import { parseLegacySession } from "./legacy-session.ts";
import { parseLegacyTimestamp } from "./legacy-time.ts";
import { buildLegacyTranscript } from "./legacy-transcript.ts";
import {
  hashLegacyId,
  legacyFallbackKey,
  mapLegacyKey,
  migratedSessionId,
} from "./migrated-ids.ts";

describe("parseLegacyTimestamp", () => {
  it("reads naive times as UTC, whatever the machine's zone, and honours offsets", () => {
    expect(parseLegacyTimestamp("2026-02-09T14:03:10.911204")).toBe(
      Date.UTC(2026, 1, 9, 14, 3, 10, 911),
    );
    expect(parseLegacyTimestamp("2026-02-09 14:03:10")).toBe(Date.UTC(2026, 1, 9, 14, 3, 10));
    expect(parseLegacyTimestamp("2026-02-09T14:03:10+00:00")).toBe(Date.UTC(2026, 1, 9, 14, 3, 10));
    expect(parseLegacyTimestamp("2026-02-09T16:03:10.5+02:00")).toBe(
      Date.UTC(2026, 1, 9, 14, 3, 10, 500),
    );
    expect(parseLegacyTimestamp("2026-02-09T14:03:10Z")).toBe(Date.UTC(2026, 1, 9, 14, 3, 10));
    expect(parseLegacyTimestamp(1_770_000_000)).toBe(1_770_000_000_000);
    expect(parseLegacyTimestamp("yesterday")).toBeUndefined();
    expect(parseLegacyTimestamp(null)).toBeUndefined();
  });
});

describe("migrated ids and keys", () => {
  it("keeps safe ids and hashes unsafe ones, never by prefix", () => {
    expect(migratedSessionId("telegram-5550123")).toBe("telegram-5550123");
    for (const id of ["a:b", "..x", "a/b", "café", " padded", ""]) {
      expect(migratedSessionId(id)).toBe(`legacy-${hashLegacyId(id)}`);
    }
    expect(hashLegacyId("a:b")).toMatch(/^[0-9a-f]{16}$/);
    expect(hashLegacyId("a:b")).not.toBe(hashLegacyId("a:c"));
    expect(legacyFallbackKey("Main", "telegram-1")).toBe("agent:main:legacy:telegram-1");
    expect(legacyFallbackKey("main", "telegram-1")).not.toBe(
      legacyFallbackKey("main", "telegram-2"),
    );
  });

  it("normalises session_map keys and routes them to their agent", () => {
    expect(mapLegacyKey("Agent:Main:Main", "main")).toEqual({
      key: "agent:main:main",
      agentId: "main",
    });
    expect(mapLegacyKey("agent:Ops:telegram:direct:Alice", "main")).toEqual({
      key: "agent:ops:telegram:direct:Alice",
      agentId: "ops",
    });
    expect(mapLegacyKey("telegram:dm:42", "work")).toEqual({
      key: "agent:work:telegram:dm:42",
      agentId: "work",
    });
    expect(mapLegacyKey("global", "work")).toEqual({ key: "global", agentId: "work" });
    expect(mapLegacyKey("agent:", "main")).toBeUndefined();
  });
});

describe("buildLegacyTranscript", () => {
  it("gives the same bytes for the same session, with unknown roles kept as custom entries", () => {
    const parsed = parseLegacySession("s1", {
      session_id: "s1",
      messages: [
        { role: "developer", content: "x", timestamp: "2026-01-01T00:00:00" },
        {
          role: "assistant",
          content: "hi",
          timestamp: null,
          tool_calls: [{ function: { name: "f", arguments: "not json" } }],
        },
      ],
      metadata: {},
      created_at: "2026-01-01T00:00:00+00:00",
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    const options = { sessionId: "s1", cwd: "/w", fallbackMs: 0 };
    const first = buildLegacyTranscript(parsed.session, options);
    const second = buildLegacyTranscript(parsed.session, options);
    if (!first.ok || !second.ok) throw new Error("conversion failed");
    expect(first.transcript.text).toBe(second.transcript.text);
    const lines = first.transcript.text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines[1]).toMatchObject({
      type: "custom",
      customType: "legacy-message",
      data: { role: "developer" },
    });
    expect(lines[2].message.content).toEqual([
      { type: "text", text: "hi" },
      { type: "toolCall", id: "legacy-call-1-0", name: "f", arguments: { value: "not json" } },
    ]);
    expect(first.transcript.messageCount).toBe(1);
  });

  it("reports a malformed session with the field at fault", () => {
    expect(parseLegacySession("x", { session_id: "x", messages: {} })).toMatchObject({
      ok: false,
      kind: "invalid",
      reason: "messages is not an array",
    });
    expect(
      parseLegacySession("x", { session_id: "x", messages: [{ content: "no role" }] }),
    ).toMatchObject({
      ok: false,
      reason: "messages[0].role is not a string",
    });
  });
});
