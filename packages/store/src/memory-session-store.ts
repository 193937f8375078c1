import type { SessionEntry, SessionStore } from "@clawkeep/schema";
import type { HeldFileLock } from "./file-lock.ts";
import type {
  SessionListQuery,
  SessionStoreBackend,
  SessionStoreListener,
  SessionStoreSnapshot,
  SessionStoreWatchOptions,
  SessionTextMatcher,
} from "./session-store-backend.ts";
import { deleteKeys } from "./session-store-operations.ts";
import { StoreState } from "./store-draft.ts";
import { defaultSessionTextMatcher, listEntries } from "./store-list.ts";
import { parseStoreBytes } from "./store-parse.ts";
import type { StoreHost, StoreSession } from "./update-queue.ts";
import { StoreUpdateQueue } from "./update-queue.ts";

export interface MemorySessionStoreOptions {
  /** Text match for `list({ text })`. @default key, sessionId, label, displayName and similar fields */
  matchText?: SessionTextMatcher;
}

/**
 * A session store held in memory, with the file backend's semantics (frozen snapshots,
 * drafts, batches, watch) and no I/O: for tests, and for embedding without a disk. `initial`
 * is copied, so later changes to it are not seen.
 */
export function createMemorySessionStore(
  initial: SessionStore = {},
  options: MemorySessionStoreOptions = {},
): SessionStoreBackend {
  const matchText = options.matchText ?? defaultSessionTextMatcher;
  const parsed = parseStoreBytes("memory", Buffer.from(JSON.stringify(initial)));
  let state = StoreState.of(parsed.snapshot, parsed.keys);
  const watchers = new Set<{
    listener: SessionStoreListener;
    onError?: (error: unknown) => void;
  }>();
  const lock: HeldFileLock = {
    lockPath: "memory",
    signal: new AbortController().signal,
    assertHeld() {},
  };

  const host: StoreHost = {
    label: "memory",
    async open(): Promise<StoreSession> {
      // Nothing else changes this store: the base is always current.
      return {
        base: state,
        async verify() {
          return undefined;
        },
        async stage(working) {
          return {
            async commit() {
              if (working.isEmpty()) return state;
              state = working.build();
              if (watchers.size === 0) return state;
              const change = working.describe(state.snapshot());
              for (const watcher of watchers) {
                try {
                  watcher.listener(change);
                } catch (error) {
                  watcher.onError?.(error);
                }
              }
              return state;
            },
            async discard() {},
          };
        },
        async release() {},
      };
    },
    async exclusive(fn) {
      return await fn(lock);
    },
  };
  const queue = new StoreUpdateQueue(host);
  const updateOptions = { lock: {}, maintenance: undefined };

  return {
    kind: "memory",
    async get(sessionKey) {
      return state.get(sessionKey) as SessionEntry | undefined;
    },
    async snapshot(): Promise<SessionStoreSnapshot> {
      return state.snapshot();
    },
    async update(mutator) {
      return await queue.update(mutator, updateOptions);
    },
    async delete(sessionKeys) {
      return await queue.update((draft) => deleteKeys(draft, sessionKeys), updateOptions);
    },
    async list(query: SessionListQuery = {}) {
      return listEntries(state.keys, state.entries, query, matchText);
    },
    watch(listener: SessionStoreListener, watchOptions: SessionStoreWatchOptions = {}) {
      const watcher = { listener, ...(watchOptions.onError && { onError: watchOptions.onError }) };
      watchers.add(watcher);
      return () => {
        watchers.delete(watcher);
      };
    },
  };
}
