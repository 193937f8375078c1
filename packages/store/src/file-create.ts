import { link, lstat, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { createTempFilePath, fsyncDirectory } from "./atomic-write.ts";

/** `link` fails with these where hard links are not available (FAT, some network mounts). */
const LINK_UNSUPPORTED: ReadonlySet<string | undefined> = new Set([
  "EPERM",
  "ENOTSUP",
  "EOPNOTSUPP",
  "ENOSYS",
  "EXDEV",
]);

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** True when something (file, dir or link) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw error;
  }
}

/**
 * Creates `path` with `data` only if nothing is there, so that a crash never leaves a half
 * file under the final name and an existing file is never replaced: the data goes to a temp
 * file beside it (`<path>.<pid>.<random>.tmp`), is flushed, and gets its final name through
 * `link`, which fails when the name is taken. Without hard links, an existence check and a
 * rename run back to back. The directory is flushed afterwards.
 *
 * Returns `"created"`, or `"exists"` when the name was taken (nothing is written then).
 */
export async function createFileExclusively(
  path: string,
  data: string,
  mode = 0o600,
): Promise<"created" | "exists"> {
  const tempPath = createTempFilePath(path);
  let tempExists = false;
  try {
    const handle = await open(tempPath, "wx", mode);
    tempExists = true;
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tempPath, path);
    } catch (error) {
      if (errnoOf(error) === "EEXIST") return "exists";
      if (!LINK_UNSUPPORTED.has(errnoOf(error))) throw error;
      if (await pathExists(path)) return "exists";
      await rename(tempPath, path);
      tempExists = false;
    }
    await fsyncDirectory(dirname(path));
    return "created";
  } catch (error) {
    if (SessionsError.isInstance(error)) throw error;
    throw new SessionsError("STORE_IO", `cannot create ${path}: ${(error as Error).message}`, {
      details: { path, errno: errnoOf(error) },
      cause: error,
    });
  } finally {
    if (tempExists) await removeTempFile(tempPath);
  }
}

/** Best effort: a temp file that cannot be removed is debris `removeOrphanedTempFiles` removes. */
async function removeTempFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Nothing to do here; see above.
  }
}
