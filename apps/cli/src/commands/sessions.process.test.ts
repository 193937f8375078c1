import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  canRunInTerminal,
  parseJsonOutput,
  runClawkeep,
  runClawkeepInTerminal,
} from "../testing/run-clawkeep.ts";

const DAY = 86_400_000;
const header = (id: string) =>
  `${JSON.stringify({ type: "session", version: 3, id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/" })}\n`;
const userLine = (id: string, parentId: string | null, text: string) =>
  `${JSON.stringify({ type: "message", id, parentId, timestamp: "2026-01-01T00:00:01.000Z", message: { role: "user", content: text, timestamp: 1 } })}\n`;

/** A state dir with three sessions of agent main, one of them old. */
async function state(): Promise<{ stateDir: string; sessionsDir: string }> {
  const stateDir = await testdir();
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessionsDir, { recursive: true });
  const now = Date.now();
  await writeFile(
    join(sessionsDir, "sessions.json"),
    JSON.stringify(
      {
        "agent:main:main": { sessionId: "s-main", updatedAt: now - DAY },
        "agent:main:telegram:direct:42": { sessionId: "s-42", updatedAt: now, label: "alice" },
        "agent:main:old": { sessionId: "s-old", updatedAt: now - 60 * DAY },
      },
      null,
      2,
    ),
  );
  await writeFile(
    join(sessionsDir, "s-main.jsonl"),
    header("s-main") + userLine("a1", null, "good morning"),
  );
  let text = header("s-42");
  for (let index = 0; index < 5; index += 1) {
    text += userLine(`b${index}`, index === 0 ? null : `b${index - 1}`, `message ${index}`);
  }
  await writeFile(join(sessionsDir, "s-42.jsonl"), text);
  await writeFile(join(sessionsDir, "s-old.jsonl"), header("s-old"));
  return { stateDir, sessionsDir };
}

describe("clawkeep sessions (process)", () => {
  it("lists, shows, previews, resolves, patches, compacts, resets and deletes on files", async () => {
    const { stateDir, sessionsDir } = await state();
    const cli = (...args: string[]) => runClawkeep([...args, "--state-dir", stateDir]);

    const list = await cli("sessions", "list", "--json", "--titles");
    expect(list.code).toBe(0);
    const rows = parseJsonOutput<{
      sessions: { key: string; derivedTitle?: string }[];
      total: number;
    }>(list);
    expect(rows.sessions.map((row) => row.key)).toEqual([
      "agent:main:telegram:direct:42",
      "agent:main:main",
      "agent:main:old",
    ]);
    expect(rows.sessions[1]?.derivedTitle).toBe("good morning");
    const table = await cli("sessions", "list", "--limit", "1");
    expect(table.stdout).toContain("agent:main:telegram:direct:42");
    expect(table.stdout).toContain("1 of 3 sessions (next page: --offset 1)");
    expect(table.stdout).not.toContain("\u001b[");

    const show = await cli("sessions", "show", "agent:main:Telegram:Direct:42", "--json");
    expect(show.code).toBe(0);
    expect(parseJsonOutput(show)).toMatchObject({
      key: "agent:main:telegram:direct:42",
      entry: { sessionId: "s-42", label: "alice" },
      transcriptPath: join(sessionsDir, "s-42.jsonl"),
      preview: { status: "ok" },
    });

    const preview = await cli(
      "sessions",
      "preview",
      "main",
      "agent:main:nope",
      "--limit",
      "1",
      "--json",
    );
    expect(preview.code).toBe(1);
    expect(parseJsonOutput(preview)).toMatchObject({
      previews: [
        { key: "main", status: "ok", items: [{ role: "user", text: "good morning" }] },
        { key: "agent:main:nope", status: "missing" },
      ],
    });

    const resolved = await cli("sessions", "resolve", "--label", "alice");
    expect(resolved.code).toBe(0);
    expect(resolved.stdout.trim()).toBe("agent:main:telegram:direct:42");

    const patched = await cli(
      "sessions",
      "patch",
      "main",
      "--label",
      "007",
      "--thinking-level",
      "max",
      "--json",
    );
    expect(patched.code).toBe(0);
    expect(parseJsonOutput(patched)).toMatchObject({
      entry: { label: "007", thinkingLevel: "high" },
    });
    const cleared = await cli(
      "sessions",
      "patch",
      "main",
      "--clear-label",
      "--params",
      '{"sendPolicy":"deny"}',
      "--json",
    );
    const clearedEntry = parseJsonOutput<{ entry: Record<string, unknown> }>(cleared).entry;
    expect(clearedEntry.label).toBeUndefined();
    expect(clearedEntry.sendPolicy).toBe("deny");
    const invalid = await cli("sessions", "patch", "main", "--thinking-level", "sideways");
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('--thinking-level: expected "off" | "minimal"');
    const policy = await cli("sessions", "patch", "main", "--send-policy", "maybe");
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain('--send-policy: expected "allow" | "deny" (got "maybe")');
    const model = await cli("sessions", "patch", "main", "--model", "gpt");
    expect(model.code).toBe(2);
    expect(model.stderr).toContain("provider/model");
    const taken = await cli("sessions", "patch", "agent:main:old", "--label", "alice");
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(
      'label "alice" is already used by agent:main:telegram:direct:42',
    );
    const unknownFlag = await cli("sessions", "patch", "main", "--frobnicate", "x");
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("(see `clawkeep sessions patch --help`)");
    expect(await readdir(sessionsDir)).not.toContain("sessions.json.lock");

    const compacted = await cli(
      "sessions",
      "compact",
      "agent:main:telegram:direct:42",
      "--max-lines",
      "2",
      "--json",
    );
    expect(parseJsonOutput(compacted)).toMatchObject({ compacted: true, kept: 2 });
    const compactMissing = await cli("sessions", "compact", "agent:main:nope");
    expect(compactMissing.code).toBe(1);
    expect(compactMissing.stderr).toContain("No session found: agent:main:nope");

    const lastMessage = await cli("sessions", "list", "--last-message");
    expect(lastMessage.code).toBe(0);
    expect(lastMessage.stdout.split("\n")[0]).toMatch(/TITLE\s+LAST MESSAGE$/);
    expect(lastMessage.stdout).toMatch(/agent:main:telegram:direct:42 .*alice\s+message 4/);

    const refused = await cli("sessions", "reset", "main");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    const reset = await cli("sessions", "reset", "main", "--yes", "--json");
    expect(reset.code).toBe(0);
    const newId = parseJsonOutput<{ entry: { sessionId: string } }>(reset).entry.sessionId;
    expect(newId).not.toBe("s-main");

    const mainDelete = await cli("sessions", "delete", "main", "--yes");
    expect(mainDelete.code).toBe(2);
    expect(mainDelete.stderr).toContain("Cannot delete the main session");
    const deleted = await cli("sessions", "delete", "agent:main:old", "--yes", "--json");
    expect(deleted.code).toBe(0);
    expect(parseJsonOutput<{ archived: string[] }>(deleted).archived[0]).toContain(
      "s-old.jsonl.deleted.",
    );
    const again = await cli("sessions", "delete", "agent:main:old", "--yes");
    expect(again.code).toBe(1);

    const store = JSON.parse(await readFile(join(sessionsDir, "sessions.json"), "utf8"));
    expect(Object.keys(store).sort()).toEqual(["agent:main:main", "agent:main:telegram:direct:42"]);
  });

  it("exports and imports one session, refusing an existing one unless --rename", async () => {
    const { stateDir } = await state();
    const out = join(await testdir(), "alice.json");
    const exported = await runClawkeep([
      "export",
      "agent:main:telegram:direct:42",
      "--out",
      out,
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(exported.code).toBe(0);
    expect(parseJsonOutput(exported)).toMatchObject({ out, sessionId: "s-42" });
    const overwrite = await runClawkeep([
      "export",
      "agent:main:main",
      "--out",
      out,
      "--state-dir",
      stateDir,
    ]);
    expect(overwrite.code).toBe(1);

    const other = await testdir();
    const imported = await runClawkeep(["import", out, "--state-dir", other, "--json"]);
    expect(imported.code).toBe(0);
    expect(parseJsonOutput(imported)).toMatchObject({
      key: "agent:main:telegram:direct:42",
      sessionId: "s-42",
    });
    const list = parseJsonOutput<{ sessions: { key: string }[] }>(
      await runClawkeep(["sessions", "list", "--json", "--state-dir", other]),
    );
    expect(list.sessions.map((row) => row.key)).toEqual(["agent:main:telegram:direct:42"]);

    const duplicate = await runClawkeep(["import", out, "--state-dir", stateDir]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain("--rename");
    const renamed = await runClawkeep([
      "import",
      out,
      "--rename",
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(renamed.code).toBe(0);
    const mapping = parseJsonOutput<{
      mapping: { key: { to: string }; sessionId: { to: string } };
    }>(renamed).mapping;
    expect(mapping.key.to).toMatch(/^agent:main:telegram:direct:42:imported-/);
    expect(mapping.sessionId.to).not.toBe("s-42");
  });

  it("lists what maintenance would remove, and removes it with --enforce --yes", async () => {
    const { stateDir, sessionsDir } = await state();
    const dry = await runClawkeep(["maintenance", "--state-dir", stateDir, "--json"]);
    expect(dry.code).toBe(0);
    expect(parseJsonOutput(dry)).toMatchObject({
      enforce: false,
      removals: [{ key: "agent:main:old", reason: "stale" }],
    });
    const refused = await runClawkeep(["maintenance", "--enforce", "--state-dir", stateDir]);
    expect(refused.code).toBe(2);
    const enforced = await runClawkeep([
      "maintenance",
      "--enforce",
      "--yes",
      "--max-entries",
      "1",
      "--active-key",
      "agent:main:telegram:direct:42",
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(enforced.code).toBe(0);
    // The main session is kept whatever the cap; the active key too.
    const store = JSON.parse(await readFile(join(sessionsDir, "sessions.json"), "utf8"));
    expect(Object.keys(store).sort()).toEqual(["agent:main:main", "agent:main:telegram:direct:42"]);
    expect(
      (await readdir(sessionsDir)).some((name) => name.startsWith("s-old.jsonl.deleted.")),
    ).toBe(true);
  });

  it.skipIf(!canRunInTerminal())(
    "maintenance --enforce on a terminal lists what would go, asks, and keeps all when declined",
    async () => {
      const { stateDir, sessionsDir } = await state();
      const storePath = join(sessionsDir, "sessions.json");
      const before = await readFile(storePath, "utf8");
      const run = await runClawkeepInTerminal(
        ["maintenance", "--enforce", "--state-dir", stateDir],
        {
          input: "n\n",
        },
      );
      expect(run.code).toBe(0);
      const text = run.stdout.replaceAll("\r", "");
      const question = text.indexOf("Remove 1 session entries");
      expect(question).toBeGreaterThan(-1);
      expect(text.slice(0, question)).toContain("agent:main:old");
      expect(text.slice(0, question)).not.toContain("Run `clawkeep maintenance --enforce`");
      expect(text.slice(question)).toContain("Cancelled: nothing changed.");
      expect(await readFile(storePath, "utf8")).toBe(before);
    },
  );

  it("protects a bare --active-key, warns about one that matches nothing, and reports rotation", async () => {
    const { stateDir, sessionsDir } = await state();
    const config = join(await testdir(), "openclaw.json");
    await writeFile(config, JSON.stringify({ session: { maintenance: { rotateBytes: "10b" } } }));
    const run = await runClawkeep([
      "maintenance",
      "--enforce",
      "--yes",
      "--active-key",
      "old",
      "--active-key",
      "s7",
      "--config",
      config,
      "--state-dir",
      stateDir,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'warning: active key "s7" matches no entry (looked up as agent:main:s7)',
    );
    const backups = (await readdir(sessionsDir)).filter((name) =>
      name.startsWith("sessions.json.bak."),
    );
    expect(backups).toHaveLength(1);
    expect(run.stdout).toContain(`main: rotated ${join(sessionsDir, "sessions.json")} (backup`);
    const store = JSON.parse(await readFile(join(sessionsDir, "sessions.json"), "utf8"));
    expect(Object.keys(store)).toContain("agent:main:old");
  });

  it("speaks clearly about bad usage, colours and unreachable gateways", async () => {
    const stateDir = await testdir();
    const unknown = await runClawkeep(["sessions", "frobnicate", "--state-dir", stateDir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command: sessions frobnicate");
    const badLimit = await runClawkeep([
      "sessions",
      "list",
      "--limit",
      "zero",
      "--state-dir",
      stateDir,
      "--json",
    ]);
    expect(badLimit.code).toBe(2);
    expect(parseJsonOutput(badLimit)).toMatchObject({
      ok: false,
      stateDir,
      error: { exitCode: 2 },
    });
    const negative = await runClawkeep([
      "maintenance",
      "--max-entries",
      "-1",
      "--state-dir",
      stateDir,
    ]);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain(
      '--max-entries must be an integer >= 0, got "-1" (see `clawkeep maintenance --help`)',
    );
    const noConfig = await runClawkeep([
      "doctor",
      "--config",
      join(stateDir, "missing.json"),
      "--state-dir",
      stateDir,
    ]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain(`no config file at ${join(stateDir, "missing.json")}`);
    const debug = await runClawkeep([
      "sessions",
      "list",
      "--limit",
      "zero",
      "--debug",
      "--state-dir",
      stateDir,
    ]);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n {4}at /);
    const help = await runClawkeep(["sessions", "patch", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--clear-thinking-level");

    const forced = await runClawkeep(
      ["sessions", "list", "--state-dir", stateDir, "--limit", "zero"],
      { env: { FORCE_COLOR: "1" } },
    );
    expect(forced.stderr).toContain("\u001b[31m");
    const noColor = await runClawkeep(
      ["sessions", "list", "--state-dir", stateDir, "--limit", "zero"],
      {
        env: { FORCE_COLOR: "1", NO_COLOR: "1" },
      },
    );
    expect(noColor.stderr).not.toContain("\u001b[");

    const devices = await runClawkeep(["devices", "list", "--state-dir", stateDir, "--json"]);
    expect(devices.code).toBe(0);
    expect(parseJsonOutput(devices)).toMatchObject({ stateDir, paired: [], pending: [] });

    const offline = await runClawkeep([
      "gateway",
      "call",
      "sessions.list",
      "--url",
      "ws://127.0.0.1:9",
      "--token",
      "t",
      "--state-dir",
      stateDir,
    ]);
    expect(offline.code).toBe(1);
    expect(offline.stderr.trim().split("\n").at(-1)).toMatch(/^clawkeep: error: .*gateway/);
    expect(offline.stderr).not.toContain("    at ");
  });
});
