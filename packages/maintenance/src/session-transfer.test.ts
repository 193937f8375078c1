import { mkdir, readFile, writeFile } from "node:fs/promises";
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
