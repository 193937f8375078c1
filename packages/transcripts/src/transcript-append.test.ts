import {
  appendFile,
  copyFile,
  type FileHandle,
  open,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { type AgentMessage, SessionsError } from "@clawkeep/schema";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, expectTypeOf, it, vi } from "vitest";
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

/** A message line of `length` bytes (newline excluded) whose id is `id`. */
function longLine(id: string, length: number, parentId: string | null = null): Buffer {
  const head = Buffer.from(
    `{"type":"message","id":"${id}","parentId":${JSON.stringify(parentId)},"timestamp":"2026-02-12T09:00:00.000Z","message":{"role":"toolResult","toolName":"x","content":[{"type":"text","text":"`,
  );
  const tail = Buffer.from(`"}]}}`);
  const line = Buffer.alloc(length, "z");
  head.copy(line, 0);
  tail.copy(line, length - tail.length);
  return line;
}

const HEADER = `${JSON.stringify({ type: "session", version: 3, id: "sess-1", timestamp: "2026-02-12T09:00:00.000Z", cwd: "/" })}\n`;
const FIRST = `${JSON.stringify({ type: "message", id: "0000aaaa", parentId: null, timestamp: "2026-02-12T09:00:00.000Z", message: { role: "user", content: "hi", timestamp: 1 } })}\n`;

describe("appendTranscriptEntry after a line longer than the scan cap", () => {
  async function transcriptWith(...parts: (string | Buffer)[]): Promise<string> {
    const file = join(await testdir(), "sess-1.jsonl");
    await writeFile(
      file,
      Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part))),
    );
    return file;
  }

  it("links to a 70 MB last line (over the 64 MiB cap) by its id", async () => {
    const file = await transcriptWith(HEADER, FIRST, longLine("1234abcd", 70_000_000), "\n");
    const next = await appendTranscriptMessage(file, { role: "user", content: "next" });
    expect(next.entry.parentId).toBe("1234abcd");
  }, 30_000);

  it("links to a 60 MB last line (under the cap) by its id", async () => {
    const file = await transcriptWith(HEADER, FIRST, longLine("5678abcd", 60_000_000), "\n");
    const next = await appendTranscriptMessage(file, { role: "user", content: "next" });
    expect(next.entry.parentId).toBe("5678abcd");
  }, 30_000);

  it("takes the top-level id, not a nested one, also without a final newline", async () => {
    const nested = Buffer.from(
      `{"type":"custom","data":{"id":"ffffffff","list":[{"id":"eeeeeeee"}]},"note":"a\\",\\"id\\":\\"dddddddd","id":"abcdef01","pad":"${"y".repeat(5000)}"}`,
    );
    const file = await transcriptWith(HEADER, FIRST, nested);
    const next = await appendTranscriptEntry(file, { type: "custom" }, { maxScanBytes: 1024 });
    expect(next.entry.parentId).toBe("abcdef01");
  });

  it("accepts a UUID id and follows the cap past several long lines", async () => {
    const uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const file = await transcriptWith(
      HEADER,
      FIRST,
      `{"type":"message","id":"${uuid}","parentId":"0000aaaa","pad":"${"y".repeat(3000)}"}\n`,
      longLine("not-an-id", 5000),
      "\n",
    );
    const next = await appendTranscriptEntry(file, { type: "custom" }, { maxScanBytes: 1024 });
    expect(next.entry.parentId).toBe(uuid);
  });

  it("falls back to the entry before a long line without a usable id or a torn one", async () => {
    const noId = Buffer.from(`{"type":"custom","pad":"${"y".repeat(20_000)}","id":"abcdef01"}\n`);
    const torn = longLine("abcdef02", 5000).subarray(0, 4000);
    const file = await transcriptWith(HEADER, FIRST, noId, torn);
    const next = await appendTranscriptEntry(file, { type: "custom" }, { maxScanBytes: 1024 });
    expect(next.entry.parentId).toBe("0000aaaa");
  });

  it("starts a new root only when no entry is found at all", async () => {
    const file = await transcriptWith(HEADER, `{"type":"custom","pad":"${"y".repeat(5000)}"}\n`);
    const next = await appendTranscriptEntry(file, { type: "custom" }, { maxScanBytes: 1024 });
    expect(next.entry.parentId).toBeNull();
  });
});

describe("appendTranscriptEntry I/O failures", () => {
  it("reports a parent that is a file as STORE_IO with the errno", async () => {
    const dir = await testdir();
    await writeFile(join(dir, "not-a-dir"), "");
    const file = join(dir, "not-a-dir", "sess-1.jsonl");
    const error = await appendTranscriptMessage(
      file,
      { role: "user", content: "x" },
      {
        sessionsDir: dir,
      },
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: "STORE_IO",
      details: { path: file, errno: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) },
    });
    expect(SessionsError.isInstance(error)).toBe(true);
  });

  it("reports a failed write (a full disk) as STORE_IO naming the path and ENOSPC", async () => {
    const dir = await testdir();
    const file = join(dir, "sess-1.jsonl");
    await appendTranscriptMessage(file, { role: "user", content: "x" });
    const probe = await open(file, "r");
    const prototype = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), {
      code: "ENOSPC",
      errno: -28,
      syscall: "write",
    });
    const write = vi.spyOn(prototype, "write").mockRejectedValueOnce(full);
    try {
      await expect(
        appendTranscriptMessage(file, { role: "user", content: "y" }),
      ).rejects.toMatchObject({
        code: "STORE_IO",
        message: expect.stringContaining(file),
        details: { path: file, errno: "ENOSPC" },
      });
    } finally {
      write.mockRestore();
    }
    // The lock was released: the next append works.
    await appendTranscriptMessage(file, { role: "user", content: "z" });
    expect(await lines(file)).toHaveLength(3);
  });
});
