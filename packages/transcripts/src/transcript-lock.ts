import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { SessionsError } from "@clawkeep/schema";
import { isProcessAlive } from "@clawkeep/store";

/** How a transcript lock is taken. */
export interface TranscriptLockOptions {
  /**
   * How long to wait for a lock held by someone else before failing with `TRANSCRIPT_LOCKED`.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * A lock older than this is taken over even when its owner seems alive. An agent run holds its
   * transcript lock for the whole run, so this must be longer than the longest run.
   * @default 1800000 (30 minutes)
   */
  staleMs?: number;
  /**
   * Pause between attempts while the lock is held; each pause is jittered down to half of this so
   * that waiting processes do not retry in step.
   * @default 25
   */
  pollIntervalMs?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/** What a lock file says about its owner. */
export interface TranscriptLockOwner {
  pid: number | undefined;
  createdAt: string | undefined;
  host: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 30 * 60 * 1000;
const DEFAULT_POLL_INTERVAL_MS = 25;
/**
 * A lock file without a readable owner is being written right now, or was left by a crash between
 * create and write. The write takes microseconds, so after this long it is the crash.
 */
const UNREADABLE_LOCK_GRACE_MS = 30_000;

/** The lock path of a transcript: `<file>.lock`, the path openclaw's agent runner locks too. */
export function resolveTranscriptLockPath(file: string): string {
  return `${file}.lock`;
}

/** Parses a lock file's content; fields that are missing or malformed are undefined. */
export function parseTranscriptLockOwner(content: string): TranscriptLockOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  return {
    pid:
      Number.isInteger(record.pid) && (record.pid as number) > 0
        ? (record.pid as number)
        : undefined,
    createdAt: typeof record.createdAt === "string" ? record.createdAt : undefined,
    host: typeof record.host === "string" ? record.host : undefined,
  };
}

/** A lock file as it was read: what it said and which file it was. */
export interface ObservedLock {
  owner: TranscriptLockOwner | undefined;
  stale: boolean;
  /** The file's whole content, compared again before the lock is broken. */
  content: string;
  dev: number;
  inode: number;
  mtimeMs: number;
}

/** The content and identity of a lock file, read through one handle; undefined when it is gone. */
/**
 * Something other than a file (a directory) sits at the lock path: nobody can take the lock, and
 * it is not ours to remove.
 */
function notALockFile(lockPath: string): SessionsError {
  return new SessionsError(
    "TRANSCRIPT_LOCKED",
    `session file locked (not a lock file): ${lockPath}`,
    {
      details: { lockPath },
    },
  );
}

async function readLockFile(
  lockPath: string,
): Promise<Pick<ObservedLock, "content" | "dev" | "inode" | "mtimeMs"> | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lockPath, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EISDIR") throw notALockFile(lockPath);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notALockFile(lockPath);
    const content = await handle.readFile("utf8");
    return { content, dev: stats.dev, inode: stats.ino, mtimeMs: stats.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * Reads someone else's lock and decides whether it may be taken over: its owner's pid is dead on
 * this host, or it is older than `staleMs`. A lock without a host field is taken to be from this
 * host (openclaw writes none). Undefined when the lock vanished meanwhile.
 */
export async function observeLock(
  lockPath: string,
  staleMs: number,
  now: number,
): Promise<ObservedLock | undefined> {
  const file = await readLockFile(lockPath);
  if (file === undefined) return undefined;
  const owner = parseTranscriptLockOwner(file.content);
  const base = { ...file, owner };
  if (owner?.pid === undefined) {
    return { ...base, stale: now - file.mtimeMs > Math.min(staleMs, UNREADABLE_LOCK_GRACE_MS) };
  }
  const created = owner.createdAt === undefined ? Number.NaN : Date.parse(owner.createdAt);
  const age = now - (Number.isNaN(created) ? file.mtimeMs : created);
  if (age > staleMs) return { ...base, stale: true };
  const sameHost = owner.host === undefined || owner.host === hostname();
  return { ...base, stale: sameHost && !isProcessAlive(owner.pid) };
}

/** True when a lock file is still exactly the one observed: same file, same time, same content. */
function isSameLock(
  file: Pick<ObservedLock, "content" | "dev" | "inode" | "mtimeMs"> | undefined,
  observed: ObservedLock,
): boolean {
  return (
    file !== undefined &&
    file.content === observed.content &&
    file.dev === observed.dev &&
    file.inode === observed.inode &&
    file.mtimeMs === observed.mtimeMs
  );
}

/**
 * Removes a stale lock, unless it was replaced since it was observed. Inode and mtime alone do not
 * tell: an inode freed by a broken lock is soon reused by the next lock file. So the lock is moved
 * aside to a unique name first (atomic: from then on nobody else can break or release it by its
 * name), compared there with what was observed (content, inode, mtime), and removed only when it
 * is the same; a lock someone created meanwhile is put back with a link that never overwrites.
 * openclaw's `{pid, createdAt}` files are compared the same way, by their whole content.
 */
export async function breakLock(lockPath: string, observed: ObservedLock): Promise<void> {
  // A cheap first look: most replaced locks are told apart before anything is moved.
  if (!isSameLock(await readLockFile(lockPath), observed)) return;
  const aside = `${lockPath}.breaking-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (!isSameLock(await readLockFile(aside), observed)) await restoreLock(aside, lockPath);
  await unlinkIfPresent(aside);
}

/**
 * Gives a lock moved aside by mistake its name back, without overwriting a lock created since.
 * Only a lock replaced in the microseconds between the second look and the rename is moved by
 * mistake, and only a third process creating a lock in the next microseconds keeps it from coming
 * back.
 */
async function restoreLock(aside: string, lockPath: string): Promise<void> {
  try {
    await link(aside, lockPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") {
      throw error;
    }
    // No hard links here: rename back, refusing to overwrite by a check right before.
    if ((await readLockFile(lockPath)) === undefined) await rename(aside, lockPath);
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Creates the lock file exclusively; false when it exists already. When the owner cannot be
 * written (a full disk), the empty file is removed again: it would hold the lock for everyone
 * until the unreadable-lock grace ran out.
 */
async function tryCreateLock(lockPath: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lockPath, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new SessionsError("STORE_IO", `cannot create transcript lock: ${lockPath}`, {
      cause: error,
      details: { path: lockPath },
    });
  }
  try {
    await handle.writeFile(content);
  } catch (error) {
    try {
      await removeOwnLockFile(lockPath, handle);
    } finally {
      await handle.close();
    }
    throw new SessionsError("STORE_IO", `cannot write transcript lock: ${lockPath}`, {
      cause: error,
      details: { path: lockPath, errno: (error as NodeJS.ErrnoException).code },
    });
  }
  await handle.close();
  return true;
}

/**
 * Removes the lock file `handle` created, unless someone broke it and made their own meanwhile.
 * Compared while the handle is open, so its inode cannot have been reused by another file.
 */
async function removeOwnLockFile(
  lockPath: string,
  handle: Awaited<ReturnType<typeof open>>,
): Promise<void> {
  const ours = await handle.stat();
  const current = await readLockFile(lockPath);
  if (current?.inode === ours.ino && current.dev === ours.dev) await unlinkIfPresent(lockPath);
}

/** Removes our lock, unless someone took it over (then it is theirs to remove). */
async function releaseLock(lockPath: string, content: string): Promise<void> {
  try {
    if ((await readFile(lockPath, "utf8")) !== content) return;
    await unlink(lockPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
}

/**
 * Runs `fn` while holding the transcript's lock, a plain file `<file>.lock` created exclusively
 * with `{"pid","createdAt","host","token"}` — the same file openclaw's agent runner holds, so
 * the two exclude each other. Someone else's lock is held unless its pid is dead (same host) or it
 * is older than `staleMs`. Fails with `TRANSCRIPT_LOCKED` after `timeoutMs`. The lock is released
 * when `fn` settles, whether it returns or throws.
 */
export async function withTranscriptLock<T>(
  file: string,
  fn: () => Promise<T>,
  options: TranscriptLockOptions = {},
): Promise<T> {
  const timeoutMs = Math.max(0, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const staleMs = Math.max(1, options.staleMs ?? DEFAULT_STALE_MS);
  const pollIntervalMs = Math.max(1, options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  const now = options.now ?? Date.now;
  const lockPath = resolveTranscriptLockPath(file);
  const content = JSON.stringify({
    pid: process.pid,
    createdAt: new Date(now()).toISOString(),
    host: hostname(),
    // Tells our own lock apart from a later one of the same process when releasing.
    token: randomBytes(8).toString("hex"),
  });

  const deadline = now() + timeoutMs;
  let lastOwner: TranscriptLockOwner | undefined;
  for (;;) {
    if (await tryCreateLock(lockPath, content)) break;
    const observed = await observeLock(lockPath, staleMs, now());
    if (observed === undefined) continue;
    if (observed.stale) {
      await breakLock(lockPath, observed);
      continue;
    }
    lastOwner = observed.owner;
    if (now() >= deadline) {
      const pid = lastOwner?.pid === undefined ? "unknown" : String(lastOwner.pid);
      throw new SessionsError(
        "TRANSCRIPT_LOCKED",
        `session file locked (timeout ${timeoutMs}ms): pid=${pid} ${lockPath}`,
        { details: { path: file, lockPath, owner: lastOwner ?? null } },
      );
    }
    const pause = pollIntervalMs / 2 + Math.random() * (pollIntervalMs / 2);
    await sleep(Math.min(pause, Math.max(1, deadline - now())));
  }

  try {
    return await fn();
  } finally {
    await releaseLock(lockPath, content);
  }
}
