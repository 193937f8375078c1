import { appendFile, copyFile, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AgentMessage } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, expectTypeOf, it } from "vitest";
import { readLastMessagePreviewFromTranscript, readTranscriptPreview } from "./tail-readers.ts";
import {
  appendTranscriptEntry,
  appendTranscriptMessage,
  type TranscriptEntryInput,
  type TranscriptMessageInput,
} from "./transcript-append.ts";
import { withTranscriptLock } from "./transcript-lock.ts";
import {
  readTranscriptMessages,
  type TranscriptCompactionMarker,
  type TranscriptMessage,
} from "./transcript-messages.ts";

const now = () => Date.parse("2026-02-12T09:00:00.000Z");

async function lines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("appendTranscriptEntry", () => {
  it("creates the file with a v3 header and chains entries", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    const first = await appendTranscriptMessage(
      file,
      { role: "user", content: "hi" },
      { now, cwd: "/work" },
    );
    const second = await appendTranscriptMessage(
      file,
      { role: "assistant", content: [{ type: "text", text: "hello" }] },
      { now },
    );
    const third = await appendTranscriptEntry(file, {
      type: "model_change",
      provider: "openai",
      modelId: "gpt-5.2",
    });
    expect(first.createdFile).toBe(true);
    expect(second.createdFile).toBe(false);

    const [header, ...entries] = await lines(file);
    expect(header).toEqual({
      type: "session",
      version: 3,
      id: "sess-1",
      timestamp: "2026-02-12T09:00:00.000Z",
      cwd: "/work",
    });
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({
      type: "message",
      parentId: null,
      timestamp: "2026-02-12T09:00:00.000Z",
    });
    expect(entries[0]?.message).toEqual({ role: "user", content: "hi", timestamp: now() });
    expect(entries[1]?.parentId).toBe(entries[0]?.id);
    expect(entries[2]).toMatchObject({
      parentId: entries[1]?.id,
      provider: "openai",
      modelId: "gpt-5.2",
    });
    expect(Object.keys(entries[2] ?? {}).slice(0, 4)).toEqual([
      "type",
      "id",
      "parentId",
      "timestamp",
    ]);
    for (const entry of entries) expect(entry.id).toMatch(/^[0-9a-f]{8}$/);
    expect(third.entry.id).toBe(entries[2]?.id);
    await expect(readFile(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("names the header after the session id, not the topic", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1-topic-42.jsonl");
    await appendTranscriptMessage(file, { role: "user", content: "x" });
    expect((await lines(file))[0]).toMatchObject({ type: "session", id: "sess-1" });
  });

  it("starts a fresh line after a torn last line, so both survive", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    const first = await appendTranscriptMessage(file, { role: "user", content: "before" });
    const torn =
      '{"type":"message","id":"deadbeef","parentId":null,"message":{"role":"user","content":"tor';
    await appendFile(file, torn);
    await appendTranscriptMessage(file, {
      role: "assistant",
      content: [{ type: "text", text: "after" }],
    });

    const raw = (await readFile(file, "utf8")).split("\n");
    expect(raw[2]).toBe(torn);
    const after = JSON.parse(raw[3] as string);
    // The torn line is not an entry, so the chain skips it.
    expect(after.parentId).toBe(first.entry.id);
    expect(await readLastMessagePreviewFromTranscript(file)).toBe("after");
    const preview = await readTranscriptPreview(file);
    expect(preview.items.map((item) => item.text)).toEqual(["before", "after"]);
    expect(preview.malformedLines).toBe(1);
  });

  it("appends to a headerless transcript without adding a header", async () => {
    const dir = await testdir();
    const file = join(dir, "409edb8b-025c-4128-9044-385e0eea1aa9.jsonl");
    await copyFile(
      join(import.meta.dirname, "__fixtures__", "409edb8b-025c-4128-9044-385e0eea1aa9.jsonl"),
      file,
    );
    await appendTranscriptMessage(file, { role: "user", content: "new question" });
    const all = await lines(file);
    expect(all).toHaveLength(51);
    expect(all.filter((line) => line.type === "session")).toHaveLength(0);
    expect(all[50]?.parentId).toBe(all[49]?.id);
  });

  it("serialises concurrent appends in one process", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        appendTranscriptMessage(
          file,
          { role: "user", content: `m${index}` },
          { lock: { pollIntervalMs: 2 } },
        ),
      ),
    );
    const [, ...entries] = await lines(file);
    expect(entries).toHaveLength(20);
    for (let index = 1; index < entries.length; index += 1) {
      expect(entries[index]?.parentId).toBe(entries[index - 1]?.id);
    }
  });

  it("finds the leaf behind a long last line", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    const big = await appendTranscriptMessage(file, {
      role: "toolResult",
      toolName: "x",
      content: [{ type: "text", text: "z".repeat(300_000) }],
    });
    const next = await appendTranscriptMessage(file, { role: "user", content: "next" });
    expect(next.entry.parentId).toBe(big.entry.id);
  });

  it("refuses a transcript that is a symlink out of its dir", async () => {
    const root = await testdir({ "outside/victim.jsonl": "", "sessions/.keep": "" });
    const link = join(root, "sessions", "sess-1.jsonl");
    await symlink(join(root, "outside", "victim.jsonl"), link);
    await expect(
      appendTranscriptMessage(link, { role: "user", content: "x" }),
    ).rejects.toMatchObject({
      code: "PATH_ESCAPE",
    });
    expect(await readFile(join(root, "outside", "victim.jsonl"), "utf8")).toBe("");
  });

  it("refuses a parent dir that leads outside sessionsDir, before creating anything", async () => {
    const root = await testdir({ "outside/.keep": "", "sessions/.keep": "" });
    await symlink(join(root, "outside"), join(root, "sessions", "sub"));
    await expect(
      appendTranscriptMessage(
        join(root, "sessions", "sub", "deeper", "s.jsonl"),
        { role: "user", content: "x" },
        {
          sessionsDir: join(root, "sessions"),
        },
      ),
    ).rejects.toMatchObject({ code: "PATH_ESCAPE" });
    expect(await readdir(join(root, "outside"))).toEqual([".keep"]);
    await expect(
      appendTranscriptMessage(
        join(root, "sessions", "sub", "s.jsonl"),
        { role: "user", content: "x" },
        {
          sessionsDir: join(root, "sessions"),
        },
      ),
    ).rejects.toMatchObject({ code: "PATH_ESCAPE" });
  });

  for (const [name, existing] of [
    ["an existing transcript", "" as string | null],
    ["a new transcript (a dangling link)", null],
  ] as const) {
    it(`checks again under the lock: a symlink planted while the lock was awaited is refused (${name})`, async () => {
      const root = await testdir({ "outside/victim.jsonl": "", "sessions/.keep": "" });
      const file = join(root, "sessions", "sess-1.jsonl");
      if (existing !== null) await writeFile(file, existing);
      const target = join(root, "outside", existing === null ? "created.jsonl" : "victim.jsonl");
      let waiting = () => {};
      const lockAwaited = new Promise<void>((resolve) => {
        waiting = resolve;
      });
      let append: Promise<unknown> = Promise.resolve();
      await withTranscriptLock(file, async () => {
        append = appendTranscriptMessage(
          file,
          { role: "user", content: "x" },
          // The lock reads its clock first thing, after the checks that run before it.
          {
            lock: {
              now: () => {
                waiting();
                return Date.now();
              },
              pollIntervalMs: 5,
            },
          },
        ).catch((error: unknown) => error);
        await lockAwaited;
        await rm(file, { force: true });
        await symlink(target, file);
      });
      expect(await append).toMatchObject({ code: "PATH_ESCAPE" });
      expect((await readdir(join(root, "outside"))).sort()).toEqual(["victim.jsonl"]);
      expect(await readFile(join(root, "outside", "victim.jsonl"), "utf8")).toBe("");
    });
  }

  it("types entries and messages with the schema's shapes", () => {
    expectTypeOf<{
      type: "model_change";
      provider: string;
      modelId: string;
    }>().toExtend<TranscriptEntryInput>();
    expectTypeOf<{ type: "future_thing"; payload: number[] }>().toExtend<TranscriptEntryInput>();
    expectTypeOf<{ provider: string }>().not.toExtend<TranscriptEntryInput>();
    expectTypeOf<{ role: "user"; content: string }>().toExtend<TranscriptMessageInput>();
    expectTypeOf<{ content: string }>().not.toExtend<TranscriptMessageInput>();
    expectTypeOf<TranscriptMessage>().toEqualTypeOf<AgentMessage | TranscriptCompactionMarker>();
  });

  it("creates missing subdirs inside sessionsDir", async () => {
    const root = await testdir();
    const sessions = join(root, "agents", "main", "sessions");
    const file = join(sessions, "subdir", "threaded.jsonl");
    await appendTranscriptMessage(file, { role: "user", content: "x" }, { sessionsDir: sessions });
    expect((await lines(file))[0]).toMatchObject({ type: "session", id: "threaded" });
  });

  it("rejects a header or typeless entry", async () => {
    const dir = await testdir();
    await expect(
      appendTranscriptEntry(join(dir, "a.jsonl"), { type: "session" }),
    ).rejects.toMatchObject({
      code: "INVALID_PARAMS",
    });
  });

  it("writes entries a message reader reads back", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    await writeFile(file, "");
    await appendTranscriptMessage(file, { role: "user", content: "één 🙂" });
    const messages = [];
    for await (const message of readTranscriptMessages(file)) messages.push(message);
    expect(messages).toMatchObject([{ role: "user", content: "één 🙂" }]);
  });
});
