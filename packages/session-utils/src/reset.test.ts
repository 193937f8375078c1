import type { SessionEntry } from "@clawkeep/schema";
import { describe, expect, it } from "vitest";
import { buildResetSessionEntry } from "./reset.ts";

const options = { now: () => 1_000, randomUUID: () => "fresh-id" };

describe("buildResetSessionEntry", () => {
  it("keeps the user's choices and drops everything else", () => {
    const origin = { label: "Alice", provider: "telegram" };
    const existing: SessionEntry = {
      sessionId: "old",
      updatedAt: 500,
      systemSent: true,
      abortedLastRun: true,
      inputTokens: 10,
      outputTokens: 20,
      totalTokens: 30,
      thinkingLevel: "high",
      verboseLevel: "on",
      reasoningLevel: "stream",
      responseUsage: "full",
      model: "claude-opus-4-6",
      contextTokens: 200000,
      sendPolicy: "deny",
      label: "mine",
      origin,
      lastChannel: "telegram",
      lastTo: "123",
      skillsSnapshot: { prompt: "p", skills: [] },
      sessionFile: "/old.jsonl",
      spawnedBy: "agent:main:main",
      elevatedLevel: "on",
      execHost: "node",
      providerOverride: "openai",
      modelOverride: "gpt-5.2",
      authProfileOverride: "work",
      groupActivation: "always",
      queueMode: "collect",
      compactionCount: 3,
      displayName: "Name",
      channel: "telegram",
      chatType: "direct",
      deliveryContext: { channel: "telegram", to: "123" },
      lastAccountId: "default",
      lastThreadId: 7,
      cliSessionIds: { claude: "x" },
      futureField: 1,
    };
    const entry = buildResetSessionEntry(existing, options);
    expect(entry).toEqual({
      sessionId: "fresh-id",
      updatedAt: 1_000,
      systemSent: false,
      abortedLastRun: false,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      thinkingLevel: "high",
      verboseLevel: "on",
      reasoningLevel: "stream",
      responseUsage: "full",
      model: "claude-opus-4-6",
      contextTokens: 200000,
      sendPolicy: "deny",
      label: "mine",
      origin: { label: "Alice", provider: "telegram" },
      lastChannel: "telegram",
      lastTo: "123",
      skillsSnapshot: { prompt: "p", skills: [] },
    });
    expect(entry.origin).not.toBe(origin);
  });

  it("creates an entry for a session that does not exist", () => {
    expect(buildResetSessionEntry(undefined, options)).toEqual({
      sessionId: "fresh-id",
      updatedAt: 1_000,
      systemSent: false,
      abortedLastRun: false,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
    });
    expect(buildResetSessionEntry(undefined).sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
