import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  assertRealPathInside,
  resolvePathWithinSessionsDir,
  resolveSessionFilePath,
  resolveSessionTranscriptCandidates,
  resolveSessionTranscriptPath,
  resolveSessionTranscriptPathInDir,
  resolveSessionTranscriptsDir,
} from "./transcript-paths.ts";

const env = { OPENCLAW_STATE_DIR: "/custom/state", HOME: "/home/user" };
const D = "/state/agents/main/sessions";

describe("transcript paths", () => {
  it("resolves the transcripts dir and paths under the state dir (#98, #99, #100)", () => {
    expect(resolveSessionTranscriptsDir({ env })).toBe("/custom/state/agents/main/sessions");
    expect(resolveSessionTranscriptPath("sess-1", "main", 123, { env })).toBe(
      "/custom/state/agents/main/sessions/sess-1-topic-123.jsonl",
    );
    expect(resolveSessionFilePath("sess-2", undefined, { agentId: "codex", env })).toBe(
      "/custom/state/agents/codex/sessions/sess-2.jsonl",
    );
  });

  it("accepts valid ids and rejects path-like ones (#134, #135)", () => {
    expect(resolveSessionTranscriptPathInDir("sess-1", D)).toBe(`${D}/sess-1.jsonl`);
    expect(resolveSessionTranscriptPathInDir("ABC_123.hello", D)).toBe(`${D}/ABC_123.hello.jsonl`);
    for (const id of ["../etc/passwd", "a/b", "a\\b", "/abs", "..", ""]) {
      expect(() => resolveSessionTranscriptPathInDir(id, D)).toThrow(
        expect.objectContaining({ code: "INVALID_ID" }),
      );
    }
  });

  it("encodes topic ids (#136)", () => {
    expect(resolveSessionTranscriptPathInDir("sess-1", D, "topic/a+b")).toBe(
      `${D}/sess-1-topic-topic%2Fa%2Bb.jsonl`,
    );
    expect(resolveSessionTranscriptPathInDir("sess-1", D, "../../x")).toBe(
      `${D}/sess-1-topic-..%2F..%2Fx.jsonl`,
    );
  });

  it("rejects stored paths outside the sessions dir (#137)", () => {
    for (const sessionFile of ["../../etc/passwd", "/etc/passwd", "..", ".", "sub/../../x.jsonl"]) {
      expect(() =>
        resolveSessionFilePath("sess-1", { sessionFile }, { sessionsDir: D, env }),
      ).toThrow(
        expect.objectContaining({
          code: "PATH_ESCAPE",
          message: `Session file path must be within sessions directory: ${sessionFile}`,
          details: expect.objectContaining({ path: sessionFile, sessionsDir: D }),
        }),
      );
    }
    expect(() => resolvePathWithinSessionsDir(D, "   ")).toThrow(
      expect.objectContaining({
        code: "PATH_ESCAPE",
        message: "Session file path must not be empty",
      }),
    );
  });

  it("rejects stored paths that name no transcript: the store, a lock, an archive", () => {
    for (const sessionFile of [
      "sessions.json",
      `${D}/sessions.json`,
      "sessions.json.lock",
      "sess-1.jsonl.lock",
      "sess-1.jsonl.bak.2026-02-12T09-00-00.000Z",
      "sess-1.jsonl.deleted.2026-02-12T09-00-00.000Z",
      ".jsonl",
      "sub/.jsonl",
      "sess-1.json",
      "/custom/state/agents/ops/sessions/sessions.json",
    ]) {
      expect(() =>
        resolveSessionFilePath("sess-1", { sessionFile }, { sessionsDir: D, env }),
      ).toThrow(
        expect.objectContaining({
          code: "PATH_ESCAPE",
          message: `Session file must be a .jsonl transcript: ${sessionFile}`,
        }),
      );
    }
    // A lookup passes over such a stored path to `<id>.jsonl`.
    expect(
      resolveSessionTranscriptCandidates({
        sessionId: "s1",
        storePath: "/store/sessions.json",
        sessionFile: "sessions.json",
        env,
      }),
    ).toEqual(["/store/s1.jsonl", "/home/user/.openclaw/sessions/s1.jsonl"]);
  });

  it("accepts stored paths inside the sessions dir (#138, #139)", () => {
    const options = { sessionsDir: D, env };
    expect(
      resolveSessionFilePath("sess-1", { sessionFile: "subdir/threaded-session.jsonl" }, options),
    ).toBe(`${D}/subdir/threaded-session.jsonl`);
    expect(
      resolveSessionFilePath("sess-1", { sessionFile: `${D}/sess-1-topic-42.jsonl` }, options),
    ).toBe(`${D}/sess-1-topic-42.jsonl`);
    expect(resolveSessionFilePath("sess-1", { sessionFile: "  " }, options)).toBe(
      `${D}/sess-1.jsonl`,
    );
  });

  it("resolves an absolute path in another agent's sessions dir there (#141 reversed)", () => {
    const ops = "/custom/state/agents/ops/sessions/sess-9.jsonl";
    expect(resolveSessionFilePath("sess-9", { sessionFile: ops }, { env })).toBe(ops);
    // The state dir is also taken from the shape of an explicit sessions dir.
    expect(
      resolveSessionFilePath(
        "sess-9",
        { sessionFile: "/state/agents/ops/sessions/sess-9.jsonl" },
        { sessionsDir: D, env },
      ),
    ).toBe("/state/agents/ops/sessions/sess-9.jsonl");
    for (const sessionFile of [
      "/custom/state/agents/ops/sessions",
      "/custom/state/agents/ops/other/x.jsonl",
      "/custom/state/agents/ops/sessions/../../../x.jsonl",
      "/custom/state/agents/..%2F/sessions/x.jsonl",
      "/elsewhere/agents/ops/sessions/x.jsonl",
    ]) {
      expect(() => resolveSessionFilePath("sess-9", { sessionFile }, { env })).toThrow(
        expect.objectContaining({ code: "PATH_ESCAPE" }),
      );
    }
    // Relative paths never climb into a sibling agent.
    expect(() =>
      resolveSessionFilePath("sess-9", { sessionFile: "../../ops/sessions/sess-9.jsonl" }, { env }),
    ).toThrow(expect.objectContaining({ code: "PATH_ESCAPE" }));
  });

  it("resolves a configured store outside the state dir (#140)", () => {
    const storePath = "/srv/openclaw-home/.openclaw/agents/research/sessions/sessions.json";
    expect(
      resolveSessionTranscriptCandidates({
        sessionId: "s1",
        storePath,
        sessionFile: "s1-topic-7.jsonl",
        env: { OPENCLAW_HOME: "/srv/openclaw-home", HOME: "/home/other" },
      }),
    ).toEqual([
      "/srv/openclaw-home/.openclaw/agents/research/sessions/s1-topic-7.jsonl",
      "/srv/openclaw-home/.openclaw/agents/research/sessions/s1.jsonl",
      "/srv/openclaw-home/.openclaw/sessions/s1.jsonl",
    ]);
  });

  it("lists transcript candidates in lookup order", () => {
    expect(
      resolveSessionTranscriptCandidates({
        sessionId: "s1",
        storePath: "/store/sessions.json",
        sessionFile: "../escape.jsonl",
        agentId: "ops",
        env,
      }),
    ).toEqual([
      "/store/s1.jsonl",
      "/custom/state/agents/ops/sessions/s1.jsonl",
      "/home/user/.openclaw/sessions/s1.jsonl",
    ]);
    expect(
      resolveSessionTranscriptCandidates({
        sessionId: "s1",
        sessionFile: "custom.jsonl",
        agentId: "ops",
        env,
      }),
    ).toEqual([
      "/custom/state/agents/ops/sessions/custom.jsonl",
      "/custom/state/agents/ops/sessions/s1.jsonl",
      "/home/user/.openclaw/sessions/s1.jsonl",
    ]);
    expect(() => resolveSessionTranscriptCandidates({ sessionId: "../x", env })).toThrow(
      expect.objectContaining({ code: "INVALID_ID" }),
    );
  });
});

describe("assertRealPathInside", () => {
  it("accepts plain files and refuses symlinks that lead outside", async () => {
    const root = await testdir({ "sessions/ok.jsonl": "", "outside/target.jsonl": "" });
    const sessions = join(root, "sessions");
    await assertRealPathInside(join(sessions, "ok.jsonl"), sessions);
    await assertRealPathInside(join(sessions, "new.jsonl"), sessions);

    await symlink(join(root, "outside", "target.jsonl"), join(sessions, "link.jsonl"));
    await symlink(join(root, "outside", "missing.jsonl"), join(sessions, "dangling.jsonl"));
    await symlink(join(root, "outside"), join(sessions, "subdir"));
    for (const path of [
      "link.jsonl",
      "dangling.jsonl",
      "subdir/target.jsonl",
      "subdir/new.jsonl",
    ]) {
      await expect(assertRealPathInside(join(sessions, path), sessions)).rejects.toMatchObject({
        code: "PATH_ESCAPE",
      });
    }
  });

  it("accepts symlinks that stay inside", async () => {
    const root = await testdir({ "sessions/real/a.jsonl": "" });
    const sessions = join(root, "sessions");
    await mkdir(join(sessions, "other"));
    await symlink(join(sessions, "real"), join(sessions, "alias"));
    await writeFile(join(sessions, "other", "b.jsonl"), "");
    await assertRealPathInside(join(sessions, "alias", "a.jsonl"), sessions);
  });
});
