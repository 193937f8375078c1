import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SessionEntry, SessionsListResult } from "@clawkeep/schema";
import { SessionsListResultSchema } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { parseSessionsConfig, type SessionsConfig } from "../config/sessions-config.ts";
import {
  type ListSessionsOptions,
  type ListTranscriptReaders,
  listSessionsFromStore,
} from "./list-sessions.ts";

function config(raw: unknown = {}): SessionsConfig {
  const result = parseSessionsConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const NOW = Date.parse("2026-02-12T12:00:00Z");
const cfg = config();

const fixture: Record<string, SessionEntry> = {
  "agent:main:work-project": {
    sessionId: "sess-work",
    updatedAt: NOW - 1_000,
    displayName: "Work Project Alpha",
    label: "work",
  },
  "agent:main:personal-chat": {
    sessionId: "sess-personal",
    updatedAt: NOW - 2_000,
    displayName: "Personal Chat",
    subject: "Family Reunion Planning",
  },
  "agent:main:discord:group:dev-team": {
    sessionId: "sess-dev",
    updatedAt: NOW - 3_000,
    label: "discord",
    subject: "Dev Team Discussion",
  },
};

async function list(
  store: Record<string, SessionEntry>,
  opts: ListSessionsOptions = {},
  extra: {
    readers?: ListTranscriptReaders;
    stateDir?: string;
    storePath?: string;
    cfg?: SessionsConfig;
  } = {},
): Promise<SessionsListResult> {
  const params: Parameters<typeof listSessionsFromStore>[0] = {
    cfg: extra.cfg ?? cfg,
    storePath: extra.storePath ?? "/state/agents/main/sessions/sessions.json",
    store,
    opts,
    now: () => NOW,
  };
  if (extra.readers !== undefined) params.readers = extra.readers;
  if (extra.stateDir !== undefined) params.stateDir = extra.stateDir;
  const result = await listSessionsFromStore(params);
  // Every result must be a valid wire payload.
  expect(SessionsListResultSchema.safeParse(result).error).toBeUndefined();
  return result;
}

const keysOf = (result: SessionsListResult) => result.sessions.map((row) => row.key);

describe("listSessionsFromStore: search (#47-#56)", () => {
  it.each([
    [{ search: "" }, 3],
    [{}, 3],
    [{ search: "nonexistent-term" }, 0],
  ])("%j → %i rows", async (opts, count) => {
    expect((await list(fixture, opts)).count).toBe(count);
  });

  it.each([
    ["WORK PROJECT", "agent:main:work-project"],
    ["reunion", "agent:main:personal-chat"],
    ["discord", "agent:main:discord:group:dev-team"],
    ["sess-personal", "agent:main:personal-chat"],
    ["dev-team", "agent:main:discord:group:dev-team"],
    ["alpha", "agent:main:work-project"],
    ["  personal  ", "agent:main:personal-chat"],
  ])("search %j finds %s only", async (search, key) => {
    const result = await list(fixture, { search });
    expect(keysOf(result)).toEqual([key]);
    expect(result.total).toBe(1);
  });

  it("matches the derived display name of a group", async () => {
    const store = {
      "agent:main:discord:group:1": {
        sessionId: "g",
        updatedAt: 1,
        groupChannel: "#General",
        space: "Guild",
      },
    };
    const result = await list(store, { search: "guild#general" });
    expect(result.sessions[0]?.displayName).toBe("discord:guild#general");
  });
});

describe("listSessionsFromStore: filters and order", () => {
  it("sorts newest first, missing updatedAt last, ties by key (#57)", async () => {
    const store = {
      "agent:main:b": { sessionId: "b", updatedAt: 5 },
      "agent:main:none": { sessionId: "n" } as unknown as SessionEntry,
      "agent:main:a": { sessionId: "a", updatedAt: 5 },
      "agent:main:c": { sessionId: "c", updatedAt: 9 },
    };
    const result = await list(store);
    expect(keysOf(result)).toEqual([
      "agent:main:c",
      "agent:main:a",
      "agent:main:b",
      "agent:main:none",
    ]);
    expect(result.sessions[3]?.updatedAt).toBeNull();
  });

  it("never lists cron runs; global and unknown only when asked (#58)", async () => {
    const store = {
      "agent:main:cron:job1:run:r1": { sessionId: "run", updatedAt: 9 },
      "agent:main:cron:job1": { sessionId: "job", updatedAt: 8 },
      global: { sessionId: "g", updatedAt: 7 },
      unknown: { sessionId: "u", updatedAt: 6 },
    };
    expect(keysOf(await list(store))).toEqual(["agent:main:cron:job1"]);
    expect(keysOf(await list(store, { includeGlobal: true, includeUnknown: true }))).toEqual([
      "agent:main:cron:job1",
      "global",
      "unknown",
    ]);
    expect(keysOf(await list(store, { includeGlobal: true, limit: 1, offset: 1 }))).toEqual([
      "global",
    ]);
  });

  it("filters by agent (#59)", async () => {
    const store = {
      "agent:main:a": { sessionId: "a", updatedAt: 1 },
      "agent:Ops:b": { sessionId: "b", updatedAt: 2 },
      global: { sessionId: "g", updatedAt: 3 },
      unknown: { sessionId: "u", updatedAt: 4 },
      bare: { sessionId: "x", updatedAt: 5 },
    };
    expect(
      keysOf(await list(store, { agentId: "ops", includeGlobal: true, includeUnknown: true })),
    ).toEqual(["agent:Ops:b"]);
  });

  it("filters by spawnedBy and label, exactly", async () => {
    const store = {
      "agent:main:subagent:one": {
        sessionId: "1",
        updatedAt: 3,
        spawnedBy: "agent:main:main",
        label: "Briefing",
      },
      "agent:main:subagent:two": {
        sessionId: "2",
        updatedAt: 2,
        spawnedBy: "agent:main:other",
        label: "briefing",
      },
      global: { sessionId: "g", updatedAt: 1, spawnedBy: "agent:main:main" },
    };
    const bySpawner = await list(store, {
      spawnedBy: "agent:main:main",
      includeGlobal: true,
      includeUnknown: true,
    });
    expect(keysOf(bySpawner)).toEqual(["agent:main:subagent:one"]);
    expect(keysOf(await list(store, { label: " Briefing " }))).toEqual(["agent:main:subagent:one"]);
  });

  it("keeps sessions active within activeMinutes", async () => {
    const store = {
      "agent:main:fresh": { sessionId: "f", updatedAt: NOW - 30_000 },
      "agent:main:stale": { sessionId: "s", updatedAt: NOW - 15 * 60_000 },
    };
    expect(keysOf(await list(store, { activeMinutes: 5 }))).toEqual(["agent:main:fresh"]);
    expect(keysOf(await list(store, { activeMinutes: 0.2 }))).toEqual(["agent:main:fresh"]);
  });

  it("applies limit after search, floored (#61)", async () => {
    const result = await list(fixture, { limit: 2.7 });
    expect(result.count).toBe(2);
    expect(result.total).toBe(3);
    expect(result.nextOffset).toBe(2);
    expect((await list(fixture, { search: "a", limit: 1 })).total).toBe(3);
  });
});

describe("listSessionsFromStore: rows", () => {
  it("derives total tokens (#60)", async () => {
    const store = {
      "agent:main:a": { sessionId: "a", updatedAt: 3, inputTokens: 10, outputTokens: 20 },
      "agent:main:b": { sessionId: "b", updatedAt: 2 },
      "agent:main:c": { sessionId: "c", updatedAt: 1, totalTokens: 50, inputTokens: 1 },
    };
    expect((await list(store)).sessions.map((row) => row.totalTokens)).toEqual([30, 0, 50]);
  });

  it("names a direct chat by its label or origin, not by a group name", async () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:telegram:direct:123": {
        sessionId: "d1",
        updatedAt: 2,
        channel: "telegram",
        origin: { label: "Alice (@alice) id:123" },
      },
      "agent:main:telegram:direct:456": {
        sessionId: "d2",
        updatedAt: 1,
        channel: "telegram",
        label: "bob",
      },
    };
    const result = await list(store);
    expect(result.sessions.map((row) => [row.kind, row.channel, row.displayName])).toEqual([
      ["direct", "telegram", "Alice (@alice) id:123"],
      ["direct", "telegram", "bob"],
    ]);
  });

  it("fills every derived field", async () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:main": {
        sessionId: "sess-main",
        updatedAt: NOW - 30_000,
        inputTokens: 10,
        outputTokens: 20,
        thinkingLevel: "low",
        verboseLevel: "on",
        lastChannel: "whatsapp",
        lastTo: "+1555",
        lastAccountId: "work",
        deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "work" },
        origin: { label: "Alice", provider: "whatsapp" },
        providerOverride: "openai",
        modelOverride: "gpt-5.2",
        sessionFile: "/x.jsonl",
        futureField: true,
      },
      "agent:main:telegram:group:-100123": { sessionId: "g", updatedAt: 1, subject: "Family Chat" },
    };
    const result = await list(store);
    expect(result.defaults).toEqual({
      modelProvider: "anthropic",
      model: "claude-opus-4-6",
      contextTokens: 200000,
    });
    expect(result.ts).toBe(NOW);
    expect(result.path).toBe("/state/agents/main/sessions/sessions.json");
    expect(result.sessions[0]).toEqual({
      key: "agent:main:main",
      kind: "direct",
      displayName: "Alice",
      origin: { label: "Alice", provider: "whatsapp" },
      updatedAt: NOW - 30_000,
      sessionId: "sess-main",
      thinkingLevel: "low",
      verboseLevel: "on",
      inputTokens: 10,
      outputTokens: 20,
      totalTokens: 30,
      modelProvider: "openai",
      model: "gpt-5.2",
      deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "work" },
      lastChannel: "whatsapp",
      lastTo: "+1555",
      lastAccountId: "work",
    });
    expect(result.sessions[1]).toMatchObject({
      kind: "group",
      channel: "telegram",
      displayName: "telegram:g-family-chat",
      modelProvider: "anthropic",
      model: "claude-opus-4-6",
    });
  });
});

describe("listSessionsFromStore: row shape", () => {
  // gateway-wire.md §5: the row fields in the order openclaw sends them.
  const CAPTURED_ORDER = [
    "key",
    "kind",
    "label",
    "displayName",
    "channel",
    "subject",
    "groupChannel",
    "space",
    "chatType",
    "origin",
    "updatedAt",
    "sessionId",
    "systemSent",
    "abortedLastRun",
    "thinkingLevel",
    "verboseLevel",
    "reasoningLevel",
    "elevatedLevel",
    "sendPolicy",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "responseUsage",
    "modelProvider",
    "model",
    "contextTokens",
    "deliveryContext",
    "lastChannel",
    "lastTo",
    "lastAccountId",
    "derivedTitle",
    "lastMessagePreview",
  ];

  it("sends every field in the captured order", async () => {
    const store: Record<string, SessionEntry> = {
      // Stored fields deliberately in another order: the row order must not follow the entry's.
      "agent:main:discord:group:111": {
        lastAccountId: "default",
        lastTo: "discord:group:111",
        lastChannel: "discord",
        deliveryContext: { channel: "discord", to: "discord:group:111", accountId: "default" },
        contextTokens: 100_000,
        responseUsage: "full",
        totalTokens: 30,
        outputTokens: 20,
        inputTokens: 10,
        sendPolicy: "deny",
        elevatedLevel: "ask",
        reasoningLevel: "stream",
        verboseLevel: "on",
        thinkingLevel: "high",
        abortedLastRun: false,
        systemSent: true,
        sessionId: "sess-1",
        updatedAt: NOW - 1_000,
        origin: { label: "ops war room", provider: "discord" },
        chatType: "group",
        space: "guild-1",
        groupChannel: "#ops",
        subject: "ops war room",
        channel: "discord",
        displayName: "discord:#ops",
        label: "ops",
        modelOverride: "claude-sonnet-4-5",
      },
    };
    const readers: ListTranscriptReaders = {
      readFirstUserMessage: async () => "hello",
      readLastMessagePreview: async () => "last words",
    };
    const result = await list(
      store,
      { includeDerivedTitles: true, includeLastMessage: true },
      { readers },
    );
    const row = result.sessions[0] as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(CAPTURED_ORDER);
    expect(row).toMatchObject({ derivedTitle: "discord:#ops", lastMessagePreview: "last words" });
  });

  it("keeps the order with fields missing, and omits them", async () => {
    const result = await list(
      { "agent:main:x": { sessionId: "s", updatedAt: 1, label: "x" } },
      { includeDerivedTitles: true },
      {
        readers: {
          readFirstUserMessage: async () => "first",
          readLastMessagePreview: async () => null,
        },
      },
    );
    const keys = Object.keys(result.sessions[0] as object);
    expect(keys).toEqual(CAPTURED_ORDER.filter((field) => keys.includes(field)));
    expect(keys.at(-1)).toBe("derivedTitle");
  });

  it("rebuilds deliveryContext from the last route when the entry has none", async () => {
    const store: Record<string, SessionEntry> = {
      "agent:main:discord:group:111": { sessionId: "g", updatedAt: 3, lastChannel: "discord" },
      "agent:main:telegram:direct:5": {
        sessionId: "d",
        updatedAt: 2,
        lastChannel: " Telegram ",
        lastTo: "telegram:5",
        lastAccountId: "bot-a",
        lastThreadId: "42",
      },
      "agent:main:plain": { sessionId: "p", updatedAt: 1 },
    };
    const [group, direct, plain] = (await list(store)).sessions;
    // As captured: `{"channel":"discord"}` beside `lastChannel`.
    expect(group).toMatchObject({
      deliveryContext: { channel: "discord" },
      lastChannel: "discord",
    });
    expect(direct).toMatchObject({
      deliveryContext: {
        channel: "telegram",
        to: "telegram:5",
        accountId: "bot-a",
        threadId: "42",
      },
      lastChannel: "telegram",
      lastTo: "telegram:5",
      lastAccountId: "bot-a",
    });
    expect(plain).not.toHaveProperty("deliveryContext");
    expect(plain).not.toHaveProperty("lastChannel");
  });
});

describe("listSessionsFromStore: paging", () => {
  it("returns every row exactly once across pages of 1,000 entries", async () => {
    const store: Record<string, SessionEntry> = {};
    for (let index = 0; index < 1_000; index += 1) {
      // Many equal timestamps, so the key tie-break decides most of the order.
      store[`agent:main:s${index}`] = {
        sessionId: `id-${index}`,
        updatedAt: NOW - (index % 37) * 1_000,
      };
    }
    const frozen = Object.freeze({ ...store });
    for (const source of [store, frozen]) {
      const seen: string[] = [];
      let offset: number | null = 0;
      let pages = 0;
      while (offset !== null) {
        const page: SessionsListResult = await list(source, { limit: 64, offset });
        expect(page.total).toBe(1_000);
        seen.push(...keysOf(page));
        offset = page.nextOffset;
        pages += 1;
      }
      expect(pages).toBe(16);
      expect(seen).toHaveLength(1_000);
      expect(new Set(seen).size).toBe(1_000);
      expect(seen).toEqual(keysOf(await list(source)));
    }
  });

  it("answers an offset past the end with no rows and nextOffset null", async () => {
    const result = await list(fixture, { offset: 10, limit: 5 });
    expect(result).toMatchObject({ count: 0, total: 3, nextOffset: null, sessions: [] });
    expect((await list(fixture, { limit: 3 })).nextOffset).toBeNull();
  });
});

describe("listSessionsFromStore: derived titles and previews", () => {
  async function writeTranscript(
    dir: string,
    sessionId: string,
    userText: string,
    lastText: string,
  ) {
    await mkdir(dir, { recursive: true });
    const lines = [
      {
        type: "session",
        version: 3,
        id: sessionId,
        timestamp: "2026-02-12T09:00:00.000Z",
        cwd: "/",
      },
      {
        type: "message",
        id: "a1",
        parentId: null,
        timestamp: "2026-02-12T09:00:01.000Z",
        message: { role: "user", content: userText, timestamp: 1 },
      },
      {
        type: "message",
        id: "a2",
        parentId: "a1",
        timestamp: "2026-02-12T09:00:02.000Z",
        message: { role: "assistant", content: [{ type: "text", text: lastText }], timestamp: 2 },
      },
    ];
    await writeFile(
      join(dir, `${sessionId}.jsonl`),
      `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`,
    );
  }

  it("reads titles and previews from the transcripts of the returned rows", async () => {
    const stateDir = await testdir();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await writeTranscript(
      sessionsDir,
      "sess-personal",
      "Plan   the reunion",
      "Sure, here is a plan",
    );
    const result = await list(
      fixture,
      { includeDerivedTitles: true, includeLastMessage: true },
      { stateDir, storePath: join(sessionsDir, "sessions.json") },
    );
    const personal = result.sessions.find((row) => row.key === "agent:main:personal-chat");
    // displayName wins over the first message.
    expect(personal).toMatchObject({
      derivedTitle: "Personal Chat",
      lastMessagePreview: "Sure, here is a plan",
    });
    const noName = { "agent:main:x": { sessionId: "sess-personal", updatedAt: NOW } };
    const titled = await list(
      noName,
      { includeDerivedTitles: true },
      { stateDir, storePath: join(sessionsDir, "sessions.json") },
    );
    expect(titled.sessions[0]?.derivedTitle).toBe("Plan the reunion");
    expect(titled.sessions[0]).not.toHaveProperty("lastMessagePreview");
  });

  it("finds each agent's transcripts in a combined listing", async () => {
    const stateDir = await testdir();
    await writeTranscript(
      join(stateDir, "agents", "ops", "sessions"),
      "sess-ops",
      "ops question",
      "ops answer",
    );
    const store = { "agent:ops:x": { sessionId: "sess-ops", updatedAt: NOW } };
    const result = await list(
      store,
      { includeDerivedTitles: true, includeLastMessage: true },
      { stateDir, storePath: "(multiple)" },
    );
    expect(result.sessions[0]).toMatchObject({
      derivedTitle: "ops question",
      lastMessagePreview: "ops answer",
    });
  });

  it("falls back to the session id without a transcript; no title without a session id (#62)", async () => {
    const stateDir = await testdir();
    const store = {
      "agent:main:a": { sessionId: "abcdef123456", updatedAt: Date.parse("2026-01-02T03:04:05Z") },
      "agent:main:b": { sessionId: "", updatedAt: 1 } as SessionEntry,
      "agent:main:c": { sessionId: "../bad", updatedAt: 0 },
    };
    const result = await list(
      store,
      { includeDerivedTitles: true, includeLastMessage: true },
      { stateDir },
    );
    expect(result.sessions[0]?.derivedTitle).toBe("abcdef12 (2026-01-02)");
    expect(result.sessions[1]).not.toHaveProperty("derivedTitle");
    expect(result.sessions[2]?.derivedTitle).toBe("../bad");
  });

  it("reads transcripts only for the rows returned, once per row", async () => {
    const store: Record<string, SessionEntry> = {};
    for (let index = 0; index < 200; index += 1)
      store[`agent:main:s${index}`] = { sessionId: `id${index}`, updatedAt: index };
    const calls: string[] = [];
    const readers: ListTranscriptReaders = {
      readFirstUserMessage: async (locator) => {
        calls.push(`first:${locator.sessionId}`);
        return `hello ${locator.sessionId}`;
      },
      readLastMessagePreview: async (locator) => {
        calls.push(`last:${locator.sessionId}`);
        return null;
      },
    };
    const page = await list(
      store,
      { limit: 5, offset: 10, includeDerivedTitles: true },
      { readers },
    );
    expect(calls.sort()).toEqual([
      "first:id185",
      "first:id186",
      "first:id187",
      "first:id188",
      "first:id189",
    ]);
    expect(page.sessions.map((row) => row.derivedTitle)).toEqual([
      "hello id189",
      "hello id188",
      "hello id187",
      "hello id186",
      "hello id185",
    ]);
    calls.length = 0;
    await list(store, { limit: 5 }, { readers });
    expect(calls).toEqual([]);
  });
});
