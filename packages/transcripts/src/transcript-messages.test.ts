import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { readTranscriptMessages, type TranscriptMessage } from "./transcript-messages.ts";

const header = {
  type: "session",
  version: 3,
  id: "s",
  timestamp: "2026-02-12T09:00:00.000Z",
  cwd: "/w",
};
const message = (id: string, text: string) => ({
  type: "message",
  id,
  parentId: null,
  timestamp: "2026-02-12T09:00:01.000Z",
  message: { role: "user", content: text, timestamp: 1 },
});
const compaction = {
  type: "compaction",
  id: "c0000001",
  parentId: "a",
  timestamp: "2026-02-12T11:00:00.000Z",
  summary: "summary",
  firstKeptEntryId: "a",
  tokensBefore: 100,
};

async function collect(stream: AsyncIterable<TranscriptMessage>) {
  const all: TranscriptMessage[] = [];
  for await (const item of stream) all.push(item);
  return all;
}

describe("readTranscriptMessages", () => {
  it("streams messages and compaction markers, skipping bad lines", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const body = [
      header,
      message("a", "one"),
      "garbage",
      compaction,
      message("b", "two"),
      { type: "model_change", id: "m" },
    ]
      .map((line) => (typeof line === "string" ? line : JSON.stringify(line)))
      .join("\n");
    await writeFile(file, `${body}\n\n`);
    const stream = readTranscriptMessages(file, { chunkBytes: 7 });
    const all = await collect(stream);
    expect(all).toEqual([
      { role: "user", content: "one", timestamp: 1 },
      {
        role: "system",
        content: [{ type: "text", text: "Compaction" }],
        timestamp: Date.parse("2026-02-12T11:00:00.000Z"),
        __openclaw: { kind: "compaction", id: "c0000001" },
      },
      { role: "user", content: "two", timestamp: 1 },
    ]);
    expect(stream.stats).toEqual({
      file,
      escapedPath: null,
      malformedLines: 1,
      truncated: false,
    });
  });

  it("reads only the newest messages with a limit, oldest first", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    const lines = [
      header,
      ...Array.from({ length: 100 }, (_, index) => message(`m${index}`, `text ${index}`)),
    ];
    await writeFile(file, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
    const all = await collect(readTranscriptMessages(file, { limit: 3, chunkBytes: 64 }));
    expect(all.map((item) => item.content)).toEqual(["text 97", "text 98", "text 99"]);
    expect(await collect(readTranscriptMessages(file, { limit: 0 }))).toEqual([]);
    expect(await collect(readTranscriptMessages(file, { limit: 500 }))).toHaveLength(100);
  });

  it("yields nothing for a missing transcript", async () => {
    const dir = await testdir();
    const stream = readTranscriptMessages(join(dir, "none.jsonl"));
    expect(await collect(stream)).toEqual([]);
    expect(stream.stats.file).toBeNull();
  });

  it("reads the headerless fixture", async () => {
    const file = join(
      import.meta.dirname,
      "__fixtures__",
      "faea9933-e391-463f-b4b4-e10143adf4b8.jsonl",
    );
    expect(await collect(readTranscriptMessages(file))).toHaveLength(100);
  });
});
