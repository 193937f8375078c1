import type { SessionEntry, SessionStore } from "@clawkeep/schema";

/**
 * A store as the seam hands it out: shared by every reader and deeply frozen at run time (an
 * assignment anywhere inside throws a `TypeError` in strict-mode code such as ES modules).
 * Spread it (`{ ...snapshot }`) for a top-level copy that can gain or lose keys; the entries
 * inside stay frozen.
 */
export type SessionStoreSnapshot = Readonly<SessionStore>;

/**
 * Changes a store through a draft. The draft looks and behaves like the store object: read,
 * assign, `delete`, iterate. Reading an entry returns a private mutable copy of that entry
 * (copy-on-write of the entries the mutator touches, never of the whole store). The changes are
 * committed only when the mutator returns (or its promise resolves); when it throws, they are
 * dropped and nothing is written for it. The draft is revoked once the mutator has settled.
 *
 * A mutator may run more than once for one update: the file backend runs it on its cached state
 * while it checks the file, and again on the fresh state when another process has changed the
 * store. Only the last run counts (its changes, its result or its error), so a mutator must act
 * only on the draft it is given and return its result, without side effects elsewhere.
 */
export type SessionStoreMutator<T> = (draft: SessionStore) => T | Promise<T>;

/** One row of a {@link SessionListQuery} result. */
export interface SessionStoreRow {
  key: string;
  entry: SessionEntry;
}

/**
 * Decides whether a row matches a free-text search. session-utils supplies one that also sees
 * derived values (a group's display name, the key's kind); a SQL backend would keep the same
 * text in an indexed column.
 */
export type SessionTextMatcher = (row: SessionStoreRow, text: string) => boolean;

export type SessionListSort = "updatedAt-desc" | "updatedAt-asc" | "key-asc";

/** A declarative listing request; every backend answers it, the SQL ones with an index. */
export interface SessionListQuery {
  /** Only keys `agent:<agentId>:…` (agent id compared case-insensitively). */
  agentId?: string;
  /** Only entries whose `spawnedBy` equals this key. */
  spawnedBy?: string;
  /** Only entries whose `label` equals this label. */
  label?: string;
  /** Only entries with `updatedAt >= updatedAfter` (epoch ms). */
  updatedAfter?: number;
  /** Only entries with `updatedAt < updatedBefore` (epoch ms). */
  updatedBefore?: number;
  /** Free-text search through the store's text matcher; an empty string matches everything. */
  text?: string;
  /**
   * Row order. Ties in `updatedAt` are broken by key ascending so pages never repeat or skip a row.
   * @default "updatedAt-desc"
   */
  sort?: SessionListSort;
  /** Rows to skip after filtering and sorting. @default 0 */
  offset?: number;
  /** At most this many rows. @default no limit */
  limit?: number;
}

export interface SessionListResult {
  rows: SessionStoreRow[];
  /** Rows matching the filters before `offset` and `limit`. */
  total: number;
}

/** What changed in one commit or one external rewrite, by key. */
export interface SessionStoreChange {
  created: string[];
  patched: string[];
  deleted: string[];
  /** The store after the change. */
  snapshot: SessionStoreSnapshot;
}

export type SessionStoreListener = (change: SessionStoreChange) => void;

export interface SessionStoreWatchOptions {
  /**
   * Called when a change made by another process cannot be read (for example a corrupt file).
   * @default errors are ignored and the last good snapshot stays
   */
  onError?: (error: unknown) => void;
}

/**
 * The seam between clawkeep and where session entries live: one instance per store (one agent's
 * `sessions.json`, or one table partition). Every method is async so that a database backend fits
 * behind it. A backend is correct when it passes `describeSessionStoreContract` from
 * `@clawkeep/store/testing`.
 */
export interface SessionStoreBackend {
  /** Short backend name for logs and errors, such as `file` or `memory`. */
  readonly kind: string;
  /** The frozen entry under `sessionKey`, or `undefined`. */
  get(sessionKey: string): Promise<SessionEntry | undefined>;
  /** The whole store, frozen and shared; no copy is made. */
  snapshot(): Promise<SessionStoreSnapshot>;
  /**
   * Applies `mutator` to a fresh view of the store and commits its changes atomically; resolves
   * to the mutator's result once the change is durable. The mutator may run more than once; see
   * {@link SessionStoreMutator}.
   */
  update<T>(mutator: SessionStoreMutator<T>): Promise<T>;
  /** Removes these keys; resolves to the keys that existed and were removed. */
  delete(sessionKeys: readonly string[]): Promise<string[]>;
  /** Filters, sorts and pages the entries; see {@link SessionListQuery}. */
  list(query?: SessionListQuery): Promise<SessionListResult>;
  /**
   * Calls `listener` after every change, whether made through this instance, another instance in
   * this process or another process. Returns the function that stops watching.
   */
  watch(listener: SessionStoreListener, options?: SessionStoreWatchOptions): () => void;
}
