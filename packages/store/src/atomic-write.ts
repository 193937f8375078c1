import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
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

/** What an atomic write puts in the file: a string, a buffer, or pieces written in order. */
export type AtomicWriteData = string | Uint8Array | readonly Uint8Array[];

/** Options of {@link StagedAtomicWrite.commit}. */
export interface CommitAtomicWriteOptions {
  /** Checked just before the rename: when aborted, nothing is renamed and the reason is thrown. */
  signal?: AbortSignal | undefined;
}

/**
 * A new file written (and flushed) beside its target and not yet visible there: `commit()`
 * renames it over the target, the commit point; `discard()` removes it. Call one of them.
 */
export interface StagedAtomicWrite {
  /** The path a commit replaces (a symlink is followed to its target). */
  readonly target: string;
  /** Size, mtime and inode of the new file. */
  readonly stats: WrittenFileStats;
  /** Renames the temp file over the target, then flushes the directory when `fsync` is on. */
  commit(options?: CommitAtomicWriteOptions): Promise<WrittenFileStats>;
  /** Removes the temp file, leaving the target as it was; does nothing after `commit()`. */
  discard(): Promise<void>;
}

/** Options of {@link stageAtomicWrite}. */
export interface StageAtomicWriteOptions
  extends Pick<WriteFileAtomicallyOptions, "mode" | "fsync"> {
  /**
   * Runs on this thread once the data has been handed to the kernel, while the kernel copies it:
   * CPU work placed here overlaps the write. It must not change the data. Its error fails the
   * write (after the kernel is done with the data).
   * @default none
   */
  duringWrite?: (() => void) | undefined;
}

function piecesOf(data: AtomicWriteData): Uint8Array[] {
  if (typeof data === "string") return [Buffer.from(data)];
  if (ArrayBuffer.isView(data)) return [data];
  return data.filter((piece) => piece.byteLength > 0);
}

/** Writes every piece from offset 0 on, with one `pwritev` when the kernel takes it all. */
async function writePieces(
  handle: FileHandle,
  data: AtomicWriteData,
  duringWrite: (() => void) | undefined,
): Promise<void> {
  let pieces = piecesOf(data);
  let position = 0;
  let hook = duringWrite;
  while (pieces.length > 0) {
    const writing = handle.writev(pieces, position);
    let hookFailure: { error: unknown } | undefined;
    if (hook !== undefined) {
      const run = hook;
      hook = undefined;
      try {
        run();
      } catch (error) {
        hookFailure = { error };
      }
    }
    const { bytesWritten } = await writing;
    if (hookFailure !== undefined) throw hookFailure.error;
    if (bytesWritten === 0) throw new Error("the file system accepted no bytes");
    position += bytesWritten;
    let skipped = bytesWritten;
    let index = 0;
    while (index < pieces.length && skipped >= (pieces[index] as Uint8Array).byteLength) {
      skipped -= (pieces[index] as Uint8Array).byteLength;
      index += 1;
    }
    pieces = pieces.slice(index);
    if (skipped > 0) pieces[0] = (pieces[0] as Uint8Array).subarray(skipped);
  }
}

/**
 * Writes `data` to a new temp file beside `path` (exclusive create, `mode`), flushes it when
 * `fsync` is on, and returns it staged: nothing is visible at `path` until `commit()`. The two
 * halves of {@link writeFileAtomically}, for a caller with work to do between them.
 *
 * Throws `SessionsError` `STORE_IO` naming the path; the temp file is removed on failure.
 */
export async function stageAtomicWrite(
  path: string,
  data: AtomicWriteData,
  options: StageAtomicWriteOptions = {},
): Promise<StagedAtomicWrite> {
  const mode = options.mode ?? 0o600;
  const durable = options.fsync ?? true;
  let target: string;
  try {
    target = await resolveTarget(path);
  } catch (error) {
    throw ioError("resolve", path, error);
  }
  const dir = dirname(target);
  const tempPath = createTempFilePath(target);
  // The directory is opened beside the temp file, so that the commit only has to flush it.
  const [file, directory] = await Promise.allSettled([
    open(tempPath, "wx", mode),
    durable ? openDirectory(dir) : undefined,
  ]);
  if (file.status === "rejected" || directory.status === "rejected") {
    if (file.status === "fulfilled") {
      await file.value.close();
      await removeIfPresent(tempPath);
    }
    if (directory.status === "fulfilled") await directory.value?.close();
    if (file.status === "rejected") throw ioError("write", path, file.reason);
    throw ioError("open directory", dir, (directory as PromiseRejectedResult).reason);
  }
  const directoryHandle = directory.value;
  let stats: WrittenFileStats;
  try {
    const handle = file.value;
    try {
      await writePieces(handle, data, options.duringWrite);
      // Size and mtime are final once the data is written: read them while it is flushed.
      const [written] = await Promise.all([handle.stat(), durable ? handle.sync() : undefined]);
      stats = { path: target, size: written.size, mtimeMs: written.mtimeMs, ino: written.ino };
    } finally {
      await handle.close();
    }
  } catch (error) {
    await directoryHandle?.close();
    await removeIfPresent(tempPath);
    throw ioError("write", path, error);
  }

  let settled = false;
  return {
    target,
    stats,
    async commit(commitOptions = {}) {
      if (settled) throw new Error(`staged write of ${target} was already committed or discarded`);
      settled = true;
      let renamed = false;
      try {
        commitOptions.signal?.throwIfAborted();
        await rename(tempPath, target);
        renamed = true;
        if (directoryHandle !== undefined) await flushDirectory(directoryHandle, dir);
      } catch (error) {
        if (!renamed) await removeIfPresent(tempPath);
        const signal = commitOptions.signal;
        if (signal?.aborted === true && error === signal.reason) throw error;
        throw ioError("write", path, error);
      } finally {
        await directoryHandle?.close();
      }
      return stats;
    },
    async discard() {
      // After a commit there is nothing to discard: a failed commit removed its temp file.
      if (settled) return;
      settled = true;
      try {
        await removeIfPresent(tempPath);
      } catch (error) {
        throw ioError("remove", tempPath, error);
      } finally {
        await directoryHandle?.close();
      }
    },
  };
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
  const staged = await stageAtomicWrite(path, data, options);
  return await staged.commit({ signal: options.signal });
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Opens a directory for flushing; `undefined` on Windows, where directories cannot be. */
async function openDirectory(dir: string): Promise<FileHandle | undefined> {
  if (process.platform === "win32") return undefined;
  return await open(dir, "r");
}

async function flushDirectory(handle: FileHandle, dir: string): Promise<void> {
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems (certain FUSE and SMB mounts) refuse to flush a directory; the data
    // itself was flushed before the rename, which is the best such a mount allows.
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw ioError("flush", dir, error);
  }
}

/**
 * Flushes a directory so that a rename or unlink inside it survives a power loss. A no-op on
 * Windows, where directories cannot be opened for flushing.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await openDirectory(dir);
  } catch (error) {
    throw ioError("open directory", dir, error);
  }
  if (handle === undefined) return;
  try {
    await flushDirectory(handle, dir);
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
