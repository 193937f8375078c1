import type { SessionEntry } from "./session-entry.ts";

// Field names older openclaw versions wrote, and the names that replaced them.
const RENAMES = [
  ["provider", "channel"],
  ["lastProvider", "lastChannel"],
  ["room", "groupChannel"],
] as const;

/**
 * Renames the fields older openclaw versions wrote: `provider` → `channel`, `lastProvider` →
 * `lastChannel`, `room` → `groupChannel`. A legacy value is moved only when the new field holds
 * no string; a `provider` or `lastProvider` that was not moved stays, a stray `room` is dropped
 * (as openclaw does on load).
 *
 * Returns the same object when there is nothing to migrate, else a new one: untouched keys keep
 * their order and a renamed field is appended, where openclaw's own migration puts it.
 */
export function migrateLegacySessionEntry(entry: SessionEntry): SessionEntry {
  let next: Record<string, unknown> | undefined;
  for (const [legacy, current] of RENAMES) {
    const source: Record<string, unknown> = next ?? entry;
    if (!Object.hasOwn(source, legacy)) continue;
    const moves = typeof source[current] !== "string" && typeof source[legacy] === "string";
    if (!moves && legacy !== "room") continue;
    next ??= { ...entry };
    if (moves) next[current] = next[legacy];
    delete next[legacy];
  }
  return (next as SessionEntry | undefined) ?? entry;
}
