import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { runMaintenance } from "./run-maintenance.ts";

const DAY = 86_400_000;
const NOW = 100 * DAY;

async function state(): Promise<{ stateDir: string; sessionsDir: string; storePath: string }> {
  const stateDir = await testdir();
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessionsDir, { recursive: true });
  const storePath = join(sessionsDir, "sessions.json");
  await writeFile(
    storePath,
    JSON.stringify(
      {
        "agent:main:main": { sessionId: "main-1", updatedAt: NOW - 90 * DAY },
        "agent:main:old": { sessionId: "old-1", updatedAt: NOW - 40 * DAY },
        "agent:main:busy": { sessionId: "busy-1", updatedAt: NOW - 50 * DAY },
        "agent:main:new-a": { sessionId: "new-a", updatedAt: NOW - 2 * DAY },
        "agent:main:new-b": { sessionId: "new-b", updatedAt: NOW - DAY },
      },
      null,
      2,
    ),
  );
  for (const id of ["main-1", "old-1", "busy-1", "new-a", "new-b"]) {
    await writeFile(join(sessionsDir, `${id}.jsonl`), "{}\n");
  }
  return { stateDir, sessionsDir, storePath };
}

describe("runMaintenance", () => {
  it("lists what would go and why, and changes nothing by default", async () => {
    const { stateDir, sessionsDir, storePath } = await state();
    const before = await readFile(storePath, "utf8");
    const report = await runMaintenance({
      stateDir,
      activeKeys: ["agent:main:busy"],
      rules: { maxEntries: 3 },
      now: () => NOW,
    });
    expect(report.enforce).toBe(false);
    expect(report.removals.map((removal) => [removal.key, removal.reason])).toEqual([
      ["agent:main:old", "stale"],
      ["agent:main:new-a", "capped"],
    ]);
    expect(report.removals[0]?.transcript).toBe(join(sessionsDir, "old-1.jsonl"));
    expect(report.stores[0]?.protectedKeys).toEqual(["agent:main:main", "agent:main:busy"]);
    expect(await readFile(storePath, "utf8")).toBe(before);
    expect((await readdir(sessionsDir)).filter((name) => name.includes(".deleted."))).toEqual([]);
  });

  it("removes the entries and archives their transcripts with enforce", async () => {
    const { stateDir, sessionsDir, storePath } = await state();
    const report = await runMaintenance({
      stateDir,
      enforce: true,
      activeKeys: ["agent:main:busy"],
      rules: { maxEntries: 3 },
      now: () => NOW,
    });
    expect(report.removals.map((removal) => removal.key).sort()).toEqual([
      "agent:main:new-a",
      "agent:main:old",
    ]);
    expect(Object.keys(JSON.parse(await readFile(storePath, "utf8"))).sort()).toEqual([
      "agent:main:busy",
      "agent:main:main",
      "agent:main:new-b",
    ]);
    const names = await readdir(sessionsDir);
    expect(names.filter((name) => name.startsWith("old-1.jsonl.deleted."))).toHaveLength(1);
    expect(names).not.toContain("old-1.jsonl");
    expect(report.removals.every((removal) => typeof removal.archived === "string")).toBe(true);
  });

  it("qualifies a bare active key with the agent and warns about one that matches nothing", async () => {
    const { stateDir } = await state();
    const report = await runMaintenance({
      stateDir,
      activeKeys: ["old", "nope"],
      now: () => NOW,
    });
    expect(report.stores[0]?.protectedKeys).toContain("agent:main:old");
    expect(report.removals.map((removal) => removal.key)).not.toContain("agent:main:old");
    expect(report.warnings).toEqual([expect.stringContaining('"nope"')]);
    expect(report.warnings[0]).toContain("agent:main:nope");
  });

  it("rotates a large store with enforce even when no entry goes, and says so", async () => {
    const { stateDir, sessionsDir, storePath } = await state();
    const before = await readFile(storePath, "utf8");
    const rules = { rotateBytes: 10, pruneAfterMs: 1000 * DAY };
    const dry = await runMaintenance({ stateDir, rules, now: () => NOW });
    expect(dry.stores[0]).toMatchObject({ rotate: true, removed: 0 });
    expect(dry.stores[0]?.rotatedTo).toBeUndefined();
    expect((await readdir(sessionsDir)).filter((name) => name.includes(".bak."))).toEqual([]);

    const enforced = await runMaintenance({ stateDir, enforce: true, rules, now: () => NOW });
    const backup = `${storePath}.bak.${NOW}`;
    expect(enforced.removals).toEqual([]);
    expect(enforced.stores[0]).toMatchObject({ rotate: true, rotatedTo: backup });
    expect(await readFile(backup, "utf8")).toBe(before);
    expect(await readFile(storePath, "utf8")).toBe(before);

    // Below the limit nothing is rotated, and the report does not claim it.
    const small = await runMaintenance({
      stateDir,
      enforce: true,
      rules: { ...rules, rotateBytes: 1024 * 1024 },
      now: () => NOW + 1,
    });
    expect(small.stores[0]).toMatchObject({ rotate: false });
    expect(small.stores[0]?.rotatedTo).toBeUndefined();
  });

  it("names an unknown agent instead of checking nothing", async () => {
    const { stateDir } = await state();
    await expect(runMaintenance({ stateDir, agentId: "bogus" })).rejects.toMatchObject({
      code: "INVALID_PARAMS",
      message: expect.stringContaining('unknown agent "bogus"'),
    });
  });
});
