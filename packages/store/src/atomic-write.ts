import { randomBytes } from "node:crypto";
import { open, readdir, realpath, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { isProcessAlive } from "./process-alive.ts";

export interface WriteFileAtomicallyOptions {
  /**
   * Permission bits of the new file (before the umask). The previous file's mode is not copied:
   * session data is private to its owner.
   * @default 0o600
   */
  mode?: number;
  /**
   * Flush the file before the rename and the directory after it, so that a power loss leaves
   * either the old or the new content. Costs one file and one directory flush per write
   * (milliseconds on SSDs, more on busy or network disks); turn it off only for scratch data.
   * @default true
   */
  fsync?: boolean;
  /**
   * Checked just before the rename, the commit point: when aborted, the temp file is removed,
   * the target is left as it was and the signal's reason is thrown (a lock lost while writing).
   */
  signal?: AbortSignal;
}

/** What the file looked like right after it was written (from `fstat` on the temp file). */
export interface WrittenFileStats {
  /** The path that was replaced (a symlink is followed to its target). */
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

const TEMP_SUFFIX = ".tmp";

/**
 * Name of a temp file beside `target`: `<name>.<pid>.<random>.tmp`. The pid lets a later writer
 * recognise the debris of a crashed process; the random part keeps concurrent writers of one
 * process apart.
 */
export function createTempFilePath(target: string): string {
  return `${target}.${process.pid}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`;
}

async function resolveTarget(path: string): Promise<string> {
  try {
    // Writing through a symlink must replace its target, not the link itself.
    return await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return path;
    throw error;
  }
}

function ioError(action: string, path: string, error: unknown): SessionsError {
  if (SessionsError.isInstance(error)) return error;
  const errno = (error as NodeJS.ErrnoException).code;
  return new SessionsError("STORE_IO", `cannot ${action} ${path}: ${(error as Error).message}`, {
    details: { path, errno },
    cause: error,
  });
}

/**
 * Replaces `path` with `data` so that readers see either the old or the new content, never a
 * mix: exclusive-create a temp file in the same directory (mode 0600), write, fsync, rename over
 * the target, fsync the directory. The temp file is removed when any step fails. Concurrent
 * writers must be serialised by the caller (a lock); this only guarantees atomic replacement.
 *
 * Throws `SessionsError` `STORE_IO` naming the path (the errno is in `details.errno`).
 */
export async function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicallyOptions = {},
): Promise<WrittenFileStats> {
  const mode = options.mode ?? 0o600;
  const durable = options.fsync ?? true;
  let target: string;
  try {
    target = await resolveTarget(path);
  } catch (error) {
    throw ioError("resolve", path, error);
  }
  const tempPath = createTempFilePath(target);
  let renamed = false;
  try {
    const handle = await open(tempPath, "wx", mode);
    let stats: { size: number; mtimeMs: number; ino: number };
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
      stats = await handle.stat();
    } finally {
      await handle.close();
    }
    options.signal?.throwIfAborted();
    await rename(tempPath, target);
    renamed = true;
    if (durable) await fsyncDirectory(dirname(target));
    return { path: target, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
  } catch (error) {
    if (options.signal?.aborted === true && error === options.signal.reason) throw error;
    throw ioError("write", path, error);
  } finally {
    if (!renamed) await removeIfPresent(tempPath);
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Flushes a directory so that a rename or unlink inside it survives a power loss. A no-op on
 * Windows, where directories cannot be opened for flushing.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(dir, "r");
  } catch (error) {
    throw ioError("open directory", dir, error);
  }
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems (certain FUSE and SMB mounts) refuse to flush a directory; the data
    // itself was flushed before the rename, which is the best such a mount allows.
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw ioError("flush", dir, error);
  } finally {
    await handle.close();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Removes temp files `<name>.<pid>.<random>.tmp` left beside `target` by writers whose process
 * no longer runs on this host (a crash or SIGKILL between create and rename). Temp files of live
 * processes, including this one, are left alone. Call it while holding the target's lock.
 * Returns the paths removed.
 */
export async function removeOrphanedTempFiles(target: string): Promise<string[]> {
  const dir = dirname(target);
  const pattern = new RegExp(`^${escapeRegExp(basename(target))}\\.(\\d+)\\.[0-9A-Za-z-]+\\.tmp$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw ioError("list", dir, error);
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (isProcessAlive(pid)) continue;
    const path = join(dir, name);
    try {
      await removeIfPresent(path);
    } catch (error) {
      throw ioError("remove", path, error);
    }
    removed.push(path);
  }
  return removed;
}
