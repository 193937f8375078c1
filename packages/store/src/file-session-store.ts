import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import type { FileLockOptions } from "./file-lock.ts";
import type { SessionMaintenancePolicy } from "./maintenance.ts";
import type {
  SessionListQuery,
  SessionStoreBackend,
  SessionStoreMutator,
  SessionStoreSnapshot,
  SessionStoreWatchOptions,
  SessionTextMatcher,
} from "./session-store-backend.ts";
import { deleteKeys } from "./session-store-operations.ts";
import { getFileStoreCore } from "./store-file.ts";
import { defaultSessionTextMatcher, listEntries } from "./store-list.ts";

export interface FileSessionStoreOptions extends FileLockOptions {
  /**
   * How long a read is served from memory when the file's mtime and size are unchanged. `0`
   * reads the file on every call (a read still costs no parse when the bytes are unchanged).
   * Writes never trust the cache: they compare the bytes under the lock.
   * @default `CLAWKEEP_SESSION_CACHE_TTL_MS`, else `OPENCLAW_SESSION_CACHE_TTL_MS`, else 45000
   */
  cacheTtlMs?: number;
  /** Maintenance applied on every write through this instance. @default none */
  maintenance?: SessionMaintenancePolicy;
  /** Text match for `list({ text })`. @default key, sessionId, label, displayName and similar fields */
  matchText?: SessionTextMatcher;
  /**
   * Quiet time after a change of the directory before the file is re-read for watchers. A
   * writer's temp file and rename arrive as several events; one read follows them.
   * @default 50
   */
  watchDebounceMs?: number;
}

/** The `sessions.json` backend of the seam. */
export interface FileSessionStore extends SessionStoreBackend {
  readonly kind: "file";
  /** Absolute path of `sessions.json`. */
  readonly storePath: string;
  /**
   * Replaces the whole store with `store` (what `saveSessionStore` does): keys missing from it
   * are removed, and the file follows its key order.
   */
  replace(store: SessionStoreSnapshot): Promise<void>;
}

/**
 * The seam over one `sessions.json`. Instances for the same path share one cache and one write
 * queue with each other and with the module functions (`loadSessionStore`, `updateSessionStore`,
 * …), so updates from all of them are batched together.
 */
export function createFileSessionStore(
  storePath: string,
  options: FileSessionStoreOptions = {},
): FileSessionStore {
  const settings = {
    lock: {
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(options.staleMs !== undefined && { staleMs: options.staleMs }),
    },
    maintenance: options.maintenance,
    cacheTtlMs: options.cacheTtlMs,
    matchText: options.matchText ?? defaultSessionTextMatcher,
    watchDebounceMs: options.watchDebounceMs ?? 50,
  };
  const core = getFileStoreCore(storePath);
  const load = () => core.load({ cacheTtlMs: settings.cacheTtlMs });

  return {
    kind: "file",
    storePath: core.storePath,
    async get(sessionKey) {
      return (await load()).get(sessionKey) as SessionEntry | undefined;
    },
    async snapshot() {
      return (await load()).snapshot();
    },
    async update<T>(mutator: SessionStoreMutator<T>) {
      return await core.queue.update(mutator, settings);
    },
    async replace(store: SessionStore) {
      await core.queue.replace(store, settings);
    },
    async delete(sessionKeys) {
      return await core.queue.update((draft) => deleteKeys(draft, sessionKeys), settings);
    },
    async list(query: SessionListQuery = {}) {
      const state = await load();
      return listEntries(state.keys, state.entries, query, settings.matchText);
    },
    watch(listener, watchOptions: SessionStoreWatchOptions = {}) {
      return core.watch(listener, { ...watchOptions, debounceMs: settings.watchDebounceMs });
    },
  };
}
