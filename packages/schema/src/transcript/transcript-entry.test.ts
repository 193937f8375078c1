import { describe, expect, it } from "vitest";
import {
  TranscriptEntrySchema,
  TranscriptHeaderSchema,
  TranscriptLineSchema,
} from "./transcript-entry.ts";
import { AgentMessageSchema } from "./transcript-message.ts";

const usage = {
  input: 900,
  output: 40,
  cacheRead: 0,
  cacheWrite: 0,
  totalTokens: 940,
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
};
const base = { id: "a1b2c3d4", parentId: null, timestamp: "2026-02-12T09:00:01.000Z" };

describe("transcript line schemas", () => {
  it("accepts a v3 header and keeps unknown fields", () => {
    const header = {
      type: "session",
      version: 3,
      id: "7d0c1f9e",
      timestamp: "2026-02-12T09:00:00.000Z",
      cwd: "/home/u",
      extra: { nested: true },
    };
    expect(TranscriptHeaderSchema.parse(header)).toEqual(header);
    expect(TranscriptLineSchema.parse(header)).toEqual(header);
  });

  it("accepts every message role with its parts", () => {
    const user = {
      role: "user",
      content: [
        { type: "text", text: "hi" },
        { type: "image", data: "AAAA", mimeType: "image/png" },
      ],
      timestamp: 1,
      provenance: { kind: "inter_session", sourceSessionKey: "agent:main:main" },
    };
    const assistant = {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "toolCall", id: "call_1", name: "weather", arguments: { city: "Oslo" } },
      ],
      api: "anthropic-messages",
      provider: "anthropic",
      model: "claude-opus-4-6",
      usage,
      stopReason: "toolUse",
      timestamp: 2,
    };
    const toolResult = {
      role: "toolResult",
      toolCallId: "call_1",
      toolName: "weather",
      content: [{ type: "text", text: "sunny" }],
      isError: false,
      timestamp: 3,
    };
    for (const message of [user, assistant, toolResult]) {
      expect(AgentMessageSchema.parse(message)).toEqual(message);
      expect(TranscriptEntrySchema.parse({ ...base, type: "message", message })).toMatchObject({
        message,
      });
    }
    expect(AgentMessageSchema.parse({ role: "user", content: "plain", timestamp: 1 })).toEqual({
      role: "user",
      content: "plain",
      timestamp: 1,
    });
  });

  it("accepts the other entry types", () => {
    const entries = [
      { ...base, type: "thinking_level_change", thinkingLevel: "high" },
      { ...base, type: "model_change", provider: "openai", modelId: "gpt-5.2" },
      { ...base, type: "compaction", summary: "s", firstKeptEntryId: "e5f6a7b8", tokensBefore: 1 },
      { ...base, type: "branch_summary", fromId: "e5f6a7b8", summary: "s" },
      { ...base, type: "custom", customType: "x", data: { a: 1 } },
      { ...base, type: "custom_message", customType: "x", content: "c", display: true },
      { ...base, type: "label", targetId: "e5f6a7b8", label: "important" },
      { ...base, type: "session_info", name: "Trip planning" },
    ];
    for (const entry of entries) expect(TranscriptEntrySchema.parse(entry)).toEqual(entry);
  });

  it("passes unknown entry types and message roles through untouched", () => {
    const entry = { ...base, type: "future_thing", payload: [1, 2, 3] };
    expect(TranscriptLineSchema.parse(entry)).toEqual(entry);
    const custom = { ...base, type: "message", message: { role: "bashExecution", command: "ls" } };
    expect(TranscriptLineSchema.parse(custom)).toEqual(custom);
  });

  it("rejects a known type with a wrong shape", () => {
    expect(
      TranscriptEntrySchema.safeParse({ ...base, type: "model_change", provider: 1 }).success,
    ).toBe(false);
    expect(
      TranscriptEntrySchema.safeParse({
        ...base,
        type: "message",
        message: { role: "user", content: 5, timestamp: 1 },
      }).success,
    ).toBe(false);
  });
});
