import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GatewayClient } from "@clawkeep/gateway-client";
import type { SessionRuntimeTarget } from "@clawkeep/gateway-methods";
import { describe, expect, it } from "vitest";
import {
  assistantText,
  fileState,
  readStore,
  type SessionsState,
  startSessionsGateway,
  transcriptLines,
  userText,
  writeSessionsState,
} from "./__fixtures__/sessions-gateway.ts";
import { connectParams, type RawSocket, rawHandshake } from "./test-support.ts";

type Row = Record<string, unknown>;
type ListPayload = {
  path: string;
  count: number;
  total: number;
  nextOffset: number | null;
  defaults: Row;
  sessions: Row[];
  warnings?: Row[];
};

let requestCounter = 0;

/** Sends one request on a raw socket and returns the whole response frame, exactly as sent. */
async function rawCall(raw: RawSocket, method: string, params: unknown): Promise<Row> {
  requestCounter += 1;
  const id = `r${requestCounter}`;
  raw.send({ type: "req", id, method, params });
  const frame = await raw.nextResponse();
  expect(frame.id).toBe(id);
  return frame;
}

function refusal(id: unknown, code: string, message: string, extra: Row = {}) {
  return { type: "res", id, ok: false, error: { code, message, ...extra } };
}

async function setup(options: Parameters<typeof startSessionsGateway>[1] = {}, fixed = true) {
  const state = await writeSessionsState({ fixedStore: fixed });
  const gateway = await startSessionsGateway(state, options);
  const client = await gateway.connect();
  const { raw } = await rawHandshake(gateway.url, connectParams());
  return { state, gateway, client, raw };
}

function keysOf(payload: ListPayload): unknown[] {
  return payload.sessions.map((row) => row.key);
}

async function list(client: GatewayClient, params: Row = {}): Promise<ListPayload> {
  return await client.call<ListPayload>("sessions.list", params);
}

async function rowOf(client: GatewayClient, key: string): Promise<Row | undefined> {
  return (await list(client, { includeGlobal: true })).sessions.find((row) => row.key === key);
}

async function sessionFiles(state: SessionsState): Promise<string[]> {
  return (await readdir(state.sessionsDir)).sort();
}

describe("session methods over a real socket (reference §8.10)", () => {
  it("#158 advertises openclaw's six session methods plus resolve, subscribe, unsubscribe, health", async () => {
    const { client } = await setup();
    expect(client.hello.features.methods).toEqual([
      "sessions.list",
      "sessions.preview",
      "sessions.patch",
      "sessions.reset",
      "sessions.delete",
      "sessions.compact",
      "sessions.resolve",
      "sessions.subscribe",
      "sessions.unsubscribe",
      "health",
    ]);
    expect(client.hello.features.events).toContain("sessions.changed");
  });

  it("#159 #160 resolves a main alias and a session id", async () => {
    const { raw } = await setup();
    const byKey = await rawCall(raw, "sessions.resolve", { key: "main" });
    expect(byKey).toEqual({
      type: "res",
      id: byKey.id,
      ok: true,
      payload: { ok: true, key: "agent:main:main" },
    });
    const byId = await rawCall(raw, "sessions.resolve", { sessionId: "sess-group" });
    expect(byId.payload).toEqual({ ok: true, key: "agent:main:discord:group:dev" });
  });

  it("#161 #162 #163 lists with the store path, defaults, filters and the global row", async () => {
    const { client, state } = await setup();
    const listed = await list(client, { includeGlobal: false, includeUnknown: false });
    expect(listed.path).toBe(state.storePath);
    expect(keysOf(listed)).toEqual([
      "agent:main:main",
      "agent:main:discord:group:dev",
      "agent:main:subagent:one",
    ]);
    expect(listed.defaults).toEqual({
      modelProvider: "anthropic",
      model: "claude-opus-4-6",
      contextTokens: 200000,
    });
    expect({ total: listed.total, nextOffset: listed.nextOffset, count: listed.count }).toEqual({
      total: 3,
      nextOffset: null,
      count: 3,
    });
    const main = listed.sessions[0] as Row;
    expect(main).toMatchObject({
      totalTokens: 30,
      thinkingLevel: "low",
      verboseLevel: "on",
      lastAccountId: "work",
      deliveryContext: { channel: "whatsapp", to: "+1555", accountId: "work" },
    });
    expect(keysOf(await list(client, { activeMinutes: 5 }))).toEqual(["agent:main:main"]);
    expect(keysOf(await list(client, { includeGlobal: true, limit: 1 }))).toEqual(["global"]);
  });

  it("#164 – #172 patches levels, policy, labels, spawnedBy and the model", async () => {
    const { client, raw } = await setup();
    const patched = await client.call<Row>("sessions.patch", {
      key: "agent:main:main",
      thinkingLevel: "medium",
      verboseLevel: "off",
    });
    expect(patched).toMatchObject({ ok: true, key: "agent:main:main" });
    const denied = await client.call<{ entry: Row }>("sessions.patch", {
      key: "agent:main:main",
      sendPolicy: "deny",
    });
    expect(denied.entry.sendPolicy).toBe("deny");

    await client.call("sessions.patch", { key: "agent:main:subagent:one", label: "Briefing" });
    const taken = await rawCall(raw, "sessions.patch", {
      key: "agent:main:discord:group:dev",
      label: "Briefing",
    });
    expect(taken).toEqual(refusal(taken.id, "INVALID_REQUEST", "label already in use: Briefing"));

    expect(await rowOf(client, "agent:main:main")).toMatchObject({
      thinkingLevel: "medium",
      verboseLevel: "off",
      sendPolicy: "deny",
    });
    expect(await rowOf(client, "agent:main:subagent:one")).toMatchObject({
      label: "Briefing",
      displayName: "Briefing",
    });

    await client.call("sessions.patch", { key: "agent:main:main", verboseLevel: null });
    expect(await rowOf(client, "agent:main:main")).not.toHaveProperty("verboseLevel");

    expect(keysOf(await list(client, { label: "Briefing" }))).toEqual(["agent:main:subagent:one"]);
    expect(await client.call("sessions.resolve", { label: "Briefing", agentId: "main" })).toEqual({
      ok: true,
      key: "agent:main:subagent:one",
    });
    expect(
      keysOf(
        await list(client, {
          includeGlobal: true,
          includeUnknown: true,
          spawnedBy: "agent:main:main",
        }),
      ),
    ).toEqual(["agent:main:subagent:one"]);

    const spawned = await client.call<{ entry: Row }>("sessions.patch", {
      key: "agent:main:subagent:two",
      spawnedBy: "agent:main:main",
    });
    expect(spawned.entry.spawnedBy).toBe("agent:main:main");
    const notSub = await rawCall(raw, "sessions.patch", {
      key: "agent:main:main",
      spawnedBy: "agent:main:main",
    });
    expect(notSub).toEqual(
      refusal(notSub.id, "INVALID_REQUEST", "spawnedBy is only supported for subagent:* sessions"),
    );

    const model = await client.call<{ entry: Row; resolved: Row }>("sessions.patch", {
      key: "agent:main:main",
      model: "openai/gpt-test-a",
    });
    expect(model.entry).toMatchObject({ modelOverride: "gpt-test-a", providerOverride: "openai" });
    expect(model.resolved).toEqual({ modelProvider: "openai", model: "gpt-test-a" });
  });

  it("#173 compacts keeping the header and a valid chain, then clears the token counters", async () => {
    const { client, state } = await setup();
    const before = (await readStore(state.storePath))["agent:main:main"] as Row;
    const result = await client.call<Row>("sessions.compact", {
      key: "agent:main:main",
      maxLines: 3,
    });
    expect(result).toEqual({
      ok: true,
      key: "agent:main:main",
      compacted: true,
      archived: expect.stringMatching(/sess-main\.jsonl\.bak\.\d{4}-\d{2}-\d{2}T[\d-]+\.\d{3}Z$/),
      kept: 3,
    });
    expect(existsSync(result.archived as string)).toBe(true);
    const lines = (await readFile(join(state.sessionsDir, "sess-main.jsonl"), "utf8"))
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Row);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ type: "session", id: "sess-main" });
    expect(lines[1]?.parentId).toBeNull();
    expect(lines[2]?.parentId).toBe(lines[1]?.id);
    expect(lines[3]?.parentId).toBe(lines[2]?.id);
    const after = (await readStore(state.storePath))["agent:main:main"] as Row;
    expect(after).not.toHaveProperty("inputTokens");
    expect(after).not.toHaveProperty("outputTokens");
    expect(after).not.toHaveProperty("totalTokens");
    expect(after.updatedAt as number).toBeGreaterThan(before.updatedAt as number);
  });

  it("#174 deletes a session and archives its transcript", async () => {
    const { client, state } = await setup();
    const result = await client.call<Row>("sessions.delete", {
      key: "agent:main:discord:group:dev",
    });
    expect(result).toEqual({
      ok: true,
      key: "agent:main:discord:group:dev",
      deleted: true,
      archived: [expect.stringMatching(/sess-group\.jsonl\.deleted\.[\dT:.Z-]+$/)],
    });
    expect(keysOf(await list(client))).not.toContain("agent:main:discord:group:dev");
    expect(
      (await sessionFiles(state)).some((name) => name.startsWith("sess-group.jsonl.deleted.")),
    ).toBe(true);
    expect(existsSync(join(state.sessionsDir, "sess-group.jsonl"))).toBe(false);
  });

  it("#175 resets main: new session id, 2.12's fields kept, old transcript archived", async () => {
    const { client, state } = await setup();
    const result = await client.call<{ key: string; entry: Row }>("sessions.reset", {
      key: "main",
    });
    expect(result.key).toBe("agent:main:main");
    expect(result.entry.sessionId).not.toBe("sess-main");
    expect(result.entry).toMatchObject({
      systemSent: false,
      abortedLastRun: false,
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      thinkingLevel: "low",
      verboseLevel: "on",
      lastChannel: "whatsapp",
      lastTo: "+1555",
    });
    expect(result.entry).not.toHaveProperty("lastAccountId");
    expect((await readStore(state.storePath))["agent:main:main"]).toEqual(result.entry);
    const files = await sessionFiles(state);
    expect(files.some((name) => name.startsWith("sess-main.jsonl.reset."))).toBe(true);
    expect(files).not.toContain("sess-main.jsonl");
  });

  it("#176 #178 refuses a bad level and deleting the main session, with openclaw's texts", async () => {
    const { raw, state } = await setup();
    const before = await fileState(state.storePath);
    const banana = await rawCall(raw, "sessions.patch", {
      key: "agent:main:main",
      thinkingLevel: "banana",
    });
    expect(banana).toEqual(
      refusal(
        banana.id,
        "INVALID_REQUEST",
        "invalid thinkingLevel (use off|minimal|low|medium|high)",
      ),
    );
    const main = await rawCall(raw, "sessions.delete", { key: "main" });
    expect(main).toEqual(
      refusal(main.id, "INVALID_REQUEST", "Cannot delete the main session (agent:main:main)."),
    );
    // A rejected patch and a refused delete leave the file as it was, bytes and mtime.
    expect(await fileState(state.storePath)).toEqual(before);
  });

  it("#177 previews the newest items with roles and tool calls", async () => {
    const { client, state } = await setup();
    await writeFile(
      join(state.sessionsDir, "sess-main.jsonl"),
      transcriptLines("sess-main", [
        userText("Hello"),
        assistantText("Hi"),
        {
          role: "assistant",
          content: [{ type: "toolCall", id: "t1", name: "weather", arguments: {} }],
          timestamp: 1,
        },
        assistantText("Forecast"),
      ]),
    );
    const result = await client.call<{ previews: Row[] }>("sessions.preview", {
      keys: ["main"],
      limit: 3,
      maxChars: 120,
    });
    expect(result.previews).toEqual([
      {
        key: "main",
        status: "ok",
        items: [
          { role: "assistant", text: "Hi" },
          { role: "tool", text: "call weather" },
          { role: "assistant", text: "Forecast" },
        ],
      },
    ]);
  });

  it("#179 quiets an active session before deleting it", async () => {
    const calls: string[] = [];
    const cleared: SessionRuntimeTarget[] = [];
    const state = await writeSessionsState({
      extraEntries: {
        "agent:main:discord:group:dev": { sessionId: "sess-active", updatedAt: Date.now() },
      },
    });
    const gateway = await startSessionsGateway(state, {
      activeWaitMs: 200,
      hooks: {
        clearQueues: (target) => {
          cleared.push(target);
        },
        stopSubagents: (target) => {
          calls.push(`stop ${target.key}`);
        },
        isSessionActive: () => true,
        abortSession: (target) => {
          calls.push(`abort ${target.sessionId}`);
        },
        waitForIdle: (target, timeoutMs) => {
          calls.push(`wait ${target.sessionId} ${timeoutMs}`);
          return true;
        },
      },
    });
    const client = await gateway.connect();
    const result = await client.call<Row>("sessions.delete", { key: "discord:group:dev" });
    expect(result).toMatchObject({ deleted: true, key: "agent:main:discord:group:dev" });
    expect(calls).toEqual([
      "stop agent:main:discord:group:dev",
      "abort sess-active",
      "wait sess-active 200",
    ]);
    expect(cleared).toHaveLength(1);
    const target = cleared[0] as SessionRuntimeTarget;
    const names = [target.key, target.sessionId, ...(target.aliases ?? [])];
    expect(names).toEqual(
      expect.arrayContaining(["discord:group:dev", "agent:main:discord:group:dev", "sess-active"]),
    );
  });

  it("#180 answers UNAVAILABLE and deletes nothing when the run does not end in time", async () => {
    const state = await writeSessionsState();
    const gateway = await startSessionsGateway(state, {
      activeWaitMs: 30,
      hooks: {
        isSessionActive: () => true,
        waitForIdle: async (_target, timeoutMs) => {
          await new Promise((resolve) => setTimeout(resolve, timeoutMs));
          return false;
        },
      },
    });
    const { raw } = await rawHandshake(gateway.url, connectParams());
    const before = await fileState(state.storePath);
    for (const method of ["sessions.delete", "sessions.reset"]) {
      const frame = await rawCall(raw, method, { key: "agent:main:discord:group:dev" });
      expect(frame).toEqual(
        refusal(
          frame.id,
          "UNAVAILABLE",
          "Session agent:main:discord:group:dev is still active; try again in a moment.",
          { retryable: true },
        ),
      );
    }
    expect(await fileState(state.storePath)).toEqual(before);
    expect(existsSync(join(state.sessionsDir, "sess-group.jsonl"))).toBe(true);
  });

  it("#181 reports kept lines, a missing transcript and a missing session without writing", async () => {
    const { client, state } = await setup();
    await writeFile(
      join(state.sessionsDir, "sess-group.jsonl"),
      transcriptLines("sess-group", [userText("one"), assistantText("two")], { header: false }),
    );
    const before = await fileState(state.storePath);
    expect(await client.call("sessions.compact", { key: "agent:main:discord:group:dev" })).toEqual({
      ok: true,
      key: "agent:main:discord:group:dev",
      compacted: false,
      kept: 2,
    });
    expect(await client.call("sessions.compact", { key: "agent:main:subagent:one" })).toEqual({
      ok: true,
      key: "agent:main:subagent:one",
      compacted: false,
      reason: "no transcript",
    });
    expect(await client.call("sessions.compact", { key: "agent:main:nope:direct:1" })).toEqual({
      ok: true,
      key: "agent:main:nope:direct:1",
      compacted: false,
      reason: "no sessionId",
    });
    expect(await fileState(state.storePath)).toEqual(before);
  });

  it("#182 keeps the transcript when deleteTranscript is false", async () => {
    const { client, state } = await setup();
    const result = await client.call("sessions.delete", {
      key: "agent:main:discord:group:dev",
      deleteTranscript: false,
    });
    expect(result).toEqual({
      ok: true,
      key: "agent:main:discord:group:dev",
      deleted: true,
      archived: [],
    });
    expect(existsSync(join(state.sessionsDir, "sess-group.jsonl"))).toBe(true);
  });

  it("#183 previews missing, empty, cut to 64 keys, and blank keys", async () => {
    const { client, state } = await setup();
    await writeFile(join(state.sessionsDir, "sess-group.jsonl"), transcriptLines("sess-group", []));
    const result = await client.call<{ previews: Row[] }>("sessions.preview", {
      keys: ["nope", " discord:group:dev ", "agent:main:subagent:one"],
    });
    expect(result.previews).toEqual([
      { key: "nope", status: "missing", items: [] },
      { key: "discord:group:dev", status: "empty", items: [] },
      { key: "agent:main:subagent:one", status: "empty", items: [] },
    ]);
    const many = Array.from({ length: 70 }, (_, index) => `k${index}`);
    const cut = await client.call<{ previews: Row[] }>("sessions.preview", { keys: many });
    expect(cut.previews.map((preview) => preview.key)).toEqual(many.slice(0, 64));
    const blank = await client.call<Row>("sessions.preview", { keys: ["  "] });
    expect(blank).toEqual({ ts: expect.any(Number), previews: [] });
  });

  it("#184 refuses ambiguous and empty resolves, with openclaw's texts", async () => {
    const { raw } = await setup();
    const both = await rawCall(raw, "sessions.resolve", { key: "main", label: "x" });
    expect(both).toEqual(
      refusal(both.id, "INVALID_REQUEST", "Provide either key, sessionId, or label (not multiple)"),
    );
    const none = await rawCall(raw, "sessions.resolve", {});
    expect(none).toEqual(
      refusal(none.id, "INVALID_REQUEST", "Either key, sessionId, or label is required"),
    );
    const missing = await rawCall(raw, "sessions.resolve", { key: "nope" });
    expect(missing).toEqual(refusal(missing.id, "INVALID_REQUEST", "No session found: nope"));
  });
});
