import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  normalizeAgentId,
  type SessionEntry,
  type SessionStore,
  SessionsError,
  type SessionsListWarning,
} from "@clawkeep/schema";
import { type Env, loadSessionStore, resolveStateDir, resolveStorePath } from "@clawkeep/store";
import { listConfiguredAgentIds, resolveDefaultAgentId } from "./config/agents.ts";
import type { SessionsConfig } from "./config/sessions-config.ts";
import { normalizeSessionKeyCase } from "./keys/key-case.ts";
import { linkStoreSuccessor } from "./list/select-sessions.ts";

/** Loads one agent's store snapshot. */
export type LoadStoreSnapshot = (storePath: string) => Promise<Readonly<SessionStore>>;

/** The default loader: the cached, frozen snapshot of the file store (`loadSessionStore`). */
export const loadSnapshotFromFile: LoadStoreSnapshot = (storePath) => loadSessionStore(storePath);

export interface LoadCombinedSessionStoreParams {
  cfg: SessionsConfig;
  /** State dir holding `agents/<id>/sessions`. @default resolved from `env` by `@clawkeep/store` */
  stateDir?: string;
  /** Environment for path resolution. @default process.env */
  env?: Env;
  /** How an agent's store is read. @default the file store of `@clawkeep/store` */
  loadStore?: LoadStoreSnapshot;
}

/** One agent store that went into a combined view. */
export interface CombinedStoreSource {
  agentId: string;
  storePath: string;
}

/** Every agent's sessions in one store, keyed by canonical key. */
export interface CombinedSessionStore {
  /** The fixed store path, the raw `{agentId}` template, or `(multiple)`. */
  path: string;
  /** Frozen; shared between calls while no agent store changes. */
  store: Readonly<Record<string, SessionEntry>>;
  /** The stores read, default agent first. */
  sources: CombinedStoreSource[];
  /** Agent stores that could not be read and were skipped; empty when none. */
  warnings: SessionsListWarning[];
}

/** The agents whose stores make up the combined view: configured ones, else the `agents/*` dirs. */
export async function listSessionAgentIds(
  cfg: SessionsConfig,
  stateDir: string,
): Promise<string[]> {
  if (cfg.agents.list.length > 0) return listConfiguredAgentIds(cfg);
  const defaultId = resolveDefaultAgentId(cfg);
  let names: string[] = [];
  try {
    const entries = await readdir(join(stateDir, "agents"), { withFileTypes: true });
    names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
  }
  const others = names.map((name) => normalizeAgentId(name)).filter((id) => id !== defaultId);
  return [defaultId, ...[...new Set(others)].sort()];
}

/**
 * The key an entry of `agentId`'s store has in the combined view: `global` and `unknown` as they
 * are, agent keys as they are, anything else prefixed `agent:<agentId>:`; fixed words lower-cased.
 */
export function toCombinedStoreKey(key: string, agentId: string, mainKey: string): string {
  const normalized = normalizeSessionKeyCase(key, { mainKey });
  if (normalized === "global" || normalized === "unknown") return normalized;
  if (normalized.toLowerCase().startsWith("agent:")) return normalized;
  return `agent:${agentId}:${normalized}`;
}

/** Where one stored entry goes in the combined view. */
interface Placement {
  agentId: string;
  mainKey: string;
  sourceKey: string;
  spawnedBy: unknown;
  combinedKey: string;
  /** The entry itself, or a copy whose `spawnedBy` is canonical. */
  entry: SessionEntry;
}

// The combined view shares entry objects with the agent snapshots whenever it can, so that caches
// keyed by entry identity (search text, sort order) stay warm, and it remembers where each entry
// went, so that a store rewritten with one changed entry is re-keyed at the cost of one lookup
// per unchanged entry rather than one key parse.
const placements = new WeakMap<object, Placement>();

function placeEntry(key: string, entry: SessionEntry, agentId: string, mainKey: string): Placement {
  const spawnedBy = entry.spawnedBy;
  const cached = placements.get(entry);
  if (
    cached !== undefined &&
    cached.sourceKey === key &&
    cached.agentId === agentId &&
    cached.mainKey === mainKey &&
    cached.spawnedBy === spawnedBy
  ) {
    return cached;
  }
  let placed = entry;
  if (typeof spawnedBy === "string" && spawnedBy.trim() !== "") {
    const canonical = toCombinedStoreKey(spawnedBy, agentId, mainKey);
    if (canonical !== spawnedBy) placed = { ...entry, spawnedBy: canonical };
  }
  const placement: Placement = {
    agentId,
    mainKey,
    sourceKey: key,
    spawnedBy,
    combinedKey: toCombinedStoreKey(key, agentId, mainKey),
    entry: placed,
  };
  placements.set(entry, placement);
  return placement;
}

function updatedAtOf(entry: SessionEntry): number {
  return typeof entry.updatedAt === "number" && Number.isFinite(entry.updatedAt)
    ? entry.updatedAt
    : 0;
}

interface CombinedCacheEntry {
  snapshots: readonly object[];
  store: Readonly<Record<string, SessionEntry>>;
}

// One combined view per set of stores: rebuilt only when one of the agent snapshots is a new
// object, that is, when a store changed.
const combinedCache = new Map<string, CombinedCacheEntry>();
const MAX_COMBINED_CACHE_ENTRIES = 16;

function combine(
  loaded: readonly { agentId: string; snapshot: Readonly<SessionStore> }[],
  mainKey: string,
): Readonly<Record<string, SessionEntry>> {
  const combined: Record<string, SessionEntry> = {};
  for (const { agentId, snapshot } of loaded) {
    // Within one store, keys that differ only in the case of fixed words are twins: the newest
    // entry wins whole, as lookups do.
    const own = new Map<string, SessionEntry>();
    for (const key of Object.keys(snapshot)) {
      const entry = snapshot[key];
      if (entry === null || typeof entry !== "object") continue;
      const placement = placeEntry(key, entry, agentId, mainKey);
      const twin = own.get(placement.combinedKey);
      if (twin === undefined || updatedAtOf(placement.entry) > updatedAtOf(twin)) {
        own.set(placement.combinedKey, placement.entry);
      }
    }
    // Across stores the same key is one session seen twice: fields merge, newer values winning.
    for (const [combinedKey, entry] of own) {
      const existing = combined[combinedKey];
      if (existing === undefined) combined[combinedKey] = entry;
      else if (updatedAtOf(entry) > updatedAtOf(existing)) {
        combined[combinedKey] = { ...existing, ...entry };
      } else combined[combinedKey] = { ...entry, ...existing };
    }
  }
  return Object.freeze(combined);
}

function describePath(cfg: SessionsConfig, fixedPath: string | undefined): string {
  const template = cfg.session.store;
  if (template === undefined) return "(multiple)";
  if (template.includes("{agentId}")) return template;
  return fixedPath ?? template;
}

/**
 * Reads every agent's store and merges them into one view keyed by canonical key, as the read
 * methods (`sessions.list`, `sessions.resolve` by id or label) see sessions. Agents come from
 * `agents.list` (default first, then alphabetical), else from the `agents/*` dirs; a fixed
 * `session.store` path is one store for the default agent. An agent store that is corrupt or
 * unreadable is skipped and reported in `warnings`, so one bad agent does not hide the others.
 */
export async function loadCombinedSessionStore(
  params: LoadCombinedSessionStoreParams,
): Promise<CombinedSessionStore> {
  const { cfg } = params;
  const env = params.env ?? process.env;
  const stateDir = params.stateDir ?? resolveStateDir({ env });
  const loadStore = params.loadStore ?? loadSnapshotFromFile;
  const template = cfg.session.store;
  const isFixed = template !== undefined && !template.includes("{agentId}");
  const agentIds = isFixed
    ? [resolveDefaultAgentId(cfg)]
    : await listSessionAgentIds(cfg, stateDir);
  const sources = agentIds.map((agentId) => ({
    agentId,
    storePath: resolveStorePath(template, { agentId, stateDir, env }),
  }));

  const warnings: SessionsListWarning[] = [];
  const loaded: { agentId: string; snapshot: Readonly<SessionStore> }[] = [];
  const readSources: CombinedStoreSource[] = [];
  // Stores are read concurrently; results are taken in agent order.
  const outcomes = await Promise.allSettled(sources.map((source) => loadStore(source.storePath)));
  for (const [index, source] of sources.entries()) {
    const outcome = outcomes[index] as PromiseSettledResult<Readonly<SessionStore>>;
    if (outcome.status === "fulfilled") {
      loaded.push({ agentId: source.agentId, snapshot: outcome.value });
      readSources.push(source);
    } else {
      const error: unknown = outcome.reason;
      if (
        !SessionsError.hasCode(error, "STORE_CORRUPT") &&
        !SessionsError.hasCode(error, "STORE_IO")
      ) {
        throw error;
      }
      warnings.push({
        code: error.code,
        message: `skipped the store of agent ${source.agentId}: ${error.message}`,
        agentId: source.agentId,
        path: source.storePath,
      });
    }
  }

  const cacheKey = JSON.stringify([cfg.session.mainKey, readSources]);
  const snapshots = loaded.map((item) => item.snapshot);
  const cached = combinedCache.get(cacheKey);
  let store: Readonly<Record<string, SessionEntry>>;
  if (
    cached !== undefined &&
    cached.snapshots.length === snapshots.length &&
    cached.snapshots.every((snapshot, index) => snapshot === snapshots[index])
  ) {
    store = cached.store;
  } else {
    store = combine(loaded, cfg.session.mainKey);
    if (cached !== undefined) linkStoreSuccessor(cached.store, store);
    // Only frozen snapshots are known not to change behind the cache's back.
    if (snapshots.every((snapshot) => Object.isFrozen(snapshot))) {
      if (combinedCache.size >= MAX_COMBINED_CACHE_ENTRIES) combinedCache.clear();
      combinedCache.set(cacheKey, { snapshots, store });
    }
  }
  return {
    path: describePath(cfg, isFixed ? sources[0]?.storePath : undefined),
    store,
    sources: readSources,
    warnings,
  };
}
