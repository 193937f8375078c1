import type { SessionStore } from "@clawkeep/schema";

/** Deletes `keys` from a mutator's draft and returns the ones that were there. */
export function deleteKeys(draft: SessionStore, keys: readonly string[]): string[] {
  const removed: string[] = [];
  for (const key of new Set(keys)) {
    if (Object.hasOwn(draft, key)) {
      delete draft[key];
      removed.push(key);
    }
  }
  return removed;
}
