import { mkdir, open, readdir, readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it, vi } from "vitest";
import { breakLock, observeLock, withTranscriptLock } from "./transcript-lock.ts";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, open: vi.fn(actual.open) };
});

const { open: realOpen } =
  await vi.importActual<typeof import("node:fs/promises")>("node:fs/promises");

/** A whole second, so that a file's mtime can be set back to exactly what was observed. */
const observedTime = new Date("2026-02-12T09:00:00.000Z");

/** A lock of a live owner (this process) that is older than any `staleMs` used here. */
async function staleLock(lockPath: string): Promise<string> {
  const content = JSON.stringify({
    pid: process.pid,
    createdAt: new Date(Date.now() - 120_000).toISOString(),
  });
  await writeFile(lockPath, content);
  await utimes(lockPath, observedTime, observedTime);
  return content;
}

describe("breaking a stale transcript lock", () => {
  it("removes the lock that was judged stale, and leaves nothing behind", async () => {
    const dir = await testdir();
    const lockPath = join(dir, "s.jsonl.lock");
    await staleLock(lockPath);
    const observed = await observeLock(lockPath, 60_000, Date.now());
    expect(observed?.stale).toBe(true);
    await breakLock(lockPath, observed as NonNullable<typeof observed>);
    expect(await readdir(dir)).toEqual([]);
  });

  it("keeps a lock that replaced it with the same inode and mtime (openclaw's format)", async () => {
    const dir = await testdir();
    const lockPath = join(dir, "s.jsonl.lock");
    await staleLock(lockPath);
    const observed = await observeLock(lockPath, 60_000, Date.now());
    expect(observed?.stale).toBe(true);

    // Someone else broke it and took the lock; the new file got the freed inode back, and the
    // same mtime (what inode and mtime alone cannot tell apart). Rewritten in place to get both.
    const fresh = JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() });
    await writeFile(lockPath, fresh);
    await utimes(lockPath, observedTime, observedTime);
    const now = await stat(lockPath);
    expect([now.ino, now.mtimeMs]).toEqual([observed?.inode, observed?.mtimeMs]);

    await breakLock(lockPath, observed as NonNullable<typeof observed>);
    expect(await readFile(lockPath, "utf8")).toBe(fresh);
    expect(await readdir(dir)).toEqual(["s.jsonl.lock"]);
  });

  it("keeps a lock that replaced it as a new file", async () => {
    const dir = await testdir();
    const lockPath = join(dir, "s.jsonl.lock");
    await staleLock(lockPath);
    const observed = await observeLock(lockPath, 60_000, Date.now());
    const fresh = JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString() });
    await writeFile(`${lockPath}.new`, fresh);
    await rename(`${lockPath}.new`, lockPath);
    await breakLock(lockPath, observed as NonNullable<typeof observed>);
    expect(await readFile(lockPath, "utf8")).toBe(fresh);
  });
});

describe("creating a transcript lock", () => {
  it("removes the empty lock file when the owner cannot be written", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    vi.mocked(open).mockImplementationOnce(async (...args: Parameters<typeof open>) => {
      const handle = await realOpen(...args);
      handle.writeFile = async () => {
        throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
      };
      return handle;
    });
    await expect(withTranscriptLock(file, async () => "never")).rejects.toMatchObject({
      code: "STORE_IO",
      details: { path: `${file}.lock`, errno: "ENOSPC" },
    });
    await expect(stat(`${file}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
    // Nobody has to wait for the grace of an unreadable lock.
    expect(await withTranscriptLock(file, async () => "next", { timeoutMs: 100 })).toBe("next");
  });
});

describe("a directory at the lock path", () => {
  it("fails with TRANSCRIPT_LOCKED naming the path, without running the work", async () => {
    const dir = await testdir();
    const file = join(dir, "s.jsonl");
    await writeFile(file, "");
    await mkdir(`${file}.lock`);
    const work = vi.fn(async () => "done");
    await expect(withTranscriptLock(file, work, { timeoutMs: 0 })).rejects.toMatchObject({
      code: "TRANSCRIPT_LOCKED",
      message: `session file locked (not a lock file): ${file}.lock`,
    });
    expect(work).not.toHaveBeenCalled();
  });
});
