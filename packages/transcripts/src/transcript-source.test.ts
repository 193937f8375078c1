import { spawnSync } from "node:child_process";
import { mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { readFirstUserMessage, readFirstUserMessageFromTranscript } from "./first-user-message.ts";
import {
  readLastMessagePreviewFromTranscript,
  readLastTranscriptMessage,
  readSessionPreviewItemsFromTranscript,
  readTranscriptPreview,
} from "./tail-readers.ts";
import { readTranscriptMessages } from "./transcript-messages.ts";
import type { TranscriptLocator } from "./transcript-paths.ts";
import { findTranscriptFile, type TranscriptSource } from "./transcript-source.ts";

const secret = `${JSON.stringify({
  type: "message",
  id: "a1b2c3d4",
  parentId: null,
  timestamp: "2026-02-12T09:00:01.000Z",
  message: { role: "user", content: "SECRET OUTSIDE", timestamp: 1 },
})}\n`;
const ours = secret.replace("SECRET OUTSIDE", "inside");

/** A state dir with the main agent's sessions dir and a transcript-shaped file outside it. */
async function layout() {
  const root = await testdir({ "outside/secret.jsonl": secret });
  const stateDir = join(root, "state");
  const sessions = join(stateDir, "agents", "main", "sessions");
  await mkdir(sessions, { recursive: true });
  const env = { OPENCLAW_STATE_DIR: stateDir, HOME: join(root, "home") };
  const locator: TranscriptLocator = {
    sessionId: "sess-1",
    storePath: join(sessions, "sessions.json"),
    env,
  };
  return { root, sessions, env, locator, outside: join(root, "outside", "secret.jsonl") };
}

/** What every reader answers for a source. */
async function readAll(source: TranscriptSource) {
  const stream = readTranscriptMessages(source);
  const messages = [];
  for await (const message of stream) messages.push(message);
  return {
    last: await readLastMessagePreviewFromTranscript(source),
    lastInfo: await readLastTranscriptMessage(source),
    items: await readSessionPreviewItemsFromTranscript(source),
    preview: await readTranscriptPreview(source),
    title: await readFirstUserMessageFromTranscript(source),
    titleInfo: await readFirstUserMessage(source),
    messages,
    stats: stream.stats,
  };
}

function expectRefused(answers: Awaited<ReturnType<typeof readAll>>, escapedPath: string) {
  expect(answers.last).toBeNull();
  expect(answers.items).toEqual([]);
  expect(answers.title).toBeNull();
  expect(answers.messages).toEqual([]);
  for (const info of [answers.lastInfo, answers.preview, answers.titleInfo, answers.stats]) {
    expect(info).toMatchObject({ file: null, escapedPath });
  }
}

describe("readers and symlinks", () => {
  it("refuse a `<id>.jsonl` symlink out of the sessions dir, and findTranscriptFile throws", async () => {
    const { sessions, locator, outside } = await layout();
    const link = join(sessions, "sess-1.jsonl");
    await symlink(outside, link);

    expectRefused(await readAll(locator), link);
    await expect(findTranscriptFile(locator)).rejects.toMatchObject({
      code: "PATH_ESCAPE",
      message: `Session file path must be within sessions directory: ${link}`,
      details: { path: link, sessionsDir: sessions, realPath: await realpath(outside) },
    });
    // The same file named by its path is refused too: it leads out of its own dir.
    expectRefused(await readAll(link), link);
  });

  it("refuse a stored sessionFile below a symlinked dir that leads outside", async () => {
    const { root, sessions, locator } = await layout();
    await symlink(join(root, "outside"), join(sessions, "sub"));
    const stored = { ...locator, sessionFile: "sub/secret.jsonl" };
    expectRefused(await readAll(stored), join(sessions, "sub", "secret.jsonl"));
    await expect(findTranscriptFile(stored)).rejects.toMatchObject({ code: "PATH_ESCAPE" });
  });

  it("refuse a symlink out of another agent's sessions dir a stored path points into", async () => {
    const { root, locator } = await layout();
    const ops = join(root, "state", "agents", "ops", "sessions");
    await mkdir(ops, { recursive: true });
    await writeFile(join(ops, "sess-1.jsonl"), ours);
    const stored = { ...locator, sessionFile: join(ops, "sess-1.jsonl") };
    expect(await readLastMessagePreviewFromTranscript(stored)).toBe("inside");

    await symlink(join(root, "outside", "secret.jsonl"), join(ops, "linked.jsonl"));
    const linked = { ...locator, sessionFile: join(ops, "linked.jsonl") };
    expectRefused(await readAll(linked), join(ops, "linked.jsonl"));
  });

  it("read symlinks that stay inside the sessions dir", async () => {
    const { sessions, locator } = await layout();
    await mkdir(join(sessions, "real"));
    await writeFile(join(sessions, "real", "sess-1.jsonl"), ours);
    await symlink(join(sessions, "real", "sess-1.jsonl"), join(sessions, "sess-1.jsonl"));
    const answers = await readAll(locator);
    expect(answers.last).toBe("inside");
    expect(answers.title).toBe("inside");
    expect(answers.lastInfo).toMatchObject({
      file: join(sessions, "sess-1.jsonl"),
      escapedPath: null,
    });
    expect(await findTranscriptFile(locator)).toBe(join(sessions, "sess-1.jsonl"));
  });

  it("pass over a FIFO at the transcript's name without blocking", async ({ skip }) => {
    const { sessions, locator } = await layout();
    const made = spawnSync("mkfifo", [join(sessions, "sess-1.jsonl")]);
    if (made.error !== undefined || made.status !== 0) skip("mkfifo is not available");
    expect(await readLastMessagePreviewFromTranscript(locator)).toBeNull();
    expect(await findTranscriptFile(locator)).toBeNull();
  });
});
