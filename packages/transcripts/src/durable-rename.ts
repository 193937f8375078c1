import { link, lstat, rename, unlink } from "node:fs/promises";
import { SessionsError } from "@clawkeep/schema";

/** Errors of `link` on file systems without hard links (FAT, some network and FUSE mounts). */
const NO_HARD_LINKS: ReadonlySet<string | undefined> = new Set([
  "EPERM",
  "ENOTSUP",
  "EOPNOTSUPP",
  "ENOSYS",
  "EXDEV",
]);

/**
 * Gives `source` the name `target` unless `target` exists. A hard link makes the no-overwrite
 * check and the new name one atomic step; where hard links are not available, the check and a
 * rename run back to back (callers hold the transcript lock, so no writer of ours races them).
 * Throws `ALREADY_EXISTS` when the target exists. The caller flushes the directory.
 */
export async function renameNoReplace(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw alreadyExists(target, error);
    if (!NO_HARD_LINKS.has(code)) throw error;
    if (await exists(target)) throw alreadyExists(target, error);
    await rename(source, target);
    return;
  }
  await unlink(source);
}

/** Adds the name `target` to the file `source` without removing `source`; `link` where possible. */
export async function linkNoReplace(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw alreadyExists(target, error);
    if (NO_HARD_LINKS.has(code)) return false;
    throw error;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

function alreadyExists(target: string, cause: unknown): SessionsError {
  return new SessionsError("ALREADY_EXISTS", `file exists already: ${target}`, {
    cause,
    details: { path: target },
  });
}
