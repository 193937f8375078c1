import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { resolveSessionTranscriptPathInDir } from "./transcript-paths.ts";

/** Why a transcript was archived: deleted, reset to a new session, or compacted (`bak`). */
export type TranscriptArchiveReason = "deleted" | "reset" | "bak";

export const TRANSCRIPT_ARCHIVE_REASONS: readonly TranscriptArchiveReason[] = [
  "deleted",
  "reset",
  "bak",
];

/** What an archive file name says. */
export interface ParsedArchiveName {
  /** The name of the live transcript it was archived from (`<id>.jsonl`). */
  transcriptName: string;
  reason: TranscriptArchiveReason;
  /** The time as written in the name, with `-` for `:` (`2026-02-12T09-41-07.123Z`). */
  stamp: string;
  /** The same time in epoch milliseconds. */
  archivedAtMs: number;
}

/** An ISO time usable in a file name: `new Date(ms).toISOString()` with `:` replaced by `-`. */
export function formatArchiveTimestamp(ms: number): string {
  return new Date(ms).toISOString().replaceAll(":", "-");
}

const ARCHIVE_NAME =
  /^(.+\.jsonl)\.(deleted|reset|bak)\.(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d{1,3})?Z)$/;

/**
 * Parses `<name>.jsonl.<reason>.<ISO time with - for :>` (a path or a bare name); null for any
 * other file, including `sessions.json.bak.<ms>` store backups.
 */
export function parseArchiveName(pathOrName: string): ParsedArchiveName | null {
  const match = ARCHIVE_NAME.exec(basename(pathOrName));
  if (match === null) return null;
  const [, transcriptName, reason, hour, minute, rest] = match as unknown as [
    string,
    string,
    TranscriptArchiveReason,
    string,
    string,
    string,
  ];
  const archivedAtMs = Date.parse(`${hour}:${minute}:${rest}`);
  if (Number.isNaN(archivedAtMs)) return null;
  return { transcriptName, reason, stamp: `${hour}-${minute}-${rest}`, archivedAtMs };
}

/** The archive path of `file` for a reason and time: `<file>.<reason>.<stamp>`. */
export function resolveTranscriptArchivePath(
  file: string,
  reason: TranscriptArchiveReason,
  ms: number,
): string {
  return `${file}.${reason}.${formatArchiveTimestamp(ms)}`;
}

/** One archive of a transcript. */
export interface TranscriptArchive extends ParsedArchiveName {
  path: string;
}

/** A transcript named by its session id in a sessions dir. */
export interface TranscriptArchiveLookup {
  sessionId: string;
  sessionsDir: string;
  topicId?: string | number;
}

/**
 * The archives of one transcript (`<file>.deleted|reset|bak.<time>`), newest first. Takes the
 * transcript's path, or its session id and sessions dir.
 */
export async function listTranscriptArchives(
  target: string | TranscriptArchiveLookup,
): Promise<TranscriptArchive[]> {
  const file =
    typeof target === "string"
      ? target
      : resolveSessionTranscriptPathInDir(target.sessionId, target.sessionsDir, target.topicId);
  const dir = dirname(file);
  const name = basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
  const archives: TranscriptArchive[] = [];
  for (const entry of names) {
    const parsed = parseArchiveName(entry);
    if (parsed === null || parsed.transcriptName !== name) continue;
    archives.push({ ...parsed, path: join(dir, entry) });
  }
  return archives.sort(
    (left, right) => right.archivedAtMs - left.archivedAtMs || right.path.localeCompare(left.path),
  );
}
