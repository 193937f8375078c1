import type { SessionEntry } from "@clawkeep/schema";
import { parseAgentSessionKey } from "@clawkeep/schema";
import type {
  SessionListQuery,
  SessionListResult,
  SessionStoreChange,
  SessionStoreRow,
  SessionStoreSnapshot,
  SessionTextMatcher,
} from "./session-store-backend.ts";

const SEARCHED_FIELDS = ["sessionId", "label", "displayName", "subject", "groupChannel", "space"];

/**
 * The text match used when a store is created without one: case-insensitive substring of the
 * key, `sessionId`, `label`, `displayName`, `subject`, `groupChannel`, `space` or `origin.label`.
 */
export const defaultSessionTextMatcher: SessionTextMatcher = (row, text) => {
  const needle = text.toLowerCase();
  if (row.key.toLowerCase().includes(needle)) return true;
  const entry = row.entry as Record<string, unknown>;
  for (const field of SEARCHED_FIELDS) {
    const value = entry[field];
    if (typeof value === "string" && value.toLowerCase().includes(needle)) return true;
  }
  const originLabel = (entry.origin as { label?: unknown } | undefined)?.label;
  return typeof originLabel === "string" && originLabel.toLowerCase().includes(needle);
};

function updatedAtOf(entry: SessionEntry): number {
  return typeof entry.updatedAt === "number" ? entry.updatedAt : 0;
}

function compareKeys(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Answers a {@link SessionListQuery} from a snapshot, as the file and memory backends do: filter,
 * sort, then page.
 */
export function listSnapshot(
  snapshot: SessionStoreSnapshot,
  query: SessionListQuery = {},
  matchText: SessionTextMatcher = defaultSessionTextMatcher,
): SessionListResult {
  const keys = Object.keys(snapshot);
  return listEntries(
    keys,
    keys.map((key) => snapshot[key]),
    query,
    matchText,
  );
}

/** {@link listSnapshot} over keys and the entries aligned with them. */
export function listEntries(
  keys: readonly string[],
  entries: readonly unknown[],
  query: SessionListQuery,
  matchText: SessionTextMatcher,
): SessionListResult {
  const agentId = query.agentId?.trim().toLowerCase();
  const text = query.text?.trim() ?? "";
  const rows: SessionStoreRow[] = [];
  for (let position = 0; position < keys.length; position += 1) {
    const key = keys[position] as string;
    const entry = entries[position] as SessionEntry | null | undefined;
    if (typeof entry !== "object" || entry === null) continue;
    if (agentId !== undefined && parseAgentSessionKey(key)?.agentId.toLowerCase() !== agentId) {
      continue;
    }
    if (query.spawnedBy !== undefined && entry.spawnedBy !== query.spawnedBy) continue;
    if (query.label !== undefined && entry.label !== query.label) continue;
    const updatedAt = updatedAtOf(entry);
    if (query.updatedAfter !== undefined && updatedAt < query.updatedAfter) continue;
    if (query.updatedBefore !== undefined && updatedAt >= query.updatedBefore) continue;
    const row = { key, entry };
    if (text !== "" && !matchText(row, text)) continue;
    rows.push(row);
  }
  const sort = query.sort ?? "updatedAt-desc";
  rows.sort((left, right) => {
    if (sort === "key-asc") return compareKeys(left.key, right.key);
    const delta = updatedAtOf(left.entry) - updatedAtOf(right.entry);
    const ordered = sort === "updatedAt-asc" ? delta : -delta;
    return ordered !== 0 ? ordered : compareKeys(left.key, right.key);
  });
  const offset = Math.max(Math.floor(query.offset ?? 0), 0);
  const end = query.limit === undefined ? undefined : offset + Math.max(Math.floor(query.limit), 0);
  return { rows: rows.slice(offset, end), total: rows.length };
}

/**
 * Compares two snapshots key by key. Entries that are the same object are unchanged; others are
 * compared by their JSON text, so a re-read of an unchanged entry is not reported.
 */
export function diffSnapshots(
  before: SessionStoreSnapshot,
  after: SessionStoreSnapshot,
): SessionStoreChange {
  const created: string[] = [];
  const patched: string[] = [];
  const deleted: string[] = [];
  for (const key of Object.keys(after)) {
    if (!Object.hasOwn(before, key)) {
      created.push(key);
      continue;
    }
    const previous = before[key];
    const next = after[key];
    if (previous !== next && JSON.stringify(previous) !== JSON.stringify(next)) patched.push(key);
  }
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) deleted.push(key);
  }
  return { created, patched, deleted, snapshot: after };
}
