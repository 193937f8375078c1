import { createHash } from "node:crypto";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSessionStore } from "@clawkeep/store";
import { copyFixtureDir, testdir } from "@clawkeep/test-utils";
import { readTranscriptMessages } from "@clawkeep/transcripts";
import { describe, expect, it } from "vitest";
import { parseJsonOutput, runClawkeep } from "../testing/run-clawkeep.ts";

const fixture = fileURLToPath(new URL("../__fixtures__/legacy-workspace", import.meta.url));

interface Report {
  stateDir: string;
  found: number;
  migrated: number;
  skipped: number;
  conflicts: number;
  errors: number;
  dryRun: boolean;
  backupDir?: string;
  mappings: { legacyId: string; sessionId: string; key: string }[];
  items: { file: string; status: string; key?: string; sessionId?: string; reason?: string }[];
}

function legacy(id: string, messages: object[], metadata: object = {}): string {
  return JSON.stringify(
    {
      session_id: id,
      messages,
      metadata,
      created_at: "2026-03-01T10:00:00+00:00",
      updated_at: "2026-03-01T10:05:00",
    },
    null,
    2,
  );
}

function message(role: string, content: string, extra: object = {}): object {
  return {
    role,
    content,
    timestamp: "2026-03-01T10:01:00.123456",
    tool_calls: null,
    tool_call_id: null,
    name: null,
    images: null,
    ...extra,
  };
}

/** The fixture workspace plus generated ids that a naive migration would collide or escape on. */
async function trickyWorkspace(): Promise<string> {
  const workspace = await copyFixtureDir(fixture);
  const files: Record<string, string> = {
    "telegram-1.json": legacy("telegram-1", [message("user", "first chat")]),
    "telegram-2.json": legacy("telegram-2", [
      message("user", "look", { images: ["/tmp/cat.png"] }),
      message("assistant", "", {
        tool_calls: [{ id: "c1", name: "vision", arguments: '{"path":"/tmp/cat.png"}' }],
      }),
      message("tool", "a cat", { tool_call_id: "c1", name: "vision" }),
      message("assistant", "It is a cat."),
    ]),
    "a:b.json": legacy("a:b", [message("user", "colon id")]),
    "..x.json": legacy("..x", [message("user", "dot dot id")]),
    "ünï-cødé.json": legacy("ünï-cødé", [message("user", "unicode id")]),
    "empty.json": legacy("empty", []),
    "broken.json": '{"session_id": "broken", "messages": [ {"role": "user", ',
  };
  for (const [name, text] of Object.entries(files))
    await writeFile(join(workspace, ".sessions", name), text);
  return workspace;
}

async function hashTree(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  async function walk(current: string): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        hashes[relative(dir, path)] = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
    }
  }
  await walk(dir);
  return hashes;
}

describe("clawkeep migrate (process)", () => {
  it("migrates tricky ids without collisions, readable by the packages and by sessions list; a rerun is a no-op", async () => {
    const workspace = await trickyWorkspace();
    const stateDir = join(await testdir(), "state");

    const first = await runClawkeep(["migrate", workspace, "--state-dir", stateDir, "--json"]);
    // One corrupt legacy file: that session failed, so the exit code says so.
    expect(first.code).toBe(1);
    const report = parseJsonOutput<Report>(first);
    expect(report).toMatchObject({ stateDir, found: 10, migrated: 9, conflicts: 0, errors: 1 });
    expect(report.items.find((item) => item.file === "broken.json")).toMatchObject({
      status: "error",
    });
    expect(report.backupDir).toBeDefined();
    const keys = report.items.filter((item) => item.status === "migrated").map((item) => item.key);
    expect(new Set(keys).size).toBe(9);
    expect(keys).toContain("agent:main:main");
    expect(keys).toContain("agent:main:legacy:telegram-1");
    expect(keys).toContain("agent:main:legacy:telegram-2");
    expect(report.mappings.map((mapping) => mapping.legacyId).sort()).toEqual([
      "..x",
      "a:b",
      "ünï-cødé",
    ]);
    for (const mapping of report.mappings)
      expect(mapping.sessionId).toMatch(/^legacy-[0-9a-f]{16}$/);

    // Readable by the packages: every entry's transcript reads back.
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    const store = await loadSessionStore(join(sessionsDir, "sessions.json"), { skipCache: true });
    expect(Object.keys(store).sort()).toEqual([...keys].sort());
    for (const entry of Object.values(store)) {
      const stream = readTranscriptMessages(join(sessionsDir, `${entry.sessionId}.jsonl`));
      for await (const _message of stream) {
        // Reading is the check.
      }
      expect(stream.stats.file).not.toBeNull();
      expect(stream.stats.malformedLines).toBe(0);
    }
    const toolSession = await readFile(join(sessionsDir, "telegram-2.jsonl"), "utf8");
    expect(toolSession).toContain(
      '"type":"toolCall","id":"c1","name":"vision","arguments":{"path":"/tmp/cat.png"}',
    );
    expect(toolSession).toContain('"role":"toolResult","toolCallId":"c1","toolName":"vision"');
    expect(toolSession).toContain("[image: /tmp/cat.png]");

    // Readable by `clawkeep sessions list`.
    const listed = await runClawkeep(["sessions", "list", "--state-dir", stateDir, "--json"]);
    expect(listed.code).toBe(0);
    const list = parseJsonOutput<{ stateDir: string; count: number; sessions: { key: string }[] }>(
      listed,
    );
    expect(list.stateDir).toBe(stateDir);
    expect(list.sessions.map((row) => row.key).sort()).toEqual([...keys].sort());

    // Once the corrupt file is dealt with, a rerun finds nothing to do and says so.
    await rm(join(workspace, ".sessions", "broken.json"));
    const before = await hashTree(stateDir);
    const second = await runClawkeep(["migrate", workspace, "--state-dir", stateDir, "--json"]);
    expect(second.code).toBe(0);
    expect(parseJsonOutput<Report>(second)).toMatchObject({
      found: 9,
      migrated: 0,
      skipped: 9,
      errors: 0,
    });
    expect(await hashTree(stateDir)).toEqual(before);
    const human = await runClawkeep(["migrate", workspace, "--state-dir", stateDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("Nothing to do");
    expect(human.stderr).toContain(`state dir ${stateDir}`);
  });

  it("changes no byte in a dry run and reports what would happen", async () => {
    const workspace = await trickyWorkspace();
    const root = await testdir();
    const stateDir = join(root, "state");
    const before = { workspace: await hashTree(workspace), state: await hashTree(root) };
    const run = await runClawkeep([
      "migrate",
      workspace,
      "--state-dir",
      stateDir,
      "--dry-run",
      "--json",
    ]);
    expect(run.code).toBe(1);
    expect(parseJsonOutput<Report>(run)).toMatchObject({
      dryRun: true,
      found: 10,
      migrated: 9,
      errors: 1,
    });
    const human = await runClawkeep(["migrate", workspace, "--state-dir", stateDir, "--dry-run"]);
    expect(human.stdout).toContain("would migrate");
    expect(human.stdout).toContain("Dry run: nothing was written.");
    expect(await hashTree(workspace)).toEqual(before.workspace);
    expect(await hashTree(root)).toEqual(before.state);
  });

  it("exits 2 on bad usage, with one JSON document under --json", async () => {
    const missing = await runClawkeep(["migrate"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required args");
    expect(missing.stderr).not.toContain("    at ");
    const unknown = await runClawkeep(["migrate", ".", "--frobnicate", "--json"]);
    expect(unknown.code).toBe(2);
    expect(parseJsonOutput(unknown)).toMatchObject({
      ok: false,
      error: { code: "INVALID_PARAMS", exitCode: 2 },
    });
    const nowhere = await runClawkeep([
      "migrate",
      join(await testdir(), "nope"),
      "--state-dir",
      await testdir(),
    ]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain("no legacy sessions folder");
  });
});
