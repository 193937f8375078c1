import { stat } from "node:fs/promises";
import { resolveSessionTranscriptCandidates, type TranscriptLocator } from "./transcript-paths.ts";

/**
 * What a reader reads: a transcript path that is already resolved, or the openclaw lookup inputs
 * (`sessionId` plus `storePath` / `sessionFile` / `agentId`), from which the first existing
 * candidate is used (see `resolveSessionTranscriptCandidates`). openclaw's positional
 * `(sessionId, storePath, sessionFile, agentId)` becomes `{ sessionId, storePath, sessionFile, agentId }`.
 */
export type TranscriptSource = string | TranscriptLocator;

/** The file a source names, or null when no such transcript exists. */
export async function findTranscriptFile(source: TranscriptSource): Promise<string | null> {
  const candidates =
    typeof source === "string" ? [source] : resolveSessionTranscriptCandidates(source);
  for (const candidate of candidates) {
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
    }
  }
  return null;
}
