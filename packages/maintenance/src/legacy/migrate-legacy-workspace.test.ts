import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { TranscriptLineSchema } from "@clawkeep/schema";
import { parseSessionsConfig } from "@clawkeep/session-utils";
import { loadSessionStore } from "@clawkeep/store";
import { copyFixtureDir, testdir } from "@clawkeep/test-utils";
import { readTranscriptMessages } from "@clawkeep/transcripts";
import { describe, expect, it } from "vitest";
import { migrateLegacyWorkspace } from "./migrate-legacy-workspace.ts";

const fixture = fileURLToPath(new URL("../__fixtures__/legacy-workspace", import.meta.url));

/** A pid that is not running: beyond the kernel's default pid range. */
const DEAD_PID = 4_194_303;

function legacyFile(id: string, messages: unknown[], metadata: object = {}): string {
  return JSON.stringify(
    {
      session_id: id,
      messages,
      metadata,
      created_at: "2026-03-01T10:00:00+00:00",
      updated_at: "2026-03-01T10:05:00+00:00",
    },
    null,
    2,
  );
}

function message(role: string, content: string, extra: object = {}): object {
  return {
    role,
    content,
    timestamp: "2026-03-01T10:01:00.000001",
    tool_calls: null,
    tool_call_id: null,
    name: null,
    images: null,
    ...extra,
  };
}

async function hashTree(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(current: string): Promise<void> {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        const bytes = await readFile(path);
        result[relative(dir, path)] = createHash("sha256").update(bytes).digest("hex");
      }
    }
  }
  await walk(dir);
  return result;
}

async function readLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, "utf8");
  return text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function setup(): Promise<{ workspace: string; stateDir: string; root: string }> {
  const root = await testdir();
  const workspace = await copyFixtureDir(fixture);
  const stateDir = join(root, "state");
  return { workspace, stateDir, root };
}

describe("migrateLegacyWorkspace", () => {
  it("migrates the fixture workspace with keys from session_map.json and fallback keys", async () => {
    const { workspace, stateDir } = await setup();
    const report = await migrateLegacyWorkspace(workspace, {
      stateDir,
      now: () => 1_770_000_000_000,
    });
    expect(report).toMatchObject({ found: 3, migrated: 3, skipped: 0, conflicts: 0, errors: 0 });
    expect(report.mappings).toEqual([]);
    expect(report.backupDir).toBe(join(workspace, ".sessions", "backup-2026-02-02T02-40-00.000Z"));
    expect((await readdir(report.backupDir as string)).sort()).toEqual([
      "3f0c9a52-6b1e-4d7a-9c41-0e2b7f5d8a10.json",
      "session_map.json",
      "telegram-5550123.json",
      "telegram-5550999.json",
    ]);

    const storePath = join(stateDir, "agents", "main", "sessions", "sessions.json");
    const store = await loadSessionStore(storePath, { skipCache: true });
    expect(Object.keys(store).sort()).toEqual([
      "agent:main:legacy:telegram-5550123",
      "agent:main:legacy:telegram-5550999",
      "agent:main:main",
    ]);
    expect(store["agent:main:main"]).toMatchObject({
      sessionId: "3f0c9a52-6b1e-4d7a-9c41-0e2b7f5d8a10",
      // Naive "2026-02-11T20:15:35.700000" read as UTC.
      updatedAt: Date.UTC(2026, 1, 11, 20, 15, 35, 700),
    });
    expect(store["agent:main:legacy:telegram-5550999"]?.label).toBe("ana-reminders");

    const transcript = join(stateDir, "agents", "main", "sessions", "telegram-5550123.jsonl");
    const lines = await readLines(transcript);
    for (const line of lines) expect(TranscriptLineSchema.safeParse(line).success).toBe(true);
    expect(lines[0]).toMatchObject({
      type: "session",
      version: 3,
      id: "telegram-5550123",
      cwd: workspace,
    });
    expect(lines[1]).toMatchObject({
      type: "custom",
      parentId: null,
      customType: "legacy-system",
      data: { role: "system", content: "You are a helpful assistant." },
    });
    expect(lines[2]).toMatchObject({
      type: "message",
      parentId: lines[1]?.id,
      timestamp: "2026-02-09T14:03:10.915Z",
      message: {
        role: "user",
        content: "Weather in Lisbon?",
        timestamp: Date.UTC(2026, 1, 9, 14, 3, 10, 915),
      },
    });
    expect(lines[3]).toMatchObject({
      parentId: lines[2]?.id,
      message: {
        role: "assistant",
        content: [
          {
            type: "toolCall",
            id: "call_01",
            name: "web_search",
            arguments: { query: "Lisbon weather" },
          },
        ],
        api: "legacy",
        provider: "legacy",
        model: "legacy",
        stopReason: "stop",
        usage: { input: 0, output: 0, totalTokens: 0 },
      },
    });
    expect(lines[4]).toMatchObject({
      message: {
        role: "toolResult",
        toolCallId: "call_01",
        toolName: "web_search",
        isError: false,
        content: [{ type: "text", text: "Sunny, 18°C" }],
      },
    });
    expect(lines[6]).toMatchObject({
      message: {
        role: "user",
        content: [
          { type: "text", text: "What is in this photo?" },
          { type: "text", text: "[image: /home/user/.openclaw/media/photo_77.jpg]" },
        ],
      },
    });
    const messages = [];
    for await (const item of readTranscriptMessages(transcript)) messages.push(item);
    expect(messages).toHaveLength(5);
  });

  it("is idempotent: a second run migrates nothing, takes no backup and changes no byte", async () => {
    const { workspace, stateDir, root } = await setup();
    await migrateLegacyWorkspace(workspace, { stateDir, now: () => 1 });
    const before = await hashTree(root);
    const beforeWorkspace = await hashTree(workspace);
    const second = await migrateLegacyWorkspace(workspace, { stateDir, now: () => 2 });
    expect(second).toMatchObject({ found: 3, migrated: 0, skipped: 3, conflicts: 0, errors: 0 });
    expect(second.backupDir).toBeUndefined();
    expect(second.items.every((item) => item.reason === "already migrated")).toBe(true);
    expect(await hashTree(root)).toEqual(before);
    expect(await hashTree(workspace)).toEqual(beforeWorkspace);
  });

  it("writes nothing in a dry run and reports what would happen", async () => {
    const { workspace, stateDir, root } = await setup();
    const before = await hashTree(workspace);
    const report = await migrateLegacyWorkspace(workspace, {
      stateDir,
      dryRun: true,
      now: () => 1_770_000_000_000,
    });
    expect(report).toMatchObject({ dryRun: true, found: 3, migrated: 3, errors: 0 });
    // Where the backup would go and what would be created, none of it made.
    expect(report.backupDir).toBe(join(workspace, ".sessions", "backup-2026-02-02T02-40-00.000Z"));
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    expect(report.transcripts.sort()).toEqual(
      [
        "3f0c9a52-6b1e-4d7a-9c41-0e2b7f5d8a10.jsonl",
        "telegram-5550123.jsonl",
        "telegram-5550999.jsonl",
      ].map((name) => join(sessionsDir, name)),
    );
    expect(report.stores).toEqual([join(sessionsDir, "sessions.json")]);
    expect(await hashTree(workspace)).toEqual(before);
    expect(await readdir(root)).toEqual([]);
  });

  it("gives tricky ids distinct safe keys and session ids and reports the mappings", async () => {
    const workspace = await testdir({
      ".sessions/telegram-1.json": legacyFile("telegram-1", [message("user", "one")]),
      ".sessions/telegram-2.json": legacyFile("telegram-2", [message("user", "two")]),
      ".sessions/a:b.json": legacyFile("a:b", [message("user", "colon")]),
      // The legacy layer used the id raw as a file name: `a/b` is a file in a subfolder.
      ".sessions/a/b.json": legacyFile("a/b", [message("user", "slash")]),
      ".sessions/..x.json": legacyFile("..x", [message("user", "dots")]),
      ".sessions/café-ü.json": legacyFile("café-ü", [message("user", "unicode")]),
      ".sessions/empty.json": legacyFile("empty", []),
      ".sessions/broken.json": '{"session_id": "broken", "messages": [',
      ".sessions/notes.json": { hello: "world" },
    });
    const stateDir = join(await testdir(), "state");
    const report = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(report).toMatchObject({ found: 9, migrated: 7, skipped: 1, conflicts: 0, errors: 1 });
    const byFile = Object.fromEntries(report.items.map((item) => [item.file, item]));
    expect(byFile["broken.json"]).toMatchObject({ status: "error" });
    expect(byFile["broken.json"]?.reason).toContain("invalid JSON");
    expect(byFile["notes.json"]).toMatchObject({ status: "skipped" });
    expect(byFile["telegram-1.json"]?.key).toBe("agent:main:legacy:telegram-1");
    expect(byFile["telegram-2.json"]?.key).toBe("agent:main:legacy:telegram-2");
    expect(byFile["a/b.json"]).toMatchObject({ legacyId: "a/b", status: "migrated" });
    const hashed = ["a:b.json", "a/b.json", "..x.json", "café-ü.json"].map((file) => byFile[file]);
    for (const item of hashed) {
      expect(item?.sessionId).toMatch(/^legacy-[0-9a-f]{16}$/);
      expect(item?.key).toBe(`agent:main:legacy:${item?.sessionId}`);
    }
    expect(new Set(hashed.map((item) => item?.sessionId)).size).toBe(4);
    expect(report.mappings.map((mapping) => mapping.legacyId).sort()).toEqual([
      "..x",
      "a/b",
      "a:b",
      "café-ü",
    ]);
    // The backup keeps the subfolder, and a rerun does not take the backup for sessions.
    expect(await readFile(join(report.backupDir as string, "a", "b.json"), "utf8")).toContain(
      '"a/b"',
    );
    const rerun = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(rerun).toMatchObject({ found: 9, migrated: 0, skipped: 8, conflicts: 0, errors: 1 });
    const store = await loadSessionStore(
      join(stateDir, "agents", "main", "sessions", "sessions.json"),
      {
        skipCache: true,
      },
    );
    expect(Object.keys(store)).toHaveLength(7);
    const empty = await readLines(join(stateDir, "agents", "main", "sessions", "empty.jsonl"));
    expect(empty).toHaveLength(1);
    const sessionsDir = await readdir(join(stateDir, "agents", "main", "sessions"));
    expect(sessionsDir.filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("never overwrites an existing entry or transcript and reports the conflict", async () => {
    const { workspace, stateDir } = await setup();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await mkdir(sessionsDir, { recursive: true });
    const storeText = JSON.stringify(
      { "agent:main:main": { sessionId: "other", updatedAt: 5 } },
      null,
      2,
    );
    await writeFile(join(sessionsDir, "sessions.json"), storeText);
    await writeFile(join(sessionsDir, "telegram-5550999.jsonl"), "{}\n");
    const report = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(report).toMatchObject({ migrated: 1, conflicts: 2, errors: 0 });
    const store = await loadSessionStore(join(sessionsDir, "sessions.json"), { skipCache: true });
    expect(store["agent:main:main"]).toEqual({ sessionId: "other", updatedAt: 5 });
    expect(await readFile(join(sessionsDir, "telegram-5550999.jsonl"), "utf8")).toBe("{}\n");
  });

  it("completes a run interrupted after the transcripts were written", async () => {
    const { workspace, stateDir } = await setup();
    await migrateLegacyWorkspace(workspace, { stateDir });
    const storePath = join(stateDir, "agents", "main", "sessions", "sessions.json");
    await writeFile(storePath, "{}");
    const report = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(report).toMatchObject({ migrated: 3, conflicts: 0, errors: 0 });
    expect(report.items[0]?.reason).toContain("interrupted run");
    expect(Object.keys(await loadSessionStore(storePath, { skipCache: true }))).toHaveLength(3);
  });

  it("routes session_map keys of another agent to that agent's store", async () => {
    const workspace = await testdir({
      ".sessions/s1.json": legacyFile("s1", [message("user", "hi")]),
      ".sessions/session_map.json": { "Agent:Ops:Discord:Group:DevTeam": "s1" },
    });
    const stateDir = join(await testdir(), "state");
    const report = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(report.items[0]).toMatchObject({
      status: "migrated",
      key: "agent:ops:discord:group:DevTeam",
      agentId: "ops",
    });
    const store = await loadSessionStore(
      join(stateDir, "agents", "ops", "sessions", "sessions.json"),
      {
        skipCache: true,
      },
    );
    expect(store["agent:ops:discord:group:DevTeam"]?.sessionId).toBe("s1");
    await expect(
      stat(join(stateDir, "agents", "ops", "sessions", "s1.jsonl")),
    ).resolves.toBeTruthy();
  });

  it("keeps a label only when no other entry has it", async () => {
    const workspace = await testdir({
      ".sessions/one.json": legacyFile("one", [], { label: "shared" }),
      ".sessions/two.json": legacyFile("two", [], { label: "shared" }),
    });
    const stateDir = join(await testdir(), "state");
    const report = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(report.migrated).toBe(2);
    expect(report.items[1]?.reason).toContain("label");
    const store = await loadSessionStore(
      join(stateDir, "agents", "main", "sessions", "sessions.json"),
      {
        skipCache: true,
      },
    );
    expect(store["agent:main:legacy:one"]?.label).toBe("shared");
    expect(store["agent:main:legacy:two"]?.label).toBeUndefined();
  });

  it("writes into the store the config names, for the config's default agent", async () => {
    const { workspace, root } = await setup();
    const stateDir = join(root, "state");
    const parsed = parseSessionsConfig({
      session: { store: join(root, "elsewhere", "{agentId}", "sessions.json") },
      agents: { list: [{ id: "ops", default: true }] },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const report = await migrateLegacyWorkspace(workspace, { stateDir, config: parsed.config });
    expect(report).toMatchObject({ migrated: 3, errors: 0 });
    const storePath = join(root, "elsewhere", "ops", "sessions.json");
    // session_map.json names agent:main:main, which stays main's; the rest go to the default agent.
    expect(report.stores.sort()).toEqual([
      join(root, "elsewhere", "main", "sessions.json"),
      storePath,
    ]);
    const store = await loadSessionStore(storePath, { skipCache: true });
    expect(Object.keys(store).sort()).toEqual([
      "agent:ops:legacy:telegram-5550123",
      "agent:ops:legacy:telegram-5550999",
    ]);
    await expect(stat(join(stateDir, "agents"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("removes the temp files a crashed run left beside its transcripts", async () => {
    const { workspace, stateDir } = await setup();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await mkdir(sessionsDir, { recursive: true });
    const orphan = join(sessionsDir, `telegram-5550123.jsonl.${DEAD_PID}.0a1b2c3d4e5f.tmp`);
    const unrelated = join(sessionsDir, `other.jsonl.${DEAD_PID}.0a1b2c3d4e5f.tmp`);
    await writeFile(orphan, '{"type":"sess');
    await writeFile(unrelated, "{");
    const report = await migrateLegacyWorkspace(workspace, { stateDir });
    expect(report).toMatchObject({ migrated: 3, errors: 0 });
    const names = await readdir(sessionsDir);
    expect(names).not.toContain(`telegram-5550123.jsonl.${DEAD_PID}.0a1b2c3d4e5f.tmp`);
    // Only the temp files of its own targets are its business.
    expect(names).toContain(`other.jsonl.${DEAD_PID}.0a1b2c3d4e5f.tmp`);
    const item = report.items.find((candidate) => candidate.file === "telegram-5550123.json");
    expect(item?.reason).toContain("temp file");
  });

  it("claims nothing written when the store lock is held, and leaves no orphan transcript", async () => {
    const { workspace, stateDir } = await setup();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await mkdir(sessionsDir, { recursive: true });
    // openclaw's plain lock file, held by a live process (this one).
    await writeFile(
      join(sessionsDir, "sessions.json.lock"),
      JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() }),
    );
    const report = await migrateLegacyWorkspace(workspace, {
      stateDir,
      lock: { timeoutMs: 300 },
    });
    expect(report).toMatchObject({ migrated: 0, errors: 3, stores: [], transcripts: [] });
    for (const item of report.items) expect(item.reason).toContain("cannot update");
    expect((await readdir(sessionsDir)).sort()).toEqual(["sessions.json.lock"]);
  });

  it("skips a migrated session that was reset since, and still refuses an unrelated one", async () => {
    const { workspace, stateDir } = await setup();
    await migrateLegacyWorkspace(workspace, { stateDir });
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    const storePath = join(sessionsDir, "sessions.json");
    // What `sessions reset` leaves: a new session id under the key, the transcript archived.
    const store = JSON.parse(await readFile(storePath, "utf8"));
    store["agent:main:legacy:telegram-5550123"].sessionId = "fresh-after-reset";
    store["agent:main:legacy:telegram-5550999"].sessionId = "someone-else";
    await writeFile(storePath, JSON.stringify(store, null, 2));
    await rename(
      join(sessionsDir, "telegram-5550123.jsonl"),
      join(sessionsDir, "telegram-5550123.jsonl.reset.2026-03-01T10-00-00.000Z"),
    );
    await rename(
      join(sessionsDir, "telegram-5550999.jsonl"),
      join(sessionsDir, "moved-away.jsonl"),
    );
    const rerun = await migrateLegacyWorkspace(workspace, { stateDir });
    const byFile = Object.fromEntries(rerun.items.map((item) => [item.file, item]));
    expect(byFile["telegram-5550123.json"]).toMatchObject({ status: "skipped" });
    expect(byFile["telegram-5550123.json"]?.reason).toContain("already present");
    expect(byFile["telegram-5550999.json"]).toMatchObject({ status: "conflict" });
    expect(rerun).toMatchObject({ migrated: 0, skipped: 2, conflicts: 1, errors: 0 });
    expect(await readdir(sessionsDir)).not.toContain("telegram-5550123.jsonl");
  });

  it("turns a session that fails the read-back check into an error", async () => {
    const { workspace, stateDir } = await setup();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    const report = await migrateLegacyWorkspace(workspace, {
      stateDir,
      onProgress: (progress) => {
        // Between the write and the check, a line that is not JSON lands in one transcript.
        if (progress.phase === "check" && progress.file === "telegram-5550123.json") {
          appendFileSync(join(sessionsDir, "telegram-5550123.jsonl"), "not json\n");
        }
      },
    });
    const item = report.items.find((candidate) => candidate.file === "telegram-5550123.json");
    expect(item).toMatchObject({ status: "error" });
    expect(item?.reason).toContain("self-check failed");
    expect(report).toMatchObject({ migrated: 2, errors: 1 });
  });

  it("refuses a workspace without a .sessions folder", async () => {
    const workspace = await testdir();
    await expect(migrateLegacyWorkspace(workspace, { stateDir: workspace })).rejects.toMatchObject({
      code: "INVALID_PARAMS",
      details: { reason: "not-a-legacy-workspace" },
    });
    await expect(
      migrateLegacyWorkspace(join(workspace, "missing"), { stateDir: workspace }),
    ).rejects.toMatchObject({
      code: "INVALID_PARAMS",
      message: expect.stringContaining("does not exist"),
    });
  });
});
