import { normalizeAgentId, type SessionEntry } from "@clawkeep/schema";
import { normalizeSessionKeyCase } from "../keys/key-case.ts";
import { type EntryFacts, getEntryFacts, SEARCH_FIELD_SEPARATOR } from "./entry-facts.ts";

/** The filters of a listing, without paging; shared by `sessions.list` and `sessions.resolve`. */
export interface SessionFilters {
  /** Only `agent:<agentId>:…` keys (normalised); drops `global`, `unknown` and bare keys. */
  agentId?: string | undefined;
  /** Only sessions whose `spawnedBy` is this key. */
  spawnedBy?: string | undefined;
  /** Only sessions whose label equals this (trimmed) label. */
  label?: string | undefined;
  /** Trimmed, case-insensitive substring of display name, label, subject, session id or key. */
  search?: string | undefined;
  /** List the `global` session. @default false */
  includeGlobal?: boolean | undefined;
  /** List the `unknown` session. @default false */
  includeUnknown?: boolean | undefined;
  /** Only sessions updated within this many minutes (floored, at least 1). */
  activeMinutes?: number | undefined;
}

interface CompiledFilters {
  includeGlobal: boolean;
  includeUnknown: boolean;
  agentId: string | undefined;
  spawnedBy: string | undefined;
  spawnedByCanonical: string | undefined;
  label: string | undefined;
  search: string | undefined;
  activeSince: number | undefined;
}

// Search texts join fields with U+0000 and rows with U+0001; a search term never contains them,
// so a match never spans two fields or two rows.
const ROW_SEPARATOR = "\u0001";

function compileFilters(filters: SessionFilters, now: number): CompiledFilters {
  const agentId = filters.agentId?.trim();
  const spawnedBy = filters.spawnedBy?.trim();
  const label = filters.label?.trim();
  const search = filters.search
    ?.trim()
    .toLowerCase()
    .replaceAll(SEARCH_FIELD_SEPARATOR, "")
    .replaceAll(ROW_SEPARATOR, "");
  const minutes = filters.activeMinutes;
  return {
    includeGlobal: filters.includeGlobal === true,
    includeUnknown: filters.includeUnknown === true,
    agentId: agentId ? normalizeAgentId(agentId) : undefined,
    spawnedBy: spawnedBy || undefined,
    spawnedByCanonical: spawnedBy ? normalizeSessionKeyCase(spawnedBy) : undefined,
    label: label || undefined,
    search: search || undefined,
    activeSince:
      typeof minutes === "number" && Number.isFinite(minutes)
        ? now - Math.max(1, Math.floor(minutes)) * 60_000
        : undefined,
  };
}

/** Every filter except the text search. */
function matchesFields(facts: EntryFacts, entry: SessionEntry, filters: CompiledFilters): boolean {
  if (facts.isCronRun) return false;
  if (facts.kind === "global" && !filters.includeGlobal) return false;
  if (facts.kind === "unknown" && !filters.includeUnknown) return false;
  if (filters.agentId !== undefined && facts.agentId !== filters.agentId) return false;
  if (filters.spawnedBy !== undefined) {
    if (facts.kind === "global" || facts.kind === "unknown") return false;
    const own = entry.spawnedBy;
    if (typeof own !== "string") return false;
    if (own !== filters.spawnedBy && normalizeSessionKeyCase(own) !== filters.spawnedByCanonical) {
      return false;
    }
  }
  if (filters.label !== undefined && entry.label !== filters.label) return false;
  if (filters.activeSince !== undefined && facts.updatedAt < filters.activeSince) return false;
  return true;
}

function compareFacts(left: EntryFacts, right: EntryFacts): number {
  if (left.updatedAt !== right.updatedAt) return right.updatedAt - left.updatedAt;
  if (left.key === right.key) return 0;
  return left.key < right.key ? -1 : 1;
}

/** A store's sessions in list order, with what the filters read. */
interface StoreIndex {
  facts: EntryFacts[];
  entries: SessionEntry[];
  /** Every row's search text in list order, joined by the row separator; built on first search. */
  searchBlob?: string;
  /** Where each row's text starts in `searchBlob`, plus the blob's length at the end. */
  rowStarts?: Uint32Array;
}

// The index of a frozen store is built once per store object: a frozen snapshot (and, by the
// store's contract, each entry in it) never changes, so a warm listing costs one pass over an
// array, and a warm search a few `indexOf` calls over one string. A store that is not frozen is
// indexed on every call.
const indexCache = new WeakMap<object, StoreIndex>();

function buildIndex(store: Readonly<Record<string, SessionEntry>>): StoreIndex {
  const rows: { facts: EntryFacts; entry: SessionEntry }[] = [];
  for (const key of Object.keys(store)) {
    const entry = store[key];
    if (entry !== undefined && entry !== null) {
      rows.push({ facts: getEntryFacts(key, entry), entry });
    }
  }
  rows.sort((left, right) => compareFacts(left.facts, right.facts));
  return { facts: rows.map((row) => row.facts), entries: rows.map((row) => row.entry) };
}

/**
 * The index of `store` from the index of the store it replaced: rows whose key still holds the
 * same entry object keep their place (their order cannot have changed), the other rows are
 * sorted and merged in. A change of a few sessions costs a pass, not a sort of every row.
 */
function updateIndex(
  store: Readonly<Record<string, SessionEntry>>,
  previous: StoreIndex,
): StoreIndex {
  const kept: number[] = [];
  const keptKeys = new Set<string>();
  for (let row = 0; row < previous.facts.length; row += 1) {
    const facts = previous.facts[row] as EntryFacts;
    if (Object.hasOwn(store, facts.key) && store[facts.key] === previous.entries[row]) {
      kept.push(row);
      keptKeys.add(facts.key);
    }
  }
  const added: { facts: EntryFacts; entry: SessionEntry }[] = [];
  for (const key of Object.keys(store)) {
    if (keptKeys.has(key)) continue;
    const entry = store[key];
    if (entry !== undefined && entry !== null) {
      added.push({ facts: getEntryFacts(key, entry), entry });
    }
  }
  added.sort((left, right) => compareFacts(left.facts, right.facts));
  const facts: EntryFacts[] = [];
  const entries: SessionEntry[] = [];
  let next = 0;
  for (const row of kept) {
    const keptFacts = previous.facts[row] as EntryFacts;
    while (
      next < added.length &&
      compareFacts((added[next] as { facts: EntryFacts }).facts, keptFacts) < 0
    ) {
      const item = added[next] as { facts: EntryFacts; entry: SessionEntry };
      facts.push(item.facts);
      entries.push(item.entry);
      next += 1;
    }
    facts.push(keptFacts);
    entries.push(previous.entries[row] as SessionEntry);
  }
  for (; next < added.length; next += 1) {
    const item = added[next] as { facts: EntryFacts; entry: SessionEntry };
    facts.push(item.facts);
    entries.push(item.entry);
  }
  return { facts, entries };
}

// A frozen store that replaces another (the next combined view after one agent store changed)
// is indexed from the index of the one it replaces.
const predecessors = new WeakMap<object, object>();

/**
 * Records that frozen `next` replaces frozen `previous`, so that indexing `next` can start from
 * the index of `previous` instead of sorting every row again.
 */
export function linkStoreSuccessor(
  previous: Readonly<Record<string, SessionEntry>>,
  next: Readonly<Record<string, SessionEntry>>,
): void {
  if (previous !== next && Object.isFrozen(previous) && Object.isFrozen(next)) {
    predecessors.set(next, previous);
  }
}

function indexOfStore(store: Readonly<Record<string, SessionEntry>>): {
  index: StoreIndex;
  cached: boolean;
} {
  if (!Object.isFrozen(store)) return { index: buildIndex(store), cached: false };
  let index = indexCache.get(store);
  if (index === undefined) {
    const predecessor = predecessors.get(store);
    const previous = predecessor === undefined ? undefined : indexCache.get(predecessor);
    index = previous === undefined ? buildIndex(store) : updateIndex(store, previous);
    indexCache.set(store, index);
    // The chain is only needed once; dropping it lets the old store be collected.
    predecessors.delete(store);
  }
  return { index, cached: true };
}

function ensureSearchBlob(index: StoreIndex): { blob: string; rowStarts: Uint32Array } {
  if (index.searchBlob !== undefined && index.rowStarts !== undefined) {
    return { blob: index.searchBlob, rowStarts: index.rowStarts };
  }
  const rowStarts = new Uint32Array(index.facts.length + 1);
  let position = 0;
  for (let row = 0; row < index.facts.length; row += 1) {
    rowStarts[row] = position;
    position += (index.facts[row] as EntryFacts).searchText.length + ROW_SEPARATOR.length;
  }
  rowStarts[index.facts.length] = position;
  const blob = index.facts.map((facts) => facts.searchText).join(ROW_SEPARATOR);
  index.searchBlob = blob;
  index.rowStarts = rowStarts;
  return { blob, rowStarts };
}

/** The row whose text contains `position`: the last row starting at or before it. */
function rowAt(rowStarts: Uint32Array, position: number): number {
  let low = 0;
  let high = rowStarts.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((rowStarts[middle] as number) <= position) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * Calls `visit` for every session of `store` that passes `filters`, in list order: `updatedAt`
 * newest first (missing counts as 0), then key. Cron run sessions never pass; `global` and
 * `unknown` only when included.
 */
export function forEachMatchingSession(
  store: Readonly<Record<string, SessionEntry>>,
  filters: SessionFilters,
  now: number,
  visit: (key: string, entry: SessionEntry) => void,
): void {
  const compiled = compileFilters(filters, now);
  const { index, cached } = indexOfStore(store);
  const { facts, entries } = index;
  const needle = compiled.search;
  if (needle !== undefined && cached) {
    const { blob, rowStarts } = ensureSearchBlob(index);
    let from = 0;
    for (;;) {
      const position = blob.indexOf(needle, from);
      if (position === -1) break;
      const row = rowAt(rowStarts, position);
      const rowFacts = facts[row] as EntryFacts;
      const entry = entries[row] as SessionEntry;
      if (matchesFields(rowFacts, entry, compiled)) visit(rowFacts.key, entry);
      // One match per row is enough: continue at the next row.
      from = rowStarts[row + 1] as number;
    }
    return;
  }
  for (let row = 0; row < facts.length; row += 1) {
    const rowFacts = facts[row] as EntryFacts;
    const entry = entries[row] as SessionEntry;
    if (!matchesFields(rowFacts, entry, compiled)) continue;
    if (needle !== undefined && !rowFacts.searchText.includes(needle)) continue;
    visit(rowFacts.key, entry);
  }
}

/** The keys of the sessions of `store` that pass `filters`, in list order. */
export function selectSessionKeys(
  store: Readonly<Record<string, SessionEntry>>,
  filters: SessionFilters,
  options: { now?: number } = {},
): string[] {
  const keys: string[] = [];
  forEachMatchingSession(store, filters, options.now ?? Date.now(), (key) => {
    keys.push(key);
  });
  return keys;
}
