import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSessionStore } from "@clawkeep/store";
import { copyFixtureDir, testdir } from "@clawkeep/test-utils";
import { readTranscriptMessages } from "@clawkeep/transcripts";
import { describe, expect, it } from "vitest";
import { parseJsonOutput, runClawkeep } from "../testing/run-clawkeep.ts";

const fixture = fileURLToPath(new URL("../__fixtures__/legacy-workspace", import.meta.url));

/** A pid that is not running: beyond the kernel's default pid range. */
const DEAD_PID = 4_194_303;

interface Report {
  stateDir: string;
  found: number;
  migrated: number;
  skipped: number;
  conflicts: number;
  errors: number;
  dryRun: boolean;
  backupDir?: string;
  stores: string[];
  transcripts: string[];
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
    // The legacy layer used the id raw as a file name, so `a/b` is `.sessions/a/b.json`.
    "a/b.json": legacy("a/b", [message("user", "slash id")]),
    "..x.json": legacy("..x", [message("user", "dot dot id")]),
    "ünï-cødé.json": legacy("ünï-cødé", [message("user", "unicode id")]),
    "empty.json": legacy("empty", []),
    "broken.json": '{"session_id": "broken", "messages": [ {"role": "user", ',
  };
  await mkdir(join(workspace, ".sessions", "a"), { recursive: true });
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
    expect(report).toMatchObject({ stateDir, found: 11, migrated: 10, conflicts: 0, errors: 1 });
    expect(report.items.find((item) => item.file === "broken.json")).toMatchObject({
      status: "error",
    });
    expect(report.backupDir).toBeDefined();
    const keys = report.items.filter((item) => item.status === "migrated").map((item) => item.key);
    expect(new Set(keys).size).toBe(10);
    expect(keys).toContain("agent:main:main");
    expect(keys).toContain("agent:main:legacy:telegram-1");
    expect(keys).toContain("agent:main:legacy:telegram-2");
    expect(report.items.find((item) => item.file === "a/b.json")).toMatchObject({
      status: "migrated",
    });
    expect(report.mappings.map((mapping) => mapping.legacyId).sort()).toEqual([
      "..x",
      "a/b",
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
      found: 10,
      migrated: 0,
      skipped: 10,
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
    const planned = parseJsonOutput<Report>(run);
    expect(planned).toMatchObject({
      dryRun: true,
      found: 11,
      migrated: 10,
      errors: 1,
    });
    expect(planned.transcripts).toHaveLength(10);
    const human = await runClawkeep(["migrate", workspace, "--state-dir", stateDir, "--dry-run"]);
    expect(human.stdout).toContain("would migrate");
    expect(human.stdout).toContain(
      `Would back up the legacy files to ${join(workspace, ".sessions", "backup-")}`,
    );
    expect(human.stdout).toContain("Would create:");
    expect(human.stdout).toContain(
      `  ${join(stateDir, "agents", "main", "sessions", "telegram-1.jsonl")}`,
    );
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
    // A folder that does not exist is a wrong argument: bad usage.
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain("does not exist");
    expect(nowhere.stderr).toContain("clawkeep migrate --help");
    const help = await runClawkeep(["migrate", "--help"]);
    expect(help.stdout).toContain("--no-backup");
    expect(help.stdout).not.toContain("(default: true)");
  });

  it("migrates into the store the config names, which sessions list then shows", async () => {
    const workspace = await copyFixtureDir(fixture);
    const root = await testdir();
    const stateDir = join(root, "state");
    const config = join(root, "openclaw.json");
    await writeFile(
      config,
      JSON.stringify({
        session: { store: join(root, "stores", "{agentId}", "sessions.json") },
        agents: { list: [{ id: "ops", default: true }, { id: "main" }] },
      }),
    );
    const run = await runClawkeep([
      "migrate",
      workspace,
      "--state-dir",
      stateDir,
      "--config",
      config,
      "--json",
    ]);
    expect(run.code).toBe(0);
    const report = parseJsonOutput<Report>(run);
    expect(report.stores.sort()).toEqual([
      join(root, "stores", "main", "sessions.json"),
      join(root, "stores", "ops", "sessions.json"),
    ]);
    const listed = parseJsonOutput<{ sessions: { key: string }[] }>(
      await runClawkeep([
        "sessions",
        "list",
        "--state-dir",
        stateDir,
        "--config",
        config,
        "--json",
      ]),
    );
    expect(listed.sessions.map((row) => row.key).sort()).toEqual([
      "agent:main:main",
      "agent:ops:legacy:telegram-5550123",
      "agent:ops:legacy:telegram-5550999",
    ]);
  });

  it("on a rerun after a crash, removes the dead run's temp files and completes the entries", async () => {
    const workspace = await trickyWorkspace();
    await rm(join(workspace, ".sessions", "broken.json"));
    const stateDir = join(await testdir(), "state");
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    expect((await runClawkeep(["migrate", workspace, "--state-dir", stateDir])).code).toBe(0);
    // The crash: transcripts written, entries not, a temp file of the dead writer left behind.
    await rm(join(sessionsDir, "sessions.json"));
    const temp = `telegram-1.jsonl.${DEAD_PID}.0a1b2c3d4e5f.tmp`;
    await writeFile(join(sessionsDir, temp), '{"type":"sess');
    const rerun = await runClawkeep(["migrate", workspace, "--state-dir", stateDir, "--json"]);
    expect(rerun.code).toBe(0);
    expect(parseJsonOutput<Report>(rerun)).toMatchObject({ migrated: 10, errors: 0 });
    expect(await readdir(sessionsDir)).not.toContain(temp);
    const doctor = await runClawkeep(["doctor", "--state-dir", stateDir, "--json"]);
    expect(
      parseJsonOutput<{ problems: { code: string }[] }>(doctor).problems.map((p) => p.code),
    ).not.toContain("temp-file");
  });

  it("skips a migrated session that was reset since", async () => {
    const workspace = await copyFixtureDir(fixture);
    const stateDir = join(await testdir(), "state");
    expect((await runClawkeep(["migrate", workspace, "--state-dir", stateDir])).code).toBe(0);
    const reset = await runClawkeep([
      "sessions",
      "reset",
      "agent:main:legacy:telegram-5550123",
      "--yes",
      "--state-dir",
      stateDir,
    ]);
    expect(reset.code).toBe(0);
    const rerun = await runClawkeep(["migrate", workspace, "--state-dir", stateDir, "--json"]);
    expect(rerun.code).toBe(0);
    const report = parseJsonOutput<Report>(rerun);
    expect(report).toMatchObject({ migrated: 0, skipped: 3, conflicts: 0 });
    expect(report.items.find((item) => item.file === "telegram-5550123.json")?.reason).toContain(
      "already present",
    );
  });

  it("exits 1 and claims nothing written while the store lock is held; errors are printed whole", async () => {
    const workspace = await copyFixtureDir(fixture);
    const stateDir = join(await testdir(), "state");
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await mkdir(sessionsDir, { recursive: true });
    // openclaw's plain lock file, held by a live process (the test runner); the CLI waits for
    // the store's default lock timeout (10 s), then gives up.
    await writeFile(
      join(sessionsDir, "sessions.json.lock"),
      JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() }),
    );
    const run = await runClawkeep(["migrate", workspace, "--state-dir", stateDir]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("Wrote");
    expect(run.stdout).toContain("Not migrated:");
    const reason = /^ {2}error telegram-5550123\.json: (.*)$/m.exec(run.stdout)?.[1] ?? "";
    expect(reason).toContain("timeout acquiring session store lock");
    // Whole, not cut to the table's width.
    expect(reason.length).toBeGreaterThan(100);
    expect(reason.endsWith("…")).toBe(false);
    expect((await readdir(sessionsDir)).sort()).toEqual(["sessions.json.lock"]);
  });
});
