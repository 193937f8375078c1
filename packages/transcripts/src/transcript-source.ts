import { dirname, resolve } from "node:path";
import { SessionsError } from "@clawkeep/schema";
import { type OpenedTranscript, openTranscriptForReading } from "./open-transcript.ts";
import {
  type ContainedPath,
  resolveTranscriptCandidateLocations,
  type TranscriptLocator,
} from "./transcript-paths.ts";

/**
 * What a reader reads: a transcript path that is already resolved, or the openclaw lookup inputs
 * (`sessionId` plus `storePath` / `sessionFile` / `agentId`), from which the first existing
 * candidate is used (see `resolveSessionTranscriptCandidates`). openclaw's positional
 * `(sessionId, storePath, sessionFile, agentId)` becomes `{ sessionId, storePath, sessionFile, agentId }`.
 *
 * Every candidate must really be inside its sessions dir (symlinks resolved): the store's or
 * agent's dir, the other agent's dir a stored path points into, the legacy dir, or for a path the
 * directory it is in.
 */
export type TranscriptSource = string | TranscriptLocator;

/** A source's transcript, opened and checked, with the path it was found at. */
export interface OpenedTranscriptSource extends OpenedTranscript {
  /** The candidate path (as given, for a path source). */
  file: string;
}

function locationsOf(source: TranscriptSource): ContainedPath[] {
  if (typeof source === "string") return [{ path: source, sessionsDir: dirname(resolve(source)) }];
  return resolveTranscriptCandidateLocations(source);
}

/**
 * Opens the first existing candidate of a source for reading, after checking that its real path
 * is inside its sessions dir; null when no candidate exists. Throws `PATH_ESCAPE` when the first
 * existing candidate leads outside (a symlink out), `INVALID_ID` for a bad session id.
 */
export async function openTranscriptSource(
  source: TranscriptSource,
): Promise<OpenedTranscriptSource | null> {
  for (const { path, sessionsDir } of locationsOf(source)) {
    const opened = await openTranscriptForReading(path, sessionsDir);
    if (opened !== null) return { ...opened, file: path };
  }
  return null;
}

/** An opened source, or why there is none. */
export interface TranscriptOpenResult {
  opened: OpenedTranscriptSource | null;
  /** The candidate that was refused because it leads out of its sessions dir (`PATH_ESCAPE`). */
  escapedPath: string | null;
}

/**
 * {@link openTranscriptSource} for readers, which answer a transcript that leads outside with
 * their empty answer (as for a missing one) and report the refused path instead of throwing.
 */
export async function openTranscriptSourceForReader(
  source: TranscriptSource,
): Promise<TranscriptOpenResult> {
  try {
    return { opened: await openTranscriptSource(source), escapedPath: null };
  } catch (error) {
    if (!SessionsError.hasCode(error, "PATH_ESCAPE")) throw error;
    const path = error.details?.path;
    return { opened: null, escapedPath: typeof path === "string" ? path : "" };
  }
}

/**
 * The file a source names, or null when no such transcript exists. Throws `PATH_ESCAPE` when the
 * first existing candidate leads out of its sessions dir (a symlink out), so a caller never gets
 * a path to read that is not a transcript of the session. The answer holds for the moment of the
 * call; to read, prefer the readers, which check the file they opened.
 */
export async function findTranscriptFile(source: TranscriptSource): Promise<string | null> {
  const opened = await openTranscriptSource(source);
  if (opened === null) return null;
  await opened.handle.close();
  return opened.file;
}
