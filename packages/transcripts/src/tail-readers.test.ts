import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { truncatePreviewText } from "./message-text.ts";
import {
  readLastMessagePreviewFromTranscript,
  readLastTranscriptMessage,
  readSessionPreviewItemsFromTranscript,
  readTranscriptPreview,
} from "./tail-readers.ts";

const header = {
  type: "session",
  version: 3,
  id: "sess-1",
  timestamp: "2026-02-12T09:00:00.000Z",
  cwd: "/w",
};
let counter = 0;
function entry(message: Record<string, unknown>) {
  counter += 1;
  return {
    type: "message",
    id: counter.toString(16).padStart(8, "0"),
    parentId: null,
    timestamp: "2026-02-12T09:00:01.000Z",
    message: { timestamp: 1, ...message },
  };
}
const user = (content: unknown) => entry({ role: "user", content });
const assistant = (content: unknown) =>
  entry({
    role: "assistant",
    content: typeof content === "string" ? [{ type: "text", text: content }] : content,
  });
const system = (text: string) => entry({ role: "system", content: text });
const jsonl = (...lines: unknown[]) =>
  `${lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}\n`;

async function transcript(...lines: unknown[]): Promise<string> {
  const dir = await testdir();
  const file = join(dir, "sess-1.jsonl");
  await writeFile(file, jsonl(...lines));
  return file;
}
const fixture = (name: string) => join(import.meta.dirname, "__fixtures__", name);

describe("readLastMessagePreviewFromTranscript", () => {
  it("returns null for a missing or empty file (#74)", async () => {
    const dir = await testdir({ "empty.jsonl": "" });
    expect(await readLastMessagePreviewFromTranscript(join(dir, "missing.jsonl"))).toBeNull();
    expect(await readLastMessagePreviewFromTranscript(join(dir, "empty.jsonl"))).toBeNull();
  });

  it("returns the last user or assistant text (#75)", async () => {
    expect(
      await readLastMessagePreviewFromTranscript(
        await transcript(header, assistant("a"), user("Last user")),
      ),
    ).toBe("Last user");
    expect(
      await readLastMessagePreviewFromTranscript(
        await transcript(header, user("u"), assistant("Last reply")),
      ),
    ).toBe("Last reply");
  });

  it("skips a trailing system message, and finds nothing with only a system one (#76, #77)", async () => {
    const file = await transcript(header, user("Before system"), system("note"));
    expect(await readLastMessagePreviewFromTranscript(file)).toBe("Before system");
    expect(
      await readLastMessagePreviewFromTranscript(await transcript(header, system("only"))),
    ).toBeNull();
  });

  it("skips a malformed last line and counts it (#78)", async () => {
    const file = await transcript(header, user("Valid"), '{"type":"message","id":"x');
    const result = await readLastTranscriptMessage(file);
    expect(result.message).toEqual({ role: "user", text: "Valid" });
    expect(result.malformedLines).toBe(1);
  });

  it("reads array content and output_text parts (#79)", async () => {
    const file = await transcript(
      header,
      assistant([{ type: "output_text", text: "Output text" }]),
    );
    expect(await readLastMessagePreviewFromTranscript(file)).toBe("Output text");
  });

  it("honours sessionFile, trims, and skips a trailing empty message (#80)", async () => {
    const dir = await testdir({
      "custom.jsonl": jsonl(header, user("  Custom file message  "), assistant([])),
    });
    const text = await readLastMessagePreviewFromTranscript({
      sessionId: "sess-1",
      storePath: join(dir, "sessions.json"),
      sessionFile: "custom.jsonl",
    });
    expect(text).toBe("Custom file message");
  });

  it("reads only the tail of a large file (#81)", async () => {
    const fillers = Array.from({ length: 50 }, () => user("x".repeat(500)));
    const file = await transcript(header, ...fillers, assistant("Last in large file"));
    const result = await readLastTranscriptMessage(file, { chunkBytes: 4096 });
    expect(result.message?.text).toBe("Last in large file");
    expect(result.bytesScanned).toBe(4096);
  });

  it("round-trips CJK and emoji (#82)", async () => {
    const text = "日本語のテキスト 🎉🎊 中文 한국어";
    expect(await readLastMessagePreviewFromTranscript(await transcript(header, user(text)))).toBe(
      text,
    );
  });

  it("decodes characters split across read boundaries", async () => {
    const text = "漢字🙂".repeat(600);
    const file = await transcript(header, user(text), assistant("ok"), user(text));
    for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
      const result = await readLastTranscriptMessage(file, { chunkBytes });
      expect(result.message?.text).toBe(text);
    }
    const preview = await readTranscriptPreview(file, {
      chunkBytes: 3,
      maxItems: 3,
      maxChars: 2000,
    });
    const shown = truncatePreviewText(text, 2000);
    expect(preview.items.map((item) => item.text)).toEqual([shown, "ok", shown]);
    // The cut never leaves half of a surrogate pair behind.
    expect(shown).toMatch(
      /^[^\uD800-\uDFFF]*(?:[\uD800-\uDBFF][\uDC00-\uDFFF][^\uD800-\uDFFF]*)*\.\.\.$/,
    );
  });

  it("finds messages before a 10 MB line at the end", async () => {
    const huge = entry({
      role: "toolResult",
      toolCallId: "call_1",
      toolName: "read_file",
      content: [{ type: "text", text: "y".repeat(10 * 1024 * 1024) }],
      isError: false,
    });
    const file = await transcript(header, user("question"), assistant("answer"), huge);
    expect(await readLastMessagePreviewFromTranscript(file)).toBe("answer");
    const preview = await readTranscriptPreview(file, { maxItems: 3, maxChars: 30 });
    expect(preview.items).toEqual([
      { role: "user", text: "question" },
      { role: "assistant", text: "answer" },
      { role: "tool", text: `${"y".repeat(27)}...` },
    ]);
    expect(preview.truncated).toBe(false);
  });

  it("says when the scan cap stopped the read", async () => {
    const file = await transcript(header, user("far back"), system("s".repeat(100_000)));
    const result = await readLastTranscriptMessage(file, { maxScanBytes: 1000 });
    expect(result).toMatchObject({ message: null, truncated: true });
    expect((await readLastTranscriptMessage(file)).message?.text).toBe("far back");
  });

  it("reads the headerless fixture transcripts", async () => {
    expect(
      await readLastMessagePreviewFromTranscript(
        fixture("409edb8b-025c-4128-9044-385e0eea1aa9.jsonl"),
      ),
    ).toBe("assistant reply 499");
  });
});

describe("readSessionPreviewItemsFromTranscript", () => {
  it("maps roles and names tool calls (#83)", async () => {
    const file = await transcript(
      header,
      user("Hello"),
      assistant("Hi"),
      assistant([{ type: "toolcall", name: "weather" }]),
      assistant("Forecast ready"),
    );
    const items = await readSessionPreviewItemsFromTranscript(file, { maxItems: 3, maxChars: 120 });
    expect(items.map((item) => item.role)).toEqual(["assistant", "tool", "assistant"]);
    expect(items[1]?.text).toContain("call weather");
  });

  it("truncates long text with ... (#84)", async () => {
    const file = await transcript(header, user("a".repeat(60)));
    const items = await readSessionPreviewItemsFromTranscript(file, { maxItems: 1, maxChars: 24 });
    expect(items).toHaveLength(1);
    expect(items[0]?.text).toHaveLength(24);
    expect(items[0]?.text.endsWith("...")).toBe(true);
  });

  it("clamps maxChars to 20 and maxItems to 50 (#85)", async () => {
    const messages = Array.from({ length: 60 }, (_, index) =>
      user(`message ${index} ${"b".repeat(40)}`),
    );
    const file = await transcript(header, ...messages);
    const items = await readSessionPreviewItemsFromTranscript(file, { maxItems: 100, maxChars: 5 });
    expect(items).toHaveLength(50);
    expect(items[0]?.text).toBe("message 10 bbbbbb...");
    expect(items.every((item) => item.text.length === 20)).toBe(true);
  });

  it("shows call names, images and strips envelopes (#86)", async () => {
    const file = await transcript(
      header,
      assistant([
        { type: "tool_use", name: "a" },
        { type: "toolCall", name: "b" },
        { type: "TOOL_CALL", name: "c" },
      ]),
      user([{ type: "image", data: "AAAA", mimeType: "image/png" }]),
      user("[WebChat Alice 2026-02-12 10:00] hi"),
      user("[x] not an envelope"),
    );
    const items = await readSessionPreviewItemsFromTranscript(file);
    expect(items).toEqual([
      { role: "tool", text: "call a, b +1" },
      { role: "user", text: "[image]" },
      { role: "user", text: "hi" },
      { role: "user", text: "[x] not an envelope" },
    ]);
  });

  it("returns nothing for a header-only or missing file", async () => {
    expect(await readTranscriptPreview(await transcript(header))).toMatchObject({
      items: [],
      truncated: false,
    });
    const dir = await testdir();
    expect(await readTranscriptPreview(join(dir, "none.jsonl"))).toMatchObject({
      items: [],
      file: null,
    });
  });

  it("skips messages without text and still fills maxItems", async () => {
    const file = await transcript(header, user("one"), user("two"), assistant([]), assistant([]));
    const items = await readSessionPreviewItemsFromTranscript(file, { maxItems: 2 });
    expect(items.map((item) => item.text)).toEqual(["one", "two"]);
  });

  it("keeps a torn last line apart from earlier lines", async () => {
    const file = await transcript(header, user("before tear"));
    await appendFile(file, '{"type":"message","id":"torn","message":{"role":"user","content":"par');
    const preview = await readTranscriptPreview(file);
    expect(preview.items).toEqual([{ role: "user", text: "before tear" }]);
    expect(preview.malformedLines).toBe(1);
  });

  it("previews the fixture transcripts", async () => {
    const items = await readSessionPreviewItemsFromTranscript(
      fixture("2f83cc64-634e-4595-ac77-97b4c0219c63.jsonl"),
      { maxItems: 2 },
    );
    expect(items).toHaveLength(2);
    expect(items[1]?.role).toBe("assistant");
  });
});
