import { randomUUID as cryptoRandomUUID } from "node:crypto";
import type { SessionEntry } from "@clawkeep/schema";

export interface BuildResetSessionEntryOptions {
  /** Current time in epoch ms. @default Date.now */
  now?: () => number;
  /** Id of the new session. @default crypto.randomUUID */
  randomUUID?: () => string;
}

/** Fields a reset carries over from the old entry (openclaw 2026.2.12's list). */
export const RESET_KEPT_FIELDS = [
  "thinkingLevel",
  "verboseLevel",
  "reasoningLevel",
  "responseUsage",
  "model",
  "contextTokens",
  "sendPolicy",
  "label",
  "origin",
  "lastChannel",
  "lastTo",
  "skillsSnapshot",
] as const;

/**
 * The entry that replaces a session on `sessions.reset`: a new session id, `updatedAt` now, run
 * flags false, token counters 0, and the user's display and level choices kept
 * ({@link RESET_KEPT_FIELDS}; `origin` copied, not shared). Everything else is dropped. Works
 * without an existing entry.
 */
export function buildResetSessionEntry(
  existing: SessionEntry | undefined,
  options: BuildResetSessionEntryOptions = {},
): SessionEntry {
  const now = (options.now ?? Date.now)();
  const entry: SessionEntry = {
    sessionId: (options.randomUUID ?? cryptoRandomUUID)(),
    updatedAt: now,
    systemSent: false,
    abortedLastRun: false,
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
  };
  if (existing === undefined) return entry;
  const target = entry as Record<string, unknown>;
  for (const field of RESET_KEPT_FIELDS) {
    const value = existing[field];
    if (value === undefined) continue;
    target[field] = field === "origin" && typeof value === "object" ? { ...value } : value;
  }
  return entry;
}
