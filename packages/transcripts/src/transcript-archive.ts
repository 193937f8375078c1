import { unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { fsyncDirectory } from "@clawkeep/store";
import {
  parseArchiveName,
  resolveTranscriptArchivePath,
  TRANSCRIPT_ARCHIVE_REASONS,
  type TranscriptArchiveReason,
} from "./archive-names.ts";
import { exists, renameNoReplace } from "./durable-rename.ts";
import { type TranscriptLockOptions, withTranscriptLock } from "./transcript-lock.ts";

/** Options of the archive operations. */
export interface ArchiveTranscriptOptions {
  /** How the transcript lock is taken; an archive waits for a running append or agent run. */
  lock?: TranscriptLockOptions;
  /** Clock for the archive name. @default Date.now */
  now?: () => number;
}

/** How many later milliseconds are tried when an archive of the same name exists already. */
const NAME_ATTEMPTS = 1000;

function ioError(action: string, path: string, error: unknown): SessionsError {
  if (SessionsError.isInstance(error)) return error;
  return new SessionsError("STORE_IO", `cannot ${action}: ${path}`, {
    cause: error,
    details: { path, errno: (error as NodeJS.ErrnoException).code },
  });
}

/** Moves a transcript to an archive name; the caller holds the lock. */
async function moveToArchive(
  file: string,
  reason: TranscriptArchiveReason,
  now: () => number,
): Promise<string> {
  const start = now();
  for (let attempt = 0; ; attempt += 1) {
    const archive = resolveTranscriptArchivePath(file, reason, start + attempt);
    try {
      await renameNoReplace(file, archive);
      return archive;
    } catch (error) {
      if (!SessionsError.hasCode(error, "ALREADY_EXISTS") || attempt + 1 >= NAME_ATTEMPTS) {
        throw error;
      }
    }
  }
}

/**
 * Renames a transcript to `<file>.<reason>.<ISO time, - for :>` (`deleted` by a delete, `reset`
 * by a reset, `bak` for a kept copy), durably: the directory is flushed after the rename. Never
 * overwrites an archive (a name taken in the same millisecond moves to the next one). Returns the
 * archive path, or null when there is no transcript.
 */
export async function archiveTranscript(
  file: string,
  reason: TranscriptArchiveReason,
  options: ArchiveTranscriptOptions = {},
): Promise<string | null> {
  if (!TRANSCRIPT_ARCHIVE_REASONS.includes(reason)) {
    throw new SessionsError("INVALID_PARAMS", `invalid archive reason for ${file}: ${reason}`, {
      details: { path: file, field: "reason" },
    });
  }
  const path = resolve(file);
  const now = options.now ?? Date.now;
  if (!(await exists(path))) return null;
  return withTranscriptLock(
    path,
    async () => {
      if (!(await exists(path))) return null;
      let archive: string;
      try {
        archive = await moveToArchive(path, reason, now);
      } catch (error) {
        throw ioError("archive transcript", path, error);
      }
      await fsyncDirectory(dirname(path));
      return archive;
    },
    options.lock,
  );
}

/** Options of {@link deleteTranscript}. */
export interface DeleteTranscriptOptions extends ArchiveTranscriptOptions {
  /** Keep the transcript as `<file>.deleted.<time>` instead of unlinking it. @default true */
  archive?: boolean;
}

/** What {@link deleteTranscript} did. */
export interface DeletedTranscript {
  /** False when there was no transcript. */
  deleted: boolean;
  /** The archive path when the transcript was archived. */
  archived: string | null;
}

/** Deletes a transcript: archived as `<file>.deleted.<time>` by default, else unlinked (durably). */
export async function deleteTranscript(
  file: string,
  options: DeleteTranscriptOptions = {},
): Promise<DeletedTranscript> {
  if (options.archive ?? true) {
    const archived = await archiveTranscript(file, "deleted", options);
    return { deleted: archived !== null, archived };
  }
  const path = resolve(file);
  if (!(await exists(path))) return { deleted: false, archived: null };
  return withTranscriptLock(
    path,
    async () => {
      try {
        await unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          return { deleted: false, archived: null };
        }
        throw ioError("delete transcript", path, error);
      }
      await fsyncDirectory(dirname(path));
      return { deleted: true, archived: null };
    },
    options.lock,
  );
}

/**
 * Moves an archive back to its live name (`<id>.jsonl`), durably and under the live transcript's
 * lock. Refuses with `ALREADY_EXISTS` when a live transcript exists: restoring never overwrites a
 * session's current history. Throws `INVALID_PARAMS` for a name that is not an archive. Returns the
 * live path.
 */
export async function restoreTranscriptArchive(
  archivePath: string,
  options: Omit<ArchiveTranscriptOptions, "now"> = {},
): Promise<string> {
  const archive = resolve(archivePath);
  const parsed = parseArchiveName(archive);
  if (parsed === null) {
    throw new SessionsError("INVALID_PARAMS", `not a transcript archive: ${archive}`, {
      details: { path: archive },
    });
  }
  const live = join(dirname(archive), parsed.transcriptName);
  return withTranscriptLock(
    live,
    async () => {
      if (!(await exists(archive))) {
        throw new SessionsError("STORE_IO", `transcript archive not found: ${archive}`, {
          details: { path: archive, errno: "ENOENT" },
        });
      }
      try {
        await renameNoReplace(archive, live);
      } catch (error) {
        if (SessionsError.hasCode(error, "ALREADY_EXISTS")) {
          throw new SessionsError(
            "ALREADY_EXISTS",
            `a live transcript exists, not restoring over it: ${live}`,
            { cause: error, details: { path: live, archivePath: archive } },
          );
        }
        throw ioError("restore transcript archive", archive, error);
      }
      await fsyncDirectory(dirname(live));
      return live;
    },
    options.lock,
  );
}
