import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  formatArchiveTimestamp,
  listTranscriptArchives,
  parseArchiveName,
} from "./archive-names.ts";
import {
  archiveTranscript,
  deleteTranscript,
  restoreTranscriptArchive,
} from "./transcript-archive.ts";

const t0 = Date.parse("2026-02-12T09:41:07.123Z");

describe("archive names", () => {
  it("formats and parses openclaw's archive names", () => {
    expect(formatArchiveTimestamp(t0)).toBe("2026-02-12T09-41-07.123Z");
    expect(parseArchiveName("/x/abc.jsonl.deleted.2026-02-12T09-41-07.123Z")).toEqual({
      transcriptName: "abc.jsonl",
      reason: "deleted",
      stamp: "2026-02-12T09-41-07.123Z",
      archivedAtMs: t0,
    });
    expect(parseArchiveName("a-topic-1.jsonl.reset.2026-02-12T09-41-07.123Z")?.reason).toBe(
      "reset",
    );
    expect(parseArchiveName("a.jsonl.bak.2026-11-24T06-48-35.754Z")?.reason).toBe("bak");
    for (const name of [
      "sessions.json.bak.1770886801000",
      "a.jsonl",
      "a.jsonl.deleted.yesterday",
      "a.txt.bak.2026-02-12T09-41-07.123Z",
    ]) {
      expect(parseArchiveName(name)).toBeNull();
    }
  });

  it("parses the fixture archives", async () => {
    const names = await readdir(join(import.meta.dirname, "__fixtures__"));
    const parsed = names.map(parseArchiveName).filter((value) => value !== null);
    expect(parsed.map((value) => value.reason).sort()).toEqual(["bak", "deleted"]);
  });
});

describe("archiveTranscript / deleteTranscript / restoreTranscriptArchive", () => {
  it("archives under the reason and time, lists and restores", async () => {
    const dir = await testdir({ "s.jsonl": "one\n" });
    const file = join(dir, "s.jsonl");
    let clock = t0;
    const now = () => clock;
    const reset = await archiveTranscript(file, "reset", { now });
    expect(reset).toBe(`${file}.reset.2026-02-12T09-41-07.123Z`);
    expect(await archiveTranscript(file, "reset", { now })).toBeNull();

    await writeFile(file, "two\n");
    clock += 1000;
    const deleted = await deleteTranscript(file, { now });
    expect(deleted).toEqual({
      deleted: true,
      archived: `${file}.deleted.2026-02-12T09-41-08.123Z`,
    });
    expect(await deleteTranscript(file, { now })).toEqual({ deleted: false, archived: null });

    await writeFile(join(dir, "other.jsonl.deleted.2026-02-12T09-41-09.000Z"), "");
    const archives = await listTranscriptArchives({ sessionId: "s", sessionsDir: dir });
    expect(archives.map((archive) => [archive.reason, archive.path])).toEqual([
      ["deleted", deleted.archived],
      ["reset", reset],
    ]);
    expect(await listTranscriptArchives(file)).toEqual(archives);

    expect(await restoreTranscriptArchive(reset as string)).toBe(file);
    expect(await readFile(file, "utf8")).toBe("one\n");
    await expect(restoreTranscriptArchive(deleted.archived as string)).rejects.toMatchObject({
      code: "ALREADY_EXISTS",
    });
    expect(await readFile(file, "utf8")).toBe("one\n");
    expect(await readFile(deleted.archived as string, "utf8")).toBe("two\n");
  });

  it("never overwrites an archive made in the same millisecond", async () => {
    const dir = await testdir({ "s.jsonl": "a\n" });
    const file = join(dir, "s.jsonl");
    const now = () => t0;
    const first = await archiveTranscript(file, "deleted", { now });
    await writeFile(file, "b\n");
    const second = await archiveTranscript(file, "deleted", { now });
    expect(second).toBe(`${file}.deleted.2026-02-12T09-41-07.124Z`);
    expect(await readFile(first as string, "utf8")).toBe("a\n");
    expect(await readFile(second as string, "utf8")).toBe("b\n");
  });

  it("deletes without archiving when asked", async () => {
    const dir = await testdir({ "s.jsonl": "a\n" });
    expect(await deleteTranscript(join(dir, "s.jsonl"), { archive: false })).toEqual({
      deleted: true,
      archived: null,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("rejects names that are not archives and missing archives", async () => {
    const dir = await testdir({ "s.jsonl": "a\n" });
    await expect(restoreTranscriptArchive(join(dir, "s.jsonl"))).rejects.toMatchObject({
      code: "INVALID_PARAMS",
    });
    await expect(
      restoreTranscriptArchive(join(dir, "x.jsonl.bak.2026-02-12T09-41-07.123Z")),
    ).rejects.toMatchObject({ code: "STORE_IO" });
  });

  it("lists nothing for a missing dir", async () => {
    expect(await listTranscriptArchives("/nonexistent-dir-for-test/s.jsonl")).toEqual([]);
  });
});
