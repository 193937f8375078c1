import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { readFirstUserMessage, readFirstUserMessageFromTranscript } from "./first-user-message.ts";

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
const user = (content: unknown, extra: Record<string, unknown> = {}) =>
  entry({ role: "user", content, ...extra });
const assistant = (text: string) => entry({ role: "assistant", content: [{ type: "text", text }] });
const jsonl = (...lines: unknown[]) =>
  `${lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}\n`;

async function transcript(...lines: unknown[]): Promise<string> {
  const dir = await testdir();
  const file = join(dir, "sess-1.jsonl");
  await writeFile(file, jsonl(...lines));
  return file;
}

describe("readFirstUserMessageFromTranscript", () => {
  it("returns null for a missing file (#63)", async () => {
    const dir = await testdir();
    expect(await readFirstUserMessageFromTranscript(join(dir, "nope.jsonl"))).toBeNull();
  });

  it("returns the first user text after the header (#64)", async () => {
    const file = await transcript(header, user("Hello world"), assistant("Hi"));
    expect(await readFirstUserMessageFromTranscript(file)).toBe("Hello world");
  });

  it("reads array content and input_text parts (#65, #66)", async () => {
    const array = await transcript(header, user([{ type: "text", text: "Array message content" }]));
    expect(await readFirstUserMessageFromTranscript(array)).toBe("Array message content");
    const input = await transcript(header, user([{ type: "input_text", text: "Input text" }]));
    expect(await readFirstUserMessageFromTranscript(input)).toBe("Input text");
  });

  it("skips system and assistant lines, and returns null without users (#67, #68)", async () => {
    const system = entry({ role: "system", content: "You are helpful" });
    const file = await transcript(header, system, assistant("Hi"), user("First user"));
    expect(await readFirstUserMessageFromTranscript(file)).toBe("First user");
    const none = await transcript(header, system, assistant("Hi"));
    expect(await readFirstUserMessageFromTranscript(none)).toBeNull();
  });

  it("skips a malformed line (#69)", async () => {
    const file = await transcript("{not json", user("Valid after bad line"));
    expect(await readFirstUserMessageFromTranscript(file)).toBe("Valid after bad line");
  });

  it("uses an explicit sessionFile inside the store dir (#70)", async () => {
    const dir = await testdir({
      "sess-1.jsonl": jsonl(header, user("from default file")),
      "custom.jsonl": jsonl(header, user("from custom file")),
    });
    const locator = {
      sessionId: "sess-1",
      storePath: join(dir, "sessions.json"),
      sessionFile: "custom.jsonl",
    };
    expect(await readFirstUserMessageFromTranscript(locator)).toBe("from custom file");
    expect(await readFirstUserMessageFromTranscript({ ...locator, sessionFile: undefined })).toBe(
      "from default file",
    );
  });

  it("trims text and skips empty user content (#71, #72)", async () => {
    const padded = await transcript(header, user("  Padded message  "));
    expect(await readFirstUserMessageFromTranscript(padded)).toBe("Padded message");
    const empty = await transcript(header, user(""), user("   "), user("Second message"));
    expect(await readFirstUserMessageFromTranscript(empty)).toBe("Second message");
  });

  it("looks only at the first 10 lines and 8 KiB (#73)", async () => {
    const fillers = Array.from({ length: 10 }, (_, index) => assistant(`reply ${index}`));
    const late = await transcript(...fillers, user("too late"));
    expect(await readFirstUserMessageFromTranscript(late)).toBeNull();
    expect(await readFirstUserMessageFromTranscript(late, { maxLines: 11 })).toBe("too late");

    const big = await transcript(header, assistant("x".repeat(9000)), user("beyond 8 KiB"));
    expect(await readFirstUserMessageFromTranscript(big)).toBeNull();
  });

  it("skips inter-session messages unless asked (#73)", async () => {
    const file = await transcript(
      header,
      user("from another session", { provenance: { kind: "inter_session" } }),
      user("from the person"),
    );
    expect(await readFirstUserMessageFromTranscript(file)).toBe("from the person");
    expect(await readFirstUserMessageFromTranscript(file, { includeInterSession: true })).toBe(
      "from another session",
    );
  });

  it("reads a headerless transcript compacted by openclaw", async () => {
    const file = join(
      import.meta.dirname,
      "__fixtures__",
      "faea9933-e391-463f-b4b4-e10143adf4b8.jsonl",
    );
    expect(await readFirstUserMessageFromTranscript(file)).toBe("user message 400");
  });

  it("round-trips CJK and emoji", async () => {
    const file = await transcript(header, user("你好，世界 👋🏽 café"));
    expect(await readFirstUserMessageFromTranscript(file)).toBe("你好，世界 👋🏽 café");
  });
});

describe("readFirstUserMessage", () => {
  it("counts the malformed lines it skips, and reports the read", async () => {
    const file = await transcript(
      header,
      "{not json",
      "[1, 2]",
      "   ",
      assistant("reply"),
      user("First user"),
      "{also bad",
    );
    expect(await readFirstUserMessage(file)).toEqual({
      text: "First user",
      file,
      escapedPath: null,
      malformedLines: 2,
      truncated: false,
      bytesScanned: expect.any(Number),
    });
  });

  it("does not count a line cut by the window, and says when the window ended first", async () => {
    const big = await transcript(header, assistant("x".repeat(9000)), user("beyond 8 KiB"));
    expect(await readFirstUserMessage(big)).toMatchObject({
      text: null,
      malformedLines: 0,
      truncated: true,
      bytesScanned: 8192,
    });
    const torn = await transcript(header, assistant("a"));
    await writeFile(torn, `${jsonl(header, assistant("a"))}{"type":"mess`);
    expect(await readFirstUserMessage(torn)).toMatchObject({
      text: null,
      malformedLines: 1,
      truncated: false,
    });
  });

  it("reports a missing transcript", async () => {
    const dir = await testdir();
    expect(await readFirstUserMessage(join(dir, "missing.jsonl"))).toEqual({
      text: null,
      file: null,
      escapedPath: null,
      malformedLines: 0,
      truncated: false,
      bytesScanned: 0,
    });
  });
});
