import { type BigIntStats, constants } from "node:fs";
import { type FileHandle, open, realpath, stat } from "node:fs/promises";
import { SessionsError } from "@clawkeep/schema";
import { isStrictlyInside, pathEscapeError } from "./transcript-paths.ts";

/** A transcript opened and found to be a regular file inside its sessions dir. */
export interface OpenedTranscript {
  handle: FileHandle;
  /** The file's real path (every symlink resolved) at the time of the check. */
  realPath: string;
}

/** What the path of an open file leads to now. */
type OpenedFileVerdict =
  | { kind: "inside"; realPath: string }
  | { kind: "outside"; realPath: string }
  | { kind: "not-a-file" }
  /** The path names another file than the one opened, or none: it was replaced or removed. */
  | { kind: "changed" };

/** O_NONBLOCK, so that a FIFO planted at the name cannot block the open; regular files ignore it. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const APPEND_FLAGS = constants.O_RDWR | constants.O_APPEND;
/**
 * How often an open is tried when the file is replaced between the open and the check. One
 * replacement is normal (a compaction renames a new file over the old one); more means someone is
 * swapping the name on purpose.
 */
const OPEN_ATTEMPTS = 3;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function isMissing(error: unknown): boolean {
  const code = errnoOf(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

function ioError(action: string, path: string, error: unknown): SessionsError {
  if (SessionsError.isInstance(error)) return error;
  return new SessionsError("STORE_IO", `cannot ${action} transcript: ${path}`, {
    cause: error,
    details: { path, errno: errnoOf(error) },
  });
}

/**
 * Checks the file behind an open handle: the real path `path` names now must be strictly inside
 * the real `root`, and the file there must be the very file opened (same device and inode).
 * Comparing the opened file with the checked path leaves no gap between check and open: whatever
 * `path` named at the open (a symlink swapped in or out meanwhile), the handle is used only when
 * it is that file, inside `root`.
 */
async function checkOpenedFile(
  handle: FileHandle,
  path: string,
  root: string,
): Promise<OpenedFileVerdict> {
  // The three look-ups are independent: run them together, since this check sits on every
  // preview's path and each one is a round trip to the thread pool.
  let opened: BigIntStats;
  let realPath: string;
  let realRoot: string;
  try {
    [opened, realPath, realRoot] = await Promise.all([
      handle.stat({ bigint: true }),
      realpath(path),
      realpath(root),
    ]);
  } catch (error) {
    if (isMissing(error)) return { kind: "changed" };
    throw error;
  }
  if (!opened.isFile()) return { kind: "not-a-file" };
  if (!isStrictlyInside(realRoot, realPath)) return { kind: "outside", realPath };
  let current: BigIntStats;
  try {
    current = await stat(realPath, { bigint: true });
  } catch (error) {
    if (isMissing(error)) return { kind: "changed" };
    throw error;
  }
  if (current.ino !== opened.ino || current.dev !== opened.dev) return { kind: "changed" };
  return { kind: "inside", realPath };
}

/** Runs {@link checkOpenedFile}, closing the handle unless the file is inside. */
async function keepIfInside(
  handle: FileHandle,
  path: string,
  root: string,
): Promise<OpenedFileVerdict> {
  let verdict: OpenedFileVerdict;
  try {
    verdict = await checkOpenedFile(handle, path, root);
  } catch (error) {
    await handle.close();
    throw ioError("check", path, error);
  }
  if (verdict.kind !== "inside") await handle.close();
  return verdict;
}

/**
 * Opens a transcript for reading, but only when it is a regular file whose real path is inside
 * the real `root` (see {@link checkOpenedFile}). Null when there is no regular file at `path`
 * (it may vanish after a lookup). Throws `PATH_ESCAPE` when it leads outside `root`, `STORE_IO`
 * when the file system fails.
 */
export async function openTranscriptForReading(
  path: string,
  root: string,
): Promise<OpenedTranscript | null> {
  for (let attempt = 1; ; attempt += 1) {
    let handle: FileHandle;
    try {
      handle = await open(path, READ_FLAGS);
    } catch (error) {
      if (isMissing(error) || errnoOf(error) === "EISDIR") return null;
      throw ioError("read", path, error);
    }
    const verdict = await keepIfInside(handle, path, root);
    switch (verdict.kind) {
      case "inside":
        return { handle, realPath: verdict.realPath };
      case "not-a-file":
        return null;
      case "outside":
        throw pathEscapeError(path, root, verdict.realPath);
      case "changed":
        if (attempt >= OPEN_ATTEMPTS) throw pathEscapeError(path, root, null);
    }
  }
}

/**
 * Opens a transcript for appending (and reading its tail), creating it when it does not exist.
 * An existing file is opened without O_CREAT and then checked like a read; a new one is created
 * with O_CREAT | O_EXCL, which fails on any symlink at the name (a dangling one too), so nothing
 * is ever created through a link planted after the caller's check. Throws `PATH_ESCAPE` when the
 * file leads outside `root`, `STORE_IO` when it is not a regular file or the file system fails.
 */
export async function openTranscriptForAppending(
  path: string,
  root: string,
): Promise<OpenedTranscript> {
  for (let attempt = 1; ; attempt += 1) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, APPEND_FLAGS);
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw ioError("open", path, error);
    }
    if (handle === undefined) {
      try {
        handle = await open(path, APPEND_FLAGS | constants.O_CREAT | constants.O_EXCL, 0o644);
      } catch (error) {
        // Something appeared at the name since the first open: a file (open it next time) or a
        // dangling symlink (refused once the attempts are used up).
        if (errnoOf(error) !== "EEXIST") throw ioError("create", path, error);
        if (attempt >= OPEN_ATTEMPTS) throw pathEscapeError(path, root, null);
        continue;
      }
    }
    const verdict = await keepIfInside(handle, path, root);
    switch (verdict.kind) {
      case "inside":
        return { handle, realPath: verdict.realPath };
      case "not-a-file":
        throw new SessionsError("STORE_IO", `transcript is not a regular file: ${path}`, {
          details: { path },
        });
      case "outside":
        throw pathEscapeError(path, root, verdict.realPath);
      case "changed":
        if (attempt >= OPEN_ATTEMPTS) throw pathEscapeError(path, root, null);
    }
  }
}
