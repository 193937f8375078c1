import { describe, expect, it } from "vitest";
import { validateParams } from "./format-issues.ts";
import {
  SESSIONS_METHOD_PARAMS,
  SessionsCompactParamsSchema,
  SessionsDeleteParamsSchema,
  SessionsListParamsSchema,
  SessionsPatchParamsSchema,
  SessionsPreviewParamsSchema,
  SessionsResolveParamsSchema,
  SessionsSubscribeParamsSchema,
} from "./sessions-params.ts";
import {
  SessionsChangedEventSchema,
  SessionsCompactResultSchema,
  SessionsDeleteResultSchema,
  SessionsListResultSchema,
  SessionsPatchResultSchema,
  SessionsPreviewResultSchema,
  SessionsResolveResultSchema,
} from "./sessions-results.ts";

// A row as openclaw 2026.2.12 sent it (sessionId shortened).
const capturedRow = {
  key: "agent:main:discord:group:111222333444555666",
  kind: "group",
  displayName: "discord:#ops",
  channel: "discord",
  subject: "ops war room",
  groupChannel: "#ops",
  space: "guild-1",
  chatType: "group",
  origin: {
    label: "ops war room id:111222333444555666",
    provider: "discord",
    surface: "discord",
    chatType: "group",
    from: "discord:user42",
    to: "discord:group:111222333444555666",
    accountId: "default",
  },
  updatedAt: 1795502097409,
  sessionId: "a9f7080f",
  systemSent: true,
  abortedLastRun: false,
  inputTokens: 90000,
  outputTokens: 12000,
  totalTokens: 102000,
  modelProvider: "anthropic",
  model: "claude-opus-4-6",
  deliveryContext: { channel: "discord" },
  lastChannel: "discord",
  derivedTitle: "discord:#ops",
};

describe("sessions.* params", () => {
  it("accepts the captured requests", () => {
    const accepted: [keyof typeof SESSIONS_METHOD_PARAMS, unknown][] = [
      [
        "sessions.list",
        { search: "discord", limit: 50, includeDerivedTitles: true, includeLastMessage: true },
      ],
      ["sessions.list", { limit: 2 }],
      [
        "sessions.preview",
        {
          keys: ["agent:main:telegram:direct:123456789", "agent:main:nope:direct:1"],
          limit: 3,
          maxChars: 40,
        },
      ],
      ["sessions.resolve", { key: "telegram:direct:123456789" }],
      ["sessions.resolve", {}],
      [
        "sessions.patch",
        {
          key: "agent:main:telegram:direct:123456789",
          label: "alice-renamed",
          thinkingLevel: "high",
          verboseLevel: "on",
          reasoningLevel: "stream",
          responseUsage: "full",
          elevatedLevel: "ask",
          sendPolicy: "deny",
          groupActivation: "always",
          execHost: "sandbox",
          execSecurity: "allowlist",
          execAsk: "on-miss",
          execNode: "node-1",
        },
      ],
      [
        "sessions.patch",
        { key: "k", sendPolicy: null, execNode: null, responseUsage: "off", model: null },
      ],
      ["sessions.reset", { key: "agent:main:slack:channel:c0123456" }],
      ["sessions.delete", { key: "k", deleteTranscript: false }],
      ["sessions.compact", { key: "k", maxLines: 100 }],
      ["sessions.subscribe", {}],
      ["sessions.unsubscribe", undefined],
    ];
    for (const [method, params] of accepted) {
      expect(validateParams(method, SESSIONS_METHOD_PARAMS[method], params), method).toMatchObject({
        ok: true,
      });
    }
  });

  it("accepts more than 64 preview keys: the handler cuts them", () => {
    const keys = Array.from({ length: 70 }, (_, index) => `k${index}`);
    expect(SessionsPreviewParamsSchema.safeParse({ keys }).success).toBe(true);
  });

  it("checks the limits of each method", () => {
    const rejected: [string, { safeParse(value: unknown): { success: boolean } }, unknown][] = [
      ["label of 65", SessionsListParamsSchema, { label: "x".repeat(65) }],
      ["empty label", SessionsResolveParamsSchema, { label: "" }],
      ["negative offset", SessionsListParamsSchema, { offset: -1 }],
      ["activeMinutes 0", SessionsListParamsSchema, { activeMinutes: 0 }],
      ["empty spawnedBy", SessionsListParamsSchema, { spawnedBy: "" }],
      ["preview limit 0", SessionsPreviewParamsSchema, { keys: ["a"], limit: 0 }],
      ["blank patch value", SessionsPatchParamsSchema, { key: "k", thinkingLevel: "" }],
      ["responseUsage maybe", SessionsPatchParamsSchema, { key: "k", responseUsage: "maybe" }],
      ["patch of reset-only field", SessionsPatchParamsSchema, { key: "k", queueMode: "steer" }],
      ["delete without key", SessionsDeleteParamsSchema, { deleteTranscript: true }],
      ["maxLines 0", SessionsCompactParamsSchema, { key: "k", maxLines: 0 }],
      ["subscribe with params", SessionsSubscribeParamsSchema, { key: "k" }],
    ];
    for (const [name, schema, params] of rejected) {
      expect(schema.safeParse(params).success, name).toBe(false);
    }
    expect(validateParams("sessions.list", SessionsListParamsSchema, { offset: -1 })).toMatchObject(
      {
        message: "invalid sessions.list params: at /offset: must be >= 0",
      },
    );
  });

  it("names every sessions method clawkeep serves", () => {
    expect(Object.keys(SESSIONS_METHOD_PARAMS).sort()).toEqual([
      "sessions.compact",
      "sessions.delete",
      "sessions.list",
      "sessions.patch",
      "sessions.preview",
      "sessions.reset",
      "sessions.resolve",
      "sessions.subscribe",
      "sessions.unsubscribe",
    ]);
  });
});

describe("sessions.* results", () => {
  it("accepts a captured list result with the paging additions", () => {
    const result = {
      ts: 1795502436200,
      path: "(multiple)",
      count: 1,
      defaults: { modelProvider: "anthropic", model: "claude-opus-4-6", contextTokens: 200000 },
      sessions: [capturedRow],
      total: 1,
      nextOffset: null,
    };
    expect(SessionsListResultSchema.parse(result)).toEqual(result);
    expect(
      SessionsListResultSchema.safeParse({ ...result, warnings: [] }).success,
      "warnings are omitted when empty",
    ).toBe(false);
    expect(
      SessionsListResultSchema.safeParse({
        ...result,
        warnings: [
          { code: "STORE_CORRUPT", message: "corrupt store: /x", agentId: "ops", path: "/x" },
        ],
      }).success,
    ).toBe(true);
    expect(
      SessionsListResultSchema.safeParse({ ...result, sessions: [{ ...capturedRow, extra: 1 }] })
        .success,
    ).toBe(false);
    expect(
      SessionsListResultSchema.safeParse({
        ...result,
        sessions: [{ ...capturedRow, totalTokens: undefined }],
      }).success,
    ).toBe(false);
  });

  it("accepts previews, with truncated only as true", () => {
    const result = {
      ts: 1,
      previews: [
        { key: "a", status: "ok", items: [{ role: "assistant", text: "reply" }], truncated: true },
        { key: "b", status: "missing", items: [] },
      ],
    };
    expect(SessionsPreviewResultSchema.parse(result)).toEqual(result);
    const falseFlag = {
      ts: 1,
      previews: [{ key: "a", status: "ok", items: [], truncated: false }],
    };
    expect(SessionsPreviewResultSchema.safeParse(falseFlag).success).toBe(false);
    const badRole = {
      ts: 1,
      previews: [{ key: "a", status: "ok", items: [{ role: "bot", text: "" }] }],
    };
    expect(SessionsPreviewResultSchema.safeParse(badRole).success).toBe(false);
  });

  it("accepts the captured patch, resolve, delete and compact results", () => {
    expect(
      SessionsPatchResultSchema.safeParse({
        ok: true,
        path: "~/.openclaw/agents/main/sessions/sessions.json",
        key: "agent:main:telegram:direct:999",
        entry: { sessionId: "f9c6f9f7", updatedAt: 1795502915730, label: "created-by-patch" },
        resolved: { modelProvider: "anthropic", model: "claude-opus-4-6" },
      }).success,
    ).toBe(true);
    expect(
      SessionsResolveResultSchema.safeParse({ ok: true, key: "agent:main:main" }).success,
    ).toBe(true);
    expect(
      SessionsDeleteResultSchema.safeParse({ ok: true, key: "k", deleted: false, archived: [] })
        .success,
    ).toBe(true);
    for (const result of [
      {
        ok: true,
        key: "k",
        compacted: true,
        archived: "/s/x.jsonl.bak.2026-11-24T06-48-35.754Z",
        kept: 100,
      },
      { ok: true, key: "k", compacted: false, kept: 31 },
      { ok: true, key: "k", compacted: false, reason: "no sessionId" },
      { ok: true, key: "k", compacted: false, reason: "no transcript" },
    ]) {
      expect(SessionsCompactResultSchema.safeParse(result).success, JSON.stringify(result)).toBe(
        true,
      );
    }
    expect(
      SessionsCompactResultSchema.safeParse({ ok: true, key: "k", compacted: true, kept: 3 })
        .success,
    ).toBe(false);
  });

  it("checks the sessions.changed payload", () => {
    const event = { key: "agent:main:main", agentId: "main", action: "patched", ts: 1 };
    expect(SessionsChangedEventSchema.parse(event)).toEqual(event);
    expect(SessionsChangedEventSchema.safeParse({ ...event, action: "renamed" }).success).toBe(
      false,
    );
    expect(SessionsChangedEventSchema.safeParse({ ...event, seq: 3 }).success).toBe(false);
  });
});
