import { existsSync, lstatSync, readdirSync } from "node:fs";
import { mkdir, open, readFile, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { testdir } from "@clawkeep/test-utils";
import { describe, expect, it } from "vitest";
import {
  acquireFileLock,
  DEFAULT_LOCK_STALE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  LOCK_OWNER_FILE,
  readFileLockOwner,
  withFileLock,
} from "./file-lock.ts";

const LONG_AGO = new Date(Date.now() - 120_000);

async function storePath(): Promise<string> {
  return join(await testdir(), "sessions.json");
}

/** A lock file exactly as openclaw 2026.2 writes it: exclusive create, `{"pid","startedAt"}`. */
async function writeOpenclawLock(path: string, pid = process.ppid): Promise<void> {
  await writeFile(`${path}.lock`, JSON.stringify({ pid, startedAt: Date.now() }), { flag: "wx" });
}

describe("acquireFileLock", () => {
  it("creates the lock as a plain file holding its owner and removes it on release", async () => {
    const path = await storePath();
    const { lock, release } = await acquireFileLock(path);
    expect(lock.lockPath).toBe(`${path}.lock`);
    expect(lstatSync(`${path}.lock`).isFile()).toBe(true);
    const record = JSON.parse(await readFile(`${path}.lock`, "utf8")) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: process.pid, host: hostname(), owner: "clawkeep" });
    expect(record.startedAt).toBeGreaterThan(Date.now() - 10_000);
    expect(await readFileLockOwner(path)).toMatchObject({
      kind: "file",
      pid: process.pid,
      host: hostname(),
    });
    lock.assertHeld();
    await release();
    expect(readdirSync(join(path, ".."))).toEqual([]);
  });

  it("can be broken by openclaw's unlink once stale, and openclaw's wx create then succeeds", async () => {
    const path = await storePath();
    const { lock, release } = await acquireFileLock(path, { staleMs: 2000 });
    // openclaw 2026.2's recovery: stat, unlink when older than its stale time, create with wx.
    await utimes(`${path}.lock`, LONG_AGO, LONG_AGO);
    await unlink(`${path}.lock`);
    const handle = await open(`${path}.lock`, "wx");
    await handle.close();
    expect(lock.signal.aborted).toBe(false);
    await release();
  });

  it("creates a missing parent directory", async () => {
    const path = join(await testdir(), "agents", "ops", "sessions", "sessions.json");
    await withFileLock(path, () => undefined);
    expect(existsSync(join(path, ".."))).toBe(true);
  });

  it("fails with STORE_LOCKED and openclaw's message while openclaw's lock file is fresh", async () => {
    const path = await storePath();
    await writeOpenclawLock(path);
    const started = Date.now();
    const error = await acquireFileLock(path, { timeoutMs: 300 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "STORE_LOCKED" });
    expect((error as Error).message).toBe(`timeout acquiring session store lock: ${path}.lock`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(existsSync(`${path}.lock`)).toBe(true);
  });

  it("waits for openclaw's lock file and takes the lock once openclaw removes it", async () => {
    const path = await storePath();
    await writeOpenclawLock(path);
    const openclawReleases = sleep(200).then(() => rm(`${path}.lock`));
    const started = Date.now();
    const result = await withFileLock(path, () => "mine", { timeoutMs: 5000 });
    await openclawReleases;
    expect(result).toBe("mine");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("breaks openclaw's lock file once it is older than the default 30 s staleMs", async () => {
    const path = await storePath();
    await writeOpenclawLock(path);
    expect(await readFileLockOwner(path)).toMatchObject({ kind: "file", pid: process.ppid });
    await utimes(`${path}.lock`, LONG_AGO, new Date(Date.now() - 31_000));
    const started = Date.now();
    await withFileLock(path, async () => {
      expect(await readFileLockOwner(path)).toMatchObject({ kind: "file", pid: process.pid });
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("defaults to a 10 s timeout and a 30 s stale time", () => {
    expect(DEFAULT_LOCK_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_LOCK_STALE_MS).toBe(30_000);
  });

  it("keeps waiting on a lock younger than the default 30 s staleMs", async () => {
    const path = await storePath();
    await writeOpenclawLock(path);
    await utimes(`${path}.lock`, LONG_AGO, new Date(Date.now() - 29_000));
    await expect(acquireFileLock(path, { timeoutMs: 150 })).rejects.toMatchObject({
      code: "STORE_LOCKED",
    });
  });

  it("breaks at once a lock file whose owner on this host is dead", async () => {
    const path = await storePath();
    const record = { pid: 999_999_999, startedAt: Date.now(), host: hostname(), owner: "clawkeep" };
    await writeFile(`${path}.lock`, JSON.stringify(record), { flag: "wx" });
    const started = Date.now();
    await withFileLock(path, () => undefined, { timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(readdirSync(join(path, ".."))).toEqual([]);
  });

  it("breaks at once an older build's lock directory whose owner on this host is dead", async () => {
    const path = await storePath();
    await mkdir(`${path}.lock`);
    await writeFile(
      join(`${path}.lock`, LOCK_OWNER_FILE),
      JSON.stringify({ pid: 999_999_999, host: hostname(), createdAt: Date.now() }),
    );
    const started = Date.now();
    await withFileLock(path, () => undefined, { timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("leaves a fresh lock file of another host or of a live process alone", async () => {
    for (const owner of [
      { pid: 999_999_999, startedAt: Date.now(), host: `not-${hostname()}` },
      { pid: process.ppid, startedAt: Date.now(), host: hostname() },
    ]) {
      const path = await storePath();
      await writeFile(`${path}.lock`, JSON.stringify(owner), { flag: "wx" });
      await expect(acquireFileLock(path, { timeoutMs: 100 })).rejects.toMatchObject({
        code: "STORE_LOCKED",
      });
      expect(JSON.parse(await readFile(`${path}.lock`, "utf8"))).toEqual(owner);
      // Once stale, it is broken whoever owned it.
      await utimes(`${path}.lock`, LONG_AGO, LONG_AGO);
      await withFileLock(path, () => undefined, { timeoutMs: 1000 });
      expect(readdirSync(join(path, ".."))).toEqual([]);
    }
  });

  it("leaves a fresh lock directory of another host, a live process or no owner alone", async () => {
    for (const owner of [
      { pid: 999_999_999, host: `not-${hostname()}`, createdAt: Date.now() },
      { pid: process.ppid, host: hostname(), createdAt: Date.now() },
      undefined,
    ]) {
      const path = await storePath();
      await mkdir(`${path}.lock`);
      if (owner !== undefined) {
        await writeFile(join(`${path}.lock`, LOCK_OWNER_FILE), JSON.stringify(owner));
      }
      await expect(acquireFileLock(path, { timeoutMs: 100 })).rejects.toMatchObject({
        code: "STORE_LOCKED",
      });
      // Once stale, it is broken whoever owned it, and replaced by a lock file.
      await utimes(`${path}.lock`, LONG_AGO, LONG_AGO);
      await withFileLock(
        path,
        async () => {
          expect((await readFileLockOwner(path))?.kind).toBe("file");
        },
        { timeoutMs: 1000 },
      );
      expect(readdirSync(join(path, ".."))).toEqual([]);
    }
  });

  it("refreshes the lock file's mtime while held, without calling it compromised", async () => {
    const path = await storePath();
    await withFileLock(
      path,
      async (lock) => {
        const taken = lstatSync(`${path}.lock`).mtimeMs;
        // proper-lockfile refreshes every 1000 ms at the minimum 2000 ms staleMs.
        await sleep(2500);
        expect(lstatSync(`${path}.lock`).mtimeMs).toBeGreaterThan(taken);
        expect(lock.signal.aborted).toBe(false);
        lock.assertHeld();
      },
      { staleMs: 2000 },
    );
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("excludes a second holder in the same process until the first releases", async () => {
    const path = await storePath();
    const first = await acquireFileLock(path);
    await expect(acquireFileLock(path, { timeoutMs: 50 })).rejects.toMatchObject({
      code: "STORE_LOCKED",
    });
    const second = acquireFileLock(path, { timeoutMs: 2000 });
    await sleep(30);
    await first.release();
    await (await second).release();
  });
});

describe("readFileLockOwner", () => {
  it("returns undefined for a free lock and tolerates an unreadable owner", async () => {
    const path = await storePath();
    expect(await readFileLockOwner(path)).toBeUndefined();
    await writeFile(`${path}.lock`, "not json");
    expect(await readFileLockOwner(path)).toMatchObject({
      kind: "file",
      pid: undefined,
      createdAt: undefined,
    });
  });
});
