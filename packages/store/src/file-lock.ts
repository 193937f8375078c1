import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import {
  link,
  lstat,
  mkdir,
  open,
  readFile,
  rename,
  rmdir,
  unlink,
  writeFile,
} from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SessionsError } from "@clawkeep/schema";
import { lock } from "proper-lockfile";
import { isProcessAlive } from "./process-alive.ts";

/** @see FileLockOptions.timeoutMs */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** @see FileLockOptions.staleMs */
export const DEFAULT_LOCK_STALE_MS = 30_000;
/** proper-lockfile refuses shorter stale times; so do we, rather than pretend. */
export const MIN_LOCK_STALE_MS = 2_000;

/**
 * Name of the owner record inside a lock directory left by an older clawkeep build (which took
 * the lock with `mkdir`). Current locks are a plain file that holds the owner record itself.
 */
export const LOCK_OWNER_FILE = "owner.json";

export interface FileLockOptions {
  /**
   * How long to wait for a lock held by someone else before failing with `STORE_LOCKED`. The
   * wait polls every 5–50 ms; `0` tries once.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * A lock not refreshed for this long is taken to be abandoned (its holder crashed) and is
   * broken. A holder refreshes its lock every `staleMs / 2`, so only a process stalled for
   * `staleMs` loses it; a shorter value recovers faster from crashes. Clamped to at least 2000.
   * openclaw's own lock file is never refreshed and is broken after this long too.
   * @default 30000
   */
  staleMs?: number;
}

/** A lock this process holds. */
export interface HeldFileLock {
  /** `<path>.lock`. */
  readonly lockPath: string;
  /** Aborted, with a `STORE_LOCK_COMPROMISED` reason, when the lock is lost while held. */
  readonly signal: AbortSignal;
  /** Throws `STORE_LOCK_COMPROMISED` when the lock has been lost. */
  assertHeld(): void;
}

/** Who holds a store lock, as far as the lock itself says. */
export interface FileLockOwner {
  /**
   * `file`: a plain lock file, taken by clawkeep or by openclaw (clawkeep's record also has `host`
   * and `"owner": "clawkeep"`); `directory`: a lock left by an older clawkeep build.
   */
  kind: "directory" | "file";
  lockPath: string;
  pid: number | undefined;
  host: string | undefined;
  /** When the holder took the lock (epoch ms), when recorded. */
  createdAt: number | undefined;
  /** Last refresh of the lock (epoch ms); staleness is measured from here. */
  mtimeMs: number;
}

// Lock paths this process is releasing right now: removing those is a release, while removing
// any other is breaking a stale lock and is checked once more just before it happens.
const releasing = new Set<string>();
const staleTimes = new Map<string, number>();

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function removeIgnoringMissing(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
  }
}

/** The owner record clawkeep writes into its lock file; openclaw reads `pid` and `startedAt`. */
function ownerRecord(): string {
  return JSON.stringify({
    pid: process.pid,
    startedAt: Date.now(),
    host: hostname(),
    owner: "clawkeep",
  });
}

function lockTempPath(lockPath: string): string {
  // The pattern of atomic-write's temp files, so that removeOrphanedTempFiles(lockPath) finds
  // those of a process killed while taking or breaking the lock.
  return `${lockPath}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
}

/**
 * Creates `lockPath` as a plain file that already holds the owner record: the record is written
 * to a temp file beside it and hard-linked into place, so no process ever sees the lock without
 * its owner (a kill at any point leaves either no lock or a complete one). The link fails with
 * `EEXIST` while the lock is held; that error is passed on unchanged for proper-lockfile.
 */
async function createLockFile(lockPath: string): Promise<void> {
  const tempPath = lockTempPath(lockPath);
  await writeFile(tempPath, ownerRecord(), { flag: "wx" });
  try {
    await link(tempPath, lockPath);
  } finally {
    await removeIgnoringMissing(tempPath);
  }
}

/** Removes a lock directory left by an older clawkeep build, with its owner record. */
async function removeLockDirectory(lockPath: string): Promise<void> {
  await removeIgnoringMissing(join(lockPath, LOCK_OWNER_FILE));
  await rmdir(lockPath);
}

function heldError(lockPath: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`lock is held: ${lockPath}`), { code: "ELOCKED" });
}

/**
 * Removes the lock file at `lockPath` only if `isStillBreakable` says so of the file actually
 * removed. The file is first renamed aside (atomic: exactly one of several breakers gets it), then
 * judged; a lock taken by someone else since it was judged stale is linked back in place, keeping
 * its inode and mtime, so its holder does not even notice. Returns whether the lock was removed.
 */
async function breakLockFile(
  lockPath: string,
  isStillBreakable: (aside: string, stats: fs.Stats) => Promise<boolean>,
): Promise<boolean> {
  const aside = lockTempPath(lockPath);
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw error;
  }
  try {
    if (await isStillBreakable(aside, await lstat(aside))) return true;
    try {
      await link(aside, lockPath);
    } catch (error) {
      // Yet another process took the lock meanwhile; the holder we moved aside sees its lock
      // gone at its next refresh and aborts its write.
      if (errnoOf(error) !== "EEXIST") throw error;
    }
    return false;
  } finally {
    await removeIgnoringMissing(aside);
  }
}

async function removeLockPath(lockPath: string): Promise<void> {
  const stats = await lstat(lockPath);
  if (releasing.has(lockPath)) {
    if (stats.isDirectory()) await removeLockDirectory(lockPath);
    else await unlink(lockPath);
    return;
  }
  // proper-lockfile decided this lock is stale from a stat taken earlier; another process may
  // have broken it and taken a fresh one since. Look again so that we never remove a live lock.
  const staleMs = staleTimes.get(lockPath) ?? DEFAULT_LOCK_STALE_MS;
  const isStale = (mtimeMs: number): boolean => mtimeMs < Date.now() - staleMs;
  if (stats.isDirectory()) {
    if (!isStale(stats.mtimeMs)) throw heldError(lockPath);
    await removeLockDirectory(lockPath);
    return;
  }
  // A clawkeep lock file, or openclaw's.
  const removed = await breakLockFile(lockPath, async (_aside, asideStats) =>
    isStale(asideStats.mtimeMs),
  );
  if (!removed) throw heldError(lockPath);
}

function removeLockPathSync(lockPath: string): void {
  if (!fs.lstatSync(lockPath).isDirectory()) {
    fs.unlinkSync(lockPath);
    return;
  }
  try {
    fs.unlinkSync(join(lockPath, LOCK_OWNER_FILE));
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
  }
  fs.rmdirSync(lockPath);
}

type Callback = (error: NodeJS.ErrnoException | null, ...results: unknown[]) => void;

function toCallback(promise: Promise<void>, callback: Callback): void {
  promise.then(
    () => callback(null),
    (error: NodeJS.ErrnoException) => callback(error),
  );
}

/**
 * The file system proper-lockfile sees. Its `mkdir` creates the lock as a plain file holding the
 * owner record (openclaw 2026.2 breaks a stale lock with `unlink`, which cannot remove a
 * directory); `rmdir` removes that file, openclaw's, or a directory left by an older clawkeep
 * build, re-checking staleness first. `stat` and `utimes`, which proper-lockfile uses to refresh
 * the lock and to notice it was lost, work on a file as on a directory. One shared object, so
 * that proper-lockfile's mtime-precision probe runs once per process.
 */
const lockFileSystem = {
  mkdir(path: string, callback: Callback): void {
    toCallback(createLockFile(path), callback);
  },
  stat(path: string, callback: Callback): void {
    fs.stat(path, callback);
  },
  utimes(path: string, atime: Date, mtime: Date, callback: Callback): void {
    fs.utimes(path, atime, mtime, callback);
  },
  realpath(path: string, callback: Callback): void {
    fs.realpath(path, callback);
  },
  rmdir(path: string, callback: Callback): void {
    toCallback(removeLockPath(path), callback);
  },
  // Called by proper-lockfile's exit handler for locks still held when the process exits.
  rmdirSync(path: string): void {
    removeLockPathSync(path);
  },
};

interface LockRecord {
  pid?: unknown;
  host?: unknown;
}

function parseLockRecord(text: string): LockRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? (parsed as LockRecord) : undefined;
  } catch (error) {
    // Damaged, or an openclaw lock file being written right now: left to the staleness rule.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function ownerIsDeadHere(record: LockRecord | undefined): boolean {
  return (
    record !== undefined &&
    record.host === hostname() &&
    typeof record.pid === "number" &&
    !isProcessAlive(record.pid)
  );
}

/**
 * Removes a clawkeep lock whose recorded owner ran on this host and is no longer alive (killed
 * while holding it), so that a restart does not wait for the lock to go stale. Locks without such
 * a record (openclaw's file, which has no host, or a damaged one) are left to the staleness rule.
 * The record is read again from the file actually removed: a lock just taken by a live process
 * survives.
 */
async function breakDeadOwnerLock(lockPath: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(lockPath, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    if (errnoOf(error) === "EISDIR") return await breakDeadOwnerLockDirectory(lockPath);
    throw error;
  }
  if (!ownerIsDeadHere(parseLockRecord(text))) return false;
  return await breakLockFile(lockPath, async (aside) =>
    ownerIsDeadHere(parseLockRecord(await readFile(aside, "utf8"))),
  );
}

/**
 * The same for a lock directory left by an older clawkeep build. Unlinking the owner record
 * arbitrates between several processes breaking it: the record is read through an open handle,
 * and only when the unlink took that very file (its link count dropped to zero) is the now empty
 * directory removed.
 */
async function breakDeadOwnerLockDirectory(lockPath: string): Promise<boolean> {
  const ownerPath = join(lockPath, LOCK_OWNER_FILE);
  let handle: FileHandle;
  try {
    handle = await open(ownerPath, "r");
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return false;
    throw error;
  }
  try {
    if (!ownerIsDeadHere(parseLockRecord(await handle.readFile("utf8")))) return false;
    try {
      await unlink(ownerPath);
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return false;
      throw error;
    }
    if ((await handle.stat()).nlink !== 0) return false;
    try {
      await rmdir(lockPath);
    } catch (error) {
      const code = errnoOf(error);
      if (code === "ENOENT" || code === "ENOTEMPTY" || code === "EEXIST") return false;
      throw error;
    }
    return true;
  } finally {
    await handle.close();
  }
}

async function makeLockDirectory(lockPath: string): Promise<void> {
  try {
    await mkdir(dirname(lockPath), { recursive: true });
  } catch (error) {
    throw new SessionsError("STORE_IO", `cannot create the directory of ${lockPath}`, {
      details: { path: lockPath, errno: errnoOf(error) },
      cause: error,
    });
  }
}

function clampStaleMs(staleMs: number | undefined): number {
  return Math.max(staleMs ?? DEFAULT_LOCK_STALE_MS, MIN_LOCK_STALE_MS);
}

function compromisedError(lockPath: string, cause: unknown): SessionsError {
  return new SessionsError(
    "STORE_LOCK_COMPROMISED",
    `session store lock was lost while held: ${lockPath}`,
    { details: { path: lockPath }, cause },
  );
}

/**
 * Takes the lock `<path>.lock`: a plain file holding `{pid, startedAt, host, owner}`, kept fresh
 * by proper-lockfile (openclaw's own lock file at the same path is waited for and broken only when
 * stale). Returns the held lock and its
 * release function. Throws `STORE_LOCKED` with the message
 * `timeout acquiring session store lock: <path>.lock` when the lock stays busy for `timeoutMs`.
 */
export async function acquireFileLock(
  path: string,
  options: FileLockOptions = {},
): Promise<{ lock: HeldFileLock; release: () => Promise<void> }> {
  const lockPath = `${path}.lock`;
  const timeoutMs = Math.max(options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, 0);
  const staleMs = clampStaleMs(options.staleMs);
  const controller = new AbortController();
  let compromised: SessionsError | undefined;
  const held: HeldFileLock = {
    lockPath,
    signal: controller.signal,
    assertHeld() {
      if (compromised !== undefined) throw compromised;
    },
  };

  const deadline = Date.now() + timeoutMs;
  let delayMs = 5;
  let madeDirectory = false;
  let releaseLock: () => Promise<void>;
  for (;;) {
    staleTimes.set(lockPath, staleMs);
    try {
      releaseLock = await lock(path, {
        lockfilePath: lockPath,
        realpath: false,
        retries: 0,
        stale: staleMs,
        fs: lockFileSystem,
        onCompromised(error) {
          // The default handler throws inside a timer and would crash the process; instead the
          // write in progress sees the abort and fails with STORE_LOCK_COMPROMISED.
          compromised = compromisedError(lockPath, error);
          controller.abort(compromised);
        },
      });
      break;
    } catch (error) {
      // The directory is created only when missing, which saves a system call on every lock.
      if (errnoOf(error) === "ENOENT" && !madeDirectory) {
        madeDirectory = true;
        await makeLockDirectory(lockPath);
        continue;
      }
      if (errnoOf(error) !== "ELOCKED") {
        throw new SessionsError("STORE_IO", `cannot take the lock ${lockPath}: ${String(error)}`, {
          details: { path: lockPath, errno: errnoOf(error) },
          cause: error,
        });
      }
      if (await breakDeadOwnerLock(lockPath)) continue;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new SessionsError(
          "STORE_LOCKED",
          `timeout acquiring session store lock: ${lockPath}`,
          {
            details: { path: lockPath },
            cause: error,
          },
        );
      }
      // Jitter keeps several waiting processes from polling in step.
      const jittered = delayMs * (0.75 + Math.random() * 0.5);
      await sleep(Math.min(jittered, remainingMs));
      delayMs = Math.min(delayMs * 2, 50);
    }
  }

  return {
    lock: held,
    async release() {
      if (compromised !== undefined) return;
      releasing.add(lockPath);
      try {
        await releaseLock();
      } catch (error) {
        // Compromised between the check above and now, or removed by someone else: nothing of
        // ours is left to remove.
        if (errnoOf(error) === "ERELEASED" || errnoOf(error) === "ENOENT") return;
        throw new SessionsError("STORE_IO", `cannot release the lock ${lockPath}`, {
          details: { path: lockPath, errno: errnoOf(error) },
          cause: error,
        });
      } finally {
        releasing.delete(lockPath);
      }
    },
  };
}

/** Runs `fn` while holding `<path>.lock`; see {@link acquireFileLock}. Releases in `finally`. */
export async function withFileLock<T>(
  path: string,
  fn: (lock: HeldFileLock) => T | Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const { lock: held, release } = await acquireFileLock(path, options);
  try {
    return await fn(held);
  } finally {
    await release();
  }
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * Reads who holds `<path>.lock`, for diagnostics (`clawkeep doctor`): clawkeep's lock file holds
 * `{pid, startedAt, host, owner}`, openclaw's `{pid, startedAt}`, and a lock directory of an older
 * clawkeep build `{pid, host, createdAt}` in `owner.json`. Returns `undefined` when nothing holds the lock; fields that cannot be
 * read are `undefined`.
 */
export async function readFileLockOwner(path: string): Promise<FileLockOwner | undefined> {
  const lockPath = `${path}.lock`;
  let stats: fs.Stats;
  try {
    stats = await lstat(lockPath);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
  const kind = stats.isDirectory() ? "directory" : "file";
  let record: Record<string, unknown> = {};
  try {
    const text = await readFile(
      kind === "directory" ? join(lockPath, LOCK_OWNER_FILE) : lockPath,
      "utf8",
    );
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) record = parsed as Record<string, unknown>;
  } catch (error) {
    // A lock being released, or written by a crashed process, may have no readable owner.
    if (!(error instanceof SyntaxError) && errnoOf(error) !== "ENOENT") throw error;
  }
  return {
    kind,
    lockPath,
    pid: numberOrUndefined(record.pid),
    host: typeof record.host === "string" ? record.host : undefined,
    createdAt: numberOrUndefined(record.createdAt) ?? numberOrUndefined(record.startedAt),
    mtimeMs: stats.mtimeMs,
  };
}
