import {
  normalizeAgentId,
  parseAgentSessionKey,
  type SessionChangeAction,
  type SessionsChangedEvent,
} from "@clawkeep/schema";
import { toCombinedStoreKey } from "@clawkeep/session-utils";
import type { SessionStoreBackend, SessionStoreChange } from "@clawkeep/store";
import type { Logger } from "./logger.ts";

/** One store the feed watches. */
export interface WatchedStore {
  agentId: string;
  storePath: string;
  /** The configured main key, so that the store's keys are re-keyed as `sessions.list` shows them. */
  mainKey: string;
  backend: SessionStoreBackend;
}

/** A change a handler is about to commit, named by what the caller asked for. */
export interface ExpectedChange {
  /**
   * Ends the expectation. When the handler changed something (`changed`) that no store commit
   * reported, as when compaction shortened a transcript but the entry came out equal, the event
   * is sent here instead.
   */
  finish(changed: boolean): void;
}

export interface SessionChangeFeedOptions {
  /** Receives every change; the gateway sends it to subscribed connections. */
  publish: (event: SessionsChangedEvent) => void;
  /** Receives stores that cannot be read and failing watchers. @default drops them */
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Turns store changes into `sessions.changed` events. It watches each agent store through the
 * store seam, which reports every commit of this process exactly once and notices other
 * processes' writes by watching the store's directory (debounced, diffed against the last
 * snapshot). Handlers only label their own commits (`reset`, `compacted`) beforehand; they never
 * send an event beside the store's, so nothing is reported twice.
 */
export interface SessionChangeFeed {
  /** True once the first store is watched. */
  readonly active: boolean;
  /**
   * Starts watching a store unless it is watched already, and waits until its current state is
   * known, so that later changes are reported against it and none is missed.
   */
  watch(store: WatchedStore): Promise<void>;
  /** Labels the next commits of `key` in `storePath` with `action` until `finish` is called. */
  expect(
    storePath: string,
    agentId: string,
    key: string,
    action: SessionChangeAction,
  ): ExpectedChange;
  /** Stops every watcher. */
  close(): void;
}

interface Expectation {
  action: SessionChangeAction;
  reported: boolean;
}

interface KeyChange {
  created: boolean;
  patched: boolean;
  deleted: boolean;
}

export function createSessionChangeFeed(options: SessionChangeFeedOptions): SessionChangeFeed {
  const now = options.now ?? Date.now;
  const watchers = new Map<string, { mainKey: string; stop: () => void }>();
  const expectations = new Map<string, Map<string, Expectation[]>>();
  let closed = false;

  function onChange(store: WatchedStore, change: SessionStoreChange): void {
    const byKey = new Map<string, KeyChange>();
    const note = (keys: readonly string[], field: keyof KeyChange) => {
      for (const key of keys) {
        const combined = toCombinedStoreKey(key, store.agentId, store.mainKey);
        let entry = byKey.get(combined);
        if (entry === undefined) {
          entry = { created: false, patched: false, deleted: false };
          byKey.set(combined, entry);
        }
        entry[field] = true;
      }
    };
    note(change.created, "created");
    note(change.patched, "patched");
    note(change.deleted, "deleted");
    const labels = expectations.get(store.storePath);
    const onlyDeleted: string[] = [];
    for (const [key, seen] of byKey) {
      if (seen.deleted && !seen.created && !seen.patched) onlyDeleted.push(key);
    }
    const remaining = keysStillStored(change, onlyDeleted, store);
    const ts = now();
    for (const [key, seen] of byKey) {
      const expected = labels?.get(key)?.at(-1);
      let action: SessionChangeAction;
      if (expected !== undefined) {
        expected.reported = true;
        action = expected.action;
      } else if (seen.patched || (seen.created && seen.deleted)) {
        // A spelling moved to the canonical key (created + deleted) is the same session changed.
        action = "patched";
      } else if (seen.created) {
        action = "created";
      } else if (remaining.has(key)) {
        // One twin spelling removed while another remains: the session is still there.
        action = "patched";
      } else {
        action = "deleted";
      }
      emit({ key, agentId: agentOf(key, store.agentId), action, ts });
    }
  }

  function emit(event: SessionsChangedEvent): void {
    try {
      options.publish(event);
    } catch (error) {
      // Delivery is the gateway's; a failure there must not undo or fail the commit.
      options.logger?.warn("sessions.changed delivery failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  return {
    get active() {
      return watchers.size > 0;
    },

    async watch(store) {
      if (closed) return;
      const existing = watchers.get(store.storePath);
      if (existing !== undefined && existing.mainKey === store.mainKey) return;
      existing?.stop();
      const stop = store.backend.watch((change) => onChange(store, change), {
        onError: (error) =>
          options.logger?.warn("cannot read a changed session store", {
            path: store.storePath,
            error: error instanceof Error ? error.message : String(error),
          }),
      });
      watchers.set(store.storePath, { mainKey: store.mainKey, stop });
      try {
        // Reading the store now gives the watcher its baseline; a corrupt store has none yet and
        // is compared from its first readable state on.
        await store.backend.snapshot();
      } catch (error) {
        options.logger?.warn("cannot read a watched session store", {
          path: store.storePath,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    },

    expect(storePath, agentId, key, action) {
      let labels = expectations.get(storePath);
      if (labels === undefined) {
        labels = new Map();
        expectations.set(storePath, labels);
      }
      const expectation: Expectation = { action, reported: false };
      const list = labels.get(key) ?? [];
      list.push(expectation);
      labels.set(key, list);
      return {
        finish(changed) {
          const current = expectations.get(storePath)?.get(key);
          if (current !== undefined) {
            const index = current.indexOf(expectation);
            if (index !== -1) current.splice(index, 1);
            if (current.length === 0) expectations.get(storePath)?.delete(key);
          }
          if (expectations.get(storePath)?.size === 0) expectations.delete(storePath);
          if (changed && !expectation.reported && watchers.has(storePath)) {
            emit({ key, agentId, action, ts: now() });
          }
        },
      };
    },

    close() {
      closed = true;
      for (const watcher of watchers.values()) watcher.stop();
      watchers.clear();
    },
  };
}

/** The agent a combined key belongs to; a fixed store shared by every agent holds several. */
function agentOf(key: string, storeAgentId: string): string {
  const parsed = parseAgentSessionKey(key);
  return parsed === null ? storeAgentId : normalizeAgentId(parsed.agentId);
}

/**
 * The deleted keys (combined spelling) whose session is still stored under another spelling, in
 * one pass over the snapshot. A stored key can only re-key to a deleted key that equals it or is it
 * prefixed with `agent:<id>:` (case aside), so most keys are passed over by two set lookups.
 */
function keysStillStored(
  change: SessionStoreChange,
  deleted: readonly string[],
  store: WatchedStore,
): Set<string> {
  const remaining = new Set<string>();
  if (deleted.length === 0) return remaining;
  const wanted = new Set(deleted);
  const lowered = new Set(deleted.map((key) => key.toLowerCase()));
  const prefix = `agent:${store.agentId}:`.toLowerCase();
  for (const key of Object.keys(change.snapshot)) {
    const lower = key.trim().toLowerCase();
    if (!lowered.has(lower) && !lowered.has(prefix + lower)) continue;
    const combined = toCombinedStoreKey(key, store.agentId, store.mainKey);
    if (wanted.has(combined)) remaining.add(combined);
  }
  return remaining;
}
