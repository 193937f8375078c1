import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GatewayClient } from "@clawkeep/gateway-client";
import { describe, expect, it } from "vitest";
import {
  assistantText,
  fileState,
  readStore,
  startSessionsGateway,
  transcriptLines,
  userText,
  writeSessionsState,
} from "./__fixtures__/sessions-gateway.ts";
import { connectParams, type RawSocket, rawHandshake } from "./test-support.ts";

type Row = Record<string, unknown>;
type ListPayload = {
  count: number;
  total: number;
  nextOffset: number | null;
  sessions: Row[];
  warnings?: Row[];
};

let counter = 0;

async function rawCall(raw: RawSocket, method: string, params: unknown): Promise<Row> {
  counter += 1;
  const id = `x${counter}`;
  raw.send({ type: "req", id, method, params });
  return await raw.nextResponse();
}

async function listAll(
  client: GatewayClient,
  params: Row,
): Promise<{ keys: string[]; pages: ListPayload[] }> {
  const keys: string[] = [];
  const pages: ListPayload[] = [];
  let offset: number | null = 0;
  while (offset !== null) {
    const page: ListPayload = await client.call<ListPayload>("sessions.list", {
      ...params,
      offset,
    });
    pages.push(page);
    keys.push(...page.sessions.map((row) => String(row.key)));
    offset = page.nextOffset;
  }
  return { keys, pages };
}

describe("scopes", () => {
  it("lets a read-scope client read and subscribe, and refuses it every write", async () => {
    const state = await writeSessionsState();
    const gateway = await startSessionsGateway(state);
    const { raw } = await rawHandshake(gateway.url, connectParams({ scopes: ["operator.read"] }));
    for (const [method, params] of [
      ["sessions.list", {}],
      ["sessions.preview", { keys: ["main"] }],
      ["sessions.resolve", { key: "main" }],
      ["sessions.subscribe", {}],
    ] as const) {
      expect(await rawCall(raw, method, params)).toMatchObject({ ok: true });
    }
    const before = await fileState(state.storePath);
    for (const method of [
      "sessions.patch",
      "sessions.reset",
      "sessions.delete",
      "sessions.compact",
    ]) {
      const frame = await rawCall(raw, method, { key: "agent:main:subagent:one" });
      expect(frame).toEqual({
        type: "res",
        id: frame.id,
        ok: false,
        error: { code: "INVALID_REQUEST", message: "missing scope: operator.admin" },
      });
    }
    expect(await fileState(state.storePath)).toEqual(before);
  });
});

describe("delete and reset", () => {
  it("removes every spelling of the key and archives only what it deleted", async () => {
    const now = Date.now();
    const state = await writeSessionsState({
      extraEntries: {
        "discord:group:dev": { sessionId: "sess-bare", updatedAt: now - 60_000 },
        "Agent:Main:Discord:Group:dev": { sessionId: "sess-twin", updatedAt: now - 120_000 },
        "agent:main:discord:group:DEV": { sessionId: "sess-other", updatedAt: now },
      },
    });
    await writeFile(join(state.sessionsDir, "sess-bare.jsonl"), transcriptLines("sess-bare", []));
    const gateway = await startSessionsGateway(state);
    const client = await gateway.connect();
    const result = await client.call<{ deleted: boolean; archived: string[] }>("sessions.delete", {
      key: "Discord:Group:dev",
    });
    expect(result.deleted).toBe(true);
    expect(
      result.archived.map((path) => path.split("/").pop()?.split(".deleted.")[0]).sort(),
    ).toEqual(["sess-bare.jsonl", "sess-group.jsonl"]);
    // The group id is opaque: `DEV` is another group and stays.
    expect(Object.keys(await readStore(state.storePath)).sort()).toEqual([
      "agent:main:discord:group:DEV",
      "agent:main:main",
      "agent:main:subagent:one",
      "global",
    ]);

    await writeFile(join(state.sessionsDir, "sess-ghost.jsonl"), transcriptLines("sess-ghost", []));
    const again = await client.call("sessions.delete", { key: "agent:main:discord:group:dev" });
    expect(again).toEqual({
      ok: true,
      key: "agent:main:discord:group:dev",
      deleted: false,
      archived: [],
    });
    expect(existsSync(join(state.sessionsDir, "sess-ghost.jsonl"))).toBe(true);
  });

  it("refuses to delete any agent's main session", async () => {
    const state = await writeSessionsState({
      extraEntries: { "agent:ops:main": { sessionId: "sess-ops", updatedAt: Date.now() } },
    });
    const gateway = await startSessionsGateway(state);
    const { raw } = await rawHandshake(gateway.url, connectParams());
    const frame = await rawCall(raw, "sessions.delete", { key: "agent:ops:MAIN" });
    expect(frame).toEqual({
      type: "res",
      id: frame.id,
      ok: false,
      error: {
        code: "INVALID_REQUEST",
        message: "Cannot delete the main session (agent:ops:main).",
      },
    });
    const blank = await rawCall(raw, "sessions.delete", { key: "   " });
    expect(blank).toMatchObject({
      ok: false,
      error: { code: "INVALID_REQUEST", message: "key required" },
    });
  });

  it("resets an alias under the canonical key and creates unknown sessions", async () => {
    const state = await writeSessionsState({
      extraEntries: {
        "telegram:direct:42": {
          sessionId: "sess-tg",
          updatedAt: 1,
          label: "alice",
          modelOverride: "x",
        },
      },
    });
    await writeFile(join(state.sessionsDir, "sess-tg.jsonl"), transcriptLines("sess-tg", []));
    const gateway = await startSessionsGateway(state);
    const client = await gateway.connect();
    const result = await client.call<{ key: string; entry: Row }>("sessions.reset", {
      key: "telegram:direct:42",
    });
    expect(result.key).toBe("agent:main:telegram:direct:42");
    expect(result.entry).toMatchObject({ label: "alice" });
    expect(result.entry).not.toHaveProperty("modelOverride");
    const store = await readStore(state.storePath);
    expect(store).not.toHaveProperty(["telegram:direct:42"]);
    expect(store["agent:main:telegram:direct:42"]).toEqual(result.entry);
    const files = await readdir(state.sessionsDir);
    expect(files.some((name) => name.startsWith("sess-tg.jsonl.reset."))).toBe(true);

    const created = await client.call<{ entry: Row }>("sessions.reset", { key: "brand:new" });
    expect(created.entry).toMatchObject({ inputTokens: 0, systemSent: false });
  });
});

describe("patch", () => {
  it("creates missing sessions, and a rejected patch leaves the file untouched", async () => {
    const state = await writeSessionsState();
    const gateway = await startSessionsGateway(state);
    const client = await gateway.connect();
    const created = await client.call<{ key: string; entry: Row; path: string }>("sessions.patch", {
      key: "telegram:direct:999",
      label: "created-by-patch",
    });
    expect(created.key).toBe("agent:main:telegram:direct:999");
    expect(created.path).toBe(state.storePath);
    expect(created.entry).toEqual({
      sessionId: expect.any(String),
      updatedAt: expect.any(Number),
      label: "created-by-patch",
    });
    const before = await fileState(state.storePath);
    await expect(
      client.call("sessions.patch", { key: "agent:main:main", label: "created-by-patch" }),
    ).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: "label already in use: created-by-patch",
    });
    await expect(
      client.call("sessions.patch", {
        key: "agent:main:main",
        thinkingLevel: "high",
        execHost: "cloud",
      }),
    ).rejects.toMatchObject({ message: 'invalid execHost (use "sandbox"|"gateway"|"node")' });
    expect(await fileState(state.storePath)).toEqual(before);
  });
});

describe("sessions.list", () => {
  it("pages with offset, total and nextOffset, and warns about a corrupt agent store", async () => {
    const state = await writeSessionsState();
    const opsDir = join(state.stateDir, "agents", "ops", "sessions");
    await mkdir(opsDir, { recursive: true });
    await writeFile(join(opsDir, "sessions.json"), "{ not json");
    const gateway = await startSessionsGateway(state);
    const client = await gateway.connect();
    const first = await client.call<ListPayload>("sessions.list", { limit: 2 });
    expect(first.sessions.map((row) => row.key)).toEqual([
      "agent:main:main",
      "agent:main:discord:group:dev",
    ]);
    expect({ total: first.total, nextOffset: first.nextOffset, count: first.count }).toEqual({
      total: 3,
      nextOffset: 2,
      count: 2,
    });
    expect(first.warnings).toEqual([
      {
        code: "STORE_CORRUPT",
        message: expect.stringContaining("skipped the store of agent ops"),
        agentId: "ops",
        path: join(opsDir, "sessions.json"),
      },
    ]);
    const second = await client.call<ListPayload>("sessions.list", { limit: 2, offset: 2 });
    expect(second.sessions.map((row) => row.key)).toEqual(["agent:main:subagent:one"]);
    expect(second.nextOffset).toBeNull();
  });

  it("cuts a listing that would exceed maxResponseBytes and says how to go on", async () => {
    const now = Date.now();
    const extra: Record<string, object> = {};
    for (let index = 0; index < 60; index += 1) {
      extra[`agent:main:telegram:direct:${1000 + index}`] = {
        sessionId: `sess-${index}`,
        updatedAt: now - index * 1000,
        subject: "x".repeat(200),
      };
    }
    const state = await writeSessionsState({ extraEntries: extra });
    await writeFile(
      join(state.sessionsDir, "sess-0.jsonl"),
      transcriptLines("sess-0", [userText("first question"), assistantText("last answer")]),
    );
    const maxResponseBytes = 4096;
    const gateway = await startSessionsGateway(state, { maxResponseBytes });
    const client = await gateway.connect();
    const page = await client.call<ListPayload>("sessions.list", {});
    expect(page.count).toBeLessThan(63);
    expect(page.count).toBe(page.sessions.length);
    expect(page.nextOffset).toBe(page.count);
    expect(page.warnings).toEqual([
      {
        code: "RESPONSE_TRUNCATED",
        message: `returned ${page.count} of 63 rows to stay under 4096 bytes; continue with offset ${page.count}`,
      },
    ]);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(maxResponseBytes);

    for (const params of [{}, { includeDerivedTitles: true, includeLastMessage: true }]) {
      const { keys, pages } = await listAll(client, params);
      expect(keys).toHaveLength(63);
      expect(new Set(keys).size).toBe(63);
      for (const listed of pages) {
        expect(Buffer.byteLength(JSON.stringify(listed))).toBeLessThanOrEqual(maxResponseBytes);
      }
    }
    const titled = await client.call<ListPayload>("sessions.list", {
      includeDerivedTitles: true,
      includeLastMessage: true,
      search: "1000",
    });
    expect(titled.sessions[0]).toMatchObject({
      // The subject is the title when there is one, as in openclaw.
      derivedTitle: "x".repeat(200),
      lastMessagePreview: "last answer",
    });
  });
});

describe("sessions.preview", () => {
  it("says error for a session whose transcript cannot be located", async () => {
    const state = await writeSessionsState({
      extraEntries: { "agent:main:bad": { sessionId: "../escape", updatedAt: 1 } },
    });
    const gateway = await startSessionsGateway(state);
    const client = await gateway.connect(["operator.read"]);
    const result = await client.call<{ previews: Row[] }>("sessions.preview", {
      keys: ["agent:main:bad"],
    });
    expect(result.previews).toEqual([{ key: "agent:main:bad", status: "error", items: [] }]);
  });

  it("says truncated when the scan cap stopped it before the limit", async () => {
    const state = await writeSessionsState();
    const messages = Array.from({ length: 40 }, (_, index) => userText(`message ${index}`));
    await writeFile(
      join(state.sessionsDir, "sess-main.jsonl"),
      transcriptLines("sess-main", messages),
    );
    const gateway = await startSessionsGateway(state, { previewScanBytes: 1024 });
    const client = await gateway.connect();
    const result = await client.call<{ previews: Row[] }>("sessions.preview", {
      keys: ["main", "agent:main:discord:group:dev"],
      limit: 20,
    });
    const [main, group] = result.previews as [Row, Row];
    expect(main).toMatchObject({ key: "main", status: "ok", truncated: true });
    expect((main.items as Row[]).length).toBeGreaterThan(0);
    expect((main.items as Row[]).length).toBeLessThan(20);
    expect(group).toEqual({
      key: "agent:main:discord:group:dev",
      status: "ok",
      items: [{ role: "user", text: "hello group" }],
    });
  });
});

describe("sessions.preview budget", () => {
  /** A transcript with one message followed by a non-message line of `noise` bytes. */
  function noisyTranscript(sessionId: string, text: string, noise: number): string {
    const tail = `${JSON.stringify({ type: "custom", data: "x".repeat(noise) })}\n`;
    return transcriptLines(sessionId, [userText(text)]) + tail;
  }

  it("reads a transcript once for keys that name it, echoing each key", async () => {
    const state = await writeSessionsState();
    await writeFile(
      join(state.sessionsDir, "sess-main.jsonl"),
      noisyTranscript("sess-main", "hi", 3000),
    );
    // One read of the transcript fits the request's budget; three would not.
    const gateway = await startSessionsGateway(state, { previewScanBytes: 4000 });
    const client = await gateway.connect(["operator.read"]);
    const keys = ["main", "main", "agent:main:main", ...Array.from({ length: 61 }, () => "main")];
    const result = await client.call<{ previews: Row[] }>("sessions.preview", { keys });
    expect(result.previews).toHaveLength(64);
    expect(result.previews[2]).toEqual({
      key: "agent:main:main",
      status: "ok",
      items: [{ role: "user", text: "hi" }],
    });
    for (const preview of result.previews) {
      expect(preview).toMatchObject({ status: "ok", items: [{ role: "user", text: "hi" }] });
    }
  });

  it("splits one request's scan budget among distinct transcripts", async () => {
    const state = await writeSessionsState();
    await writeFile(
      join(state.sessionsDir, "sess-main.jsonl"),
      noisyTranscript("sess-main", "hi", 3000),
    );
    await writeFile(
      join(state.sessionsDir, "sess-group.jsonl"),
      noisyTranscript("sess-group", "yo", 3000),
    );
    const gateway = await startSessionsGateway(state, { previewScanBytes: 4000 });
    const client = await gateway.connect(["operator.read"]);
    const result = await client.call<{ previews: Row[] }>("sessions.preview", {
      keys: ["main", "agent:main:discord:group:dev"],
    });
    // Each transcript needs about 3 KB; the request may read 4 KB in all.
    const truncated = result.previews.filter((preview) => preview.truncated === true);
    expect(truncated.length).toBeGreaterThan(0);
    for (const preview of truncated) expect(preview).toMatchObject({ status: "empty", items: [] });
  });
});
