import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  canRunInTerminal,
  parseJsonOutput,
  runClawkeep,
  runClawkeepInTerminal,
} from "../testing/run-clawkeep.ts";

/** A pid that is not running: beyond the kernel's default pid range. */
const DEAD_PID = 4_194_303;

interface DoctorJson {
  ok: boolean;
  errors: number;
  warnings: number;
  problems: { code: string; agentId: string; path: string; fixed: boolean }[];
  actions: { code: string; ok: boolean; path: string; target?: string }[];
}

const header = (id: string) =>
  `${JSON.stringify({ type: "session", version: 3, id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/" })}\n`;
const entry = (id: string) =>
  `${JSON.stringify({ type: "message", id, parentId: null, timestamp: "2026-01-01T00:00:01.000Z", message: { role: "user", content: "hi", timestamp: 1 } })}\n`;

/** A state dir with one planted fault of each kind doctor knows. */
async function faultyState(): Promise<{ stateDir: string; main: string; ops: string }> {
  const stateDir = await testdir();
  const main = join(stateDir, "agents", "main", "sessions");
  const ops = join(stateDir, "agents", "ops", "sessions");
  await mkdir(main, { recursive: true });
  await mkdir(ops, { recursive: true });
  await writeFile(
    join(main, "sessions.json"),
    JSON.stringify({ "agent:main:main": { sessionId: "m1", updatedAt: 1 } }, null, 2),
  );
  // Torn last line: a crash in the middle of an append.
  await writeFile(
    join(main, "m1.jsonl"),
    `${header("m1")}${entry("aaaaaaaa")}{"type":"message","id":"bbb`,
  );
  // A transcript no entry points to.
  await writeFile(join(main, "orphan.jsonl"), header("orphan"));
  // A stale lock in openclaw's format, left by a process that is gone, an hour ago.
  const lock = join(main, "sessions.json.lock");
  await writeFile(lock, JSON.stringify({ pid: DEAD_PID, startedAt: 1 }));
  const hourAgo = new Date(Date.now() - 3_600_000);
  await utimes(lock, hourAgo, hourAgo);
  // A temp file of a writer that died between create and rename.
  await writeFile(join(main, `sessions.json.${DEAD_PID}.0a1b2c.tmp`), '{"agent:main:main"');
  // A corrupt store with a readable rotated backup.
  await writeFile(join(ops, "sessions.json"), '{"agent:ops:main": {"sessionId": ');
  await writeFile(
    join(ops, "sessions.json.bak.1770000000000"),
    JSON.stringify({ "agent:ops:main": { sessionId: "o1", updatedAt: 1 } }),
  );
  await writeFile(join(ops, "o1.jsonl"), header("o1"));
  return { stateDir, main, ops };
}

describe("clawkeep doctor (process)", () => {
  it("finds each planted fault, refuses --fix without confirmation, and repairs the safe ones with --yes", async () => {
    const { stateDir, main, ops } = await faultyState();
    const listing = async () => ({ main: await readdir(main), ops: await readdir(ops) });
    const before = await listing();

    const checked = await runClawkeep(["doctor", "--state-dir", stateDir, "--json"]);
    expect(checked.code).toBe(1);
    const report = parseJsonOutput<DoctorJson>(checked);
    const found = report.problems.map((problem) => `${problem.agentId}:${problem.code}`);
    for (const fault of [
      "main:stale-lock",
      "main:temp-file",
      "main:torn-line",
      "main:orphan-transcript",
      "ops:store-corrupt",
    ]) {
      expect(found).toContain(fault);
    }
    expect(await listing()).toEqual(before);

    // Not a terminal and no --yes: refuse, change nothing.
    const refused = await runClawkeep(["doctor", "--fix", "--state-dir", stateDir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(await listing()).toEqual(before);

    const fixed = await runClawkeep([
      "doctor",
      "--fix",
      "--yes",
      "--state-dir",
      stateDir,
      "--json",
    ]);
    const repaired = parseJsonOutput<DoctorJson>(fixed);
    expect(repaired.actions.map((action) => `${action.code}:${action.ok}`).sort()).toEqual([
      "end-torn-line:true",
      "quarantine-store:true",
      "remove-lock:true",
      "remove-temp-file:true",
      "restore-store-backup:true",
    ]);
    // The orphan transcript is reported, not deleted: that is not a safe repair. It is a warning,
    // so the run succeeds unless --strict asks for warnings to fail it.
    expect(fixed.code).toBe(0);
    expect(
      repaired.problems.filter((problem) => !problem.fixed).map((problem) => problem.code),
    ).toEqual(["orphan-transcript"]);
    const after = await listing();
    expect(after.main).not.toContain("sessions.json.lock");
    expect(after.main.some((name) => name.endsWith(".tmp"))).toBe(false);
    expect((await readFile(join(main, "m1.jsonl"), "utf8")).endsWith("\n")).toBe(true);
    expect(after.ops.some((name) => name.startsWith("sessions.json.corrupt."))).toBe(true);
    expect(JSON.parse(await readFile(join(ops, "sessions.json"), "utf8"))).toEqual({
      "agent:ops:main": { sessionId: "o1", updatedAt: 1 },
    });

    const human = await runClawkeep(["doctor", "--state-dir", stateDir]);
    expect(human.code).toBe(0);
    const strict = await runClawkeep(["doctor", "--strict", "--state-dir", stateDir]);
    expect(strict.code).toBe(1);
    expect(human.stdout).toContain("orphan-transcript");
    // The ended torn line is now a complete line that is not JSON: readers skip it, doctor says so.
    expect(human.stdout).toContain("malformed-lines");
    expect(human.stdout).toContain("0 errors, 2 warnings");
    // Each archive with its size; the repaired store is not called refused any more.
    expect(human.stdout).toMatch(
      /Archives:\n(?:.*\n)*\s+\d+ B\s+store-backup\s+.*sessions\.json\.bak\.1770000000000/,
    );
    expect(human.stdout).toMatch(/store-corrupt\s+.*sessions\.json\.corrupt\./);
    expect(fixed.stdout).not.toContain("writers refuse");
  });

  it("names an unknown agent (exit 1), prints a stack trace only with --debug", async () => {
    const { stateDir } = await faultyState();
    const unknown = await runClawkeep(["doctor", "--agent", "bogus", "--state-dir", stateDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown agent "bogus"');
    expect(unknown.stderr).toContain("known agents: main, ops");
    expect(unknown.stderr).not.toContain("    at ");
    const maintenance = await runClawkeep([
      "maintenance",
      "--agent",
      "bogus",
      "--state-dir",
      stateDir,
    ]);
    expect(maintenance.code).toBe(1);
    expect(maintenance.stderr).toContain('unknown agent "bogus"');
    const debug = await runClawkeep([
      "doctor",
      "--agent",
      "bogus",
      "--debug",
      "--state-dir",
      stateDir,
    ]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n {4}at .*state-stores/);
  });

  it.skipIf(!canRunInTerminal())(
    "on a terminal: shows what it will repair, asks, and changes nothing when declined; colours on",
    async () => {
      const { stateDir, main, ops } = await faultyState();
      const listing = async () => ({ main: await readdir(main), ops: await readdir(ops) });
      const before = await listing();
      const declined = await runClawkeepInTerminal(["doctor", "--fix", "--state-dir", stateDir], {
        input: "n\n",
      });
      expect(declined.code).toBe(0);
      const text = declined.stdout.replaceAll("\r", "");
      const question = text.indexOf("Repair ");
      expect(text.indexOf("To repair:")).toBeGreaterThan(-1);
      expect(text.indexOf("To repair:")).toBeLessThan(question);
      expect(text.slice(0, question)).toContain("temp-file");
      expect(text).toContain("Cancelled: nothing changed.");
      // A terminal gets colours.
      expect(text).toContain("\u001b[31m");
      expect(await listing()).toEqual(before);

      const accepted = await runClawkeepInTerminal(["doctor", "--fix", "--state-dir", stateDir], {
        input: "y\n",
      });
      expect(accepted.code).toBe(0);
      expect(accepted.stdout).toContain("repaired");
      expect((await readdir(main)).some((name) => name.endsWith(".tmp"))).toBe(false);
    },
  );

  it("reports a clean state as ok", async () => {
    const stateDir = await testdir();
    const main = join(stateDir, "agents", "main", "sessions");
    await mkdir(main, { recursive: true });
    await writeFile(
      join(main, "sessions.json"),
      JSON.stringify({ "agent:main:main": { sessionId: "m1", updatedAt: 1 } }),
    );
    await writeFile(join(main, "m1.jsonl"), header("m1"));
    const run = await runClawkeep(["doctor", "--state-dir", stateDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("All good");
    // Not a terminal: no colours.
    expect(run.stdout + run.stderr).not.toContain("\u001b[");
  });
});
