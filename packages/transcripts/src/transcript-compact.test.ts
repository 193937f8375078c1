import { copyFile, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import { parseArchiveName } from "./archive-names.ts";
import { readTranscriptPreview } from "./tail-readers.ts";
import { appendTranscriptMessage } from "./transcript-append.ts";
import { compactTranscript } from "./transcript-compact.ts";
import { withTranscriptLock } from "./transcript-lock.ts";

const header = {
  type: "session",
  version: 3,
  id: "s",
  timestamp: "2026-02-12T09:00:00.000Z",
  cwd: "/w",
};
const ts = "2026-02-12T09:00:01.000Z";
const msg = (id: string, parentId: string | null, role: string, text: string) => ({
  type: "message",
  id,
  parentId,
  timestamp: ts,
  message: { role, content: [{ type: "text", text }], timestamp: 1 },
});
const jsonl = (lines: unknown[]) =>
  `${lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}\n`;
const now = () => Date.parse("2026-02-12T10:20:30.456Z");

async function setup(content: string, name = "s.jsonl") {
  const dir = await testdir();
  const file = join(dir, name);
  await writeFile(file, content);
  return { dir, file };
}

describe("compactTranscript", () => {
  it("keeps the header and the last entries of a branched transcript with a compaction entry", async () => {
    const lines = [
      header,
      msg("a0000001", null, "user", "one"),
      msg("a0000002", "a0000001", "assistant", "two"),
      msg("a0000003", "a0000002", "user", "three"),
      // A branch: a second child of a0000002.
      msg("b0000001", "a0000002", "user", "three, rewritten"),
      {
        type: "compaction",
        id: "c0000001",
        parentId: "b0000001",
        timestamp: ts,
        summary: "earlier talk",
        firstKeptEntryId: "a0000003",
        tokensBefore: 1000,
      },
      {
        type: "label",
        id: "l0000001",
        parentId: "c0000001",
        timestamp: ts,
        targetId: "a0000001",
        label: "start",
      },
      msg("a0000004", "l0000001", "assistant", "four 🙂"),
      { type: "future_entry", id: "f0000001", parentId: "a0000004", timestamp: ts, extra: [1] },
      msg("a0000005", "f0000001", "user", "five"),
    ];
    const original = jsonl(lines);
    const { dir, file } = await setup(original);
    const result = await compactTranscript(file, { maxLines: 4, now });
    expect(result).toEqual({
      compacted: true,
      kept: 4,
      removed: 5,
      archived: `${file}.bak.2026-02-12T10-20-30.456Z`,
    });
    const raw = (await readFile(file, "utf8")).split("\n");
    const originalRaw = original.split("\n");
    expect(raw).toHaveLength(6);
    expect(raw[0]).toBe(originalRaw[0]);
    expect(JSON.parse(raw[1] as string)).toEqual({ ...(lines[6] as object), parentId: null });
    expect(raw.slice(2)).toEqual(originalRaw.slice(7));
    expect(await readFile(result.archived as string, "utf8")).toBe(original);
    expect(parseArchiveName(result.archived as string)).toMatchObject({
      reason: "bak",
      transcriptName: "s.jsonl",
    });
    expect((await readdir(dir)).sort()).toEqual([
      "s.jsonl",
      "s.jsonl.bak.2026-02-12T10-20-30.456Z",
    ]);

    // Readers and appenders keep working on the result.
    const preview = await readTranscriptPreview(file);
    expect(preview.items.map((item) => item.text)).toEqual(["four 🙂", "five"]);
    const appended = await appendTranscriptMessage(file, { role: "user", content: "six" });
    expect(appended.entry.parentId).toBe("a0000005");
  });

  it("leaves a transcript with maxLines entries or fewer untouched", async () => {
    const content = jsonl([
      header,
      msg("a1", null, "user", "x"),
      "",
      msg("a2", "a1", "assistant", "y"),
    ]);
    const { dir, file } = await setup(content);
    expect(await compactTranscript(file, { maxLines: 2 })).toEqual({
      compacted: false,
      kept: 2,
      removed: 0,
      archived: null,
    });
    expect(await readFile(file, "utf8")).toBe(content);
    expect(await readdir(dir)).toEqual(["s.jsonl"]);
  });

  it("reports a missing transcript", async () => {
    const dir = await testdir();
    expect(await compactTranscript(join(dir, "none.jsonl"))).toMatchObject({
      compacted: false,
      reason: "no transcript",
    });
  });

  it("compacts a headerless transcript without adding a header", async () => {
    const name = "faea9933-e391-463f-b4b4-e10143adf4b8.jsonl";
    const dir = await testdir();
    const file = join(dir, name);
    await copyFile(join(import.meta.dirname, "__fixtures__", name), file);
    const original = (await readFile(file, "utf8")).split("\n");
    const result = await compactTranscript(file, { maxLines: 30, bufferBytes: 4096 });
    expect(result).toMatchObject({ compacted: true, kept: 30, removed: 70 });
    const raw = (await readFile(file, "utf8")).split("\n");
    expect(raw).toHaveLength(31);
    expect(JSON.parse(raw[0] as string).type).toBe("message");
    expect(JSON.parse(raw[0] as string).parentId).toBeNull();
    expect(raw.slice(1)).toEqual(original.slice(71));
  });

  it("uses the default of 400 entries", async () => {
    const lines = [
      header,
      ...Array.from({ length: 401 }, (_, index) => msg(`m${index}`, null, "user", `t${index}`)),
    ];
    const { file } = await setup(jsonl(lines));
    expect(await compactTranscript(file)).toMatchObject({ compacted: true, kept: 400, removed: 1 });
  });

  it("keeps lines longer than the read buffer and terminates a torn last line", async () => {
    const long = msg("l1", "a2", "user", "L".repeat(20_000));
    const torn = '{"type":"message","id":"torn';
    const content = `${jsonl([header, msg("a1", null, "user", "x"), msg("a2", "a1", "user", "y"), "not json", long])}${torn}`;
    const { file } = await setup(content);
    const result = await compactTranscript(file, { maxLines: 3, bufferBytes: 4096 });
    expect(result).toMatchObject({ compacted: true, kept: 3, removed: 2 });
    const raw = (await readFile(file, "utf8")).split("\n");
    // The malformed first kept line stays; the first real entry after it is re-rooted.
    expect(raw[1]).toBe("not json");
    expect(JSON.parse(raw[2] as string)).toEqual({ ...long, parentId: null });
    expect(raw[3]).toBe(torn);
    expect(raw[4]).toBe("");
  });

  it("refuses a transcript that is a symlink out of its dir", async () => {
    const root = await testdir({
      "outside/victim.jsonl": jsonl([
        header,
        msg("a1", null, "user", "x"),
        msg("a2", "a1", "user", "y"),
      ]),
    });
    const sessions = join(root, "sessions");
    await mkdir(sessions);
    await symlink(join(root, "outside", "victim.jsonl"), join(sessions, "s.jsonl"));
    await expect(
      compactTranscript(join(sessions, "s.jsonl"), { maxLines: 1 }),
    ).rejects.toMatchObject({
      code: "PATH_ESCAPE",
    });
    expect(await readdir(join(root, "outside"))).toEqual(["victim.jsonl"]);
  });

  it("checks again under the lock: a symlink planted while the lock was awaited is refused", async () => {
    const lines = jsonl([header, msg("a1", null, "user", "x"), msg("a2", "a1", "user", "y")]);
    const root = await testdir({ "outside/victim.jsonl": lines, "sessions/s.jsonl": lines });
    const file = join(root, "sessions", "s.jsonl");
    let waiting = () => {};
    const lockAwaited = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    let compaction: Promise<unknown> = Promise.resolve();
    await withTranscriptLock(file, async () => {
      compaction = compactTranscript(file, {
        maxLines: 1,
        // The lock reads its clock first thing, after the checks that run before it.
        lock: {
          now: () => {
            waiting();
            return Date.now();
          },
          pollIntervalMs: 5,
        },
      }).catch((error: unknown) => error);
      await lockAwaited;
      await rm(file);
      await symlink(join(root, "outside", "victim.jsonl"), file);
    });
    expect(await compaction).toMatchObject({ code: "PATH_ESCAPE" });
    expect(await readdir(join(root, "outside"))).toEqual(["victim.jsonl"]);
    expect(await readFile(join(root, "outside", "victim.jsonl"), "utf8")).toBe(lines);
  });

  it("waits for the transcript lock and fails with TRANSCRIPT_LOCKED", async () => {
    const lines = [header, msg("a1", null, "user", "x"), msg("a2", "a1", "user", "y")];
    const { file } = await setup(jsonl(lines));
    await writeFile(
      `${file}.lock`,
      JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() }),
    );
    await expect(
      compactTranscript(file, { maxLines: 1, lock: { timeoutMs: 50 } }),
    ).rejects.toMatchObject({
      code: "TRANSCRIPT_LOCKED",
    });
  });
});
