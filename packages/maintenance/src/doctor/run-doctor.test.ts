import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { runDoctor } from "./run-doctor.ts";

/** A pid that is not running: beyond the kernel's default pid range. */
const DEAD_PID = 4_194_303;

const header = (id: string) =>
  `${JSON.stringify({ type: "session", version: 3, id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/" })}\n`;
const line = (id: string, parentId: string | null) =>
  `${JSON.stringify({ type: "message", id, parentId, timestamp: "2026-01-01T00:00:01.000Z", message: { role: "user", content: "hi", timestamp: 1 } })}\n`;

async function healthyState(): Promise<{ stateDir: string; sessionsDir: string }> {
  const stateDir = await testdir();
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessionsDir, { recursive: true });
  await writeFile(
    join(sessionsDir, "sessions.json"),
    JSON.stringify(
      {
        "agent:main:main": { sessionId: "s1", updatedAt: 1 },
        "agent:main:other": { sessionId: "s2", updatedAt: 2 },
      },
      null,
      2,
    ),
  );
  await writeFile(join(sessionsDir, "s1.jsonl"), header("s1") + line("aaaaaaaa", null));
  await writeFile(join(sessionsDir, "s2.jsonl"), header("s2"));
  return { stateDir, sessionsDir };
}

describe("runDoctor", () => {
  it("reports a healthy state as ok", async () => {
    const { stateDir } = await healthyState();
    const report = await runDoctor({ stateDir });
    expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0, actions: [] });
    expect(report.stores).toEqual([
      expect.objectContaining({ agentId: "main", entries: 2, transcripts: 2, readable: true }),
    ]);
  });

  it("finds every planted fault, changes nothing without fix, and repairs the safe ones with it", async () => {
    const { stateDir, sessionsDir } = await healthyState();
    // A stale openclaw-style lock file of a dead process, an hour old.
    const lockPath = join(sessionsDir, "sessions.json.lock");
    await writeFile(lockPath, JSON.stringify({ pid: DEAD_PID, startedAt: 1 }));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(lockPath, old, old);
    await writeFile(join(sessionsDir, `sessions.json.${DEAD_PID}.abc123.tmp`), "{");
    await writeFile(
      join(sessionsDir, "s1.jsonl"),
      `${header("s1")}${line("aaaaaaaa", null)}{"type":"mess`,
    );
    await writeFile(join(sessionsDir, "s2.jsonl"), `${header("s2")}not json\n`);
    await writeFile(join(sessionsDir, "orphan.jsonl"), header("orphan"));
    await writeFile(join(sessionsDir, "s1.jsonl.deleted.2026-01-01T00-00-00.000Z"), "x".repeat(10));

    const before = await readdir(sessionsDir);
    const checked = await runDoctor({ stateDir });
    expect(await readdir(sessionsDir)).toEqual(before);
    const codes = checked.problems.map((problem) => problem.code).sort();
    expect(codes).toEqual([
      "malformed-lines",
      "orphan-transcript",
      "stale-lock",
      "temp-file",
      "torn-line",
    ]);
    expect(checked.ok).toBe(false);
    expect(checked.archives).toEqual([expect.objectContaining({ kind: "deleted", bytes: 10 })]);

    const fixed = await runDoctor({ stateDir, fix: true });
    expect(fixed.actions.map((action) => [action.code, action.ok])).toEqual([
      ["remove-lock", true],
      ["remove-temp-file", true],
      ["end-torn-line", true],
    ]);
    const names = await readdir(sessionsDir);
    expect(names).not.toContain("sessions.json.lock");
    expect(names.some((name) => name.endsWith(".tmp"))).toBe(false);
    expect((await readFile(join(sessionsDir, "s1.jsonl"), "utf8")).endsWith("\n")).toBe(true);
    // What is not safe to repair stays reported.
    expect(
      fixed.problems
        .filter((problem) => !problem.fixed)
        .map((problem) => problem.code)
        .sort(),
    ).toEqual(["malformed-lines", "orphan-transcript"]);
  });

  it("quarantines a corrupt store and restores the newest readable backup", async () => {
    const { stateDir, sessionsDir } = await healthyState();
    const storePath = join(sessionsDir, "sessions.json");
    await writeFile(storePath, '{"agent:main:main": {');
    await writeFile(
      `${storePath}.bak.100`,
      JSON.stringify({ "agent:main:main": { sessionId: "s1", updatedAt: 1 } }),
    );
    await writeFile(`${storePath}.bak.200`, "[broken");
    const checked = await runDoctor({ stateDir });
    expect(checked.problems.map((problem) => problem.code)).toContain("store-corrupt");
    expect(await readFile(storePath, "utf8")).toBe('{"agent:main:main": {');

    const fixed = await runDoctor({ stateDir, fix: true, now: () => 0 });
    expect(fixed.actions).toEqual([
      expect.objectContaining({
        code: "quarantine-store",
        ok: true,
        target: `${storePath}.corrupt.1970-01-01T00-00-00.000Z`,
      }),
      expect.objectContaining({
        code: "restore-store-backup",
        ok: true,
        path: `${storePath}.bak.100`,
      }),
    ]);
    expect(JSON.parse(await readFile(storePath, "utf8"))).toEqual({
      "agent:main:main": { sessionId: "s1", updatedAt: 1 },
    });
    expect(await readFile(`${storePath}.corrupt.1970-01-01T00-00-00.000Z`, "utf8")).toBe(
      '{"agent:main:main": {',
    );
  });

  it("reports invalid entries by key, missing transcripts and key twins", async () => {
    const { stateDir, sessionsDir } = await healthyState();
    await writeFile(
      join(sessionsDir, "sessions.json"),
      JSON.stringify({
        "agent:main:main": { sessionId: "s1", updatedAt: 1 },
        "agent:main:other": { sessionId: "s2", updatedAt: 2 },
        "agent:main:Discord:Group:X": { sessionId: "s3", updatedAt: 3, chatType: 7 },
        "agent:main:discord:group:X": { sessionId: "s4", updatedAt: 4 },
        "agent:main:bad": { sessionId: "../escape", updatedAt: 5 },
      }),
    );
    await writeFile(join(sessionsDir, "s3.jsonl"), header("s3"));
    const report = await runDoctor({ stateDir });
    const byCode = (code: string) => report.problems.filter((problem) => problem.code === code);
    expect(
      byCode("invalid-entry")
        .map((problem) => problem.key)
        .sort(),
    ).toEqual(["agent:main:Discord:Group:X", "agent:main:bad"]);
    expect(byCode("missing-transcript").map((problem) => problem.key)).toEqual([
      "agent:main:discord:group:X",
    ]);
    expect(byCode("key-twins")).toHaveLength(1);
  });

  it("names the owner of a stale transcript lock and no longer calls a repaired store refused", async () => {
    const { stateDir, sessionsDir } = await healthyState();
    const lockPath = join(sessionsDir, "s1.jsonl.lock");
    await writeFile(lockPath, JSON.stringify({ pid: DEAD_PID, createdAt: "2026-01-01T00:00:00Z" }));
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(lockPath, old, old);
    await writeFile(join(sessionsDir, "sessions.json"), '{"agent:main:main": {');
    const checked = await runDoctor({ stateDir });
    const lock = checked.problems.find((problem) => problem.path === lockPath);
    expect(lock).toMatchObject({ code: "stale-lock" });
    expect(lock?.message).toContain(`pid ${DEAD_PID}`);
    const corrupt = checked.problems.find((problem) => problem.code === "store-corrupt");
    expect(corrupt?.message).toContain("writers refuse it");

    const fixed = await runDoctor({ stateDir, fix: true });
    const repaired = fixed.problems.find((problem) => problem.code === "store-corrupt");
    expect(repaired).toMatchObject({ fixed: true });
    expect(repaired?.message).not.toContain("refuse");
  });
});
