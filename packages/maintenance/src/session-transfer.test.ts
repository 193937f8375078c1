import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { exportSession, importSession } from "./session-transfer.ts";

const transcript = `${JSON.stringify({ type: "session", version: 3, id: "s1", timestamp: "2026-01-01T00:00:00.000Z", cwd: "/" })}\n${JSON.stringify({ type: "message", id: "aaaaaaaa", parentId: null, timestamp: "2026-01-01T00:00:01.000Z", message: { role: "user", content: "hello", timestamp: 1 } })}\n`;

async function source(): Promise<string> {
  const stateDir = await testdir();
  const sessionsDir = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessionsDir, { recursive: true });
  await writeFile(
    join(sessionsDir, "sessions.json"),
    JSON.stringify({
      "agent:main:telegram:direct:42": {
        sessionId: "s1",
        updatedAt: 7,
        label: "greeting",
        sessionFile: join(sessionsDir, "s1.jsonl"),
        futureField: { kept: true },
      },
    }),
  );
  await writeFile(join(sessionsDir, "s1.jsonl"), transcript);
  return stateDir;
}

describe("exportSession / importSession", () => {
  it("moves one session with its transcript to another state dir", async () => {
    const from = await source();
    const exported = await exportSession("agent:main:Telegram:Direct:42", {
      stateDir: from,
      now: () => 0,
    });
    expect(exported.document).toMatchObject({
      format: "clawkeep.session",
      version: 1,
      agentId: "main",
      key: "agent:main:telegram:direct:42",
      entry: { sessionId: "s1", label: "greeting", futureField: { kept: true } },
      transcript: { fileName: "s1.jsonl", text: transcript },
    });
    expect(exported.document.entry).not.toHaveProperty("sessionFile");

    const to = await testdir();
    const document = JSON.parse(JSON.stringify(exported.document)) as unknown;
    const imported = await importSession(document, { stateDir: to });
    const sessionsDir = join(to, "agents", "main", "sessions");
    expect(imported).toMatchObject({
      key: "agent:main:telegram:direct:42",
      sessionId: "s1",
      notes: [],
    });
    expect(imported.mapping).toBeUndefined();
    expect(await readFile(join(sessionsDir, "s1.jsonl"), "utf8")).toBe(transcript);
    const store = JSON.parse(await readFile(join(sessionsDir, "sessions.json"), "utf8"));
    expect(store["agent:main:telegram:direct:42"]).toMatchObject({
      sessionId: "s1",
      sessionFile: join(sessionsDir, "s1.jsonl"),
      futureField: { kept: true },
    });
  });

  it("refuses an existing key or session id unless rename, which assigns fresh ones", async () => {
    const stateDir = await source();
    const { document } = await exportSession("agent:main:telegram:direct:42", { stateDir });
    await expect(importSession(document, { stateDir })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
    });

    const imported = await importSession(document, { stateDir, rename: true });
    expect(imported.mapping?.key.from).toBe("agent:main:telegram:direct:42");
    expect(imported.key).toMatch(/^agent:main:telegram:direct:42:imported-[0-9a-f]{8}$/);
    expect(imported.sessionId).not.toBe("s1");
    expect(imported.notes[0]).toContain("label");
    const text = await readFile(imported.transcriptPath as string, "utf8");
    expect(JSON.parse(text.split("\n")[0] as string).id).toBe(imported.sessionId);
    expect(text.split("\n")[1]).toBe(transcript.split("\n")[1]);
  });

  it("rejects a damaged export file", async () => {
    const stateDir = await source();
    const { document } = await exportSession("agent:main:telegram:direct:42", { stateDir });
    const damaged = { ...document, transcript: { ...document.transcript, text: "cut" } };
    await expect(importSession(damaged, { stateDir: await testdir() })).rejects.toMatchObject({
      code: "INVALID_PARAMS",
    });
    await expect(exportSession("agent:main:nope", { stateDir })).rejects.toMatchObject({
      code: "SESSION_NOT_FOUND",
    });
  });
});

const header = (id: string) =>
  JSON.stringify({
    type: "session",
    version: 3,
    id,
    timestamp: "2026-01-01T00:00:00.000Z",
    cwd: "/",
  });
const message = (id: string, parentId: string | null) =>
  JSON.stringify({
    type: "message",
    id,
    parentId,
    timestamp: "2026-01-01T00:00:01.000Z",
    message: { role: "user", content: "hi", timestamp: 1 },
  });

/** An export of session `s1` whose transcript is `text` (checksum made to match). */
function exportWith(
  text: string,
  fields: { agentId?: string; key?: string } = {},
): Record<string, unknown> {
  return {
    format: "clawkeep.session",
    version: 1,
    exportedAt: "2026-01-01T00:00:00.000Z",
    agentId: fields.agentId ?? "main",
    key: fields.key ?? "agent:main:telegram:direct:42",
    entry: { sessionId: "s1", updatedAt: 7 },
    transcript: {
      fileName: "s1.jsonl",
      text,
      sha256: createHash("sha256").update(text, "utf8").digest("hex"),
    },
  };
}

describe("importSession checks hand-edited exports", () => {
  it.each([
    ["a line that is not JSON", `${header("s1")}\n{"type":"message"\n`, "line 2: not JSON"],
    ["a line that is not an object", `${header("s1")}\n[1,2]\n`, "line 2: not a JSON object"],
    [
      "a second header",
      `${header("s1")}\n${message("aaaaaaaa", null)}\n${header("s1")}\n`,
      "line 3: a session header after the first line",
    ],
    [
      "a header naming another session",
      `${header("s2")}\n`,
      'line 1: the header names session "s2"',
    ],
    [
      "a broken parentId chain",
      `${header("s1")}\n${message("aaaaaaaa", null)}\n${message("bbbbbbbb", "cccccccc")}\n`,
      'line 3: parentId "cccccccc"',
    ],
    [
      "a parentId pointing forwards",
      `${header("s1")}\n${message("aaaaaaaa", "bbbbbbbb")}\n${message("bbbbbbbb", null)}\n`,
      "line 2: parentId",
    ],
  ])("refuses %s, naming the line", async (_name, text, problem) => {
    const stateDir = await testdir();
    const error = await importSession(exportWith(text), { stateDir }).catch((caught) => caught);
    expect(error).toMatchObject({ code: "INVALID_PARAMS" });
    expect((error as Error).message).toContain(problem);
    await expect(readdir(join(stateDir, "agents", "main", "sessions"))).rejects.toThrow();
  });

  it("accepts a headerless transcript, blank lines, and rewrites the header on rename", async () => {
    const stateDir = await testdir();
    const text = `${message("aaaaaaaa", null)}\n\n${message("bbbbbbbb", "aaaaaaaa")}\n`;
    await importSession(exportWith(text), { stateDir });
    const valid = `${header("s1")}\n${message("aaaaaaaa", null)}\n`;
    const renamed = await importSession(exportWith(valid), { stateDir, rename: true });
    const written = await readFile(renamed.transcriptPath as string, "utf8");
    expect(JSON.parse(written.split("\n")[0] as string).id).toBe(renamed.sessionId);
  });

  it("imports into the agent the key names, and refuses a key of another agent", async () => {
    const stateDir = await testdir();
    const valid = `${header("s1")}\n${message("aaaaaaaa", null)}\n`;
    const error = await importSession(
      exportWith(valid, { agentId: "main", key: "agent:ops:main" }),
      {
        stateDir,
      },
    ).catch((caught) => caught);
    expect(error).toMatchObject({ code: "INVALID_PARAMS" });
    expect((error as Error).message).toContain("belongs to agent ops, but its agentId is main");

    const imported = await importSession(
      exportWith(valid, { agentId: "Ops", key: "agent:ops:main" }),
      {
        stateDir,
      },
    );
    expect(imported).toMatchObject({ agentId: "ops", key: "agent:ops:main" });
    expect(imported.storePath).toBe(join(stateDir, "agents", "ops", "sessions", "sessions.json"));
    const moved = await importSession(
      exportWith(valid, { agentId: "ops", key: "agent:ops:main" }),
      {
        stateDir,
        agentId: "main",
      },
    );
    expect(moved).toMatchObject({ agentId: "main", key: "agent:main:main" });
  });
});

describe("importSession after an interrupted run", () => {
  it("completes an import whose transcript was written but whose entry was not", async () => {
    const stateDir = await testdir();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    const text = `${header("s1")}\n${message("aaaaaaaa", null)}\n`;
    // The half-done state of a run killed while waiting for the store lock, with the temp file
    // of a writer that no longer runs.
    await mkdir(sessionsDir, { recursive: true });
    await writeFile(join(sessionsDir, "s1.jsonl"), text);
    const temp = join(sessionsDir, "s1.jsonl.999999999.abc123.tmp");
    await writeFile(temp, "half");

    const imported = await importSession(exportWith(text), { stateDir });
    expect(imported).toMatchObject({ key: "agent:main:telegram:direct:42", sessionId: "s1" });
    expect(imported.mapping).toBeUndefined();
    expect(imported.notes[0]).toContain("interrupted import");
    const store = JSON.parse(await readFile(join(sessionsDir, "sessions.json"), "utf8"));
    expect(store["agent:main:telegram:direct:42"]).toMatchObject({ sessionId: "s1" });
    expect(await readFile(join(sessionsDir, "s1.jsonl"), "utf8")).toBe(text);
    expect(await readdir(sessionsDir)).not.toContain("s1.jsonl.999999999.abc123.tmp");

    // Done now: a further run refuses, the transcript stays.
    await expect(importSession(exportWith(text), { stateDir })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
    });
  });

  it("still refuses a different transcript at the name", async () => {
    const stateDir = await testdir();
    const sessionsDir = join(stateDir, "agents", "main", "sessions");
    await mkdir(sessionsDir, { recursive: true });
    const other = `${header("s1")}\n${message("ffffffff", null)}\n`;
    await writeFile(join(sessionsDir, "s1.jsonl"), other);
    const text = `${header("s1")}\n${message("aaaaaaaa", null)}\n`;
    await expect(importSession(exportWith(text), { stateDir })).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
    });
    expect(await readFile(join(sessionsDir, "s1.jsonl"), "utf8")).toBe(other);
  });
});
