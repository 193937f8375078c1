import { randomUUID } from "node:crypto";
import type { SessionEntry } from "./session-entry.ts";

export interface MergeSessionEntryOptions {
  /** Clock for `updatedAt`, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

function timestamp(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Applies `patch` over `existing` (a shallow merge) and returns a new entry; neither input is
 * touched. `sessionId` comes from the patch, else the existing entry, else a new UUID.
 * `updatedAt` is the latest of the two entries' and now, so a merge always counts as activity.
 * Keys of `existing` keep their order; keys new to it follow.
 */
export function mergeSessionEntry(
  existing: SessionEntry | undefined,
  patch: Partial<SessionEntry>,
  options: MergeSessionEntryOptions = {},
): SessionEntry {
  const now = options.now ?? Date.now;
  const sessionId = patch.sessionId ?? existing?.sessionId ?? randomUUID();
  const updatedAt = Math.max(timestamp(existing?.updatedAt), timestamp(patch.updatedAt), now());
  return { ...existing, ...patch, sessionId, updatedAt };
}
